"""One syntax for plug-in specs and option values, used by every command and config.

A spec names a registered plug-in and its options: ``name`` or ``name:key=value,key=value``, e.g.
``fixed:size=120,unit=tokens``. A list of specs is comma-separated; an item with ``=`` and no
``:`` continues the options of the spec before it, so ``punct,fixed:size=120,unit=tokens,sep`` is
three specs. Values are parsed by `parse_value` (bool, None, int, float, JSON list/object, or str).
"""

from __future__ import annotations

import json
from typing import Any

from experiments.errors import ExperimentError

_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")
_NONE = ("none", "null")


def parse_value(raw: str) -> Any:
    """An option value from text: bool, None, int, float, JSON list/object, or else the string."""
    text = raw.strip()
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return raw


def parse_options(items: list[str], where: str = "option") -> dict[str, Any]:
    """``["key=value", ...]`` as a dict of parsed values; a malformed item raises ExperimentError."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ExperimentError(f"{where} {item!r}: options look like key=value")
        out[key.strip()] = parse_value(value)
    return out


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"fixed:size=64,unit=tokens"`` -> ``("fixed", {"size": 64, "unit": "tokens"})``."""
    if not isinstance(spec, str) or not spec.strip():
        raise ExperimentError(f"a spec must be a non-empty name[:key=value,...], got {spec!r}")
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name or "=" in name:
        raise ExperimentError(f"spec {spec!r} must start with a name, as in fixed:size=120")
    items = [x.strip() for x in rest.split(",") if x.strip()]
    return name, parse_options(items, where=f"option in {spec!r}")


def split_specs(text: str) -> list[str]:
    """A comma-separated list of specs, keeping each spec's own ``key=value`` options together."""
    specs: list[str] = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        if "=" in item and ":" not in item.split("=", 1)[0]:
            if not specs:
                raise ExperimentError(f"option {item!r} in {text!r} comes before any spec name")
            specs[-1] += ("," if ":" in specs[-1] else ":") + item
        else:
            specs.append(item)
    return specs
