"""A corpus as cached token streams: a byte-level BPE trained locally on the train split, the
token ids of every split and their segment positions, built shard by shard and memory-mapped.

Cache layout (default ``~/.cache/bipe``; ``.bipe-cache`` marks its root)::

    <cache>/<corpus>-<fingerprint>/bpe<V>/tokenizer.json (+ .meta.json: its origin and checksum)
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.ids.npy       token ids, documents concatenated
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.docs.npy      token index where each document starts
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.manifest.json key, lengths, checksums of the two above
    <cache>/<corpus>-<fingerprint>/bpe<V>/<split>.<tag>-<digest>-m<M>[-b<boundary>].intra.npy / ...
    <cache>/index/<corpus>-<digest>.json                        fingerprint + split plan of a streamed source

A position entry's ``<tag>`` (the spec, capped) is for reading; ``<digest>`` hashes everything
that determines it (source, raw spec, max_intra, boundary or separators), and its manifest's key
adds the format, the corpus, the tokenizer's checksum and the segmenters' version, so no two
entries share a file and none is read for another. The fingerprint hashes every document id and
text (`experiments.pipeline.index`), so a changed corpus never reuses a cache
(``-v<val>-t<test>`` is appended for non-default split fractions). Every file is written under a
temporary name and renamed; what a later run trusts is checked against its recorded checksum and
rebuilt, with a warning, when it does not match.
Arrays are built shard by shard (`experiments.pipeline.shards`: a few MB of text each, in
``workers`` processes, resumable) and read back memory-mapped, so a corpus larger than memory
streams from its source to disk and back.

Positions come from a *position source* (`experiments.pipeline.positions`): any registered
segmenter spec (text spans aligned to tokens), a source registered there under its own name, such
as the paper's token-level ``sep`` path (separator token ids close segments), or a nested spec
(``code@file > code@definition > code@line``, see experiments.specs) whose streams also carry
``levels`` (N, K), coarse to fine, for the hierarchical schemes.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from experiments.corpora import SPLITS, Corpus, Document
from experiments.errors import ExperimentError
from experiments.pipeline.encoding import encode_documents, training_texts
from experiments.pipeline.index import corpus_index
from experiments.pipeline.positions import (
    DEFAULT_ALIGN_BOUNDARY,
    DEFAULT_SEPARATOR_CHARS,
    POSITION_ARRAYS,
    PositionSource,
    ShardBatch,
    ShardContext,
    level_arrays,
    position_shard,
    position_source,
)
from experiments.pipeline.shards import (
    ArraySpec,
    atomic_write,
    build_sharded,
    cache_os_error,
    claim_cache_dir,
    entry_name,
    file_digest,
    key_digest,
    safe_name,
    shard_tokenizer,
)
from experiments.pipeline.streams import TokenStream
from experiments.specs import split_levels


def default_cache_dir() -> Path:
    """``$BIPE_CACHE`` or ``~/.cache/bipe``."""
    return Path(os.environ.get("BIPE_CACHE") or Path.home() / ".cache" / "bipe")


SHARD_CHARS = 2_000_000  # text per shard: bounds the memory of each worker
SHARD_TOKENS = 1_000_000  # tokens per shard of an id-based position source
DEFAULT_FRACTIONS = (0.05, 0.05)
# In every cache key: raise it when what the code writes for the same inputs changes.
CACHE_FORMAT = 3
# In the tokenizer's record: what `_train` builds (change it with the trainer's settings).
TOKENIZER_TRAINER = "byte-level BPE, add_prefix_space=False, GPT-2 pre-tokenizer"
IDS_ARRAYS = (
    ArraySpec("ids", "int32"),
    ArraySpec("docs", "int64", offset=lambda shard: len(shard["ids"])),
)


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
        claim_cache_dir(base)
        self.index = corpus_index(corpus, base, val_frac, test_frac)
        # the fingerprint (of the documents' content) tells corpora apart; the name is for reading
        name = f"{safe_name(corpus.name)[:40]}-{self.index.fingerprint}"
        if self.fractions != DEFAULT_FRACTIONS:
            # repr, not :g (6 digits): 0.0500001 and 0.05 must not share a tokenizer
            name += f"-v{val_frac!r}-t{test_frac!r}"
        self.dir = base / name / f"bpe{vocab_size}"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cache_os_error(base, exc) from None
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
        """The key of a cached build: everything that determines it, hashed in full."""
        tok = file_digest(self.dir / "tokenizer.json")
        return key_digest(CACHE_FORMAT, self.index.fingerprint, self.fractions, tok, *parts)

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
            if path.is_file() and self._tokenizer_intact(path):
                try:
                    self._tokenizer = Tokenizer.from_file(str(path))
                except Exception:  # a damaged cache file: retrain
                    self._tokenizer = None
            if self._tokenizer is None:
                self._tokenizer = self._train()
                try:
                    atomic_write(path, self._tokenizer.save, suffix=".json")
                    record = json.dumps(self._tokenizer_record(file_digest(path)))
                    atomic_write(
                        path.with_suffix(".meta.json"),
                        lambda tmp: Path(tmp).write_text(record),
                        suffix=".json",
                    )
                except OSError as exc:
                    raise cache_os_error(self.dir, exc) from None
        return self._tokenizer

    def _tokenizer_record(self, digest: str) -> dict[str, object]:
        """What made the cached tokenizer: corpus, split, vocabulary size, and its checksum."""
        return {
            "trainer": TOKENIZER_TRAINER,
            "corpus": self.index.fingerprint,
            "fractions": list(self.fractions),
            "vocab_size": self.vocab_size,
            "blake2b": digest,
        }

    def _tokenizer_intact(self, path: Path) -> bool:
        """True when ``path`` is the tokenizer this cache trained (checksum and origin agree)."""
        try:
            record = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False  # no record (a cache from before records, or a write cut short)
        if record == self._tokenizer_record(file_digest(path)):
            return True
        warnings.warn(
            f"cached tokenizer {path} is not the one trained for corpus {self.corpus.name!r} "
            "(its checksum or origin record does not match: damaged or replaced); retraining it",
            stacklevel=3,
        )
        return False

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
        # bounded pieces: one long document no longer needs ~100 bytes per character to train on
        texts = training_texts(d.text for d in self.documents("train"))
        tok.train_from_iterator(texts, trainer=trainer)
        return tok

    def fingerprints(
        self,
        segmenter: str | None = None,
        max_intra: int | None = None,
        separator_chars: str = DEFAULT_SEPARATOR_CHARS,
        boundary: str = DEFAULT_ALIGN_BOUNDARY,
    ) -> dict[str, str]:
        """Digests of what a model trained on this data depends on: the corpus content, the
        tokenizer file and (with a segmenter) the position source with its settings."""
        self.tokenizer  # noqa: B018  (trained and saved first)
        out = {
            "corpus": self.index.fingerprint,
            "tokenizer": file_digest(self.dir / "tokenizer.json")[:16],
        }
        if segmenter:
            from segmenters import __version__ as segmenters_version

            what = [segmenter, max_intra, separator_chars, boundary, segmenters_version]
            out["positions"] = hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]
        return out

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
        boundary: str = DEFAULT_ALIGN_BOUNDARY,
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
        boundary: str,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        source = position_source(segmenter)
        stem, identity = _position_entry(
            source, split, segmenter, max_intra, separator_chars, boundary
        )
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
            self.dir,
            stem,
            arrays_spec,
            self._key("pos", split, *identity, _segmenters_version()),
            tasks,
            self.workers,
        )
        levels = None
        if source.levels:  # (N, K) from one cached column per level
            levels = np.stack([arrays[a.name] for a in arrays_spec[len(POSITION_ARRAYS) :]], 1)
        return arrays["intra"], arrays["segment"], levels


def _position_entry(
    source: PositionSource,
    split: str,
    spec: str,
    max_intra: int | None,
    separator_chars: str,
    boundary: str,
) -> tuple[str, tuple]:
    """The cache stem of a position build and everything that determines it (its identity)."""
    # only text segmenters are aligned to characters (boundary), only the others read ids
    identity = (
        source.name,
        spec,
        max_intra or 0,
        boundary if source.segments_text else "",
        "" if source.segments_text else separator_chars,
    )
    # the file name holds a digest of the whole identity: a source's tag is only for reading
    tag = entry_name(source.cache_tag(spec, separator_chars), *identity)
    stem = f"{split}.{tag}-m{max_intra or 0}"
    if source.segments_text and boundary != "start":
        stem += f"-b{boundary}"  # readable only: the digest already holds the boundary
    return stem, identity


def _segmenters_version() -> str:
    """The installed version of the segmenters (their code decides the positions)."""
    from segmenters import __version__

    return __version__


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
    encs = encode_documents(shard_tokenizer(tokenizer_path), texts)
    lengths = np.array([len(e) for e, _ in encs], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ids = np.concatenate([e for e, _ in encs])
    meta = {"chars": sum(len(t) for t in texts), "docs": len(texts)}
    return {"ids": ids, "docs": starts}, meta


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
