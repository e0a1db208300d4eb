"""One configuration system for every task: settings are dataclass fields that declare their own
check and whether they change a cell's numbers; one function validates them all, one overlay lays
a JSON object or ``--set key=value`` overrides on a config, one preset registry holds every
task's presets, and one fingerprint hashes the settings that change a cell's numbers.

A task's config is a dataclass of such settings (sections are nested dataclasses); its own
``problems()`` adds the rules that tie settings together. A setting declared with
``numbers=False`` (logging, threads, worker counts, which cells a grid has) never enters a
fingerprint and may change when a run resumes.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from experiments.errors import ExperimentError
from experiments.registry import Registry
from experiments.specs import parse_value, split_specs

C = TypeVar("C")


@dataclass(frozen=True)
class Check:
    """A rule one setting must satisfy, and the words that say it in an error."""

    ok: Callable[[Any], bool]
    need: str


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _real(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


POSITIVE_INT = Check(lambda v: _int(v) and v >= 1, "must be a positive int")
NONNEG_INT = Check(lambda v: _int(v) and v >= 0, "must be an int >= 0")
POSITIVE = Check(lambda v: _real(v) and v > 0, "must be a finite number > 0")
UNIT_INTERVAL = Check(lambda v: _real(v) and 0 <= v <= 1, "must be in [0, 1]")
PROBABILITY = Check(lambda v: _real(v) and 0 < v <= 1, "must be in (0, 1]")
POSITIVE_INTS = Check(
    lambda v: isinstance(v, list) and bool(v) and all(_int(k) and k >= 1 for k in v),
    "positive ints, e.g. [1, 2, 4, 8]",
)
NONNEG = Check(lambda v: _real(v) and v >= 0, "must be a finite number >= 0")
BETA = Check(lambda v: _real(v) and 0 <= v < 1, "must be in [0, 1)")
POSITIVE_OR_OFF = Check(
    lambda v: v is None or (_real(v) and v > 0), "must be > 0, or none to turn it off"
)


def int_range(low: int, high: int) -> Check:
    """An int in [low, high]: the high end refuses a size no run could finish (or allocate)."""
    return Check(lambda v: _int(v) and low <= v <= high, f"must be an int in [{low:,}, {high:,}]")


def real_range(low: float, high: float) -> Check:
    """A finite number in (low, high]."""
    return Check(
        lambda v: _real(v) and low < v <= high, f"must be a finite number in ({low}, {high}]"
    )


MAX_STEPS = 10_000_000  # optimiser steps of one run
MAX_BATCH = 65_536  # sequences of one batch

NONEMPTY = Check(lambda v: bool(v), "must not be empty")
SEEDS = Check(
    lambda v: isinstance(v, list) and bool(v) and all(_int(k) and k >= 0 for k in v),
    "ints >= 0, e.g. [0, 1, 2]",
)


def setting(
    default: Any = dataclasses.MISSING,
    *,
    factory: Callable[[], Any] | None = None,
    check: Check | None = None,
    numbers: bool = True,
    specs: bool = False,
    unique: bool = False,
) -> Any:
    """A config field: its default, its check, whether it changes a cell's numbers, whether a
    ``--set`` string holds specs with commas of their own (``fixed:size=120,unit=tokens``), and
    whether its list must not repeat a value (a grid axis: a repeat would count one run twice)."""
    meta = {"check": check, "numbers": numbers, "specs": specs, "unique": unique}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Optimisation, shared by every task: AdamW, linear warm-up then cosine decay to
    ``min_lr_frac * lr``, gradient clipping."""

    steps: int = setting(600, check=int_range(1, MAX_STEPS))
    batch_size: int = setting(16, check=int_range(1, MAX_BATCH))
    # AdamW's step is about lr per weight: above 1 no run learns, it diverges
    lr: float = setting(1e-3, check=real_range(0, 1))
    min_lr_frac: float = setting(0.1, check=UNIT_INTERVAL)
    warmup: int = setting(50, check=int_range(0, MAX_STEPS))
    weight_decay: float = setting(0.01, check=NONNEG)
    beta1: float = setting(0.9, check=BETA)
    beta2: float = setting(0.95, check=BETA)
    grad_clip: float | None = setting(1.0, check=POSITIVE_OR_OFF)  # max gradient norm; none: off
    log_every: int = setting(10, check=int_range(1, MAX_STEPS), numbers=False)
    ckpt_every: int = setting(100, check=int_range(1, MAX_STEPS), numbers=False)
    # torch threads per process
    threads: int = setting(1, check=int_range(1, 1024), numbers=False)
    progress: bool = setting(True, numbers=False)  # tqdm bar


