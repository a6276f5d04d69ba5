"""Seed files of the standard catalog, transcribed from standards.md §2.3–§2.6 and §4.4.

One CSV per code set (``<key>.csv``: kind, level, code, major, name_zh, confidence, note, and
an optional name_en) and ``time_limit_examples.csv`` (the 济源 examples of §4.4). See
docs/catalog.md.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

from gridcity.domain.catalog import SeedEntry, SeedTimeLimit


def _rows(name: str) -> list[dict[str, str]]:
    """The rows of one packaged CSV file."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def seed_entries(code_set: str) -> list[SeedEntry]:
    """Every seeded class of a code set, as written in its file."""
    return [
        SeedEntry(
            code_set=code_set,
            kind=row["kind"],
            level=row["level"],
            code=row["code"],
            major=row["major"],
            name_zh=row["name_zh"],
            confidence=row["confidence"],
            note=row["note"],
            name_en=(row.get("name_en") or "").strip(),
        )
        for row in _rows(f"{code_set}.csv")
    ]


def seed_time_limits() -> list[SeedTimeLimit]:
    """The time-limit examples of standards.md §4.4."""
    return [
        SeedTimeLimit(
            code_set=row["code_set"],
            kind=row["kind"],
            code=row["code"],
            amount=int(row["amount"]),
            unit=row["unit"],
            note=row["note"],
        )
        for row in _rows("time_limit_examples.csv")
    ]
