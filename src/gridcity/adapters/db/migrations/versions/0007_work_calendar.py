"""The working calendar as data: covered years, the dates that differ from Monday–Friday (public
holidays and 调休 make-up workdays) and the office hours and time zone, seeded.

The seed is 2004–2026 from ``chinesecalendar`` (the package's own version is recorded as each
row's source); later years are loaded by an administrator from the State Council notice
(``gridcity calendar load``). The last days of December that a New Year holiday of the next
year rearranged belong to that next year's notice (2018-12-29 to 31 to the notice for 2019).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version

import sqlalchemy as sa
from alembic import op

from gridcity.adapters.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen here (later changes are data): the seeded years and the default settings.
SEED_YEARS = range(2004, 2027)
OFFICE_HOURS = "08:30-12:00,14:00-17:30"
TIME_ZONE = "Asia/Shanghai"
NEW_YEAR = "New Year's Day"


def seed_days() -> list[dict[str, object]]:
    """The rows of 2004–2026 as chinesecalendar holds them (Chinese holiday names)."""
    from chinese_calendar import constants

    names = {h.value: h.chinese for h in constants.Holiday}
    source = f"chinesecalendar {version('chinesecalendar')}"
    rows: list[dict[str, object]] = []
    for table, is_workday in ((constants.holidays, False), (constants.workdays, True)):
        for day, name in table.items():
            year = day.year
            if day.month == 12 and name == NEW_YEAR and year + 1 in SEED_YEARS:
                year += 1  # set by the next year's notice
            if year not in SEED_YEARS:
                continue
            rows.append(
                {
                    "date": day,
                    "is_workday": is_workday,
                    "name": names.get(name, name),
                    "source": source,
                    "year": year,
                }
            )
    missing = [y for y in SEED_YEARS if not any(r["year"] == y for r in rows)]
    if missing:
        raise RuntimeError(
            f"chinesecalendar {version('chinesecalendar')} lacks the years {missing}; "
            "install chinesecalendar>=1.11.0"
        )
    return sorted(rows, key=lambda r: str(r["date"]))


def upgrade() -> None:
    now = datetime.now(UTC)
    days = seed_days()
    source = str(days[0]["source"])
    years = op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(64), nullable=False),
    )
    op.bulk_insert(
        years,
        [
            {"year": y, "source": source, "loaded_at": now, "loaded_by": "migration 0007"}
            for y in SEED_YEARS
        ],
    )
    calendar_days = op.create_table(
        "calendar_day",
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("is_workday", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer, sa.ForeignKey("calendar_year.year"), nullable=False),
    )
    op.create_index("ix_calendar_day_year", "calendar_day", ["year"])
    op.bulk_insert(calendar_days, days)
    setting = op.create_table(
        "calendar_setting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_hours", sa.String(100), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    op.bulk_insert(
        setting,
        [{"id": 1, "office_hours": OFFICE_HOURS, "time_zone": TIME_ZONE, "updated_at": now}],
    )


def downgrade() -> None:
    """Drop the calendar (years an administrator loaded go with it)."""
    op.drop_table("calendar_setting")
    op.drop_index("ix_calendar_day_year", table_name="calendar_day")
    op.drop_table("calendar_day")
    op.drop_table("calendar_year")
