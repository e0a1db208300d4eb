"""The one data path: byte-level BPE trained locally, token streams per split with their segment
positions (all cached), and the windows and batches cut from them for training and evaluation.

Cache layout (default ``~/.cache/bipe``)::

    <cache>/<corpus>-<fingerprint>/bpe<V>/tokenizer.json
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.ids.npy           token ids, documents concatenated
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.docs.npy          token index where each document starts
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.manifest.json     completion record of the two above
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.<seg>-m<M>.intra.npy / .segment.npy / .manifest.json
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.nest-<spec>-m<M>.level<k>.npy    nested specs: one column per level
    <cache>/index/<corpus>-<change key>.json                        fingerprint + split plan of a streamed source

The fingerprint hashes every document id and text, so a changed corpus never reuses a cache
(``-v<val>-t<test>`` is appended for non-default split fractions). Arrays are built shard by shard
(`experiments.shards`: a few MB of text each, in ``workers`` processes, resumable) and read back
memory-mapped, so a corpus larger than memory streams from its source to disk and back.

Segment ids count up across the whole split (each document opens a new segment), so any window
cut from the stream can be re-based with `window_positions`. Positions come from a *position
source* (`experiments.position_sources`): any registered segmenter spec (text spans aligned to
tokens), a source registered there under its own name, such as the paper's token-level ``sep`` path (separator token ids close
segments), or a nested spec (``code@file > code@definition > code@line``, see experiments.specs)
whose streams also carry ``levels`` (N, K), coarse to fine, for the hierarchical schemes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from experiments.config import DEFAULT_SEPARATOR_CHARS, ExperimentConfig, RunSpec, model_config
from experiments.corpora import load_corpus
from experiments.documents import (
    SPLITS,
    Corpus,
    Document,
    SplitPlan,
    SplitPlanner,
    fingerprint_documents,
)
from experiments.errors import ExperimentError
from experiments.position_sources import (
    POSITION_ARRAYS,
    ShardBatch,
    ShardContext,
    level_arrays,
    position_shard,
    position_source,
)
from experiments.shards import (
    ArraySpec,
    atomic_write,
    build_sharded,
    safe_name,
    shard_tokenizer,
    short_hash,
)
from experiments.specs import split_levels

if TYPE_CHECKING:
    import torch

    from bipe_core.positions import Positions


def default_cache_dir() -> Path:
    """``$BIPE_CACHE`` or ``~/.cache/bipe``."""
    return Path(os.environ.get("BIPE_CACHE") or Path.home() / ".cache" / "bipe")


@dataclass
class TokenStream:
    """One split as a token stream with optional per-token segment positions."""

    ids: np.ndarray  # int32 (N,)
    doc_starts: np.ndarray  # int64 (D,)
    intra: np.ndarray | None = None  # int32 (N,)
    segment: np.ndarray | None = None  # int64 (N,), non-decreasing over the stream
    levels: np.ndarray | None = None  # int64 (N, K) coarse -> fine, last column == segment

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def segment_lengths(self) -> np.ndarray:
        """Length in tokens of every segment of the stream."""
        if self.segment is None:
            raise ExperimentError("this stream has no segment positions")
        return np.bincount(self.segment - self.segment.min())


SHARD_CHARS = 2_000_000  # text per shard: bounds the memory of each worker
SHARD_TOKENS = 1_000_000  # tokens per shard of an id-based position source
DEFAULT_FRACTIONS = (0.05, 0.05)
IDS_ARRAYS = (
    ArraySpec("ids", "int32"),
    ArraySpec("docs", "int64", offset=lambda shard: len(shard["ids"])),
)
@dataclass
class CorpusIndex:
    """What one pass over a corpus learns: its content fingerprint and every document's split."""

    fingerprint: str
    plan: SplitPlan
    documents: int
    chars: int
    skipped: int = 0  # documents a streamed source skipped (e.g. not UTF-8)


