"""Results files of a report directory: results.json (everything) and results.csv (one row per
run x evaluation length), the CSV writer every report uses, and the reader `bipe seeds` uses."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentError

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
    """results.json (everything) and results.csv (one row per run x length)."""
    out.mkdir(parents=True, exist_ok=True)
    data = {"evaluations": evals, **(extra or {})}
    (out / "results.json").write_text(
        json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"
    )
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(flat_rows(evals))


def write_csv(
    path: Path, rows: list[dict[str, Any]], fields: tuple[str, ...] | None = None
) -> Path:
    """A CSV of ``rows`` with the given columns (default: every key, in first-seen order)."""
    if fields is None:
        fields = tuple(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_results_csv(report_dir: str | Path) -> list[dict[str, str]]:
    """The rows of a report directory's results.csv (as `write_results` wrote them)."""
    path = Path(report_dir) / "results.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise ExperimentError(f"cannot read {path}: {exc.strerror or exc}") from None
