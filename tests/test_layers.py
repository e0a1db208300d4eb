"""Concepts that cross the room boundaries: each is defined once per room and the rooms agree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_overflow_choices_agree_between_segmenters_and_core():
    from bipe_core.positions import OVERFLOW_MODES as core
    from segmenters.align import OVERFLOW_MODES as seg

    assert seg == core == ("split", "clamp")


def test_alignment_boundaries_agree_between_segmenters_and_experiments():
    from experiments.config import ALIGN_BOUNDARIES
    from segmenters.align import BOUNDARIES

    assert ALIGN_BOUNDARIES == BOUNDARIES == ("start", "word")


def _module_constants(package: str) -> dict[tuple[str, str], list[str]]:
    """(name, value source) of top-level UPPER_CASE constants -> the modules of ``package`` with it."""
    seen: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, int | float):
                continue  # a bare number (a format version) is no shared concept
            if (
                isinstance(target, ast.Name)
                and target.id.isupper()
                and not target.id.startswith("_")
            ):
                key = (target.id, ast.dump(value))
                seen.setdefault(key, []).append(path.relative_to(ROOT).as_posix())
    return seen


@pytest.mark.parametrize("package", ["bipe_core", "experiments", "segmenters", "automata"])
def test_no_constant_is_defined_twice_in_a_room(package):
    twice = {k[0]: v for k, v in _module_constants(package).items() if len(v) > 1}
    assert twice == {}


@pytest.mark.parametrize(
    "name", ["BASELINE_SCHEMES", "DEFAULT_ALIBI_FACTOR", "ModelSpec", 'TOKEN_SEPARATORS = "sep"']
)
def test_scheme_facts_are_not_listed_beside_the_registry(name):
    hits = [
        p.relative_to(ROOT).as_posix()
        for room in ("bipe_core", "experiments")
        for p in (ROOT / room).rglob("*.py")
        if name in p.read_text(encoding="utf-8")
    ]
    assert hits == []