def corpus_index(corpus: Corpus, base: Path, val_frac: float, test_frac: float) -> CorpusIndex:
    """The corpus's index: computed in one pass, kept under ``<base>/index`` for streamed sources.

    A streamed source's index is found again by its change key (paths, sizes, modification
    times, options), so an unchanged source is not re-read just to be recognised.
    """
    path = None
    if corpus.reader is not None:
        key = json.dumps([corpus.reader.change_key, val_frac, test_frac, corpus.reader.max_docs])
        path = base / "index" / f"{safe_name(corpus.name)}-{short_hash(key)}.json"
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            d["plan"] = SplitPlan(**d["plan"])
            return CorpusIndex(**d)
        except (OSError, ValueError, TypeError, KeyError):
            pass
    counts = dict.fromkeys(SPLITS, 0)
    chars = 0
    planner = SplitPlanner(val_frac, test_frac)

    def feed(docs: Iterator[Document], split: str | None = None) -> Iterator[Document]:
        nonlocal chars
        for d in docs:
            chars += len(d.text)
            if split is None:
                planner.add(d.id)
            else:
                counts[split] += 1
            yield d

    if corpus.reader is not None and corpus.reader.own_splits:
        fingerprint = fingerprint_documents(
            itertools.chain.from_iterable(feed(corpus.reader.documents(s), s) for s in SPLITS)
        )
        plan = SplitPlan(val_frac, test_frac, counts=counts, own=True)
    else:
        fingerprint = fingerprint_documents(feed(corpus.iter_documents()))
        plan = planner.finish(lambda: (d.id for d in corpus.iter_documents()))
    skipped = int(getattr(corpus.reader, "skipped", 0))
    index = CorpusIndex(fingerprint, plan, sum(plan.counts.values()), chars, skipped)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        d = dataclasses.asdict(index)
        atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(d)), suffix=".json")
    return index


