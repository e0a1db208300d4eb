"""The limits of `bipe synthetic` and the checks that refuse a config past them, before any cell
trains: automaton specs (family, options, knob limits of `automata.limits`), model sizes, the
task's word shapes and counts, the sweep's size. Every message names the setting and its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.engine.config import POSITIVE_INT
from experiments.errors import ExperimentError
from experiments.specs import parse_spec


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
    """``"random:types=2,states=4,seed=1"`` -> AutomatonSpec; unknown families/options raise, and so
    do knobs over the limits every family keeps (automata.limits: 1000 types hung the sweep)."""
    from automata import FAMILIES, list_families

    family, opts = parse_spec(spec)
    if family not in FAMILIES:
        raise ExperimentError(
            f"unknown automaton family {family!r} in {spec!r}; choose one of {', '.join(list_families())}"
        )
    known = {"types", "states", "seed"}
    unknown = sorted(set(opts) - known)
    if unknown:
        raise ExperimentError(
            f"automaton {spec!r}: unknown option(s) {', '.join(unknown)}; valid: types, states, seed"
        )
    limits = automaton_limits()
    for k, v in opts.items():
        low = 0 if k == "seed" else 1
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ExperimentError(f"automaton {spec!r}: {k} must be an integer >= {low}, got {v!r}")
        if v > limits[k]:
            # building and minimising the flattened automaton grows faster than its knobs
            # (mod-marked: 128 types took 20 s and 1.2 GB, 1000 types hung); make_family then
            # bounds the flattened size itself (mod-marked stops near 40 types)
            raise ExperimentError(
                f"automaton {spec!r}: {k}={v} is over the limit of {limits[k]} "
                "that keeps building and checking it within seconds"
            )
    return AutomatonSpec(family, **opts)


def automaton_limits() -> dict[str, int]:
    """The largest types, states and seed of an automaton spec: those of `automata.limits`."""
    from automata.limits import MAX_SEED, MAX_STATES, MAX_TYPES

    return {"types": MAX_TYPES, "states": MAX_STATES, "seed": MAX_SEED}


# What one sweep may ask for: past these, a cell takes hours or gigabytes (or cannot run at all),
# so the value is refused with the limit before anything trains.
MAX_WIDTH = 4096  # a model width above this is no tiny synthetic model
MAX_LAYERS = 64
MAX_HEADS = 256
MAX_PARAMS = 100_000_000  # about 12 * layers * width^2: 1.6 GB of weights and AdamW state
MAX_SEED = 4_294_967_295  # 2^32 - 1: torch.manual_seed and numpy both take it
MAX_CELLS = 10_000  # automata x schemes x widths x seeds
MAX_WORKERS = 256
MAX_WORD_TOKENS = 8_192  # the longest test word: max(factors) * segments[1] * (max_len + 1)
MAX_WORDS = 100_000  # test_words and probe_words (sampled per factor and automaton)
MAX_EVAL_BATCH = 10_000
MAX_STEPS = 1_000_000
MAX_BATCH = 4_096
# ModelConfig fields each cell sets from its own settings: a model section naming one would train
# every cell at one width (a cell named w8 trained at d_model 64) under the cell's label
CELL_MODEL_FIELDS = (
    "vocab_size",
    "d_model",
    "n_layers",
    "n_heads",
    "scheme",
    "separator_ids",
    "max_positions",
    "max_intra",
)
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _over(name: str, value: Any, limit: int) -> list[str]:
    """``["name=value is over the limit of limit"]`` when an int ``value`` passes ``limit``."""
    return (
        [f"{name}={value} is over the limit of {limit:,}"] if _int(value) and value > limit else []
    )


def bound_problems(cfg: Any) -> list[str]:
    """The name, the sweep's size and every number setting within its limit; the model section
    free of the fields each cell sets itself."""
    bad: list[str] = []
    if not isinstance(cfg.name, str) or not cfg.name or not set(cfg.name) <= NAME_CHARS:
        bad.append(
            f"name={cfg.name!r} (it names the output directory: letters, digits, '.', '_', '-')"
        )
    elif cfg.name.startswith(".") or len(cfg.name) > 64:
        bad.append(f"name={cfg.name!r} (must not start with '.' and has at most 64 characters)")
    if not isinstance(cfg.probes, bool):
        bad.append(f"probes={cfg.probes!r} (must be true or false)")
    bad += _over("n_layers", cfg.n_layers, MAX_LAYERS) + _over("n_heads", cfg.n_heads, MAX_HEADS)
    bad += _over("workers", cfg.workers, MAX_WORKERS)
    bad += _over("train.steps", cfg.train.steps, MAX_STEPS)
    bad += _over("train.batch_size", cfg.train.batch_size, MAX_BATCH)
    bad += [
        f"seed {s} is over the limit of {MAX_SEED}" for s in cfg.seeds if _over("", s, MAX_SEED)
    ]
    taken = sorted(set(cfg.model) & set(CELL_MODEL_FIELDS))
    if taken:
        bad.append(
            f"model.{', model.'.join(taken)}: set by each cell (widths, n_layers, n_heads, schemes, "
            "the task), not by the model section"
        )
    cells = len(cfg.automata) * len(cfg.schemes) * len(cfg.widths) * len(cfg.seeds)
    if cells > MAX_CELLS:
        bad.append(
            f"{cells:,} cells ({len(cfg.automata)} automata x {len(cfg.schemes)} schemes x "
            f"{len(cfg.widths)} widths x {len(cfg.seeds)} seeds) is over the limit of {MAX_CELLS:,}"
        )
    return bad


def width_problems(cfg: Any) -> list[str]:
    """Every width a positive int within MAX_WIDTH that n_heads divides, every model within
    MAX_PARAMS (estimated as 12 * layers * width^2)."""
    bad: list[str] = []
    for w in cfg.widths:
        if not POSITIVE_INT.ok(w):
            bad.append(f"width {w!r} (must be a positive int)")
        elif w > MAX_WIDTH:
            bad.append(f"width {w} is over the limit of {MAX_WIDTH} for a synthetic cell")
        elif _int(cfg.n_layers) and 12 * cfg.n_layers * w * w > MAX_PARAMS:
            bad.append(
                f"width {w} with n_layers={cfg.n_layers} makes a model of about "
                f"{12 * cfg.n_layers * w * w:,} parameters, over the limit of {MAX_PARAMS:,}"
            )
        elif _int(cfg.n_heads) and w % cfg.n_heads:
            bad.append(f"width {w} is not divisible by n_heads={cfg.n_heads}")
    return bad


def task_problems(t: Any) -> list[str]:
    """Segment counts and lengths ordered integers, word counts and the longest test word within
    their limits."""
    bad: list[str] = []
    seg = t.segments
    if not isinstance(seg, list) or len(seg) != 2 or not all(_int(v) for v in seg):
        return [f"task.segments={seg!r} (a range [lo, hi] of two integers)"]
    if not 1 <= seg[0] <= seg[1]:
        bad.append(f"task.segments={seg!r} (a range [lo, hi] with 1 <= lo <= hi)")
    if not _int(t.min_len) or not _int(t.max_len) or not 0 <= t.min_len <= t.max_len:
        bad.append(f"task.min_len/max_len={t.min_len!r}/{t.max_len!r} (integers, 0 <= min <= max)")
    bad += _over("task.test_words", t.test_words, MAX_WORDS)
    bad += _over("task.probe_words", t.probe_words, MAX_WORDS)
    bad += _over("task.eval_batch", t.eval_batch, MAX_EVAL_BATCH)
    if not bad and isinstance(t.factors, list) and all(_int(f) for f in t.factors):
        longest = max(t.factors) * seg[1] * (t.max_len + 1)
        if longest > MAX_WORD_TOKENS:
            bad.append(
                f"the longest test word (factor {max(t.factors)} x {seg[1]} segments x "
                f"{t.max_len + 1} tokens = {longest:,}) is over the limit of {MAX_WORD_TOKENS:,} "
                "tokens; lower task.factors, task.segments or task.max_len"
            )
    return bad


def automata_problems(cfg: Any) -> list[str]:
    """Every automaton spec parsed (families, options, limits) and no automaton listed twice
    under two spellings (``types=2,states=2`` and ``states=2,types=2``: one cell counted twice)."""
    bad: list[str] = []
    names: dict[str, str] = {}
    for text in cfg.automata:
        try:
            name = parse_automaton(text).name
        except ExperimentError as exc:
            bad.append(str(exc))
            continue
        if name in names:
            bad.append(f"automata {names[name]!r} and {text!r} are the same automaton ({name})")
        names[name] = text
    return bad
