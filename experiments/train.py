"""Training one run (one corpus x scheme x segmenter): AdamW, warm-up + cosine, clipping, resume, DDP.

Batches are a pure function of (seed, step): the window starts of step ``s`` come from a numpy
generator seeded with ``[seed, s]``. That is what makes a resumed run identical to an
uninterrupted one, and lets DDP ranks take disjoint rows of the same global batch.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from experiments.checkpoints import (
    CHECKPOINT_NAME,
    TrainState,
    load_train_checkpoint,
    read_header,
    save_train_checkpoint,
)
from experiments.config import ExperimentConfig, uses_segments
from experiments.corpora import load_corpus
from experiments.errors import ExperimentError
from experiments.tokenize import TOKEN_SEPARATORS, CorpusTokens, TokenStream, window_positions


@dataclass(frozen=True)
class RunSpec:
    """One cell of the experiment grid."""

    corpus: str
    scheme: str
    segmenter: str | None = None

    @property
    def name(self) -> str:
        """Directory-safe run name, e.g. ``kjv-bipe_rope-punct``."""
        parts = [self.corpus, self.scheme] + ([self.segmenter] if self.segmenter else [])
        return "-".join("".join(c if c.isalnum() or c in "_." else "_" for c in p) for p in parts)


def run_specs(cfg: ExperimentConfig) -> list[RunSpec]:
    """Every run of the grid: baselines once per corpus, BiPE schemes once per segmenter."""
    out = []
    for corpus in cfg.data.corpora:
        # the first segmenter's runs come first, so a cut-short grid still holds every scheme
        for i in range(max(len(cfg.segmenters), 1)):
            for scheme in cfg.schemes:
                if uses_segments(scheme):
                    out.append(RunSpec(corpus, scheme, cfg.segmenters[i]))
                elif i == 0:
                    out.append(RunSpec(corpus, scheme, None))
    return out


@dataclass
class RunData:
    """Token streams of one run with the vocabulary they were made with."""

    tokens: CorpusTokens
    train: TokenStream
    val: TokenStream
    vocab_size: int


def prepare_data(
    cfg: ExperimentConfig,
    spec: RunSpec,
    cache_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "val"),
) -> RunData:
    """Load the corpus, train/load the tokenizer and cached streams (with positions if needed)."""
    d = cfg.data
    corpus = load_corpus(spec.corpus, d.max_docs)
    tokens = CorpusTokens(corpus, d.vocab_size, cache_dir, d.val_frac, d.test_frac)
    max_intra = cfg.model.max_intra or cfg.train.seq_len
    streams = {
        s: tokens.stream(s, spec.segmenter, max_intra, d.separator_chars)
        if spec.segmenter
        else tokens.stream(s)
        for s in splits
    }
    return RunData(tokens, streams.get("train"), streams.get("val"), tokens.actual_vocab_size())


def build_model(cfg: ExperimentConfig, scheme: str, vocab_size: int):  # -> DecoderLM
    """The run's DecoderLM: learned/intra tables sized to the training length, as in the paper."""
    from bipe_core.config import ModelConfig
    from bipe_core.errors import BipeCoreError
    from bipe_core.model import DecoderLM

    m = cfg.model
    try:
        mc = ModelConfig(
            vocab_size=vocab_size,
            d_model=m.d_model,
            n_layers=m.n_layers,
            n_heads=m.n_heads,
            scheme=scheme,
            max_positions=cfg.train.seq_len,
            max_intra=m.max_intra or cfg.train.seq_len,
            intra=m.intra,
            alibi_factor=m.alibi_factor,
            tie_embeddings=m.tie_embeddings,
        )
    except BipeCoreError as exc:
        raise ExperimentError(f"bad model settings for scheme {scheme!r}: {exc}") from exc
    model = DecoderLM(mc)
    if m.intra_init == "zeros":
        # ablation: a learned intra table that starts as "no intra position" instead of noise
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "intra" in name:
                    param.zero_()
    return model


def batch_at(
    stream: TokenStream,
    step: int,
    seed: int,
    batch_size: int,
    seq_len: int,
    rank: int = 0,
    world: int = 1,
) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """Inputs, targets and positions of step ``step``: random windows chosen by (seed, step)."""
    n = len(stream)
    if n < seq_len + 2:
        raise ExperimentError(
            f"the training split has {n} tokens, fewer than seq_len+2 = {seq_len + 2}"
        )
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, n - seq_len - 1, size=batch_size)[rank::world]
    return windows(stream, starts, seq_len)


def windows(
    stream: TokenStream, starts: np.ndarray, length: int
) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """Inputs/targets of the windows starting at ``starts`` and their re-based positions."""
    idx = starts[:, None] + np.arange(length)[None]
    x = torch.from_numpy(stream.ids[idx].astype(np.int64))
    y = torch.from_numpy(stream.ids[idx + 1].astype(np.int64))
    positions = None
    if stream.segment is not None:
        from bipe_core.positions import positions_from_arrays

        intra, seg = window_positions(stream.intra[idx].astype(np.int64), stream.segment[idx])
        positions = positions_from_arrays(intra, seg)
    return x, y, positions


def lm_loss(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, positions: Any
) -> torch.Tensor:
    """Mean next-token cross-entropy of a batch."""
    out = model(x, positions=positions)
    logits = out.logits if hasattr(out, "logits") else out
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))


