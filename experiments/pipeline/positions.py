"""Position sources: how a token stream gets its (intra, segment) positions, shard by shard.

A source is a registered segmenter spec (text spans aligned to the tokens' character offsets), a
nested spec (several segmenters stacked into hierarchical levels), or a source registered here
under its own name, such as the paper's token-level ``sep`` path (separator token ids close
segments). Each source computes one shard of a split at a time, possibly in a worker process
(`experiments.pipeline.shards`), and `experiments.pipeline.tokens` caches and memory-maps what it
returns. Sources are registered in the registry ``bipe.position_sources``, so other packages can
add their own (an entry point names a `PositionSource`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from experiments.errors import ExperimentError
from experiments.pipeline.encoding import encode_documents
from experiments.pipeline.segmenting import document_segmenters
from experiments.pipeline.shards import ArraySpec, shard_tokenizer, short_hash, spec_name
from experiments.registry import Registry
from experiments.specs import is_nested, parse_spec, split_levels

# segmenters.align.BOUNDARIES, restated so that loading a config imports no segmenter code; which
# character of a token places it in a text segment: its first non-whitespace one ("word": a BPE
# token's leading space no longer drags the next sentence's first word into the previous
# segment) or its first ("start", the original alignment). Every command uses the same default.
ALIGN_BOUNDARIES = ("start", "word")
DEFAULT_ALIGN_BOUNDARY = "word"
# The paper's separators: "." and newline close segments on the token-level path.
DEFAULT_SEPARATOR_CHARS = ".\n"

POSITION_ARRAYS = (
    ArraySpec("intra", "int32"),
    ArraySpec(
        "segment", "int64", offset=lambda s: int(s["segment"].max()) + 1 if len(s["segment"]) else 0
    ),
)


def level_arrays(k: int) -> tuple[ArraySpec, ...]:
    """One cached column per hierarchical level (coarse -> fine), each re-based like ``segment``."""

    def offset(name: str) -> Callable[[dict[str, np.ndarray]], int]:
        return lambda s: int(s[name].max()) + 1 if len(s[name]) else 0

    return tuple(ArraySpec(f"level{j}", "int64", offset=offset(f"level{j}")) for j in range(k))


@dataclass(frozen=True)
class ShardContext:
    """What every shard of one position build shares: the tokenizer file, separator token ids."""

    tokenizer_path: str
    separator_ids: list[int]
    boundary: str = DEFAULT_ALIGN_BOUNDARY  # segmenters.align's token boundary, for text segmenters


@dataclass
class ShardBatch:
    """One shard of a split: document texts (text sources) or token ids and document starts."""

    texts: list[str] | None = None
    doc_ids: list[str] | None = None  # beside ``texts``: each document's id (its file name)
    ids: np.ndarray | None = None  # int32, documents concatenated
    doc_starts: np.ndarray | None = None  # int64, local to ``ids``


@dataclass(frozen=True)
class PositionSource:
    """How a token stream gets its (intra, segment) positions: a segmenter or a registered rule.

    ``compute`` runs on one shard, possibly in a worker process (so it is a top-level function),
    and returns the shard's positions with segment ids counted from 0 across its documents.
    """

    name: str
    compute: Callable[
        [ShardBatch, ShardContext, str, int | None], tuple[np.ndarray, ...]
    ]  # (batch, context, spec, max_intra) -> (intra int32, segment int64[, levels int64 (N, K)])
    # True when a text segmenter runs on ``batch.texts`` (its speed can be measured)
    segments_text: bool
    tag: Callable[[str, str], str]  # cache-file tag from (spec, separator_chars)
    levels: bool = False  # compute also returns (N, K) hierarchical levels as a third array

    def cache_tag(self, spec: str, separator_chars: str) -> str:
        """The part of the cache file names that identifies this source and its options."""
        return self.tag(spec, separator_chars)


POSITION_SOURCES = Registry("position_sources", "position source")


def register_position_source(source: PositionSource) -> PositionSource:
    """Add a non-segmenter position source, used wherever a segmenter spec is accepted."""
    return POSITION_SOURCES.register(source.name, source)


def position_source(spec: str) -> PositionSource:
    """The source a spec names: a registered one (``sep``), a nested spec, or else a segmenter."""
    if is_nested(spec):
        split_levels(spec)  # a malformed level raises here
        return _NESTED_SOURCE
    name, _ = parse_spec(spec)
    return POSITION_SOURCES.get(name) if name in POSITION_SOURCES else _SEGMENTER_SOURCE


def position_shard(
    compute: Callable, context: ShardContext, spec: str, max_intra: int | None, batch: ShardBatch
) -> tuple[dict[str, np.ndarray], dict]:
    """One shard's positions as a `build_sharded` task."""
    out = compute(batch, context, spec, max_intra)
    arrays = {"intra": out[0], "segment": out[1]}
    if len(out) > 2:  # hierarchical levels (N, K): one column each
        arrays.update({f"level{j}": out[2][:, j] for j in range(out[2].shape[1])})
    return arrays, {}


