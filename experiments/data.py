"""The one data path: byte-level BPE trained locally, token streams per split with their segment
positions (all cached), and the windows and batches cut from them for training and evaluation.

Cache layout (default ``~/.cache/bipe``)::

    <cache>/<corpus>-<fingerprint>/bpe<V>/tokenizer.json
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.ids.npy           token ids, documents concatenated
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.docs.npy          token index where each document starts
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.<seg>-m<M>.intra.npy / .segment.npy

Segment ids count up across the whole split (each document opens a new segment), so any window
cut from the stream can be re-based with `window_positions`. Positions come from a *position
source*: any registered segmenter spec (text spans aligned to tokens), or a source registered here
under its own name, such as the paper's token-level ``sep`` path (separator token ids close
segments).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from experiments.config import DEFAULT_SEPARATOR_CHARS, ExperimentConfig, RunSpec, model_config
from experiments.corpora import Corpus, load_corpus
from experiments.errors import ExperimentError
from experiments.specs import parse_spec

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

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def segment_lengths(self) -> np.ndarray:
        """Length in tokens of every segment of the stream."""
        if self.segment is None:
            raise ExperimentError("this stream has no segment positions")
        return np.bincount(self.segment - self.segment.min())


def _atomic_write(target: Path, write: Callable[[str], object], suffix: str = ".tmp") -> None:
    # bipe_core.checkpoint.atomic_write does the same, but importing it would load torch for
    # every token-cache write; this module keeps torch lazy.
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_save(path: Path, array: np.ndarray) -> None:
    # the ".npy" suffix stops np.save from appending one to the temporary name
    _atomic_write(path, lambda tmp: np.save(tmp, array), suffix=".npy")


def _load_npy(path: Path) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError):
        return None  # a damaged cache entry is recomputed, never trusted


class CorpusTokens:
    """Tokenizer and token streams of one corpus at one vocabulary size, cached on disk."""

    def __init__(
        self,
        corpus: Corpus,
        vocab_size: int,
        cache_dir: str | Path | None = None,
        val_frac: float = 0.05,
        test_frac: float = 0.05,
    ) -> None:
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ExperimentError(
                f"vocab_size must be an int >= 256 (256 = plain bytes), got {vocab_size!r}"
            )
        self.corpus = corpus
        self.vocab_size = vocab_size
        self.fractions = (val_frac, test_frac)
        base = Path(cache_dir) if cache_dir else default_cache_dir()
        self.dir = base / f"{corpus.name}-{corpus.fingerprint()}" / f"bpe{vocab_size}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._tokenizer = None

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
                _atomic_write(path, self._tokenizer.save, suffix=".json")
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
        docs = self.corpus.split("train", *self.fractions)
        if not docs:
            raise ExperimentError(f"corpus {self.corpus.name!r} has no training documents")
        tok.train_from_iterator((d.text for d in docs), trainer=trainer)
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
            out.intra, out.segment = self._positions(
                split, segmenter, max_intra, separator_chars, boundary
            )
        return out

    def split_ids(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``split`` (documents concatenated) and each document's first token index."""
        ids_path, docs_path = self.dir / f"{split}.ids.npy", self.dir / f"{split}.docs.npy"
        ids, starts = _load_npy(ids_path), _load_npy(docs_path)
        if ids is not None and starts is not None:
            return ids, starts
        docs = self.corpus.split(split, *self.fractions)
        if not docs:
            raise ExperimentError(
                f"corpus {self.corpus.name!r} has no documents in split {split!r}"
            )
        encs = self.tokenizer.encode_batch([d.text for d in docs])
        lengths = np.array([len(e.ids) for e in encs], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        ids = np.concatenate([np.asarray(e.ids, dtype=np.int32) for e in encs])
        _atomic_save(ids_path, ids)
        _atomic_save(docs_path, starts)
        return ids, starts

    def _positions(
        self,
        split: str,
        segmenter: str,
        max_intra: int | None,
        separator_chars: str,
        boundary: str = "start",
    ) -> tuple[np.ndarray, np.ndarray]:
        source = position_source(segmenter)
        stem = f"{split}.{source.cache_tag(segmenter, separator_chars)}-m{max_intra or 0}"
        if source.segments_text and boundary != "start":
            stem += f"-b{boundary}"  # "start" keeps the original file names (and their caches)
        ip, sp = self.dir / f"{stem}.intra.npy", self.dir / f"{stem}.segment.npy"
        intra, seg = _load_npy(ip), _load_npy(sp)
        if intra is not None and seg is not None:
            return intra, seg
        # only text segmenters are aligned to characters, so only they take the boundary
        extra = {"boundary": boundary} if source.segments_text else {}
        intra, seg = source.compute(self, split, segmenter, max_intra, separator_chars, **extra)
        _atomic_save(ip, intra)
        _atomic_save(sp, seg)
        return intra, seg


# ------------------------------------------------------------------------ position sources


@dataclass(frozen=True)
class PositionSource:
    """How a token stream gets its (intra, segment) positions: a segmenter or a registered rule."""

    name: str
    compute: Callable[
        ..., tuple[np.ndarray, np.ndarray]
    ]  # (tokens, split, spec, max_intra, separator_chars[, boundary= for text segmenters])
    # -> (intra int32, segment int64)
    segments_text: bool  # True when a text segmenter runs (its speed can be measured)
    tag: Callable[[str, str], str]  # cache-file tag from (spec, separator_chars)

    def cache_tag(self, spec: str, separator_chars: str) -> str:
        """The part of the cache file names that identifies this source and its options."""
        return self.tag(spec, separator_chars)


_POSITION_SOURCES: dict[str, PositionSource] = {}


def register_position_source(source: PositionSource) -> PositionSource:
    """Add a non-segmenter position source, used wherever a segmenter spec is accepted."""
    _POSITION_SOURCES[source.name] = source
    return source


def position_source(spec: str) -> PositionSource:
    """The source a spec names: a registered one (``sep``) or else the segmenter of that name."""
    name, _ = parse_spec(spec)
    return _POSITION_SOURCES.get(name, _SEGMENTER_SOURCE)


def _segmenter_positions(
    tokens: CorpusTokens,
    split: str,
    spec: str,
    max_intra: int | None,
    separator_chars: str,
    boundary: str = "start",
) -> tuple[np.ndarray, np.ndarray]:
    """Positions from a registered text segmenter, aligned to each document's token offsets."""
    from segmenters import get_segmenter
    from segmenters.align import align_tokens

    name, options = parse_spec(spec)
    seg_obj = get_segmenter(name, **options)
    docs = tokens.corpus.split(split, *tokens.fractions)
    encs = tokens.tokenizer.encode_batch([d.text for d in docs])
    intras, segs, offset = [], [], 0
    for doc, enc in zip(docs, encs):
        pos = align_tokens(
            seg_obj.segment(doc.text), enc.offsets, max_intra=max_intra, boundary=boundary
        )
        segment = np.asarray(pos.segment, dtype=np.int64)
        intras.append(np.asarray(pos.intra, dtype=np.int32))
        segs.append(segment + offset)
        # every document opens a new segment, so ids never repeat across documents
        offset += int(segment.max()) + 1 if segment.size else 0
    return np.concatenate(intras), np.concatenate(segs)


def _separator_source_positions(
    tokens: CorpusTokens, split: str, spec: str, max_intra: int | None, separator_chars: str
) -> tuple[np.ndarray, np.ndarray]:
    ids, starts = tokens.split_ids(split)
    return token_separator_positions(ids, starts, tokens.separator_ids(separator_chars), max_intra)


_SEGMENTER_SOURCE = PositionSource(
    "segmenter", _segmenter_positions, True, lambda spec, chars: _safe(spec)
)
# The paper's token-level path: every token containing a separator character closes a segment.
TOKEN_SEPARATORS = register_position_source(
    PositionSource(
        "sep",
        _separator_source_positions,
        False,
        lambda spec, chars: "sep-" + _short_hash(chars),
    )
).name


def token_separator_positions(
    ids: np.ndarray, doc_starts: np.ndarray, separator_ids: list[int], max_intra: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's token-level positions via `bipe_core.positions.build_positions`, per document.

    A separator token is the last token of its segment; segments longer than ``max_intra`` split.
    """
    import torch

    from bipe_core.positions import build_positions

    intras, segs, offset = [], [], 0
    bounds = [*doc_starts.tolist(), len(ids)]
    sep = torch.tensor(sorted(separator_ids), dtype=torch.long)
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        doc = torch.from_numpy(ids[a:b].astype(np.int64))[None]
        pos, _ = build_positions(doc, sep, max_intra=max_intra, overflow="split")
        segment = pos.segment.reshape(-1).numpy().astype(np.int64)
        intras.append(pos.intra.reshape(-1).numpy().astype(np.int32))
        segs.append(segment + offset)
        offset += int(segment.max()) + 1
    return np.concatenate(intras), np.concatenate(segs)


def window_positions(intra: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-base positions of a window cut from a stream: first segment 0, first token intra 0.

    The same positions the paper's code computes from the window alone: a window that starts
    inside a segment counts that partial segment from intra index 0.
    """
    seg = segment - segment[..., :1]
    first = seg == 0
    intra = np.where(first, intra - intra[..., :1], intra)
    return intra, seg


def _safe(spec: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in spec)


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def describe(tokens: CorpusTokens, split: str = "train") -> dict[str, object]:
    """Token counts and chars/token of one split (for reports)."""
    stream = tokens.stream(split)
    chars = sum(len(d.text) for d in tokens.corpus.split(split, *tokens.fractions))
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
        load_corpus(corpus, d.max_docs), d.vocab_size, cache_dir, d.val_frac, d.test_frac
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
        positions = positions_from_arrays(intra, seg)
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
