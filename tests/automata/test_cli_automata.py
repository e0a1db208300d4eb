"""`bipe automata compare|sample|report` write real CSV/PNG/JSONL files and report typed errors."""

from __future__ import annotations

import csv
import json

import pytest

from automata import BiNFA, make_family
from experiments.cli import main


def test_compare_writes_csv_png_and_prints_fits(tmp_path, capsys):
    pytest.importorskip("matplotlib")  # sizes.png; the light install (no "lm" extra) has none
    out = tmp_path / "cmp"
    rc = main(
        [
            "automata",
            "compare",
            "--families",
            "mod-marked,mod-unmarked",
            "--types",
            "1-4",
            "--states",
            "2",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "growth along n_types" in text and "exponential" in text
    rows = list(csv.DictReader((out / "sizes.csv").open()))
    assert len(rows) == 8
    unmarked = [r for r in rows if r["family"] == "mod-unmarked"]
    assert [int(r["min_dfa_states"]) for r in unmarked] == [3, 7, 31, 211]
    fits = list(csv.DictReader((out / "fits.csv").open()))
    assert {f["best"] for f in fits} <= {"linear", "power", "exponential"}
    assert (out / "sizes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _sample_dyck(path) -> int:
    """Run `bipe automata sample` with the fixed, seeded dyck settings used below."""
    args = "--family dyck --types 2 --states 4 --n-words 20 --seed 3 --segments 2-5 --negatives 2"
    return main(["automata", "sample", *args.split(), "--out", str(path)])


def test_sample_writes_jsonl_with_annotations(tmp_path):
    path = tmp_path / "data" / "dyck.jsonl"
    assert _sample_dyck(path) == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    b = make_family("dyck", 2, 4, 3)
    pos = [r for r in records if r["label"] == 1]
    neg = [r for r in records if r["label"] == 0]
    assert len(pos) == 20 and neg
    for r in pos:
        assert b.accepts(r["tokens"])
        n = len(r["tokens"])
        assert len(r["segment"]) == len(r["intra"]) == len(r["types"]) == len(r["legal_next"]) == n
        assert 2 <= r["segment"][-1] + 1 <= 5
        assert r["accepting"][-1] and "#" not in r["legal_next"][-1]
    for r in neg:
        if r["kind"] != "wrong-type":
            assert not b.accepts(r["tokens"])
    again = tmp_path / "again.jsonl"
    assert _sample_dyck(again) == 0
    assert again.read_text() == path.read_text()  # seeded


def test_report_from_json_and_typed_errors(tmp_path, capsys):
    from automata.binfa import worked_example

    f = tmp_path / "b.json"
    f.write_text(worked_example().to_json())
    assert main(["automata", "report", "--binfa", str(f)]) == 0
    assert "flattened NFA: 7 states, 10 transitions" in capsys.readouterr().out
    assert BiNFA.from_json(f.read_text()).flat_size() == (7, 10)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "bipe-binfa", "version": 1}')
    assert main(["automata", "report", "--binfa", str(bad)]) == 2
    assert "missing keys" in capsys.readouterr().err
    assert main(["automata", "report", "--binfa", str(tmp_path / "none.json")]) == 2
    assert main(["automata", "report", "--family", "nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    out = tmp_path / "x.jsonl"
    assert (
        main(
            [
                "automata",
                "sample",
                "--family",
                "arithmetic",
                "--types",
                "1",
                "--states",
                "10",
                "--n-words",
                "1",
                "--max-len",
                "3",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert main(["automata", "compare", "--families", "nope", "--out", str(tmp_path)]) == 2


def test_automata_and_its_command_never_import_torch():
    """Fresh interpreter: the package, its command module and a `report` run leave torch unloaded."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import argparse, sys\n"
        "import automata, automata.accounting, automata.dfa, automata.io, automata.matrices\n"
        "import automata.negatives, automata.samplers, automata.sweep\n"
        "from experiments.commands.automata import register\n"
        "parser = argparse.ArgumentParser()\n"
        "register(parser.add_subparsers())\n"
        "args = parser.parse_args(['automata', 'report', '--family', 'dyck', '--types', '2'])\n"
        "assert args.func(args) == 0\n"
        "loaded = sorted(m for m in ('torch', 'spacy', 'bipe_core') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "flattened NFA" in done.stdout
