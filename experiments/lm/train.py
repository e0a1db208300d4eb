"""Training one run of the language-model grid (one corpus x scheme x segmenter x seed) in the
engine's training loop, with what a run adds around it: resume from its checkpoint, metrics in
``metrics.jsonl``, validation loss at checkpoint steps, data-parallel training under torchrun.

Data come from `experiments.lm.data` (batches are a pure function of (seed, step), so a resumed
run is identical to an uninterrupted one); the loss is the model's own (`DecoderLM(ids, targets)`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from experiments.atomic import atomic_text
from experiments.engine.checkpoints import (
    CHECKPOINT_NAME,
    TrainState,
    load_train_checkpoint,
    read_header,
    save_train_checkpoint,
)
from experiments.engine.config import changed_numbers
from experiments.engine.trainer import (
    Batch,
    Loop,
    StepStats,
    barrier,
    distributed,
    lr_at,
    make_optimizer,
    run_loop,
)
from experiments.errors import ExperimentError
from experiments.lm.config import ExperimentConfig, RunSpec, model_config, run_seed
from experiments.lm.data import RunData, check_same_data, data_fingerprints, prepare_data
from experiments.pipeline import TokenStream, batch_at, fixed_windows


def build_model(
    cfg: ExperimentConfig, scheme: str, vocab_size: int, segmenter: str | None = None
):  # -> DecoderLM
    """The run's DecoderLM: learned/intra tables sized to the training length, as in the paper."""
    from bipe_core.model import DecoderLM

    return DecoderLM(model_config(cfg, scheme, vocab_size, segmenter))


@dataclass
class TrainResult:
    """Outcome of `train_run`."""

    run_dir: Path
    step: int
    completed: bool
    interrupted: bool = False
    final_loss: float | None = None
    val_loss: float | None = None
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def _run_info(
    cfg: ExperimentConfig, spec: RunSpec, model: torch.nn.Module, data: RunData
) -> dict[str, Any]:
    return {
        "experiment": cfg.to_dict(),
        "spec": {"corpus": spec.corpus, "scheme": spec.scheme, "segmenter": spec.segmenter},
        "seed": run_seed(cfg, spec),
        "model_config": model.config.to_dict(),
        "vocab_size": data.vocab_size,
        "tokens_dir": str(data.tokens.dir),
        "data": data_fingerprints(cfg, spec, data.tokens),
    }


def _check_compatible(path: Path, info: dict[str, Any], cfg: ExperimentConfig) -> None:
    """Refuse to continue a checkpoint that another run, seed or configuration wrote."""
    from bipe_core.config import ModelConfig

    old = read_header(path).get("info", {})
    try:  # a checkpoint written before a new ModelConfig field existed still compares equal
        old_model = ModelConfig.from_dict(old.get("model_config")).to_dict()
    except Exception:
        old_model = old.get("model_config")
    old_exp = old.get("experiment", {})
    check_same_data(path, old.get("data"), info["data"])
    # checkpoints written before `seeds` existed kept the run's seed in train.seed
    old_seed = old.get("seed", (old_exp.get("train") or {}).get("seed", info["seed"]))
    for key, was, now in (
        ("spec", old.get("spec"), info.get("spec")),
        ("model_config", old_model, info.get("model_config")),
        ("seed", old_seed, info["seed"]),
    ):
        if was != now:
            raise ExperimentError(
                f"{path} was made by a different run ({key} differs); use another --out directory "
                "or delete that checkpoint on purpose"
            )
    # Continuing under another schedule or other data would record numbers that no single
    # configuration produced; settings that change no number (logging, threads, ...) may change.
    changed = changed_numbers(old_exp, cfg, "train") + changed_numbers(old_exp, cfg, "data")
    if changed:
        raise ExperimentError(
            f"{path} was trained with other settings ({', '.join(changed)}); resuming would mix "
            "two configurations in one run. Use the checkpoint's settings, another --out "
            "directory, or delete that checkpoint on purpose"
        )


@dataclass
class _Run:
    """Everything one training run holds between steps."""

    cfg: ExperimentConfig
    data: RunData
    loop: Loop
    info: dict[str, Any]
    ckpt: Path
    rank: int
    seed: int