# -- validation --------------------------------------------------------------------------------


def setting_problems(obj: Any, prefix: str = "") -> list[str]:
    """Every setting of ``obj`` (and its sections) that fails its declared check, as messages."""
    bad = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            bad += _section_problems(value, f"{prefix}{f.name}.")
            continue
        check = f.metadata.get("check")
        if check is not None and not check.ok(value):
            bad.append(f"{prefix}{f.name}={value!r} ({check.need})")
        elif f.metadata.get("unique") and isinstance(value, list):
            seen = [json.dumps(v, sort_keys=True, default=str) for v in value]
            twice = sorted({v for v in seen if seen.count(v) > 1})
            if twice:
                bad.append(
                    f"{prefix}{f.name} lists {', '.join(twice)} twice (one run counted twice "
                    "would pass for two seeds or cells; remove the repeat)"
                )
    return bad


def _section_problems(section: Any, prefix: str) -> list[str]:
    """A section's settings that fail their checks, then (if none) its own ``problems()``."""
    bad = setting_problems(section, prefix)
    if not bad and callable(getattr(section, "problems", None)):
        bad = [prefix + problem for problem in section.problems()]
    return bad


def validate(cfg: C, what: str) -> C:
    """Raise one ExperimentError naming every bad setting of ``cfg``, checked fields first, then
    the rules of its ``problems()`` (which may assume the fields are sound); returns ``cfg``."""
    bad = setting_problems(cfg)
    if not bad and callable(getattr(cfg, "problems", None)):
        bad = cfg.problems()
    if bad:
        raise ExperimentError(f"invalid {what} config: " + "; ".join(bad))
    return cfg


# -- overlays: JSON objects and --set strings ---------------------------------------------------


def overlay(obj: Any, data: dict[str, Any], prefix: str = "") -> None:
    """Lay a nested dict over a config dataclass in place; unknown keys raise ExperimentError."""
    if not isinstance(data, dict):
        raise ExperimentError(f"a config must be a JSON object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in data.items():
        if key not in fields:
            raise ExperimentError(
                f"unknown config key {prefix + key!r}; valid keys here: {', '.join(fields)}"
            )
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) or isinstance(current, dict):
            if not isinstance(value, dict):
                raise ExperimentError(f"config key {prefix + key!r} must be an object")
            if isinstance(current, dict):
                _overlay_model(current, value, f"{prefix}{key}.")
            else:
                overlay(current, value, f"{prefix}{key}.")
        else:
            specs = fields[key].metadata.get("specs", False)
            setattr(obj, key, _coerce(prefix + key, current, value, specs))


# ModelConfig fields that every run or cell sets itself, so the model section cannot set them.
RUN_MODEL_FIELDS = ("vocab_size", "scheme")


def _overlay_model(current: dict[str, Any], data: dict[str, Any], prefix: str) -> None:
    """Merge ModelConfig overrides; unknown names raise here, values are judged by ModelConfig."""
    from bipe_core.config import ModelConfig

    names = [f.name for f in dataclasses.fields(ModelConfig) if f.name not in RUN_MODEL_FIELDS]
    for key, value in data.items():
        if key not in names:
            raise ExperimentError(
                f"unknown config key {prefix + key!r}; valid keys here: {', '.join(names)}"
            )
        current[key] = parse_value(value) if isinstance(value, str) else value


