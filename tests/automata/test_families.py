"""The family registry: built-in families, in-process registration and third-party entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import catalogue
import pytest

from automata import (
    FAMILIES,
    AutomataInputError,
    family_builder,
    list_families,
    make_family,
    register_family,
)

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = [
    "arithmetic",
    "dyck",
    "mod-marked",
    "mod-unmarked",
    "random",
    "random-marked",
    "star-free",
]


@pytest.fixture
def scratch() -> Iterator[str]:
    """A family name that the test may register; it is unregistered afterwards."""
    name = "test-scratch"
    yield name
    catalogue.REGISTRY.pop((*FAMILIES.namespace, name), None)


def _dyck(n_types: int, n_states: int, seed: int):
    return make_family("dyck", n_types, n_states, seed)


def test_builtin_families_are_listed_and_found():
    assert list_families() == BUILTINS
    for name in BUILTINS:
        assert name in FAMILIES
        assert callable(family_builder(name))
    assert "nope" not in FAMILIES


def test_unknown_family_names_the_choices():
    for name in ("nope", 3, ["dyck"]):
        with pytest.raises(AutomataInputError, match=r"unknown family .*; choose one of \["):
            family_builder(name)
    with pytest.raises(AutomataInputError, match=r"'nope'; choose one of .*'star-free'"):
        make_family("nope", 2, 2)


def test_register_family_as_a_call(scratch):
    assert register_family(scratch, _dyck) is _dyck
    assert scratch in list_families() and scratch in FAMILIES
    assert family_builder(scratch) is _dyck
    assert make_family(scratch, 2, 4, 1) == make_family("dyck", 2, 4, 1)
    assert register_family(scratch, _dyck) is _dyck  # the same builder again is fine


def test_register_family_as_a_decorator(scratch):
    @register_family(scratch)
    def build(n_types, n_states, seed):
        return make_family("mod-marked", n_types, n_states, seed)

    assert family_builder(scratch) is build
    assert make_family(scratch, 2, 2).size_report().min_dfa_states == 6


def test_a_taken_name_refuses_another_builder(scratch):
    with pytest.raises(AutomataInputError, match="'dyck' is already registered"):
        register_family("dyck", _dyck)
    register_family(scratch, _dyck)
    with pytest.raises(AutomataInputError, match="already registered"):
        register_family(scratch)(lambda k, n, seed: _dyck(k, n, seed))
    assert family_builder(scratch) is _dyck
    assert list_families() == sorted([*BUILTINS, scratch])


def test_bad_registrations_raise_typed_errors():
    with pytest.raises(AutomataInputError, match="non-empty str"):
        register_family("", _dyck)
    with pytest.raises(AutomataInputError, match="non-empty str"):
        register_family(7, _dyck)
    with pytest.raises(AutomataInputError, match="not callable"):
        register_family("test-not-callable", "dyck")
    assert "test-not-callable" not in list_families()


PLUGIN = '''
from automata import make_family


def build(n_types, n_states, seed):
    """Dyck words under another name."""
    return make_family("dyck", n_types, n_states, seed)
'''

CHECK = """
import sys
import automata

assert automata.list_families() == sorted([*{builtins!r}, "brackets"])
assert "bipe_test_families" not in sys.modules  # listing loads no entry point
assert "brackets" in automata.FAMILIES
assert automata.make_family("brackets", 2, 4, 1) == automata.make_family("dyck", 2, 4, 1)
import bipe_test_families
assert automata.family_builder("brackets") is bipe_test_families.build
assert automata.register_family("brackets", bipe_test_families.build) is bipe_test_families.build
try:
    automata.register_family("brackets", lambda k, n, seed: None)
except automata.AutomataInputError as exc:
    print("refused:", exc)
"""


def test_a_third_party_family_is_found_through_its_entry_point(tmp_path):
    """A distribution that declares a builder in the group "bipe.families" adds a family."""
    (tmp_path / "bipe_test_families.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "bipe_test_families-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bipe-test-families\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text("[bipe.families]\nbrackets = bipe_test_families:build\n")
    # a fresh interpreter: catalogue reads the installed entry points once, when it is imported
    prelude = f"import sys; sys.path[:0] = {[str(tmp_path), str(ROOT)]!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + CHECK.format(builtins=BUILTINS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("refused: family 'brackets' is already registered")
    assert "brackets" not in list_families()  # this interpreter never saw the distribution
