"""Calendars and calendar files for the tests: the seed migration 0007 stores, a real year's file
written from chinesecalendar, and a made-up 2027 (no notice for 2027 exists yet)."""

from __future__ import annotations

import importlib.util
from datetime import date
from functools import cache
from pathlib import Path
from types import ModuleType

from gridcity.domain.work_calendar import CalendarDay, WorkCalendar

MIGRATION = (
    Path(__file__).resolve().parents[1]
    / "src/gridcity/adapters/db/migrations/versions/0007_work_calendar.py"
)

# A made-up arrangement for 2027, shaped like a State Council notice (NOT the real one, which is
# not published): New Year, Spring Festival (2027-02-06 is 春节) with two make-up Saturdays …
HYPOTHETICAL_2027: tuple[tuple[str, bool, str], ...] = (
    ("2027-01-01", False, "元旦"),
    ("2027-01-02", False, "元旦"),
    ("2027-01-03", False, "元旦"),
    *((f"2027-02-{d:02d}", False, "春节") for d in range(5, 14)),
    ("2027-01-30", True, "春节"),
    ("2027-02-20", True, "春节"),
    ("2027-04-03", False, "清明节"),
    ("2027-04-04", False, "清明节"),
    ("2027-04-05", False, "清明节"),
    *((f"2027-05-{d:02d}", False, "劳动节") for d in range(1, 6)),
    ("2027-04-25", True, "劳动节"),
    ("2027-06-09", False, "端午节"),
    ("2027-09-15", False, "中秋节"),
    *((f"2027-10-{d:02d}", False, "国庆节") for d in range(1, 8)),
    ("2027-09-26", True, "国庆节"),
    ("2027-10-09", True, "国庆节"),
)


@cache
def migration_0007() -> ModuleType:
    """The migration module (its file name starts with a digit, so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location("migration_0007", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def seed_calendar() -> WorkCalendar:
    """The calendar a freshly migrated database holds: 2004–2026 from chinesecalendar."""
    rows = migration_0007().seed_days()
    return WorkCalendar(
        years=frozenset(migration_0007().SEED_YEARS),
        days={r["date"]: CalendarDay(r["date"], r["is_workday"], r["name"]) for r in rows},
    )


def csv_of(rows: tuple[tuple[str, bool, str], ...] | list[tuple[str, bool, str]]) -> bytes:
    """A calendar CSV file (UTF-8) of (date, is_workday, name) rows."""
    lines = ["date,is_workday,name"]
    lines += [f"{day},{'true' if workday else 'false'},{name}" for day, workday, name in rows]
    return ("\n".join(lines) + "\n").encode()


def seed_rows(year: int) -> list[tuple[str, bool, str]]:
    """The rows the seed holds for one notice year, as a file would carry them."""
    return [
        (r["date"].isoformat(), bool(r["is_workday"]), str(r["name"]))
        for r in migration_0007().seed_days()
        if r["year"] == year
    ]


def weekday(day: str) -> int:
    """ISO weekday of a date text (1 Monday … 7 Sunday)."""
    return date.fromisoformat(day).isoweekday()
