"""Where token-aligned segment boundaries fall: how many move between the alignment boundaries
("start" against "word", segmenters.align) and how many open a segment inside a word.

    python -m experiments.analysis.alignstats kjv punct --split test --cache-dir DIR
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

import numpy as np

from experiments.corpora import load_corpus
from experiments.pipeline import CorpusTokens
from experiments.specs import parse_spec


@dataclass(frozen=True)
class BoundaryStats:
    """Segment boundaries of one split under one alignment boundary."""

    corpus: str
    segmenter: str
    split: str
    boundary: str
    tokens: int
    boundaries: int  # tokens that open a segment (not counting each document's first)
    inside_word: int  # ... whose first character continues a word (" H" | "ast")
    moved: int  # tokens whose segment differs between the "start" and "word" boundaries

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for JSON)."""
        return asdict(self)


def boundary_stats(
    tokens: CorpusTokens, segmenter: str, split: str = "test", boundary: str = "word"
) -> BoundaryStats:
    """Count the segment boundaries of ``split`` and the misplaced ones, under ``boundary``."""
    from segmenters import get_segmenter
    from segmenters.align import align_tokens

    name, options = parse_spec(segmenter)
    seg_obj = get_segmenter(name, **options)
    docs = tokens.corpus.split(split, *tokens.fractions)
    encs = tokens.tokenizer.encode_batch([d.text for d in docs])
    n_tok = n_bound = n_word = n_moved = 0
    for doc, enc in zip(docs, encs):
        text = doc.text
        offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
        segmentation = seg_obj.segment(text)
        pos = align_tokens(segmentation, offsets, boundary=boundary)
        other = align_tokens(
            segmentation, offsets, boundary="word" if boundary == "start" else "start"
        )
        n_moved += int((pos.source != other.source).sum())
        n_tok += len(offsets)
        opens = np.flatnonzero(np.diff(pos.segment) > 0) + 1
        n_bound += len(opens)
        for i in opens.tolist():
            s, e = int(offsets[i, 0]), int(offsets[i, 1])
            if 0 < s < e and text[s - 1].isalnum() and text[s].isalnum():
                n_word += 1
    return BoundaryStats(
        tokens.corpus.name, segmenter, split, boundary, n_tok, n_bound, n_word, n_moved
    )


def format_boundary_stats(rows: list[BoundaryStats]) -> str:
    """Markdown table of `boundary_stats` rows."""
    lines = [
        "| corpus | segmenter | split | boundary | tokens | boundaries | inside a word | "
        "tokens in another segment than under the other boundary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.corpus} | {r.segmenter} | {r.split} | {r.boundary} | {r.tokens:,} | "
            f"{r.boundaries:,} | {r.inside_word:,} | {r.moved:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the boundary statistics of one corpus and segmenter under both alignment boundaries."""
    from segmenters.align import BOUNDARIES

    ap = argparse.ArgumentParser(prog="python -m experiments.analysis.alignstats")
    ap.add_argument("corpus")
    ap.add_argument("segmenter")
    ap.add_argument("--split", default="test")
    ap.add_argument("--vocab-size", type=int, default=1024)
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args(argv)
    tokens = CorpusTokens(load_corpus(args.corpus), args.vocab_size, args.cache_dir)
    rows = [boundary_stats(tokens, args.segmenter, args.split, b) for b in BOUNDARIES]
    print(format_boundary_stats(rows))


if __name__ == "__main__":
    main()