def _segmenter_positions(
    batch: ShardBatch, context: ShardContext, spec: str, max_intra: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions from a registered text segmenter, aligned to each document's token offsets."""
    from segmenters.align import align_tokens

    segmenters = document_segmenters(spec)
    encs = encode_documents(shard_tokenizer(context.tokenizer_path), batch.texts, offsets=True)
    intras, segs, offset = [], [], 0
    for doc_id, text, (_, offsets) in zip(batch.doc_ids, batch.texts, encs):
        # the document's name picks the code segmenter's grammar (a .py file parses as Python)
        seg_obj = segmenters.for_document(doc_id)
        pos = align_tokens(
            seg_obj.segment(text), offsets, max_intra=max_intra, boundary=context.boundary
        )
        segment = np.asarray(pos.segment, dtype=np.int64)
        intras.append(np.asarray(pos.intra, dtype=np.int32))
        segs.append(segment + offset)
        # every document opens a new segment, so ids never repeat across documents
        offset += int(segment.max()) + 1 if segment.size else 0
    return np.concatenate(intras), np.concatenate(segs)


def _separator_source_positions(
    batch: ShardBatch, context: ShardContext, spec: str, max_intra: int | None
) -> tuple[np.ndarray, np.ndarray]:
    return token_separator_positions(batch.ids, batch.doc_starts, context.separator_ids, max_intra)


_SEGMENTER_SOURCE = PositionSource(
    "segmenter", _segmenter_positions, True, lambda spec, chars: spec_name(spec)
)
# The paper's token-level path: every token containing a separator character closes a segment.
TOKEN_SEPARATORS = register_position_source(
    PositionSource(
        "sep",
        _separator_source_positions,
        False,
        lambda spec, chars: "sep-" + short_hash(chars),
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


def _nested_positions(
    batch: ShardBatch, context: ShardContext, spec: str, max_intra: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of a nested spec: the finest level as (intra, segment), every level as levels.

    Coarse levels are aligned without ``max_intra`` (only the finest level's intra index is
    bounded); a finest segment longer than ``max_intra`` splits, which keeps the levels nested.
    """
    from segmenters import SegmenterError
    from segmenters.align import align_levels, align_tokens
    from segmenters.nested import nest_segmentations

    parts = split_levels(spec)
    segmenters = {inner: document_segmenters(inner) for inner, _ in parts}
    labels = [f"{i}:{inner}@{level or ''}" for i, (inner, level) in enumerate(parts)]
    encs = encode_documents(shard_tokenizer(context.tokenizer_path), batch.texts, offsets=True)
    intras, levels = [], []
    offsets = np.zeros(len(parts), dtype=np.int64)
    for doc_id, text, (_, tok_offsets) in zip(batch.doc_ids, batch.texts, encs):
        done = {inner: seg.for_document(doc_id).segment(text) for inner, seg in segmenters.items()}
        try:
            picked = [
                done[inner].at_level(level) if level else done[inner] for inner, level in parts
            ]
        except SegmenterError as exc:
            raise ExperimentError(f"nested spec {spec!r}: {exc}") from exc
        nested = nest_segmentations(picked, labels)
        coarse = align_levels(nested, tok_offsets, boundary=context.boundary).segment
        fine = align_tokens(nested, tok_offsets, max_intra=max_intra, boundary=context.boundary)
        coarse[:, -1] = fine.segment
        intras.append(np.asarray(fine.intra, dtype=np.int32))
        levels.append(coarse + offsets)
        # every document opens a new segment at every level
        offsets += coarse.max(axis=0) + 1 if len(coarse) else 0
    lv = np.concatenate(levels).astype(np.int64)
    return np.concatenate(intras), lv[:, -1].copy(), lv


# reads text like a segmenter; a nested spec runs several segmenters, so segstats reports no speed
_NESTED_SOURCE = PositionSource(
    "nested", _nested_positions, True, lambda spec, chars: "nest-" + spec_name(spec), levels=True
)