def _coerce(key: str, current: Any, value: Any, specs: bool) -> Any:
    """``value`` (a JSON value or a --set string) in the type of the setting's current value."""
    if isinstance(current, bool):
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if not isinstance(value, bool):
            raise ExperimentError(f"config key {key!r} must be true or false, got {value!r}")
        return value
    if isinstance(value, str) and value.strip().lower() in ("none", "null"):
        return None  # the setting's check says whether it may be off
    if isinstance(current, list) and isinstance(value, str):
        if specs:  # specs carry their own commas: fixed:size=120,unit=tokens
            return split_specs(value)
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):  # the JSON form: seeds=[0,1,2]
            value = value[1:-1]
        value = [v.strip() for v in value.split(",") if v.strip()]
        if current and isinstance(current[0], int):
            try:
                value = [int(v) for v in value]
            except ValueError as exc:
                raise ExperimentError(f"config key {key!r} takes integers: {exc}") from exc
    if isinstance(current, int) and isinstance(value, str):
        try:
            return int(value)
        except ValueError as exc:
            raise ExperimentError(f"config key {key!r} takes an integer, got {value!r}") from exc
    if isinstance(current, float) and isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError as exc:
            raise ExperimentError(f"config key {key!r} takes a number, got {value!r}") from exc
    if current is None and isinstance(value, str):
        return parse_value(value)
    return value


def nested_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["train.steps=5", ...]`` (the ``--set`` syntax) as a nested dict ``{"train": {"steps": "5"}}``."""
    nested: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ExperimentError(
                f"override {item!r} must look like key=value (e.g. train.steps=50)"
            )
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        node = nested
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return nested


def read_json_config(path: str | Path) -> dict[str, Any]:
    """The JSON object of a config file; an unreadable file raises ExperimentError."""
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExperimentError(f"cannot read config file {p}: {exc}") from exc


# -- fingerprints: the settings that change a cell's numbers ------------------------------------


def number_settings(obj: Any) -> dict[str, Any]:
    """The settings of ``obj`` that change a cell's numbers (``numbers=True``), as a nested dict."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if not f.metadata.get("numbers", True):
            continue
        value = getattr(obj, f.name)
        out[f.name] = number_settings(value) if dataclasses.is_dataclass(value) else value
    return out


def fingerprint(obj: Any) -> str:
    """A 16-hex-digit hash of `number_settings`: equal exactly when a cell's numbers would be."""
    blob = json.dumps(number_settings(obj), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def changed_numbers(old: dict[str, Any], new: Any, section: str) -> list[str]:
    """``section.key: old -> new`` for the number settings of a section that differ from ``old``
    (a section of an earlier config's dict; keys it lacks are not compared)."""
    was = old.get(section) or {}
    now = number_settings(getattr(new, section))
    return [
        f"{section}.{k}: {was[k]!r} -> {now[k]!r}"
        for k in sorted(now)
        if k in was and was[k] != now[k]
    ]


# -- presets: one registry for every task -------------------------------------------------------

PRESETS = Registry("presets", "preset")


def register_preset(task: str, name: str) -> Callable[[Callable[[], C]], Callable[[], C]]:
    """Decorate a function that builds a fresh config: preset ``name`` of ``task``."""
    return lambda make: PRESETS.register(f"{task}/{name}", make)


def preset_names(task: str) -> list[str]:
    """The preset names of ``task``, in registration order."""
    return [n.split("/", 1)[1] for n in PRESETS.names() if n.startswith(f"{task}/")]


def build_preset(task: str, name: str) -> Any:
    """A fresh copy of preset ``name`` of ``task`` (not validated); unknown names list the valid."""
    if not isinstance(name, str) or f"{task}/{name}" not in PRESETS:
        raise ExperimentError(f"unknown preset {name!r}; valid: {', '.join(preset_names(task))}")
    return copy.deepcopy(PRESETS.get(f"{task}/{name}")())
