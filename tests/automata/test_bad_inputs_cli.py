"""Issue 11: bad inputs to `bipe automata` and to the family/sampler API end in typed errors,
never a traceback, a silent default or an overwritten file (no torch needed)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from automata import make_family
from automata.exceptions import AutomataInputError
from automata.samplers import HierarchicalSampler
from experiments.cli import main


def _digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "argv, named",
    [
        (["report", "--states", "-1"], "--states"),
        (["report", "--states", "0"], "--states"),
        (["report", "--types", "0"], "--types"),
        (["report", "--family", "nosuch"], "--family"),
        (["report", "--budget", "0"], "--budget"),
        (["sample", "--n-words", "-1", "--out", "{tmp}/s.jsonl"], "--n-words"),
        (["sample", "--n-words", "2", "--segments", "0-3", "--out", "{tmp}/s.jsonl"], "--segments"),
        (["sample", "--n-words", "2", "--out", "{tmp}"], "--out"),
        (
            ["sample", "--n-words", "2", "--binfa", "{tmp}/none.json", "--out", "{tmp}/s.jsonl"],
            "--binfa",
        ),
        (["compare", "--types", "0-3", "--out", "{tmp}/c"], "--types"),
        (["compare", "--seeds", "x", "--out", "{tmp}/c"], "--seeds"),
        (["compare", "--out", "{tmp}/keep.txt"], "--out"),
    ],
)
def test_bad_option_values_are_refused_by_name(argv, named, tmp_path, capsys):
    keep = tmp_path / "keep.txt"
    keep.write_text("mine\n", encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["automata", *argv]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert keep.read_text(encoding="utf-8") == "mine\n"


def test_sample_never_overwrites_unless_told(tmp_path, capsys):
    out = tmp_path / "user.jsonl"
    out.write_text("my data\n", encoding="utf-8")
    before = _digest(out)
    argv = ["automata", "sample", "--n-words", "2", "--out", str(out)]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err and _digest(out) == before
    assert main([*argv, "--overwrite"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_compare_refuses_a_directory_of_user_files(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("x", encoding="utf-8")
    argv = ["automata", "compare", "--types", "1-2", "--states", "2", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(
    "content", [bytes(range(256)) * 4, b'{"format": "\xff\xfe"}'], ids=["binary", "latin1"]
)
@pytest.mark.parametrize("action", ["report", "sample"])
def test_binfa_files_that_are_not_utf8_text(content, action, tmp_path, capsys):
    path = tmp_path / "binfa.json"
    path.write_bytes(content)
    extra = ["--n-words", "1", "--out", str(tmp_path / "o.jsonl")] if action == "sample" else []
    assert main(["automata", action, "--binfa", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert "binfa.json" in err and "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


def test_compare_warns_when_fits_rest_on_few_points(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = ["automata", "compare", "--families", "mod-marked", "--types", "1-3", "--states", "2"]
    assert main([*argv, "--out", str(tmp_path / "c"), "--json"]) == 0
    captured = capsys.readouterr()
    assert "growth fits on 3 points" in captured.err
    doc = json.loads(captured.out)
    assert {f["points"] for f in doc["fits"] if f["along"] == "n_types"} == {3}


def test_report_json(capsys):
    assert main(["automata", "report", "--family", "dyck", "--types", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sizes"]["n_types"] == 2 and "flat_nfa_params" in doc["table_params"]


@pytest.mark.parametrize("n_types, n_states", [(3, 0), (3, -1), (0, 3)])
def test_families_refuse_sizes_below_one(n_types, n_states):
    with pytest.raises(AutomataInputError, match="must be an integer >= 1"):
        make_family("mod-marked", n_types, n_states)


@pytest.mark.slow  # about 10 s: the top tables span 70,000 segments
def test_sampler_draws_more_segments_than_one_batch_of_uniforms():
    # more segments than the 65,536 uniforms drawn at a time (an IndexError before)
    sampler = HierarchicalSampler(make_family("mod-marked", 2, 2), n_segments=70_000, max_len=2)
    sample = sampler.sample()
    assert int(sample.segment[-1]) + 1 == 70_000