def lr_at(step: int, cfg: ExperimentConfig) -> float:
    """Learning rate of ``step``: linear warm-up, then cosine decay to ``min_lr_frac * lr``."""
    t = cfg.train
    if t.warmup and step < t.warmup:
        return t.lr * (step + 1) / t.warmup
    span = max(t.steps - t.warmup, 1)
    progress = min(max(step - t.warmup, 0) / span, 1.0)
    floor = t.lr * t.min_lr_frac
    return floor + (t.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, cfg: ExperimentConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (norms and biases are not decayed)."""
    t = cfg.train
    decay = [p for _, p in sorted(model.named_parameters()) if p.requires_grad and p.dim() >= 2]
    rest = [p for _, p in sorted(model.named_parameters()) if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": t.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=t.lr, betas=(t.beta1, t.beta2), foreach=False)


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


class _StopFlag:
    """SIGINT/SIGTERM set a flag; the loop saves a checkpoint after the current step and returns."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: no signal handling there
            self._old = {}
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def __exit__(self, *exc: Any) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _dist() -> tuple[int, int]:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _run_info(cfg: ExperimentConfig, spec: RunSpec, model: torch.nn.Module, data: RunData) -> dict:
    return {
        "experiment": cfg.to_dict(),
        "spec": {"corpus": spec.corpus, "scheme": spec.scheme, "segmenter": spec.segmenter},
        "model_config": model.config.to_dict(),
        "vocab_size": data.vocab_size,
        "tokens_dir": str(data.tokens.dir),
    }


def _check_compatible(path: Path, info: dict[str, Any]) -> None:
    old = read_header(path).get("info", {})
    for key in ("spec", "model_config"):
        if old.get(key) != info.get(key):
            raise ExperimentError(
                f"{path} was made by a different run ({key} differs); use another --out directory "
                "or delete that checkpoint on purpose"
            )


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
    rank, world = _dist()
    if t.batch_size % world:
        raise ExperimentError(
            f"train.batch_size={t.batch_size} is not divisible by {world} processes"
        )
    torch.set_num_threads(t.threads)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = data or prepare_data(cfg, spec, cache_dir)
    torch.manual_seed(t.seed)
    model = build_model(cfg, spec.scheme, data.vocab_size)
    optimizer = make_optimizer(model, cfg)
    ckpt = run_dir / CHECKPOINT_NAME
    info = _run_info(cfg, spec, model, data)
    step = 0
    if ckpt.exists():
        _check_compatible(ckpt, info)
        if not resume:
            raise ExperimentError(
                f"{ckpt} exists; pass resume=True (--resume) or use another --out"
            )
        step = load_train_checkpoint(ckpt, model, optimizer).step
    metrics_path = run_dir / "metrics.jsonl"
    if rank == 0:
        _truncate_metrics(metrics_path, step)
    ddp_model = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ddp_model = DistributedDataParallel(model)
    end = min(t.steps, stop_at) if stop_at is not None else t.steps
    result = TrainResult(run_dir, step, completed=step >= t.steps, info=info)
    bar = _progress(t.progress and rank == 0, step, t.steps, spec.name)
    t0, tokens_seen = time.perf_counter(), 0
    with _StopFlag() as stop, open(metrics_path, "a", encoding="utf-8") as metrics:
        while step < end:
            ddp_model.train()
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, cfg)
            x, y, pos = batch_at(data.train, step, t.seed, t.batch_size, t.seq_len, rank, world)
            loss = lm_loss(ddp_model, x, y, pos)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
            optimizer.step()
            step += 1
            tokens_seen += x.numel() * world
            result.final_loss = float(loss.detach())
            if not math.isfinite(result.final_loss):
                raise ExperimentError(
                    f"{spec.name}: loss became {result.final_loss} at step {step}"
                )
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{result.final_loss:.3f}")
            if rank == 0 and (step % t.log_every == 0 or step == end):
                rec = {
                    "step": step,
                    "loss": round(result.final_loss, 5),
                    "lr": lr_at(step - 1, cfg),
                    "grad_norm": round(float(gnorm), 4),
                    "tok_per_s": round(tokens_seen / (time.perf_counter() - t0), 1),
                }
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
            stopping = _agree(stop.signum is not None, world)
            if step % t.ckpt_every == 0 or step == end or stopping:
                if step % t.ckpt_every == 0 or step == t.steps:
                    result.val_loss = val_loss(model, data.val, cfg)
                    if rank == 0:
                        metrics.write(
                            json.dumps({"step": step, "val_loss": round(result.val_loss, 5)}) + "\n"
                        )
                        metrics.flush()
                if rank == 0:
                    save_train_checkpoint(ckpt, model, optimizer, TrainState(step, info))
                _barrier(world)
            if stopping:
                result.interrupted = True
                break
    if bar is not None:
        bar.close()
    result.step = step
    result.completed = step >= t.steps
    result.seconds = time.perf_counter() - t0
    result.tokens_per_s = tokens_seen / result.seconds if result.seconds > 0 else 0.0
    return result


@torch.no_grad()
def val_loss(
    model: torch.nn.Module, stream: TokenStream | None, cfg: ExperimentConfig, n_windows: int = 8
) -> float:
    """Mean loss on fixed validation windows at the training length (same windows every time)."""
    if stream is None or len(stream) < cfg.train.seq_len + 2:
        return float("nan")
    model.eval()
    rng = np.random.default_rng([cfg.train.seed, 2**31 - 1])
    starts = rng.integers(0, len(stream) - cfg.train.seq_len - 1, size=n_windows)
    x, y, pos = windows(stream, starts, cfg.train.seq_len)
    return float(lm_loss(model, x, y, pos))


def _agree(flag: bool, world: int) -> bool:
    if world <= 1:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


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
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(x + "\n" for x in keep), encoding="utf-8")
    os.replace(tmp, path)


def _progress(enabled: bool, initial: int, total: int, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, leave=False, dynamic_ncols=True)


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


def uses_token_separators(spec: RunSpec) -> bool:
    """Whether the run uses the paper's token-level separators rather than a segmenter."""
    return spec.segmenter == TOKEN_SEPARATORS
