"""Results files of a report directory: results.json (everything) and results.csv (one row per
run x evaluation length), the CSV writer every report uses, and the reader `bipe seeds` uses."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from experiments.atomic import atomic_text, text_digest
from experiments.errors import ExperimentError


class DamagedResultsError(ExperimentError):
    """A results file does not match the checksum its report recorded (truncated or edited)."""


CSV_FIELDS = (
    "corpus",
    "scheme",
    "segmenter",
    "length",
    "multiplier",
    "ppl",
    "loss",
    "blocks",
    "tokens",
    "step",
    "seed",
)


def run_label(row: dict[str, Any]) -> str:
    """Legend label of one run: scheme, plus the segmenter for BiPE schemes."""
    return row["scheme"] + (f" ({row['segmenter']})" if row.get("segmenter") else "")


def flat_rows(evals: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run x evaluation length (the CSV layout)."""
    rows = []
    for ev in evals:
        for r in ev["results"]:
            rows.append(
                {
                    "corpus": ev["corpus"],
                    "scheme": ev["scheme"],
                    "segmenter": ev.get("segmenter") or "",
                    "length": r["length"],
                    "multiplier": r["multiplier"],
                    "ppl": round(r["ppl"], 4),
                    "loss": round(r["loss"], 5),
                    "blocks": r["blocks"],
                    "tokens": r["tokens"],
                    "step": ev.get("step"),
                    "seed": ev.get("seed", ""),
                }
            )
    return rows


def write_results(
    out: Path, evals: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> None:
    """results.json (everything) and results.csv (one row per run x length), each written whole.

    results.json, written last, records the CSV's SHA-256 and row count, which
    `read_results_csv` checks: a truncated or hand-edited CSV is refused, never averaged.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = flat_rows(evals)
    text = csv_text(rows, CSV_FIELDS)
    atomic_text(out / "results.csv", text)
    check = {"sha256": text_digest(text), "rows": len(rows)}
    data = {"evaluations": evals, **(extra or {}), "results_csv": check}
    atomic_text(out / "results.json", json.dumps(data, indent=2, default=str) + "\n")


def csv_text(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    """``rows`` as CSV text with the given columns (extra keys ignored)."""
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(
    path: Path, rows: list[dict[str, Any]], fields: tuple[str, ...] | None = None
) -> Path:
    """A CSV of ``rows`` with the given columns (default: every key, in first-seen order)."""
    if fields is None:
        fields = tuple(dict.fromkeys(k for r in rows for k in r))
    atomic_text(path, csv_text(rows, fields))
    return path


def read_results_csv(report_dir: str | Path) -> list[dict[str, str]]:
    """The rows of a report directory's results.csv, checked against results.json's record."""
    path = Path(report_dir) / "results.csv"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExperimentError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    record = _csv_record(Path(report_dir))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    if record is not None and (
        record.get("sha256") != text_digest(text) or record.get("rows") != len(rows)
    ):
        raise DamagedResultsError(
            f"{path} does not match the checksum results.json recorded for it ({len(rows)} rows, "
            f"{record.get('rows')} written): it was truncated or edited after the run, so its "
            "numbers are not used; rerun the command that wrote the report to rewrite it"
        )
    return rows


def _csv_record(report_dir: Path) -> dict[str, Any] | None:
    """The checksum record results.json keeps of results.csv (None for reports made before it)."""
    path = report_dir / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DamagedResultsError(
            f"{path} cannot be read ({exc}): the report is damaged; rerun the command that wrote it"
        ) from None
    record = data.get("results_csv") if isinstance(data, dict) else None
    return record if isinstance(record, dict) else None