def _start_run(
    cfg: ExperimentConfig,
    spec: RunSpec,
    run_dir: Path,
    cache_dir: str | Path | None,
    resume: bool,
    data: RunData | None,
) -> _Run:
    """Data, model and optimizer of a run, continued from its checkpoint when there is one."""
    t = cfg.train
    rank, world = distributed()
    if t.batch_size % world:
        raise ExperimentError(
            f"train.batch_size={t.batch_size} is not divisible by {world} processes"
        )
    torch.set_num_threads(t.threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = data or prepare_data(cfg, spec, cache_dir)
    seed = run_seed(cfg, spec)
    torch.manual_seed(seed)
    model = build_model(cfg, spec.scheme, data.vocab_size, spec.segmenter)
    optimizer = make_optimizer(model, t)
    ckpt = run_dir / CHECKPOINT_NAME
    info = _run_info(cfg, spec, model, data)
    step = 0
    if ckpt.exists():
        _check_compatible(ckpt, info, cfg)
        if not resume:
            raise ExperimentError(
                f"{ckpt} exists and resuming was turned off (--no-resume); run without "
                "--no-resume to continue it, or use another --out directory"
            )
        step = load_train_checkpoint(ckpt, model, optimizer).step
    forward = None
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(model)

    def batch(at: int) -> Batch:
        x, y, pos = batch_at(data.train, at, seed, t.batch_size, t.seq_len, rank, world)
        return Batch(x, y, pos, x.numel())

    loop = Loop(model, optimizer, t, batch, spec.name, step, forward, world)
    return _Run(cfg, data, loop, info, ckpt, rank, seed)


def _write_metric(metrics: Any, record: dict[str, Any]) -> None:
    metrics.write(json.dumps(record) + "\n")
    metrics.flush()


def _checkpoint(run: _Run, metrics: Any, result: TrainResult) -> None:
    """Validation loss at checkpoint steps and the final step, then the checkpoint itself."""
    t, step = run.cfg.train, run.loop.step
    if step % t.ckpt_every == 0 or step == t.steps:
        result.val_loss = val_loss(run.loop.model, run.data.val, run.cfg, run.seed)
        if run.rank == 0:
            _write_metric(metrics, {"step": step, "val_loss": round(result.val_loss, 5)})
    if run.rank == 0:
        state = TrainState(step, run.info)
        save_train_checkpoint(run.ckpt, run.loop.model, run.loop.optimizer, state)
    barrier(run.loop.world)


def train_run(
    cfg: ExperimentConfig,
    spec: RunSpec,
    run_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    resume: bool = True,
    stop_at: int | None = None,
    data: RunData | None = None,
) -> TrainResult:
    """Train one run to ``cfg.train.steps`` (or until ``stop_at`` / a signal), checkpointing as it goes.

    With ``resume`` an existing checkpoint in ``run_dir`` is continued; a checkpoint made by a
    different run raises ExperimentError and is never overwritten.
    """
    t = cfg.train
    run_dir = Path(run_dir)
    run = _start_run(cfg, spec, run_dir, cache_dir, resume, data)
    metrics_path = run_dir / "metrics.jsonl"
    if run.rank == 0:
        _truncate_metrics(metrics_path, run.loop.step)
    end = min(t.steps, stop_at) if stop_at is not None else t.steps
    result = TrainResult(run_dir, run.loop.step, completed=run.loop.step >= t.steps, info=run.info)
    with open(metrics_path, "a", encoding="utf-8") as metrics:

        def after_step(s: StepStats, stopping: bool) -> None:
            if run.rank == 0 and (s.step % t.log_every == 0 or s.step == end):
                _write_metric(metrics, {
                    "step": s.step,
                    "loss": round(s.loss, 5),
                    "lr": lr_at(s.step - 1, t),
                    "grad_norm": round(s.grad_norm, 4),
                    "tok_per_s": round(s.tokens_seen / s.seconds, 1),
                })  # fmt: skip
            if s.step % t.ckpt_every == 0 or s.step == end or stopping:
                _checkpoint(run, metrics, result)

        loop = run_loop(run.loop, end, after_step, progress=t.progress and run.rank == 0)
    result.final_loss = loop.final_loss
    result.interrupted = loop.interrupted
    result.step = loop.step
    result.completed = loop.step >= t.steps
    result.seconds = loop.seconds
    result.tokens_per_s = loop.tokens_per_s
    return result


@torch.no_grad()
def val_loss(
    model: torch.nn.Module,
    stream: TokenStream | None,
    cfg: ExperimentConfig,
    seed: int,
    n_windows: int = 8,
) -> float:
    """Mean loss on fixed validation windows at the training length (same windows every time)."""
    if stream is None or len(stream) < cfg.train.seq_len + 2:
        return float("nan")
    model.eval()
    x, y, pos = fixed_windows(stream, seed, n_windows, cfg.train.seq_len)
    return float(model(x, y, positions=pos))


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines after the checkpoint step: those steps are about to be recomputed."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                keep.append(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash
    atomic_text(path, "".join(x + "\n" for x in keep))


def load_trained(run_dir: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model of a finished (or interrupted) run, in eval mode, and the run's info."""
    from bipe_core.config import ModelConfig
    from bipe_core.model import DecoderLM

    path = Path(run_dir) / CHECKPOINT_NAME if Path(run_dir).is_dir() else Path(run_dir)
    header = read_header(path)
    info = header.get("info", {})
    try:
        model = DecoderLM(ModelConfig.from_dict(info["model_config"]))
    except Exception as exc:
        raise ExperimentError(f"{path}: cannot rebuild the model: {exc}") from exc
    state = load_train_checkpoint(path, model)
    info = {**state.info, "step": state.step}
    return model.eval(), info
