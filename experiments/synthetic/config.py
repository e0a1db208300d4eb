"""Configuration of `bipe synthetic`: automata, schemes, widths, seeds, the task, presets, checks.

A cell of the sweep is one (automaton, scheme, width, seed). Every bad setting is an
ExperimentError raised by `validate` before any training starts: an automaton spec naming an
unknown family, a sampler that cannot produce the requested segment counts, a width the head count
does not divide, a scheme that is unknown or does not apply, a target outside (0, 1].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine.config import (
    NONEMPTY,
    POSITIVE_INT,
    POSITIVE_INTS,
    PROBABILITY,
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
from experiments.synthetic.checks import (  # the spec lives in checks.py; found here too
    MAX_WIDTH as MAX_WIDTH,
)
from experiments.synthetic.checks import (
    AutomatonSpec,
    automata_problems,
    bound_problems,
    parse_automaton,
    task_problems,
    width_problems,
)
from experiments.synthetic.checks import (
    automaton_limits as automaton_limits,
)

TASK = "synthetic"


@dataclass
class TaskConfig:
    """Words of the language and how they are split between training and the extrapolation tests.

    Training words have ``segments[0]..segments[1]`` segments; at factor f > 1 the test words have
    f*hi//2 + 1 .. f*hi segments (only new, longer counts); every segment has between ``min_len``
    and ``max_len`` tokens before its separator, in training and in every test.
    """

    segments: list[int] = setting(factory=lambda: [1, 8])
    min_len: int = 1
    max_len: int = 6
    factors: list[int] = setting(factory=lambda: [1, 2, 4, 8], check=POSITIVE_INTS, unique=True)
    # per factor, the same words for every cell of an automaton
    test_words: int = setting(200, check=POSITIVE_INT)
    # words (factor 1) whose hidden states the probes read
    probe_words: int = setting(200, check=POSITIVE_INT)
    eval_batch: int = setting(50, check=POSITIVE_INT, numbers=False)


@dataclass
class SyntheticConfig:
    """The sweep: every automaton x scheme x width x seed is a cell (one run directory)."""

    name: str = setting("synthetic", numbers=False)
    automata: list[str] = setting(
        factory=lambda: ["mod-marked:types=2,states=2", "mod-unmarked:types=2,states=2"],
        check=NONEMPTY,
        numbers=False,
        specs=True,
        unique=True,
    )
    schemes: list[str] = setting(
        factory=lambda: ["rope", "bipe_rope"], check=NONEMPTY, numbers=False, unique=True
    )
    widths: list[int] = setting(
        factory=lambda: [8, 16, 32], check=NONEMPTY, numbers=False, unique=True
    )
    seeds: list[int] = setting(factory=lambda: [0], check=SEEDS, numbers=False, unique=True)
    n_layers: int = setting(1, check=POSITIVE_INT)
    n_heads: int = setting(2, check=POSITIVE_INT)
    # word accuracy a width must reach to count (read by the report, not by a cell)
    target: float = setting(0.97, check=PROBABILITY, numbers=False)
    probes: bool = True
    workers: int = setting(2, check=POSITIVE_INT, numbers=False)
    # ModelConfig overrides shared by every cell (besides vocab, scheme, width, layers, heads)
    model: dict[str, Any] = setting(factory=lambda: {"ffn_multiple_of": 8})
    task: TaskConfig = setting(factory=TaskConfig)
    train: TrainConfig = setting(
        factory=lambda: TrainConfig(
            steps=300, batch_size=32, lr=3e-3, warmup=30, weight_decay=0.0, progress=False
        )
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def validate(self) -> SyntheticConfig:
        """Raise ExperimentError naming every bad value (samplers are built to check counts)."""
        return validate(self, "synthetic")

    def problems(self) -> list[str]:
        """The rules that tie settings together and the limits of each (named in the message);
        automata, samplers and model configs are then built to check them (`validate` checks
        each setting's type first)."""
        bad = bound_problems(self) + width_problems(self) + task_problems(self.task)
        bad += automata_problems(self)
        bad += [f"scheme {s!r}: {why}" for s in self.schemes if (why := scheme_problem(s))]
        if bad:
            return bad
        for spec in self.automata:
            check_automaton(self, parse_automaton(spec))
        for scheme in self.schemes:
            for w in self.widths:
                cell_model_config(self, scheme, w, vocab_size=2, separator=1, max_tokens=8)
        return []

    def segment_ranges(self) -> dict[int, tuple[int, int]]:
        """Segment-count range per test factor (factor 1 is the training range)."""
        lo, hi = self.task.segments
        return {f: (lo, hi) if f == 1 else (f * hi // 2 + 1, f * hi) for f in self.task.factors}


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


@register_preset(TASK, "tiny")
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


@register_preset(TASK, "cpu")
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


@register_preset(TASK, "gpu")
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


def presets() -> list[str]:
    """The names of the synthetic presets: the built-ins, then any an entry point adds."""
    return preset_names(TASK)


def load_synthetic_config(
    preset: str | None = "tiny",
    overrides: list[str] | None = None,
    path: str | Path | None = None,
    **fields: Any,
) -> SyntheticConfig:
    """A preset, then a JSON file, then `fields` (e.g. schemes=[...]) and ``--set key=value``
    overrides, validated."""
    cfg = build_preset(TASK, preset) if preset else SyntheticConfig()
    if path is not None:
        overlay(cfg, read_json_config(path))
    overlay(cfg, {k: v for k, v in fields.items() if v is not None})
    overlay(cfg, nested_overrides(list(overrides or [])))
    return cfg.validate()
