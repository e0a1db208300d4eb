"""A small inventory ledger: items, stock movements and a plain-text report.

Sample module for the `code` segmenter demo. It is ordinary, self-contained Python: classes,
functions, decorators, comprehensions, a context manager and a command-line entry point.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

LOW_STOCK = 5  # below this many units an item is flagged in the report


class LedgerError(Exception):
    """A movement that the ledger cannot accept."""


@dataclass(frozen=True)
class Item:
    """A stock-keeping unit with a price in cents."""

    sku: str
    name: str
    price_cents: int

    def __post_init__(self) -> None:
        if not self.sku or not self.sku.isalnum():
            raise LedgerError(f"bad sku {self.sku!r}: letters and digits only")
        if self.price_cents < 0:
            raise LedgerError(f"{self.sku}: negative price {self.price_cents}")

    @property
    def price(self) -> float:
        return self.price_cents / 100


@dataclass(frozen=True)
class Movement:
    """Units in (positive) or out (negative) of one item on one day."""

    sku: str
    units: int
    day: date
    note: str = ""


@dataclass
class Ledger:
    """Items and their movements; stock is always derived, never stored."""

    items: dict[str, Item] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)

    def add_item(self, item: Item) -> None:
        if item.sku in self.items:
            raise LedgerError(f"duplicate sku {item.sku}")
        self.items[item.sku] = item

    def record(self, movement: Movement) -> None:
        if movement.sku not in self.items:
            raise LedgerError(f"unknown sku {movement.sku}")
        if movement.units == 0:
            raise LedgerError("a movement of zero units records nothing")
        if self.stock(movement.sku) + movement.units < 0:
            raise LedgerError(f"{movement.sku}: not enough stock for {-movement.units} units")
        self.movements.append(movement)

    def stock(self, sku: str) -> int:
        return sum(m.units for m in self.movements if m.sku == sku)

    def stock_levels(self) -> dict[str, int]:
        levels: dict[str, int] = defaultdict(int)
        for m in self.movements:
            levels[m.sku] += m.units
        return {sku: levels.get(sku, 0) for sku in sorted(self.items)}

    def value_cents(self) -> int:
        return sum(self.items[s].price_cents * n for s, n in self.stock_levels().items())

    def between(self, start: date, end: date) -> Iterator[Movement]:
        yield from (m for m in self.movements if start <= m.day <= end)


def load_items(rows: Iterable[dict[str, str]]) -> list[Item]:
    """Items from CSV rows with columns sku, name, price."""
    items = []
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            cents = round(float(row["price"]) * 100)
        except (KeyError, ValueError) as exc:
            raise LedgerError(f"row {i}: bad or missing price") from exc
        items.append(Item(row["sku"].strip(), row["name"].strip(), cents))
    return items


@contextmanager
def opened_ledger(path: Path):
    """Load a ledger from JSON, yield it, and save it back if the block succeeds."""
    data = json.loads(path.read_text("utf-8")) if path.exists() else {"items": [], "movements": []}
    ledger = Ledger()
    for it in data["items"]:
        ledger.add_item(Item(**it))
    for mv in data["movements"]:
        ledger.record(Movement(mv["sku"], mv["units"], date.fromisoformat(mv["day"]), mv["note"]))
    yield ledger
    out = {
        "items": [vars(it) for it in ledger.items.values()],
        "movements": [
            {"sku": m.sku, "units": m.units, "day": m.day.isoformat(), "note": m.note}
            for m in ledger.movements
        ],
    }
    path.write_text(json.dumps(out, indent=2), "utf-8")


def report(ledger: Ledger) -> str:
    """A fixed-width stock report, low stock marked with an asterisk."""
    lines = [f"{'sku':<8} {'name':<24} {'stock':>6} {'value':>10}"]
    for sku, units in ledger.stock_levels().items():
        item = ledger.items[sku]
        flag = "*" if units < LOW_STOCK else " "
        lines.append(f"{sku:<8} {item.name:<24} {units:>6}{flag} {units * item.price:>9.2f}")
    lines.append(f"total value: {ledger.value_cents() / 100:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--import-items", type=Path, metavar="CSV")
    parser.add_argument("--move", nargs=3, metavar=("SKU", "UNITS", "NOTE"))
    args = parser.parse_args(argv)
    try:
        with opened_ledger(args.ledger) as ledger:
            if args.import_items:
                with args.import_items.open(newline="") as fh:
                    for item in load_items(csv.DictReader(fh)):
                        ledger.add_item(item)
            if args.move:
                sku, units, note = args.move
                ledger.record(Movement(sku, int(units), date.today(), note))
            print(report(ledger))
    except LedgerError as exc:
        print(f"ledger: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
