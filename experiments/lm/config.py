"""Configuration of the language-model grid (`bipe run`, `bipe train`, `bipe budget`): its
sections, its presets (tiny, cpu-small, gpu-paper) and the cells of the grid.

Settings and their checks are declared in the engine's one configuration system
(`experiments.engine.config`). The model section holds `bipe_core.ModelConfig` overrides
(validated by ModelConfig itself); the experiment supplies the rest per run: the vocabulary
size, the scheme, and ``max_positions`` (the training length, as in the paper) unless the
overrides set it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine.config import (
    NONEMPTY,
    POSITIVE_INT,
    POSITIVE_INTS,
    RUN_MODEL_FIELDS,
    SEEDS,
    TrainConfig,
    build_preset,
    nested_overrides,
    overlay,
    preset_names,
    read_json_config,
    register_preset,
    setting,
    validate,
)
from experiments.errors import ExperimentError
from experiments.pipeline.positions import (
    ALIGN_BOUNDARIES,
    DEFAULT_ALIGN_BOUNDARY,
    DEFAULT_SEPARATOR_CHARS,
)
from experiments.specs import digest_name, is_nested, split_levels

TASK = "lm"


@dataclass
class DataConfig:
    """Which corpora, how they are split and tokenised."""

    # corpus specs: registered names (kjv, sample, ...) or sources (jsonl:path=a.jsonl,text=body)
    corpora: list[str] = setting(
        factory=lambda: ["sample"], check=NONEMPTY, numbers=False, specs=True, unique=True
    )
    max_docs: int | None = None  # None: every document
    vocab_size: int = 1024  # byte-level BPE size; 256 = plain bytes
    val_frac: float = 0.05
    test_frac: float = 0.05
    separator_chars: str = DEFAULT_SEPARATOR_CHARS  # for the token-level "sep" positions
    # processes that tokenise and segment a corpus into the cache
    prep_workers: int = setting(1, check=POSITIVE_INT, numbers=False)
    # Which character places a token in a text segment (segmenters.align BOUNDARIES): "word", its
    # first non-whitespace one (a BPE token's leading space no longer drags the next sentence's
    # first word into the previous segment), or "start", the original alignment (issue 12).
    align_boundary: str = DEFAULT_ALIGN_BOUNDARY


@dataclass
class LMTrainConfig(TrainConfig):
    """The shared optimisation settings plus the training length of the language model."""

    seq_len: int = setting(128, check=POSITIVE_INT)


@dataclass
class EvalConfig:
    """Perplexity against length: non-overlapping blocks of k x the training length."""

    multipliers: list[int] = setting(
        factory=lambda: [1, 2, 3, 4, 5, 6, 7, 8], check=POSITIVE_INTS, unique=True
    )
    # the same first tokens of the split are scored at every length
    eval_tokens: int = setting(32768, check=POSITIVE_INT)
    split: str = "test"
    batch_size: int = setting(4, check=POSITIVE_INT, numbers=False)


@dataclass
class ExperimentConfig:
    """A grid of runs: every scheme (x every segmenter for BiPE schemes) on every corpus, each
    with every seed of ``seeds``."""

    name: str = setting("experiment", numbers=False)
    schemes: list[str] = setting(
        factory=lambda: ["rope", "alibi", "bipe_rope", "bipe_alibi"],
        check=NONEMPTY,
        numbers=False,
        unique=True,
    )
    segmenters: list[str] = setting(
        factory=lambda: ["punct"], numbers=False, specs=True, unique=True
    )
    # Every cell runs with each seed (the seed fixes initialisation and batch order). Results are
    # the mean over seeds with a t-based 95% interval (experiments.analysis.stats). Seed 0 runs in
    # runs/<name>/, any other seed in runs/<name>-s<seed>/ (`RunSpec.name`).
    seeds: list[int] = setting(factory=lambda: [0], check=SEEDS, numbers=False, unique=True)
    workers: int = setting(1, check=POSITIVE_INT, numbers=False)  # runs trained side by side
    data: DataConfig = setting(factory=DataConfig)
    # ModelConfig overrides shared by every scheme of the experiment
    model: dict[str, Any] = setting(factory=lambda: {"d_model": 128, "n_layers": 3, "n_heads": 4})
    train: LMTrainConfig = setting(factory=LMTrainConfig)
    eval: EvalConfig = setting(factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def validate(self) -> ExperimentConfig:
        """Raise ExperimentError naming every bad value; returns self."""
        return validate(self, "experiment")

    def problems(self) -> list[str]:
        """The rules that tie settings together (`validate` checks each setting first)."""
        bad: list[str] = []
        t, e, d = self.train, self.eval, self.data
        if e.eval_tokens < max(e.multipliers) * t.seq_len:
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
        if d.max_docs is not None and not POSITIVE_INT.ok(d.max_docs):
            bad.append(f"data.max_docs={d.max_docs!r} (a positive int or null)")
        bad += self._scheme_problems()
        if not bad:  # ModelConfig judges the model section, as each run of the grid will use it
            for scheme, segmenter in dict.fromkeys((c.scheme, c.segmenter) for c in _cells(self)):
                model_config(self, scheme, segmenter=segmenter)
        return bad

    def _scheme_problems(self) -> list[str]:
        if any(uses_segments(s) for s in self.schemes) and not self.segmenters:
            return ["segmenters is empty but BiPE schemes need one"]
        hier = [s for s in self.schemes if uses_levels(s)]
        if hier and not any(is_nested(seg) for seg in self.segmenters):
            return [
                f"schemes {hier} are hierarchical and need a nested segmenter, e.g. "
                "'code:language=python@file > @definition > @line' (levels coarse to fine)"
            ]
        return []


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


def _scheme(scheme: str):
    from bipe_core.errors import UnknownSchemeError
    from bipe_core.schemes import scheme_class

    try:
        return scheme_class(scheme)
    except UnknownSchemeError as exc:
        raise ExperimentError(str(exc)) from exc


def uses_segments(scheme: str) -> bool:
    """Whether a scheme needs segment positions (read from the scheme registry)."""
    return _scheme(scheme).uses_segments


def uses_levels(scheme: str) -> bool:
    """Whether a scheme is hierarchical (reads Positions.levels; from the scheme registry)."""
    return _scheme(scheme).uses_levels


# -- the cells of the grid ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """One cell of the experiment grid."""

    corpus: str
    scheme: str
    segmenter: str | None = None
    seed: int | None = None  # None: the config's first seed (named as seed 0 is)

    @property
    def name(self) -> str:
        """Directory name: ``kjv-bipe_rope-punct`` (``-s1`` for seed 1), faithful to the spec.

        A name that would lose part of the spec (a character other than letters, digits, ``_``
        and ``.``, a ``-`` inside a part, a segmenter that reads like a seed) or grow past
        `NAME_LIMIT` is cut to a readable prefix plus ``--`` and a digest of the whole spec, so
        two specs never share a run directory and no spec is too long for the file system.
        """
        parts = [self.corpus, self.scheme] + ([self.segmenter] if self.segmenter else [])
        plain = "-".join(parts + ([f"s{self.seed}"] if self.seed else []))
        faithful = all(_PLAIN.fullmatch(p) for p in parts) and not (
            self.segmenter and _SEED_LIKE.fullmatch(self.segmenter)
        )
        if faithful and len(plain) <= NAME_LIMIT:
            return plain
        whole = json.dumps([self.corpus, self.scheme, self.segmenter, self.seed or 0])
        return digest_name(plain, whole, NAME_LIMIT)


# A plain run name's parts: nothing a file system or the "-" joins could confuse. Names are at most
# NAME_LIMIT characters (file systems allow 255 bytes; the rest is left for temporary suffixes).
_PLAIN = re.compile(r"[A-Za-z0-9_.]+")
_SEED_LIKE = re.compile(r"s\d+")
NAME_LIMIT = 96


def run_specs(cfg: ExperimentConfig) -> list[RunSpec]:
    """Every run of the grid: baselines once per corpus, BiPE schemes once per segmenter, each
    over every seed (all cells' first seeds first, so a cut-short grid is complete).

    Hierarchical schemes run only with nested segmenters; two-level BiPE with a nested segmenter
    uses its finest level (the same segments, without the outer levels).
    """
    cells = _cells(cfg)
    # Every run's seed is part of its name (seed 0 keeps the plain name of single-seed grids): a
    # grid whose first seed changes from 0 to 7 never finds seed 0's results under its names. A
    # first seed of 0 stays None, which `run_seed` reads as the first seed.
    return [
        dataclasses.replace(c, seed=None if seed == cfg.seeds[0] == 0 else seed)
        for seed in cfg.seeds
        for c in cells
    ]


def run_seed(cfg: ExperimentConfig, spec: RunSpec) -> int:
    """The training seed of one run: its own, else the config's first (`bipe train`)."""
    return cfg.seeds[0] if spec.seed is None else spec.seed


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


# -- presets ------------------------------------------------------------------------------------


@register_preset(TASK, "tiny")
def _tiny() -> ExperimentConfig:
    # The demo's run: about 30 s of training per scheme on one core (Genesis, 300k tokens).
    return ExperimentConfig(
        name="tiny",
        data=DataConfig(corpora=["sample"], vocab_size=512),
        model={"d_model": 64, "n_layers": 2, "n_heads": 2},
        train=LMTrainConfig(
            steps=600, batch_size=8, seq_len=64, lr=3e-3, warmup=20, log_every=10, ckpt_every=200
        ),
        eval=EvalConfig(multipliers=[1, 2, 4, 8], eval_tokens=4096, batch_size=4),
    )


@register_preset(TASK, "cpu-small")
def _cpu_small() -> ExperimentConfig:
    # About 23 minutes on 2 idle cores: 18 runs (6 cells x 3 seeds) of 500 steps x 8 x 256 tokens,
    # two at a time (1,364 s measured on KJV, docs/results.md section 1).
    # "fixed:size=120" cuts 120-character segments: the mean length of punct's KJV segments
    # (about 40 BPE tokens), so natural and fixed segments differ in placement, not in size.
    return ExperimentConfig(
        name="cpu-small",
        segmenters=["punct", "fixed:size=120"],
        seeds=[0, 1, 2],  # every result a mean over seeds with an interval
        workers=2,
        data=DataConfig(corpora=["kjv"], vocab_size=1024),
        model={"d_model": 128, "n_layers": 3, "n_heads": 4},
        train=LMTrainConfig(
            steps=500, batch_size=8, seq_len=256, lr=2e-3, warmup=40, log_every=10, ckpt_every=50
        ),
        eval=EvalConfig(multipliers=[1, 2, 4, 6, 8], eval_tokens=32768, batch_size=2),
    )


@register_preset(TASK, "gpu-paper")
def _gpu_paper() -> ExperimentConfig:
    return ExperimentConfig(
        name="gpu-paper",
        schemes=["sinusoidal", "rope", "alibi", "bipe_rope", "bipe_alibi"],
        segmenters=["punct"],
        data=DataConfig(corpora=["kjv", "cpython", "pydocs"], vocab_size=16384),
        model={"d_model": 768, "n_layers": 12, "n_heads": 12},
        # The paper: batch 256 x 1024, lr 1e-4, 10k warm-up; scaled down to what these corpora hold.
        train=LMTrainConfig(
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


def presets() -> list[str]:
    """The names of the language-model presets: the built-ins, then any an entry point adds."""
    return preset_names(TASK)


def preset(name: str) -> ExperimentConfig:
    """A fresh, validated copy of preset ``name``."""
    return build_preset(TASK, name).validate()


# -- loading ------------------------------------------------------------------------------------


def _legacy_seed_keys(data: dict[str, Any], base: ExperimentConfig) -> dict[str, Any]:
    """Configs and checkpoints written before ``seeds`` existed gave the grid's seeds as
    ``train.seed`` (the first) and ``train.seeds`` (how many): the same seeds as a ``seeds`` list."""
    train = data.get("train")
    if not isinstance(train, dict) or not {"seed", "seeds"} & set(train):
        return data
    train = dict(train)
    current = data.get("seeds", base.seeds)
    first, count = train.pop("seed", None), train.pop("seeds", None)
    first = current[0] if first is None else first
    count = len(current) if count is None else count
    try:
        first, count = int(first), int(count)
    except (TypeError, ValueError):
        raise ExperimentError(
            f"train.seed={first!r} and train.seeds={count!r} must be integers (the grid's first "
            "seed and how many seeds; the list itself is `seeds`, e.g. seeds=0,1,2)"
        ) from None
    if count < 1:
        raise ExperimentError(f"train.seeds={count} (must be a positive int)")
    return {**data, "train": train, "seeds": list(range(first, first + count))}


def from_dict(data: dict[str, Any], base: ExperimentConfig | None = None) -> ExperimentConfig:
    """Overlay a (nested) dict on ``base`` (default: the dataclass defaults); unknown keys raise."""
    if not isinstance(data, dict):
        raise ExperimentError(f"a config must be a JSON object, got {type(data).__name__}")
    cfg = copy.deepcopy(base) if base is not None else ExperimentConfig()
    overlay(cfg, _legacy_seed_keys(data, cfg))
    return cfg.validate()


def apply_overrides(cfg: ExperimentConfig, overrides: list[str]) -> ExperimentConfig:
    """Apply ``key.sub=value`` strings (from ``--set``); unknown keys raise ExperimentError."""
    return from_dict(nested_overrides(overrides), cfg)


def load_config(
    preset_name: str | None = None,
    path: str | Path | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Preset, then a JSON file on top, then ``--set`` overrides."""
    cfg = preset(preset_name) if preset_name else ExperimentConfig().validate()
    if path is not None:
        cfg = from_dict(read_json_config(path), cfg)
    return apply_overrides(cfg, list(overrides or []))
