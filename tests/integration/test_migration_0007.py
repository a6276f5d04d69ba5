"""Migration 0007 stores the working calendar seeded from chinesecalendar, and goes back cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version

import pytest
import sqlalchemy as sa

from gridcity.adapters.db import migrate
from gridcity.adapters.db.engine import create_db_engine

TABLES = {"calendar_year", "calendar_day", "calendar_setting"}


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[sa.Engine]:
    built = create_db_engine(empty_database_url)
    yield built
    built.dispose()


def test_0007_seeds_2004_to_2026_with_the_default_office_hours_and_goes_back(
    engine: sa.Engine,
) -> None:
    migrate.upgrade(engine, "0006")
    migrate.upgrade(engine, "0007")
    with engine.connect() as conn:
        years = conn.execute(sa.text("SELECT year, source FROM calendar_year ORDER BY year")).all()
        notice_2019 = conn.execute(
            sa.text("SELECT date, is_workday FROM calendar_day WHERE year = 2019 ORDER BY date")
        ).all()
        setting = conn.execute(
            sa.text("SELECT office_hours, time_zone FROM calendar_setting")
        ).one()
    assert [y for y, _s in years] == list(range(2004, 2027))
    assert {s for _y, s in years} == {f"chinesecalendar {version('chinesecalendar')}"}
    # the notice for 2019 set the last three days of 2018: Saturday worked, Sunday and Monday off
    assert [(str(d), bool(w)) for d, w in notice_2019[:3]] == [
        ("2018-12-29", True),
        ("2018-12-30", False),
        ("2018-12-31", False),
    ]
    assert tuple(setting) == ("08:30-12:00,14:00-17:30", "Asia/Shanghai")

    migrate.downgrade(engine, "0006")

    assert not TABLES & set(sa.inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
