"""Positional schemes, one registry: absolute (`sinusoidal`, `learned`), relative (`rope`, `alibi`),
the paper's bilevel schemes (`bipe_rope`, `bipe_alibi`), hierarchical multi-level variants
(`hier_rope`, `hier_alibi`) and the inner-order variants (`bipe_rope_io`, `bipe_alibi_io`).

Look schemes up here: `list_schemes`, `scheme_class`, `get_scheme`. Importing this module registers
the built-in schemes (`bipe_core.builtin_schemes`), so every lookup sees them whatever was imported
first; third-party packages add theirs through the entry-point group "bipe.schemes" (`SCHEMES`).
The base class and the registry live in `bipe_core.scheme_base`, the parts the schemes are made of
(absolute, rotary, bias, intra, levels) in `bipe_core.scheme_parts`.

Each scheme class declares what it is (`rotary`, `has_bias`, `uses_segments`, `uses_levels`,
`intra_table`, `default_alibi_factor`) and what it uses: each part declares its options with their
defaults (`options`), the constructor takes exactly the options of the scheme's parts and refuses
any other, and `scheme_class(name).option_names()` lists them. Every fact about a scheme is read
from here (`scheme_class`), never from lists kept elsewhere.
"""

from __future__ import annotations

from typing import Any

import catalogue

# importing the built-in schemes registers them (INNER_INDICES rides along)
from bipe_core.builtin_schemes import INNER_INDICES
from bipe_core.errors import UnknownSchemeError
from bipe_core.scheme_base import SCHEMES, PositionalScheme, register_scheme
from bipe_core.scheme_parts import INTRA_INITS, INTRA_KINDS, sinusoidal_table

__all__ = [
    "INNER_INDICES",
    "INTRA_INITS",
    "INTRA_KINDS",
    "SCHEMES",
    "PositionalScheme",
    "get_scheme",
    "list_schemes",
    "register_scheme",
    "scheme_class",
    "sinusoidal_table",
]


def list_schemes() -> list[str]:
    """Names of all registered positional schemes, sorted (entry points listed, not loaded)."""
    namespace = tuple(SCHEMES.namespace)
    here = {key[-1] for key in catalogue.REGISTRY if key[:-1] == namespace}
    plugins = catalogue.AVAILABLE_ENTRY_POINTS.select(group=SCHEMES.entry_point_namespace)
    return sorted(here | {ep.name for ep in plugins})


def scheme_class(name: str) -> type[PositionalScheme]:
    """The class registered as `name`: read its facts (`uses_segments`, `rotary`, ...) from here."""
    # In-process names win: catalogue alone would let an entry point shadow a built-in (and
    # would scan the entry points on every call; `DecoderLM.forward` asks on every pass).
    key = (*SCHEMES.namespace, name)
    if key in catalogue.REGISTRY:
        return catalogue.REGISTRY[key]
    try:
        return SCHEMES.get(name)
    except catalogue.RegistryError:
        raise UnknownSchemeError(
            f"unknown positional scheme {name!r}; valid choices: {', '.join(list_schemes())}"
        ) from None


def get_scheme(name: str, **options: Any) -> PositionalScheme:
    """Instantiate the scheme registered as `name`; options it does not use raise ConfigError."""
    return scheme_class(name)(**options)
