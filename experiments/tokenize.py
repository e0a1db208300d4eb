"""Byte-level BPE trained locally, token streams per split, and segment positions, all cached.

Cache layout (default ``~/.cache/bipe``)::

    <cache>/<corpus>-<fingerprint>/bpe<V>/tokenizer.json
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.ids.npy           token ids, documents concatenated
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.docs.npy          token index where each document starts
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.<seg>-m<M>.intra.npy / .segment.npy

Segment ids count up across the whole split (each document opens a new segment), so any window
cut from the stream can be re-based with `window_positions`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.corpora import Corpus
from experiments.errors import ExperimentError

# Pseudo-segmenter name for the paper's token-level path: separator token ids close segments.
TOKEN_SEPARATORS = "sep"
DEFAULT_SEPARATOR_CHARS = ".\n"


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
    ) -> TokenStream:
        """Token ids of ``split`` and, if ``segmenter`` is given, its segment positions.

        ``segmenter`` is any registered segmenter name (positions via the token alignment) or
        ``"sep"`` for the paper's token-level path (separator token ids, bipe_core.positions).
        ``max_intra`` caps the intra index; longer segments are split (never clipped).
        """
        ids, starts = self._ids(split)
        out = TokenStream(ids, starts)
        if segmenter:
            out.intra, out.segment = self._positions(split, segmenter, max_intra, separator_chars)
        return out

    def _ids(self, split: str) -> tuple[np.ndarray, np.ndarray]:
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
        self, split: str, segmenter: str, max_intra: int | None, separator_chars: str
    ) -> tuple[np.ndarray, np.ndarray]:
        tag = (
            _safe(segmenter)
            if segmenter != TOKEN_SEPARATORS
            else "sep-" + _short_hash(separator_chars)
        )
        stem = f"{split}.{tag}-m{max_intra or 0}"
        ip, sp = self.dir / f"{stem}.intra.npy", self.dir / f"{stem}.segment.npy"
        intra, seg = _load_npy(ip), _load_npy(sp)
        if intra is not None and seg is not None:
            return intra, seg
        ids, starts = self._ids(split)
        if segmenter == TOKEN_SEPARATORS:
            intra, seg = token_separator_positions(
                ids, starts, self.separator_ids(separator_chars), max_intra
            )
        else:
            intra, seg = self._segmenter_positions(split, segmenter, max_intra)
        _atomic_save(ip, intra)
        _atomic_save(sp, seg)
        return intra, seg

    def _segmenter_positions(
        self, split: str, segmenter: str, max_intra: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from segmenters import get_segmenter
        from segmenters.align import align_tokens

        name, options = parse_segmenter_spec(segmenter)
        seg_obj = get_segmenter(name, **options)
        docs = self.corpus.split(split, *self.fractions)
        encs = self.tokenizer.encode_batch([d.text for d in docs])
        intras, segs, offset = [], [], 0
        for doc, enc in zip(docs, encs):
            pos = align_tokens(seg_obj.segment(doc.text), enc.offsets, max_intra=max_intra)
            segment = np.asarray(pos.segment, dtype=np.int64)
            intras.append(np.asarray(pos.intra, dtype=np.int32))
            segs.append(segment + offset)
            # every document opens a new segment, so ids never repeat across documents
            offset += int(segment.max()) + 1 if segment.size else 0
        return np.concatenate(intras), np.concatenate(segs)


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


def parse_segmenter_spec(spec: str) -> tuple[str, dict[str, object]]:
    """``"fixed:size=64,unit=tokens"`` -> ``("fixed", {"size": 64, "unit": "tokens"})``."""
    name, _, rest = spec.partition(":")
    options: dict[str, object] = {}
    for item in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ExperimentError(f"segmenter option {item!r} in {spec!r} must look like key=value")
        options[key.strip()] = _literal(value.strip())
    return name.strip(), options


def _literal(value: str) -> object:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(value.lower(), value)


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


def dump_json(path: Path, data: object) -> None:
    """Write JSON atomically (tmp file + os.replace)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, default=str)

    _atomic_write(path, write)
