"""Experiment configuration: dataclasses, presets (tiny, cpu-small, gpu-paper), checked overrides.

The model section holds `bipe_core.ModelConfig` overrides (validated by ModelConfig itself); the
experiment supplies the rest per run: the vocabulary size, the scheme, and ``max_positions`` (the
training length, as in the paper) unless the overrides set it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentError
from experiments.specs import is_nested, parse_value, split_levels, split_specs

# ModelConfig fields that every run sets itself, so the model section cannot override them.
RUN_MODEL_FIELDS = ("vocab_size", "scheme")
# List settings whose items are specs with their own commas (split by experiments.specs).
SPEC_LIST_KEYS = ("segmenters", "automata", "data.corpora")
# The paper's separators: "." and newline close segments on the token-level path.
DEFAULT_SEPARATOR_CHARS = ".\n"
# segmenters.align.BOUNDARIES, restated so that loading a config imports no segmenter code
ALIGN_BOUNDARIES = ("start", "word")


@dataclass
class DataConfig:
    """Which corpora, how they are split and tokenised."""

    # corpus specs: registered names (kjv, sample, ...) or sources (jsonl:path=a.jsonl,text=body)
    corpora: list[str] = field(default_factory=lambda: ["sample"])
    max_docs: int | None = None  # None: every document
    vocab_size: int = 1024  # byte-level BPE size; 256 = plain bytes
    val_frac: float = 0.05
    test_frac: float = 0.05
    separator_chars: str = DEFAULT_SEPARATOR_CHARS  # for the token-level "sep" positions
    prep_workers: int = 1  # processes that tokenise and segment a corpus into the cache
    # Which character places a token in a text segment (segmenters.align BOUNDARIES): "word", its
    # first non-whitespace one (a BPE token's leading space no longer drags the next sentence's
    # first word into the previous segment), or "start", the original alignment (issue 12).
    align_boundary: str = "word"


@dataclass
class TrainConfig:
    """Optimisation: AdamW, linear warm-up then cosine decay to ``min_lr_frac * lr``."""

    steps: int = 600
    batch_size: int = 16
    seq_len: int = 128
    lr: float = 1e-3
    min_lr_frac: float = 0.1
    warmup: int = 50
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    seed: int = 0
    # How many seeds each cell of the grid runs with: train.seed, train.seed + 1, ... Results are
    # the mean over seeds with a t-based 95% interval (experiments.stats). The first seed keeps
    # the single-seed run directory runs/<name>/, the others go to runs/<name>-s<seed>/.
    seeds: int = 1
    log_every: int = 10
    ckpt_every: int = 100
    threads: int = 1  # torch threads per process
    progress: bool = True  # tqdm bar


@dataclass
class EvalConfig:
    """Perplexity against length: non-overlapping blocks of k x the training length."""

    multipliers: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7, 8])
    eval_tokens: int = 32768  # the same first tokens of the split are scored at every length
    split: str = "test"
    batch_size: int = 4


@dataclass
class ExperimentConfig:
    """A grid of runs: every scheme (x every segmenter for BiPE schemes) on every corpus."""

    name: str = "experiment"
    schemes: list[str] = field(default_factory=lambda: ["rope", "alibi", "bipe_rope", "bipe_alibi"])
    segmenters: list[str] = field(default_factory=lambda: ["punct"])
    workers: int = 1  # runs trained side by side (processes)
    data: DataConfig = field(default_factory=DataConfig)
    # ModelConfig overrides shared by every scheme of the experiment
    model: dict[str, Any] = field(
        default_factory=lambda: {"d_model": 128, "n_layers": 3, "n_heads": 4}
    )
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def validate(self) -> ExperimentConfig:
        """Raise ExperimentError naming every bad value; returns self."""
        bad: list[str] = []
        t, e, d = self.train, self.eval, self.data
        for where, obj, names in (
            (
                "train",
                t,
                ("steps", "batch_size", "seq_len", "log_every", "ckpt_every", "threads", "seeds"),
            ),
            ("eval", e, ("eval_tokens", "batch_size")),
        ):
            for n in names:
                v = getattr(obj, n)
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    bad.append(f"{where}.{n}={v!r} (must be a positive int)")
        if not isinstance(t.warmup, int) or t.warmup < 0:
            bad.append(f"train.warmup={t.warmup!r} (must be an int >= 0)")
        if not (isinstance(t.lr, int | float) and t.lr > 0):
            bad.append(f"train.lr={t.lr!r} (must be > 0)")
        if not (0 <= t.min_lr_frac <= 1):
            bad.append(f"train.min_lr_frac={t.min_lr_frac!r} (must be in [0, 1])")
        if not e.multipliers or any(not isinstance(k, int) or k < 1 for k in e.multipliers):
            bad.append(f"eval.multipliers={e.multipliers!r} (positive ints, e.g. [1, 2, 4, 8])")
        elif (
            isinstance(t.seq_len, int)
            and isinstance(e.eval_tokens, int)
            and e.eval_tokens < max(e.multipliers) * t.seq_len
        ):
            bad.append(
                f"eval.eval_tokens={e.eval_tokens} (must fill one block of the longest evaluation "
                f"length, {max(e.multipliers)} x {t.seq_len} = {max(e.multipliers) * t.seq_len})"
            )
        if e.split not in ("train", "val", "test"):
            bad.append(f"eval.split={e.split!r} (train, val or test)")
        if not isinstance(d.vocab_size, int) or d.vocab_size < 256:
            bad.append(f"data.vocab_size={d.vocab_size!r} (an int >= 256; 256 = bytes)")
        if d.align_boundary not in ALIGN_BOUNDARIES:
            bad.append(
                f"data.align_boundary={d.align_boundary!r} (one of {', '.join(ALIGN_BOUNDARIES)})"
            )
        if d.max_docs is not None and (not isinstance(d.max_docs, int) or d.max_docs < 1):
            bad.append(f"data.max_docs={d.max_docs!r} (a positive int or null)")
        if not d.corpora:
            bad.append("data.corpora is empty")
        if (
            isinstance(d.prep_workers, bool)
            or not isinstance(d.prep_workers, int)
            or d.prep_workers < 1
        ):
            bad.append(f"data.prep_workers={d.prep_workers!r} (a positive int)")
        if not self.schemes:
            bad.append("schemes is empty")
        if not isinstance(self.workers, int) or self.workers < 1:
            bad.append(f"workers={self.workers!r} (a positive int)")
        if any(uses_segments(s) for s in self.schemes) and not self.segmenters:
            bad.append("segmenters is empty but BiPE schemes need one")
        hier = [s for s in self.schemes if uses_levels(s)]
        if hier and not any(is_nested(seg) for seg in self.segmenters):
            bad.append(
                f"schemes {hier} are hierarchical and need a nested segmenter, e.g. "
                "'code:language=python@file > @definition > @line' (levels coarse to fine)"
            )
        if bad:
            raise ExperimentError("invalid experiment config: " + "; ".join(bad))
        if isinstance(t.seq_len, int) and t.seq_len > 0:
            for scheme in self.schemes:
                model_config(self, scheme)  # ModelConfig judges the model section
        return self


def model_config(
    cfg: ExperimentConfig, scheme: str, vocab_size: int | None = None, segmenter: str | None = None
):
    """The run's ModelConfig: the model overrides on top of the run's scheme and training length.

    ``vocab_size`` defaults to the requested one (the tokenizer's real size can be smaller). A
    hierarchical scheme gets ``n_levels`` from its nested ``segmenter`` spec (one per level).
    """
    from bipe_core.config import ModelConfig
    from bipe_core.errors import BipeCoreError

    fixed = sorted(set(RUN_MODEL_FIELDS) & set(cfg.model))
    if fixed:
        raise ExperimentError(
            f"model.{fixed[0]} is set by each run (the tokenizer and the schemes list), not by "
            "the model section"
        )
    fields = {
        "vocab_size": cfg.data.vocab_size if vocab_size is None else vocab_size,
        "scheme": scheme,
        "max_positions": cfg.train.seq_len,
        **cfg.model,
    }
    if segmenter and uses_levels(scheme):
        if not is_nested(segmenter):
            raise ExperimentError(
                f"scheme {scheme!r} is hierarchical: give it a nested segmenter (levels coarse to "
                f"fine, e.g. 'code:language=python@file > @definition > @line'), not {segmenter!r}"
            )
        n = len(split_levels(segmenter))
        if fields.get("n_levels") not in (None, n):
            raise ExperimentError(
                f"model.n_levels={fields['n_levels']} but segmenter {segmenter!r} has {n} levels"
            )
        fields["n_levels"] = n
    try:
        return ModelConfig.from_dict(fields)
    except BipeCoreError as exc:
        raise ExperimentError(f"bad model settings for scheme {scheme!r}: {exc}") from exc


def uses_segments(scheme: str) -> bool:
    """Whether a scheme needs segment positions (read from the scheme registry)."""
    from bipe_core.errors import UnknownSchemeError
    from bipe_core.schemes import scheme_class

    try:
        return scheme_class(scheme).uses_segments
    except UnknownSchemeError as exc:
        raise ExperimentError(str(exc)) from exc


def uses_levels(scheme: str) -> bool:
    """Whether a scheme is hierarchical (reads Positions.levels; from the scheme registry)."""
    from bipe_core.errors import UnknownSchemeError
    from bipe_core.schemes import scheme_class

    try:
        return scheme_class(scheme).uses_levels
    except UnknownSchemeError as exc:
        raise ExperimentError(str(exc)) from exc


@dataclass(frozen=True)
class RunSpec:
    """One cell of the experiment grid."""

    corpus: str
    scheme: str
    segmenter: str | None = None
    seed: int | None = None  # None: train.seed (the first seed of the cell)

    @property
    def name(self) -> str:
        """Directory-safe run name, e.g. ``kjv-bipe_rope-punct`` (``-s1`` for a later seed)."""
        parts = [self.corpus, self.scheme] + ([self.segmenter] if self.segmenter else [])
        parts += [f"s{self.seed}"] if self.seed is not None else []
        return "-".join("".join(c if c.isalnum() or c in "_." else "_" for c in p) for p in parts)


def run_specs(cfg: ExperimentConfig) -> list[RunSpec]:
    """Every run of the grid: baselines once per corpus, BiPE schemes once per segmenter, each
    over ``train.seeds`` seeds (all cells' first seeds first, so a cut-short grid is complete).

    Hierarchical schemes run only with nested segmenters; two-level BiPE with a nested segmenter
    uses its finest level (the same segments, without the outer levels).
    """
    cells = _cells(cfg)
    extra = [
        dataclasses.replace(c, seed=cfg.train.seed + k)
        for k in range(1, cfg.train.seeds)
        for c in cells
    ]
    return cells + extra


def run_seed(cfg: ExperimentConfig, spec: RunSpec) -> int:
    """The training seed of one run of the grid."""
    return cfg.train.seed if spec.seed is None else spec.seed


def _cells(cfg: ExperimentConfig) -> list[RunSpec]:
    out = []
    for corpus in cfg.data.corpora:
        # the first segmenter's runs come first, so a cut-short grid still holds every scheme
        for i in range(max(len(cfg.segmenters), 1)):
            for scheme in cfg.schemes:
                if uses_levels(scheme) and not is_nested(cfg.segmenters[i]):
                    continue
                if uses_segments(scheme):
                    out.append(RunSpec(corpus, scheme, cfg.segmenters[i]))
                elif i == 0:
                    out.append(RunSpec(corpus, scheme, None))
    return out


def _tiny() -> ExperimentConfig:
    # The demo's run: about 30 s of training per scheme on one core (Genesis, 300k tokens).
    return ExperimentConfig(
        name="tiny",
        data=DataConfig(corpora=["sample"], vocab_size=512),
        model={"d_model": 64, "n_layers": 2, "n_heads": 2},
        train=TrainConfig(
            steps=600, batch_size=8, seq_len=64, lr=3e-3, warmup=20, log_every=10, ckpt_every=200
        ),
        eval=EvalConfig(multipliers=[1, 2, 4, 8], eval_tokens=4096, batch_size=4),
    )


def _cpu_small() -> ExperimentConfig:
    # About 23 minutes on 2 idle cores: 18 runs (6 cells x 3 seeds) of 500 steps x 8 x 256 tokens,
    # two at a time (1,364 s measured on KJV, docs/results.md section 1).
    # "fixed:size=120" cuts 120-character segments: the mean length of punct's KJV segments
    # (about 40 BPE tokens), so natural and fixed segments differ in placement, not in size.
    cfg = ExperimentConfig(
        name="cpu-small",
        segmenters=["punct", "fixed:size=120"],
        workers=2,
        data=DataConfig(corpora=["kjv"], vocab_size=1024),
        model={"d_model": 128, "n_layers": 3, "n_heads": 4},
        train=TrainConfig(
            steps=500, batch_size=8, seq_len=256, lr=2e-3, warmup=40, log_every=10, ckpt_every=50
        ),
        eval=EvalConfig(multipliers=[1, 2, 4, 6, 8], eval_tokens=32768, batch_size=2),
    )
    cfg.train.seeds = 3  # every result a mean over seeds with an interval (issue 12)
    return cfg


def _gpu_paper() -> ExperimentConfig:
    return ExperimentConfig(
        name="gpu-paper",
        schemes=["sinusoidal", "rope", "alibi", "bipe_rope", "bipe_alibi"],
        segmenters=["punct"],
        data=DataConfig(corpora=["kjv", "cpython", "pydocs"], vocab_size=16384),
        model={"d_model": 768, "n_layers": 12, "n_heads": 12},
        # The paper: batch 256 x 1024, lr 1e-4, 10k warm-up; scaled down to what these corpora hold.
        train=TrainConfig(
            steps=20000,
            batch_size=64,
            seq_len=1024,
            lr=3e-4,
            warmup=1000,
            log_every=50,
            ckpt_every=1000,
            threads=8,
            progress=True,
        ),
        eval=EvalConfig(multipliers=[1, 2, 3, 4, 5, 6, 7, 8], eval_tokens=262144, batch_size=1),
    )


PRESETS = {"tiny": _tiny, "cpu-small": _cpu_small, "gpu-paper": _gpu_paper}


def preset(name: str) -> ExperimentConfig:
    """A fresh copy of preset ``name``."""
    if name not in PRESETS:
        raise ExperimentError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name]().validate()


def from_dict(data: dict[str, Any], base: ExperimentConfig | None = None) -> ExperimentConfig:
    """Overlay a (nested) dict on ``base`` (default: the dataclass defaults); unknown keys raise."""
    if not isinstance(data, dict):
        raise ExperimentError(f"a config must be a JSON object, got {type(data).__name__}")
    cfg = copy.deepcopy(base) if base is not None else ExperimentConfig()
    _overlay(cfg, data, "")
    return cfg.validate()


def _overlay(obj: Any, data: dict[str, Any], prefix: str) -> None:
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
                _overlay(current, value, f"{prefix}{key}.")
        else:
            setattr(obj, key, _coerce(prefix + key, current, value))


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


def _coerce(key: str, current: Any, value: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if not isinstance(value, bool):
            raise ExperimentError(f"config key {key!r} must be true or false, got {value!r}")
        return value
    if isinstance(current, list) and isinstance(value, str):
        # specs carry their own commas: fixed:size=120,unit=tokens, jsonl:path=a.jsonl,text=body
        if key in SPEC_LIST_KEYS:
            return split_specs(value)
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


def apply_overrides(cfg: ExperimentConfig, overrides: list[str]) -> ExperimentConfig:
    """Apply ``key.sub=value`` strings (from ``--set``); unknown keys raise ExperimentError."""
    return from_dict(nested_overrides(overrides), cfg)


def overlay(obj: Any, data: dict[str, Any]) -> None:
    """Lay a nested dict over any config dataclass in place (unknown keys raise ExperimentError)."""
    _overlay(obj, data, "")


def nested_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["train.steps=5", ...]`` as a nested dict ``{"train": {"steps": "5"}}``."""
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


def load_config(
    preset_name: str | None = None,
    path: str | Path | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Preset, then a JSON file on top, then ``--set`` overrides."""
    cfg = preset(preset_name) if preset_name else ExperimentConfig().validate()
    if path is not None:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ExperimentError(f"cannot read config file {p}: {exc}") from exc
        cfg = from_dict(data, cfg)
    return apply_overrides(cfg, list(overrides or []))
