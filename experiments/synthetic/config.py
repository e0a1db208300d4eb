"""Configuration of `bipe synthetic`: automata, schemes, widths, seeds, the task, presets, checks.

A cell of the sweep is one (automaton, scheme, width, seed). Every bad setting is an
ExperimentError raised by `validate` before any training starts: an automaton spec naming an
unknown family, a sampler that cannot produce the requested segment counts, a width the head count
does not divide, a scheme that is unknown or does not apply, a target outside (0, 1].
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from experiments.config import TrainConfig, nested_overrides, overlay
from experiments.errors import ExperimentError
from experiments.specs import parse_spec

# Cells run in local worker processes, as Slurm jobs, or as submitit's local jobs (CI's stand-in).
EXECUTORS = ("local", "slurm", "submitit-local")


@dataclass(frozen=True)
class AutomatonSpec:
    """One Bi-NFA: a named family (automata.FAMILIES) with its type count, state count and seed."""

    family: str
    types: int = 2
    states: int = 2
    seed: int = 0

    @property
    def name(self) -> str:
        """Directory-safe name, e.g. ``mod-marked-k2-n2-s0``."""
        return f"{self.family}-k{self.types}-n{self.states}-s{self.seed}"

    def build(self):  # -> automata.BiNFA
        """The Bi-NFA (automata.make_family)."""
        from automata import make_family

        return make_family(self.family, self.types, self.states, self.seed)


def parse_automaton(spec: str) -> AutomatonSpec:
    """``"random:types=2,states=4,seed=1"`` -> AutomatonSpec; unknown families/options raise."""
    from automata import FAMILIES

    family, opts = parse_spec(spec)
    if family not in FAMILIES:
        raise ExperimentError(
            f"unknown automaton family {family!r} in {spec!r}; choose one of {', '.join(sorted(FAMILIES))}"
        )
    known = {"types", "states", "seed"}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise ExperimentError(
            f"automaton {spec!r}: unknown option(s) {', '.join(unknown)}; valid: types, states, seed"
        )
    for k, v in opts.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if k == "seed" else 1):
            raise ExperimentError(f"automaton {spec!r}: {k} must be a positive integer, got {v!r}")
    return AutomatonSpec(family, **opts)


@dataclass
class TaskConfig:
    """Words of the language and how they are split between training and the extrapolation tests.

    Training words have ``segments[0]..segments[1]`` segments; at factor f > 1 the test words have
    f*hi//2 + 1 .. f*hi segments (only new, longer counts); every segment has between ``min_len``
    and ``max_len`` tokens before its separator, in training and in every test.
    """

    segments: list[int] = field(default_factory=lambda: [1, 8])
    min_len: int = 1
    max_len: int = 6
    factors: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    test_words: int = 200  # per factor, the same words for every cell of an automaton
    probe_words: int = 200  # words (factor 1) whose hidden states the probes read
    eval_batch: int = 50


@dataclass
class SyntheticConfig:
    """The sweep: every automaton x scheme x width x seed is a cell (one run directory)."""

    name: str = "synthetic"
    automata: list[str] = field(
        default_factory=lambda: ["mod-marked:types=2,states=2", "mod-unmarked:types=2,states=2"]
    )
    schemes: list[str] = field(default_factory=lambda: ["rope", "bipe_rope"])
    widths: list[int] = field(default_factory=lambda: [8, 16, 32])
    seeds: list[int] = field(default_factory=lambda: [0])
    n_layers: int = 1
    n_heads: int = 2
    target: float = 0.97  # word accuracy a width must reach to count
    probes: bool = True
    workers: int = 2
    # ModelConfig overrides shared by every cell (besides vocab, scheme, width, layers, heads)
    model: dict[str, Any] = field(default_factory=lambda: {"ffn_multiple_of": 8})
    task: TaskConfig = field(default_factory=TaskConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=300, batch_size=32, lr=3e-3, warmup=30, weight_decay=0.0, progress=False
        )
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def validate(self) -> SyntheticConfig:
        """Raise ExperimentError naming every bad value (samplers are built to check counts)."""
        bad: list[str] = []
        if (
            isinstance(self.target, bool)
            or not isinstance(self.target, int | float)
            or not (0 < self.target <= 1)
        ):
            bad.append(f"target={self.target!r} (must be in (0, 1])")
        for name in ("n_layers", "n_heads", "workers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad.append(f"{name}={v!r} (must be a positive int)")
        for name in ("automata", "schemes", "widths", "seeds"):
            if not getattr(self, name):
                bad.append(f"{name} is empty")
        t = self.task
        if len(t.segments) != 2 or not 1 <= t.segments[0] <= t.segments[1]:
            bad.append(f"task.segments={t.segments!r} (a range [lo, hi] with 1 <= lo <= hi)")
        if not 0 <= t.min_len <= t.max_len:
            bad.append(f"task.min_len/max_len={t.min_len}/{t.max_len} (need 0 <= min <= max)")
        if not t.factors or any(
            isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in t.factors
        ):
            bad.append(f"task.factors={t.factors!r} (positive ints, e.g. [1, 2, 4, 8])")
        for name in ("test_words", "probe_words", "eval_batch"):
            v = getattr(t, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad.append(f"task.{name}={v!r} (must be a positive int)")
        tr = self.train
        for name in ("steps", "batch_size", "threads"):
            v = getattr(tr, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                bad.append(f"train.{name}={v!r} (must be a positive int)")
        if not (isinstance(tr.lr, int | float) and tr.lr > 0):
            bad.append(f"train.lr={tr.lr!r} (must be > 0)")
        for w in self.widths:
            if isinstance(w, bool) or not isinstance(w, int) or w < 1:
                bad.append(f"width {w!r} (must be a positive int)")
            elif isinstance(self.n_heads, int) and self.n_heads > 0 and w % self.n_heads:
                bad.append(f"width {w} is not divisible by n_heads={self.n_heads}")
        bad += [f"scheme {s!r}: {why}" for s in self.schemes if (why := scheme_problem(s))]
        if bad:
            raise ExperimentError("invalid synthetic config: " + "; ".join(bad))
        for spec in self.automata:
            check_automaton(self, parse_automaton(spec))
        for scheme in self.schemes:
            for w in self.widths:
                cell_model_config(self, scheme, w, vocab_size=2, separator=1, max_tokens=8)
        return self

    def segment_ranges(self) -> dict[int, tuple[int, int]]:
        """Segment-count range per test factor (factor 1 is the training range)."""
        lo, hi = self.task.segments
        return {f: (lo, hi) if f == 1 else (f * hi // 2 + 1, f * hi) for f in self.task.factors}

    def fingerprint(self) -> str:
        """Hash of the settings that change a cell's numbers (not which cells there are)."""
        d = self.to_dict()
        keep = {k: d[k] for k in ("n_layers", "n_heads", "probes", "model", "task", "train")}
        keep["train"].pop("progress")
        blob = json.dumps(keep, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def scheme_problem(scheme: str) -> str | None:
    """Why a scheme cannot run on Bi-NFA words (None when it can), read from the scheme registry."""
    from bipe_core.errors import UnknownSchemeError
    from bipe_core.schemes import scheme_class

    try:
        cls = scheme_class(scheme)
    except UnknownSchemeError as exc:
        return str(exc)
    if cls.uses_levels:
        return (
            "hierarchical schemes need more than one level of segments; a Bi-NFA word has one "
            "(use bipe_rope or bipe_alibi)"
        )
    return None


def check_automaton(cfg: SyntheticConfig, spec: AutomatonSpec) -> None:
    """Build the automaton and a sampler for every segment range: typed errors if one is impossible."""
    from automata import AutomataError

    try:
        binfa = spec.build()
    except AutomataError as exc:
        raise ExperimentError(f"automaton {spec.name}: {exc}") from exc
    for factor, (lo, hi) in cfg.segment_ranges().items():
        make_sampler(cfg, spec, binfa, (lo, hi), seed=0, what=f"factor {factor}")


def make_sampler(
    cfg: SyntheticConfig,
    spec: AutomatonSpec,
    binfa: Any,
    segments: tuple[int, int],
    seed: int,
    what: str = "training",
):
    """A HierarchicalSampler of `segments` segments; its AutomataError becomes an ExperimentError."""
    from automata import AutomataError
    from automata.samplers import HierarchicalSampler

    try:
        return HierarchicalSampler(binfa, segments, cfg.task.min_len, cfg.task.max_len, seed=seed)
    except AutomataError as exc:
        raise ExperimentError(
            f"automaton {spec.name} cannot give the {what} words ({segments[0]}..{segments[1]} "
            f"segments of {cfg.task.min_len}..{cfg.task.max_len} tokens): {exc}"
        ) from exc


def cell_model_config(
    cfg: SyntheticConfig, scheme: str, width: int, vocab_size: int, separator: int, max_tokens: int
):
    """The ModelConfig of one cell: intra table of max_len + 1 rows, absolute table of the longest
    training word (the paper's choice: tables sized to what training shows)."""
    from bipe_core.config import ModelConfig
    from bipe_core.errors import BipeCoreError

    fields = {
        "vocab_size": vocab_size,
        "d_model": width,
        "n_layers": cfg.n_layers,
        "n_heads": cfg.n_heads,
        "scheme": scheme,
        "separator_ids": (separator,),
        "max_positions": max_tokens,
        "max_intra": cfg.task.max_len + 1,
        **cfg.model,
    }
    try:
        return ModelConfig.from_dict(fields)
    except BipeCoreError as exc:
        raise ExperimentError(f"bad model settings for {scheme} at width {width}: {exc}") from exc


def _tiny() -> SyntheticConfig:
    # For the tests: two automata, two schemes, two widths, one seed, a few steps (seconds).
    return SyntheticConfig(
        name="tiny",
        automata=["mod-marked:types=2,states=2", "mod-unmarked:types=2,states=2"],
        schemes=["rope", "bipe_rope"],
        widths=[8, 16],
        seeds=[0],
        workers=2,
        task=TaskConfig(segments=[1, 4], max_len=4, factors=[1, 2], test_words=20, probe_words=20),
        train=TrainConfig(
            steps=20, batch_size=8, lr=3e-3, warmup=2, weight_decay=0.0, progress=False
        ),
    )


def _cpu() -> SyntheticConfig:
    # About 25 minutes on 2 shared cores (docs/synthetic.md says what it can and cannot show).
    return SyntheticConfig(
        name="cpu",
        automata=[
            "mod-marked:types=2,states=2",
            "mod-unmarked:types=2,states=2",
            "mod-marked:types=3,states=2",
            "mod-unmarked:types=3,states=2",
            "random:types=2,states=3",
            "random:types=2,states=5",
            "dyck:types=2,states=4",
            "arithmetic:types=2,states=14",
        ],
        schemes=["nope", "rope", "alibi", "bipe_rope", "bipe_alibi"],
        widths=[8, 16, 32],
        seeds=[0, 1],
        workers=2,
        task=TaskConfig(
            segments=[1, 8], max_len=6, factors=[1, 2, 4, 8], test_words=100, probe_words=100
        ),
        train=TrainConfig(
            steps=300, batch_size=32, lr=3e-3, warmup=30, weight_decay=0.0, progress=False
        ),
    )


def _gpu() -> SyntheticConfig:
    # The full sweep: every family, growing bottom sizes, 5 seeds, widths 8..128, 2 layers.
    automata = ["mod-marked:types=2,states=2", "mod-unmarked:types=2,states=2"]
    automata += [f"mod-{m}:types={k},states=2" for k in (3, 4) for m in ("marked", "unmarked")]
    automata += [f"random:types=2,states={n}" for n in (3, 5, 8, 12)]
    automata += ["dyck:types=2,states=4", "dyck:types=2,states=6", "arithmetic:types=2,states=14"]
    return SyntheticConfig(
        name="gpu",
        automata=automata,
        schemes=["nope", "learned", "rope", "alibi", "bipe_rope", "bipe_alibi"],
        widths=[8, 16, 32, 48, 64, 128],
        seeds=[0, 1, 2, 3, 4],
        n_layers=2,
        workers=8,
        task=TaskConfig(
            segments=[1, 8], max_len=8, factors=[1, 2, 4, 8], test_words=500, probe_words=300
        ),
        train=TrainConfig(
            steps=3000, batch_size=64, lr=1e-3, warmup=200, weight_decay=0.0, progress=False
        ),
    )


PRESETS = {"tiny": _tiny, "cpu": _cpu, "gpu": _gpu}


def load_synthetic_config(
    preset: str | None = "tiny", overrides: list[str] | None = None, **fields: Any
) -> SyntheticConfig:
    """A preset, then `fields` (e.g. schemes=[...]) and ``--set key=value`` overrides, validated."""
    if preset is not None and preset not in PRESETS:
        raise ExperimentError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    cfg = PRESETS[preset]() if preset else SyntheticConfig()
    cfg = copy.deepcopy(cfg)
    overlay(cfg, {k: v for k, v in fields.items() if v is not None})
    overlay(cfg, nested_overrides(list(overrides or [])))
    return cfg.validate()