class CorpusTokens:
    """Tokenizer and token streams of one corpus at one vocabulary size, cached on disk."""

    def __init__(
        self,
        corpus: Corpus,
        vocab_size: int,
        cache_dir: str | Path | None = None,
        val_frac: float = 0.05,
        test_frac: float = 0.05,
        workers: int = 1,
        shard_chars: int = SHARD_CHARS,
    ) -> None:
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ExperimentError(
                f"vocab_size must be an int >= 256 (256 = plain bytes), got {vocab_size!r}"
            )
        if not isinstance(workers, int) or workers < 1:
            raise ExperimentError(f"workers must be a positive int, got {workers!r}")
        self.corpus = corpus
        self.vocab_size = vocab_size
        self.fractions = (val_frac, test_frac)
        self.workers = workers
        self.shard_chars = max(int(shard_chars), 1)
        base = Path(cache_dir) if cache_dir else default_cache_dir()
        self.index = corpus_index(corpus, base, val_frac, test_frac)
        name = f"{safe_name(corpus.name)}-{self.index.fingerprint}"
        if self.fractions != DEFAULT_FRACTIONS:
            name += f"-v{val_frac:g}-t{test_frac:g}"
        self.dir = base / name / f"bpe{vocab_size}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._tokenizer = None
        self._manifests: dict[str, dict] = {}

    def documents(self, split: str) -> Iterator[Document]:
        """The documents of ``split``, streamed in corpus order."""
        return self.corpus.iter_split(split, *self.fractions, plan=self.index.plan)

    def _require(self, split: str) -> None:
        if split not in SPLITS:
            raise ExperimentError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
        if not self.index.plan.counts.get(split):
            raise ExperimentError(
                f"corpus {self.corpus.name!r} has no documents in split {split!r}"
            )

    def _key(self, *parts: object) -> str:
        tok = hashlib.sha1((self.dir / "tokenizer.json").read_bytes()).hexdigest()
        return short_hash(json.dumps([self.index.fingerprint, self.fractions, tok, *parts]))

    def _text_tasks(
        self, split: str, fn: Callable, args: tuple, with_ids: bool = False
    ) -> Iterator[tuple[Callable, tuple]]:
        """One task per ``shard_chars`` of text of ``split``: ``(fn, (*args, texts[, ids]))``."""
        texts: list[str] = []
        ids: list[str] = []
        size = 0
        for d in self.documents(split):
            texts.append(d.text)
            ids.append(d.id)
            size += len(d.text)
            if size >= self.shard_chars:
                yield fn, (*args, texts, ids) if with_ids else (*args, texts)
                texts, ids, size = [], [], 0
        if texts:
            yield fn, (*args, texts, ids) if with_ids else (*args, texts)

    # ------------------------------------------------------------------------ tokenizer

    @property
    def tokenizer(self):  # -> tokenizers.Tokenizer (imported lazily)
        """The byte-level BPE tokenizer, trained on the train split once and then loaded."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            path = self.dir / "tokenizer.json"
            if path.is_file():
                try:
                    self._tokenizer = Tokenizer.from_file(str(path))
                except Exception:  # a damaged cache file: retrain
                    self._tokenizer = None
            if self._tokenizer is None:
                self._tokenizer = self._train()
                atomic_write(path, self._tokenizer.save, suffix=".json")
        return self._tokenizer

    def _train(self):
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=self.vocab_size,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        if not self.index.plan.counts.get("train"):
            raise ExperimentError(f"corpus {self.corpus.name!r} has no training documents")
        tok.train_from_iterator((d.text for d in self.documents("train")), trainer=trainer)
        return tok

    def actual_vocab_size(self) -> int:
        """Vocabulary size of the trained tokenizer (can be below the request on tiny corpora)."""
        return int(self.tokenizer.get_vocab_size())

    def separator_ids(self, chars: str = DEFAULT_SEPARATOR_CHARS) -> list[int]:
        """Ids of every token whose text contains one of ``chars`` (the paper uses "." and "\\n")."""
        tok = self.tokenizer
        return sorted(
            i for i in range(tok.get_vocab_size()) if any(c in tok.decode([i]) for c in chars)
        )

    # ------------------------------------------------------------------------ streams

    def stream(
        self,
        split: str,
        segmenter: str | None = None,
        max_intra: int | None = None,
        separator_chars: str = DEFAULT_SEPARATOR_CHARS,
        boundary: str = "start",
    ) -> TokenStream:
        """Token ids of ``split`` and, if ``segmenter`` is given, its segment positions.

        ``segmenter`` is a position-source spec: a registered segmenter spec such as
        ``fixed:size=120`` (positions via the token alignment) or a registered source such as
        ``"sep"``, the paper's token-level path (separator token ids, bipe_core.positions).
        ``max_intra`` caps the intra index; longer segments are split (never clipped).
        ``boundary`` is the token alignment's (segmenters.align): "start" or "word".
        """
        ids, starts = self.split_ids(split)
        out = TokenStream(ids, starts)
        if segmenter:
            out.intra, out.segment, out.levels = self._positions(
                split, segmenter, max_intra, separator_chars, boundary
            )
        return out

    def split_ids(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``split`` (documents concatenated) and each document's first token index.

        Built once in shards (``workers`` processes), then memory-mapped from the cache.
        """
        self._require(split)
        path = str(self.dir / "tokenizer.json")
        self.tokenizer  # noqa: B018  (trained and saved before the shards read it)
        arrays, man = build_sharded(
            self.dir,
            split,
            IDS_ARRAYS,
            self._key("ids", split),
            lambda: self._text_tasks(split, _encode_shard, (path,)),
            self.workers,
        )
        self._manifests[split] = man
        return arrays["ids"], arrays["docs"]

    def split_chars(self, split: str) -> int:
        """Characters of text in ``split`` (recorded when its tokens were cached)."""
        if split not in self._manifests:
            self.split_ids(split)
        return int(self._manifests[split]["meta"].get("chars", 0))

    def _positions(
        self,
        split: str,
        segmenter: str,
        max_intra: int | None,
        separator_chars: str,
        boundary: str = "start",
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        source = position_source(segmenter)
        stem = f"{split}.{source.cache_tag(segmenter, separator_chars)}-m{max_intra or 0}"
        if source.segments_text and boundary != "start":
            stem += f"-b{boundary}"  # "start" keeps the original file names (and their caches)
        path = str(self.dir / "tokenizer.json")
        arrays_spec = POSITION_ARRAYS
        if source.levels:
            arrays_spec += level_arrays(len(split_levels(segmenter)))
        if source.segments_text:
            self._require(split)
            self.tokenizer  # noqa: B018
            # only text segmenters are aligned to characters, so only they take the boundary
            context = ShardContext(path, [], boundary)

            def tasks() -> Iterator[tuple[Callable, tuple]]:
                head = (source.compute, context, segmenter, max_intra)
                for fn, (*prefix, texts, ids) in self._text_tasks(
                    split, position_shard, head, with_ids=True
                ):
                    yield fn, (*prefix, ShardBatch(texts=texts, doc_ids=ids))

        else:
            ids, starts = self.split_ids(split)
            context = ShardContext(path, self.separator_ids(separator_chars))

            def tasks() -> Iterator[tuple[Callable, tuple]]:
                prefix = (source.compute, context, segmenter, max_intra)
                for a, b in _doc_ranges(starts, len(ids), SHARD_TOKENS):
                    lo, hi = int(starts[a]), int(starts[b]) if b < len(starts) else len(ids)
                    batch = ShardBatch(
                        ids=np.array(ids[lo:hi]), doc_starts=np.array(starts[a:b]) - lo
                    )
                    yield position_shard, (*prefix, batch)

        arrays, _ = build_sharded(
            self.dir, stem, arrays_spec, self._key("pos", split, stem), tasks, self.workers
        )
        levels = None
        if source.levels:  # (N, K) from one cached column per level
            levels = np.stack([arrays[a.name] for a in arrays_spec[len(POSITION_ARRAYS) :]], 1)
        return arrays["intra"], arrays["segment"], levels


def _doc_ranges(starts: np.ndarray, n_tokens: int, size: int) -> Iterator[tuple[int, int]]:
    """Ranges [a, b) of documents holding about ``size`` tokens each."""
    a = 0
    while a < len(starts):
        limit = int(starts[a]) + size
        b = int(np.searchsorted(starts, limit, side="left"))
        b = max(b, a + 1)
        yield a, b
        a = b


def _encode_shard(tokenizer_path: str, texts: list[str]) -> tuple[dict[str, np.ndarray], dict]:
    """Token ids of a shard of documents and each document's local first token (a worker task)."""
    encs = shard_tokenizer(tokenizer_path).encode_batch(texts)
    lengths = np.array([len(e.ids) for e in encs], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ids = np.concatenate([np.asarray(e.ids, dtype=np.int32) for e in encs])
    meta = {"chars": sum(len(t) for t in texts), "docs": len(texts)}
    return {"ids": ids, "docs": starts}, meta


def window_positions(intra: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-base positions of a window cut from a stream: first segment 0, first token intra 0.

    The same positions the paper's code computes from the window alone: a window that starts
    inside a segment counts that partial segment from intra index 0.
    """
    seg = segment - segment[..., :1]
    first = seg == 0
    intra = np.where(first, intra - intra[..., :1], intra)
    return intra, seg


def window_levels(levels: np.ndarray) -> np.ndarray:
    """Re-base hierarchical levels (..., T, K) of a window: every level starts at 0."""
    return levels - levels[..., :1, :]


def describe(tokens: CorpusTokens, split: str = "train") -> dict[str, object]:
    """Token counts and chars/token of one split (for reports)."""
    stream = tokens.stream(split)
    chars = tokens.split_chars(split)
    return {
        "corpus": tokens.corpus.name,
        "split": split,
        "vocab_size": tokens.actual_vocab_size(),
        "tokens": len(stream),
        "documents": int(stream.doc_starts.shape[0]),
        "chars_per_token": round(chars / max(len(stream), 1), 3),
    }


# ------------------------------------------------------------------------ runs, windows, batches


@dataclass
class RunData:
    """Token streams of one run with the vocabulary they were made with."""

    tokens: CorpusTokens
    train: TokenStream | None
    val: TokenStream | None
    vocab_size: int
    streams: dict[str, TokenStream] = field(default_factory=dict)


def corpus_tokens(cfg: ExperimentConfig, corpus: str, cache_dir: str | Path | None) -> CorpusTokens:
    """The cached tokens of ``corpus`` with the config's data settings."""
    d = cfg.data
    return CorpusTokens(
        load_corpus(corpus, d.max_docs),
        d.vocab_size,
        cache_dir,
        d.val_frac,
        d.test_frac,
        workers=d.prep_workers,
    )


def prepare_data(
    cfg: ExperimentConfig,
    spec: RunSpec,
    cache_dir: str | Path | None = None,
    splits: tuple[str, ...] = ("train", "val"),
) -> RunData:
    """Load the corpus, train/load the tokenizer and cached streams (with positions if needed)."""
    tokens = corpus_tokens(cfg, spec.corpus, cache_dir)
    streams = {s: run_stream(cfg, spec, tokens, s) for s in splits}
    return RunData(
        tokens, streams.get("train"), streams.get("val"), tokens.actual_vocab_size(), streams
    )


def run_stream(
    cfg: ExperimentConfig, spec: RunSpec, tokens: CorpusTokens, split: str
) -> TokenStream:
    """The stream of ``split`` as run ``spec`` sees it: with positions when it has a segmenter."""
    if not spec.segmenter:
        return tokens.stream(split)
    max_intra = model_config(cfg, spec.scheme).max_intra
    d = cfg.data
    return tokens.stream(split, spec.segmenter, max_intra, d.separator_chars, d.align_boundary)


def windows(
    stream: TokenStream, starts: np.ndarray, length: int
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """Inputs/targets of the windows starting at ``starts`` and their re-based positions."""
    import torch

    idx = starts[:, None] + np.arange(length)[None]
    x = torch.from_numpy(stream.ids[idx].astype(np.int64))
    y = torch.from_numpy(stream.ids[idx + 1].astype(np.int64))
    positions = None
    if stream.segment is not None:
        from bipe_core.positions import positions_from_arrays

        intra, seg = window_positions(stream.intra[idx].astype(np.int64), stream.segment[idx])
        levels = None if stream.levels is None else window_levels(stream.levels[idx])
        positions = positions_from_arrays(intra, seg, levels=levels)
    return x, y, positions


def batch_at(
    stream: TokenStream,
    step: int,
    seed: int,
    batch_size: int,
    seq_len: int,
    rank: int = 0,
    world: int = 1,
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """Inputs, targets and positions of step ``step``: random windows chosen by (seed, step).

    Batches are a pure function of (seed, step), which makes a resumed run identical to an
    uninterrupted one and lets DDP ranks take disjoint rows of the same global batch.
    """
    n = len(stream)
    if n < seq_len + 2:
        raise ExperimentError(
            f"the training split has {n} tokens, fewer than seq_len+2 = {seq_len + 2}"
        )
    rng = np.random.default_rng([seed, step])
    starts = rng.integers(0, n - seq_len - 1, size=batch_size)[rank::world]
    return windows(stream, starts, seq_len)


def fixed_windows(
    stream: TokenStream, seed: int, n_windows: int, seq_len: int
) -> tuple[torch.Tensor, torch.Tensor, Positions | None]:
    """The same ``n_windows`` validation windows every time (seeded by the run's seed)."""
    rng = np.random.default_rng([seed, 2**31 - 1])
    starts = rng.integers(0, len(stream) - seq_len - 1, size=n_windows)
    return windows(stream, starts, seq_len)


def blocks(
    stream: TokenStream, length: int, budget: int, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, Positions | None]]:
    """Non-overlapping blocks of ``length`` over the first ``budget`` tokens, ``batch_size`` at once."""
    starts = np.arange(0, budget, length, dtype=np.int64)
    for i in range(0, len(starts), batch_size):
        yield windows(stream, starts[i : i + batch_size], length)
