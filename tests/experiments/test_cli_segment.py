"""`bipe segment`, `bipe segmenters`, `bipe compare-segmenters`, in-process and as a subprocess."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from experiments.analysis.compare import compare_segmenters, format_table, length_stats
from experiments.cli import main
from experiments.specs import parse_value

TEXT = "Hello world. Dr. Smith is here!\r\nNew line\n"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_output(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["segment", str(sample), "--segmenter", "punct", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out)
    spans = [(s["start"], s["end"]) for s in doc["segments"]]
    assert spans == [(0, 13), (13, 33), (33, 42)]
    assert doc["stats"] == {"count": 3, "mean": 14.0, "p50": 13.0, "p95": 19.3, "max": 20}
    assert doc["level"] == "sentence" and doc["characters"] == len(TEXT)


def test_options_and_text(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["segment", str(sample), "-s", "punct", "-o", "preset=paper", "--json", "--with-text"]
    rc, out, _ = run(argv, capsys)
    assert rc == 0
    doc = json.loads(out)
    assert [s["text"] for s in doc["segments"]] == [
        "Hello world.",
        " Dr.",
        " Smith is here!\r\n",
        "New line\n",
    ]
    assert doc["options"] == {"preset": "paper"}


def test_readable_output(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        ["segment", str(sample), "-s", "fixed", "-o", "size=10", "--width", "8"], capsys
    )
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "     0  [0, 10)  fixed  'Hello …"
    assert lines[-1].startswith("# 5 segments (segment)")


def test_level_option(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        ["segment", str(sample), "-o", "lines=true", "--level", "line", "--json"], capsys
    )
    doc = json.loads(out)
    assert rc == 0 and doc["level"] == "line" and doc["levels"] == ["line", "sentence"]
    assert [s["end"] for s in doc["segments"]] == [33, 42]


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Go. Now")))
    rc, out, _ = run(["segment", "-", "--json"], capsys)
    assert rc == 0 and [s["end"] for s in json.loads(out)["segments"]] == [4, 7]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "missing.txt: cannot read"),
        (lambda d: d, "is a directory"),
        (
            lambda d: (d / "b.bin").write_bytes(b"\x00\x01\x02") and d / "b.bin",
            "b.bin: looks binary",
        ),
        (
            lambda d: (d / "l.txt").write_bytes("caf\xe9".encode("latin-1")) and d / "l.txt",
            "l.txt: not valid UTF-8",
        ),
    ],
)
def test_bad_files(tmp_path: Path, make, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(["segment", str(make(tmp_path))], capsys)
    assert rc == 2 and out == ""
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-s", "nope"], "unknown segmenter 'nope'; available:"),
        (["-o", "size"], "--option expects KEY=VALUE"),
        (["-s", "fixed", "-o", "size=0"], "size must be a positive int"),
        (["--level", "word"], "level 'word' is not in this segmentation"),
        (["--width", "-1"], "argument --width: must be >= 0"),
    ],
)
def test_bad_arguments(sample: Path, extra: list[str], message: str, capsys) -> None:
    rc, _, err = run(["segment", str(sample), *extra], capsys)
    assert rc == 2 and message in err


@pytest.mark.parametrize(
    ("raw", "value"),
    [("3", 3), ("2.5", 2.5), ("true", True), ("False", False), ("none", None), ("paper", "paper"),
     ('["Dr."]', ["Dr."]), ("[oops", "[oops")],
)  # fmt: skip
def test_parse_value(raw: str, value: object) -> None:
    assert parse_value(raw) == value


def test_segmenters_lists_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["segmenters"], capsys)
    assert rc == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"punct", "fixed"} <= set(names)
    assert any(line.startswith("punct ") and "punctuation" in line for line in out.splitlines())


def test_compare_segmenters_command(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        ["compare-segmenters", str(sample), "-s", "punct", "-s", "fixed", "--json"], capsys
    )
    assert rc == 0
    rows = json.loads(out)
    assert [r["segmenter"] for r in rows] == ["punct", "punct paper", "fixed 64"]
    assert rows[0]["count"] == 3 and rows[1]["count"] == 4 and rows[2]["count"] == 1


def test_compare_and_format_report_unavailable_segmenters() -> None:
    import catalogue

    from segmenters import register_segmenter
    from segmenters.base import BaseSegmenter
    from segmenters.registry import SEGMENTERS

    @register_segmenter("test-missing", "needs a package that is not installed")
    class Missing(BaseSegmenter):
        def __init__(self, **options: object) -> None:
            import bipe_no_such_package  # noqa: F401

    try:
        rows = compare_segmenters("A b. C d.", ["punct", "test-missing"], min_seconds=0.001)
    finally:
        catalogue.REGISTRY.pop((*SEGMENTERS.namespace, "test-missing"), None)
    by = {r["segmenter"]: r for r in rows}
    assert (
        by["punct"]["status"] == "ok" and by["punct"]["count"] == 2 and by["punct"]["mb_per_s"] > 0
    )
    assert by["test-missing"]["status"] == "unavailable"
    assert "bipe_no_such_package" in by["test-missing"]["detail"]
    table = format_table(rows)
    assert table.splitlines()[0].split() == [
        "segmenter",
        "segments",
        "mean",
        "p50",
        "p95",
        "max",
        "MB/s",
    ]
    assert "test-missing: unavailable: No module named 'bipe_no_such_package'" in table


def test_length_stats() -> None:
    assert length_stats([]) == {"count": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0}
    assert length_stats([1, 2, 3, 4]) == {
        "count": 4,
        "mean": 2.5,
        "p50": 2.5,
        "p95": 3.85,
        "max": 4,
    }


def _bipe() -> list[str]:
    """The installed `bipe` console script, or the same entry point through this Python."""
    exe = shutil.which("bipe")
    return [exe] if exe else [sys.executable, "-m", "experiments.cli"]


def test_real_subprocess(sample: Path) -> None:
    proc = subprocess.run(
        [
            *_bipe(),
            "segment",
            str(sample),
            "--segmenter",
            "punct",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(s["start"], s["end"]) for s in doc["segments"]] == [(0, 13), (13, 33), (33, 42)]


def test_real_subprocess_bad_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*_bipe(), "segment", str(tmp_path / "none.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "none.txt" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("name", "source", "kind"),
    [
        ("mod.py", "import os\n\n\ndef f():\n    return 1\n", "function_definition"),
        ("app.js", "const a = 1;\nfunction g() { return a; }\n", "function_declaration"),
    ],
)
def test_code_segmenter_picks_language_from_extension(
    tmp_path: Path, name: str, source: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    rc, out, _ = run(["segment", str(path), "--segmenter", "code", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out)
    assert "".join(source[s["start"] : s["end"]] for s in doc["segments"]) == source
    assert doc["segments"][-1]["kind"] == kind


def test_code_segmenter_on_stdin_needs_a_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x = 1\n")))
    rc, _, err = run(["segment", "-", "--segmenter", "code"], capsys)
    assert rc == 2 and "language" in err


def test_segment_takes_the_same_spec_as_every_other_command(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["segment", str(sample), "-s", "fixed:size=10", "--json"], capsys)
    assert rc == 0
    doc = json.loads(out)
    assert doc["segmenter"] == "fixed" and doc["options"] == {"size": 10}
    assert [s["end"] - s["start"] for s in doc["segments"]][:4] == [10, 10, 10, 10]
    rc, out2, _ = run(["segment", str(sample), "-s", "fixed", "-o", "size=10", "--json"], capsys)
    assert rc == 0 and json.loads(out2)["segments"] == doc["segments"]
    rows = compare_segmenters(TEXT, ["fixed:size=10"], min_seconds=0.001)
    assert [(r["segmenter"], r["count"]) for r in rows] == [("fixed:size=10", 5)]


@pytest.mark.parametrize("mode", ["sentencizer", "senter", "parser"])
def test_sentence_states_its_pipeline(
    mode: str, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bipe segmenters` names the pipeline each mode would run; the JSON names the one that ran."""
    pytest.importorskip("spacy")
    from segmenters.spacy_pipelines import planned_pipeline

    rc, out, _ = run(["segmenters"], capsys)
    assert rc == 0 and f"{mode} runs {planned_pipeline('en', mode)}" in out
    with warnings.catch_warnings():  # a model fallback warns; the JSON must say it too
        warnings.simplefilter("ignore")
        rc, out, _ = run(["segment", str(sample), "-s", f"sentence:mode={mode}", "--json"], capsys)
    info = json.loads(out)["info"]
    assert rc == 0 and info["requested_mode"] == mode
    assert planned_pipeline("en", mode).startswith(info["model"])
    if info["fallback"] and info["model"].startswith("blank:"):
        assert info["mode"] == "sentencizer"


def test_an_option_given_in_the_spec_and_by_option_is_refused(tmp_path, capsys):
    from experiments.cli import main

    text = tmp_path / "t.txt"
    text.write_text("One. Two. Three.\n")
    assert main(["segment", str(text), "-s", "fixed:size=4", "-o", "size=8"]) == 2
    assert "given both" in capsys.readouterr().err
