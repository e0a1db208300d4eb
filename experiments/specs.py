"""One syntax for plug-in specs and option values, used by every command and config.

A spec names a registered plug-in and its options: ``name`` or ``name:key=value,key=value``, e.g.
``fixed:size=120,unit=tokens``. A list of specs is comma-separated; an item with ``=`` and no
``:`` continues the options of the spec before it, so ``punct,fixed:size=120,unit=tokens,sep`` is
three specs. Values are parsed by `parse_value` (bool, None, int, float, JSON list/object, or str).

A *nested* spec gives the levels of a hierarchy, coarse to fine, separated by ``>``; each level is
a spec, optionally followed by ``@level`` to take that level of a multi-level segmenter instead of
its primary one; a level written ``@level`` alone reuses the spec of the level before it:
``code:language=python@file > @definition > @line`` (file > definition > line, one tree-sitter
parse) or ``punct:lines=true@line > punct:terminals=.;:?!,`` (line > clause). Levels with the same
spec share one segmentation. ``>`` and ``@`` cannot appear inside option values of a nested spec.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from experiments.errors import ExperimentError

_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")
_NONE = ("none", "null")
LEVEL_SEP = ">"  # separates the levels of a nested spec, coarse to fine
LEVEL_PICK = "@"  # spec@level: one level of a multi-level segmenter


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
    return {k: parse_value(v) for k, v in option_texts(items, where).items()}


def option_texts(items: list[str], where: str = "option") -> dict[str, str]:
    """``["key=value", ...]`` as a dict of the values' text (stripped), each key at most once.

    For a reader that knows each option's type: a text option keeps ``007`` or ``1e3`` as written,
    where `parse_value` would have read a number.
    """
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ExperimentError(f"{where} {item!r}: options look like key=value")
        if key.strip() in out:  # last-one-wins would run a spec the user did not write
            raise ExperimentError(f"{where} {item!r}: option {key.strip()!r} is given twice")
        out[key.strip()] = value.strip()
    return out


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"fixed:size=64,unit=tokens"`` -> ``("fixed", {"size": 64, "unit": "tokens"})``."""
    name, texts = spec_texts(spec)
    return name, {k: parse_value(v) for k, v in texts.items()}


def spec_texts(spec: str) -> tuple[str, dict[str, str]]:
    """``"fixed:size=64"`` -> ``("fixed", {"size": "64"})``: the name and each option's text."""
    if not isinstance(spec, str) or not spec.strip():
        raise ExperimentError(f"a spec must be a non-empty name[:key=value,...], got {spec!r}")
    if LEVEL_SEP in spec:
        raise ExperimentError(
            f"{spec!r} is a nested spec (levels separated by {LEVEL_SEP!r}), which gives positions "
            "for training (bipe run, train, corpus stats); here give one segmenter spec"
        )
    name, _, rest = spec.partition(":")
    name = name.strip()
    if not name or "=" in name:
        raise ExperimentError(f"spec {spec!r} must start with a name, as in fixed:size=120")
    items = [x.strip() for x in rest.split(",") if x.strip()]
    return name, option_texts(items, where=f"option in {spec!r}")


def split_specs(text: str) -> list[str]:
    """A comma-separated list of specs, keeping each spec's own ``key=value`` options together.

    Nested specs stay whole: ``punct,fixed:size=9 > punct,code`` is two specs and a nested one.
    """
    specs: list[str] = []
    for raw in (x.strip() for x in text.split(",")):
        head, *levels = (x.strip() for x in raw.split(LEVEL_SEP))
        for i, item in enumerate([head, *levels]):
            if not item:
                if i or levels:
                    raise ExperimentError(f"an empty level in nested spec {text!r}")
                continue
            if i:  # a new level of the spec before it
                specs[-1] += f" {LEVEL_SEP} {item}"
            elif "=" in item and ":" not in item.split("=", 1)[0]:
                if not specs:
                    raise ExperimentError(f"option {item!r} in {text!r} comes before any spec name")
                last = specs[-1].rsplit(LEVEL_SEP, 1)[-1]
                specs[-1] += ("," if ":" in last else ":") + item
            else:
                specs.append(item)
    return specs


def is_nested(spec: str) -> bool:
    """Whether ``spec`` names a hierarchy (levels separated by ``>``, or one ``spec@level``)."""
    return isinstance(spec, str) and (LEVEL_SEP in spec or LEVEL_PICK in spec)


def split_levels(spec: str) -> list[tuple[str, str | None]]:
    """A nested spec as ``[(segmenter spec, level or None), ...]``, coarse to fine, each checked.

    ``"code@file > @line"`` -> ``[("code", "file"), ("code", "line")]``.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ExperimentError(f"a nested spec must be a non-empty string, got {spec!r}")
    out: list[tuple[str, str | None]] = []
    for part in (p.strip() for p in spec.split(LEVEL_SEP)):
        inner, pick, level = (x.strip() for x in part.partition(LEVEL_PICK))
        if pick and (not level or LEVEL_PICK in level):
            raise ExperimentError(f"level {part!r} of {spec!r}: write spec@level, e.g. code@line")
        if not inner and pick and out:
            inner = out[-1][0]  # "@level" alone: the previous level's spec
        parse_spec(inner)  # a malformed level raises here, naming itself
        out.append((inner, level or None))
    return out


# A plain file-name part: nothing a file system or the "-" joins of run names could confuse.
_PLAIN_PART = re.compile(r"[A-Za-z0-9_.]+")


def file_part(text: str, limit: int = 60) -> str:
    """``text`` as part of a file name: itself when plain and short, else a readable ASCII prefix,
    ``--`` and a digest of the whole (``folder:path=/a/b`` holds a ``/``; two specs never meet)."""
    if _PLAIN_PART.fullmatch(text) and len(text) <= limit:
        return text
    return digest_name(text, text, limit)


def digest_name(readable: str, whole: str, limit: int) -> str:
    """A name of at most ``limit`` characters: ``readable`` made ASCII-safe and cut, then ``--``
    and a digest of ``whole``, so that names of different wholes never meet."""
    digest = hashlib.sha256(whole.encode("utf-8")).hexdigest()[:12]
    # ASCII only: a 4-byte script would pass the 255-byte name limit at far fewer characters
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "_" for c in readable)
    return f"{safe[: limit - 14]}--{digest}"
