"""Scoring sentence splitters on a labelled set: exact sentence lists first, boundary F1 beside it.

The set is JSON lines (``tests/data/sentences_eval.jsonl``): each case has ``text``, its gold
``sentences`` (each a substring of the text, in order, without surrounding whitespace),
``category``, ``language``, ``script`` and ``source``. A splitter is any callable
``text -> list[str]``; its pieces are compared after collapsing whitespace, so a tool that trims
or normalises spaces is not penalised for that, only for where it cuts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from segmenters.errors import SegmenterInputError
from segmenters.io import read_text_file

EVAL_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "sentences_eval.jsonl"


@dataclass(frozen=True)
class EvalCase:
    """One labelled text: its gold sentences and where it comes from."""

    id: int
    text: str
    sentences: tuple[str, ...]
    category: str
    language: str
    script: str
    source: str


@dataclass
class EvalScore:
    """Exact-list accuracy, boundary precision/recall/F1, and right/total per category."""

    right: int = 0
    total: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    by_category: dict[str, list[int]] = field(default_factory=dict)
    wrong: list[int] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of cases whose sentence list is exactly right."""
        return self.right / max(self.total, 1)

    @property
    def precision(self) -> float:
        """Share of predicted boundaries that are gold boundaries."""
        return self.tp / max(self.tp + self.fp, 1)

    @property
    def recall(self) -> float:
        """Share of gold boundaries that were predicted."""
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def f1(self) -> float:
        """Harmonic mean of boundary precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / max(p + r, 1e-12)


def load_eval_set(path: str | Path = EVAL_SET) -> list[EvalCase]:
    """The labelled cases of a JSON-lines file; a malformed case raises `SegmenterInputError`."""
    cases = []
    for n, line in enumerate(read_text_file(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            case = EvalCase(
                int(d["id"]),
                d["text"],
                tuple(d["sentences"]),
                d["category"],
                d["language"],
                d["script"],
                d["source"],
            )
            sentences = d["sentences"]
            if not isinstance(case.text, str) or not isinstance(sentences, list):
                raise TypeError("text must be a string and sentences a list of strings")
            if not all(isinstance(x, str) for x in sentences):
                raise TypeError("each sentence must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise SegmenterInputError(f"{path}:{n}: not a labelled case ({exc})") from None
        if squash("".join(case.sentences)) != squash(case.text):
            raise SegmenterInputError(f"{path}:{n}: sentences do not cover the text")
        cases.append(case)
    return cases


def squash(text: str) -> str:
    """``text`` without any whitespace (so boundaries can be compared across normalisations)."""
    return "".join(text.split())


def normalise(pieces: Iterable[str]) -> list[str]:
    """Pieces with whitespace collapsed and whitespace-only pieces dropped."""
    out = [" ".join(p.split()) for p in pieces]
    return [p for p in out if p]


def _cuts(pieces: list[str]) -> set[int]:
    """Boundaries as counts of non-whitespace characters before each piece after the first."""
    out, pos = set(), 0
    for p in pieces[:-1]:
        pos += len(squash(p))
        out.add(pos)
    return out


def score(
    split: Callable[..., list[str]], cases: Iterable[EvalCase], with_language: bool = False
) -> EvalScore:
    """Run ``split`` on every case and score exact sentence lists and boundaries.

    With ``with_language`` it is called as ``split(text, language)`` (a tool with rules per
    language gets the case's language code).
    """
    result = EvalScore()
    for case in cases:
        gold = normalise(case.sentences)
        pred = normalise(split(case.text, case.language) if with_language else split(case.text))
        ok = pred == gold
        g, p = _cuts(gold), _cuts(pred)
        result.tp += len(g & p)
        result.fp += len(p - g)
        result.fn += len(g - p)
        result.total += 1
        result.right += ok
        cat = result.by_category.setdefault(case.category, [0, 0])
        cat[0] += ok
        cat[1] += 1
        if not ok:
            result.wrong.append(case.id)
    return result
