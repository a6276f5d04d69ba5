"""The migration history builds, removes and rebuilds the schema the ORM expects, on both databases."""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from gridcity.adapters.db import migrate
from gridcity.adapters.db.engine import create_db_engine
from gridcity.adapters.db.tables import Base
from tests.conftest import SKIP_REASON, unavailable

GRIDCITY_TABLES = frozenset(Base.metadata.tables)
# Spatial indexes are created by hand in migrations (spatial.create_spatial_index), not by the ORM.
SPATIAL_INDEX = re.compile(r"^ix_\w+_(bbox|gist)$")
# PostGIS owns this table; it comes with CREATE EXTENSION and stays when our tables go.
POSTGIS_TABLES = frozenset({"spatial_ref_sys"})


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[sa.Engine]:
    """The application's engine on a database that was never migrated."""
    built = create_db_engine(empty_database_url)
    yield built
    built.dispose()


@pytest.fixture
def pg_engine(pg_migrated: str | None) -> Iterator[sa.Engine]:
    """The application's engine on the run's migrated PostgreSQL + PostGIS database."""
    if pg_migrated is None:
        unavailable("PostgreSQL + PostGIS", SKIP_REASON.get("pg", "not reachable"))
    assert pg_migrated is not None
    built = create_db_engine(pg_migrated)
    yield built
    built.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out what only the database side has on purpose: spatial indexes, PostGIS's table."""
    if type_ == "index" and reflected and compare_to is None and SPATIAL_INDEX.match(name or ""):
        return False
    return not (type_ == "table" and name in POSTGIS_TABLES)


def schema_differences(engine: sa.Engine, metadata: sa.MetaData = Base.metadata) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLAlchemy reflects PostGIS's geometry as NullType; the column is checked on its own below.
        warnings.filterwarnings("ignore", "Did not recognize type 'geometry'", sa.exc.SAWarning)
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _include}
        )
        return list(compare_metadata(context, metadata))


# --- the history runs both ways -----------------------------------------------------------


def test_an_empty_database_upgrades_to_head_with_every_orm_table(engine: sa.Engine) -> None:
    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert _tables(engine) >= GRIDCITY_TABLES


def test_downgrading_to_base_leaves_no_gridcity_table(engine: sa.Engine) -> None:
    migrate.upgrade(engine)

    migrate.downgrade(engine, "base")

    assert migrate.current_revision(engine) is None
    left = _tables(engine)
    assert not left & GRIDCITY_TABLES
    allowed = {"alembic_version"} | (
        POSTGIS_TABLES if engine.dialect.name == "postgresql" else set()
    )
    assert left <= allowed


def test_upgrading_again_after_a_downgrade_rebuilds_the_same_schema(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert _tables(engine) >= GRIDCITY_TABLES
    assert schema_differences(engine) == []


# --- the ORM and the history agree ---------------------------------------------------------


def test_orm_metadata_and_migrated_schema_agree(engine: sa.Engine) -> None:
    migrate.upgrade(engine)

    assert schema_differences(engine) == []


def test_the_comparison_notices_a_column_the_migrations_lack(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    drifted = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["division"].append_column(sa.Column("population", sa.Integer))

    differences = schema_differences(engine, drifted)

    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "division", "population")
    ]


# --- 0004: grid settings as data -------------------------------------------------------------


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_0004_seeds_todays_scheme_formats_and_named_shifts(engine: sa.Engine) -> None:
    from gridcity.domain.layer_schemes import SEED_SETTINGS
    from gridcity.domain.responsibility import SEED_SHIFTS

    migrate.upgrade(engine)

    with engine.connect() as conn:
        schemes = {
            row.scheme: (row.marker, row.division_level, row.sequence_digits, row.name_zh)
            for row in conn.execute(sa.text("SELECT * FROM layer_scheme_setting"))
        }
        shifts = {
            row.name: (row.starts_at, row.ends_at, row.name_zh, bool(row.is_retired))
            for row in conn.execute(sa.text("SELECT * FROM named_shift"))
        }
    assert schemes == {
        s.value: (v.marker, v.level.value, v.sequence_digits, v.name_zh)
        for s, v in SEED_SETTINGS.items()
    }
    assert shifts == {
        n: (f"{v.start:%H:%M}", f"{v.end:%H:%M}", v.name_zh, False) for n, v in SEED_SHIFTS.items()
    }


def test_0004_gives_existing_assignments_every_weekday_and_goes_back_without_losing_them(
    engine: sa.Engine,
) -> None:
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user_account (username, display_name, password_hash, roles, phone,"
                " locale, is_active, failed_logins, created_at, updated_at) VALUES ('w', 'W', 'x',"
                " 'supervisor', '', 'zh_CN', true, 0, '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO responsibility_assignment (user_id, post, division_code, shift,"
                " starts_on, note, created_at) SELECT id, 'leader', '110101', '', '2026-01-01',"
                " '', '2026-01-01 00:00:00' FROM user_account"
            )
        )

    migrate.upgrade(engine, "0004")
    with engine.connect() as conn:
        weekdays = conn.execute(sa.text("SELECT weekdays FROM responsibility_assignment")).scalar()
    migrate.downgrade(engine, "0003")

    assert weekdays == "1234567"
    assert "weekdays" not in _columns(engine, "responsibility_assignment")
    assert not {"layer_scheme_setting", "named_shift"} & _tables(engine)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM responsibility_assignment")).scalar()
    assert left == 1
    index_names = {i["name"] for i in sa.inspect(engine).get_indexes("responsibility_assignment")}
    assert "ix_responsibility_assignment_layer_id_cell_code" in index_names


def _assignments_at_0004(engine: sa.Engine, rows: list[tuple[str, str]]) -> None:
    """Migrate to 0004 and store one person's leader assignments as (shift, weekdays)."""
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO user_account (username, display_name, password_hash, roles, phone,"
                " locale, is_active, failed_logins, created_at, updated_at) VALUES ('w', 'W', 'x',"
                " 'supervisor', '', 'zh_CN', true, 0, '2026-01-01 00:00:00',"
                " '2026-01-01 00:00:00')"
            )
        )
        for shift, weekdays in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO responsibility_assignment (user_id, post, division_code, shift,"
                    " weekdays, starts_on, note, created_at) SELECT id, 'leader', '110101',"
                    " :shift, :weekdays, '2026-01-01', '', '2026-01-01 00:00:00'"
                    " FROM user_account"
                ),
                {"shift": shift, "weekdays": weekdays},
            )


def test_0004_refuses_to_go_back_while_rotas_exist_rather_than_make_them_overlap(
    engine: sa.Engine,
) -> None:
    _assignments_at_0004(engine, [("", "12345"), ("", "67")])

    with pytest.raises(CommandError, match="weekdays only"):
        migrate.downgrade(engine, "0003")

    assert migrate.current_revision(engine) == "0004"
    assert "weekdays" in _columns(engine, "responsibility_assignment")
    assert {"layer_scheme_setting", "named_shift"} <= _tables(engine)


def test_0004_goes_back_writing_a_city_s_own_and_re_timed_shifts_as_their_hours(
    engine: sa.Engine,
) -> None:
    _assignments_at_0004(engine, [("early", "1234567"), ("day", "1234567"), ("night", "1234567")])
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO named_shift (name, starts_at, ends_at, name_zh, name_en, is_retired,"
                " created_at, updated_at) VALUES ('early', '06:00', '14:00', '早班', 'early',"
                " false, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(sa.text("UPDATE named_shift SET starts_at = '07:00' WHERE name = 'day'"))

    migrate.downgrade(engine, "0003")

    with engine.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT shift FROM responsibility_assignment ORDER BY id")
        ).scalars()
        assert list(kept) == ["06:00-14:00", "07:00-20:00", "night"]


# --- PostgreSQL + PostGIS ------------------------------------------------------------------


def test_division_geom_is_a_postgis_multipolygon_in_cgcs2000(pg_engine: sa.Engine) -> None:
    with pg_engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT type, srid FROM geometry_columns "
                "WHERE f_table_name = 'division' AND f_geometry_column = 'geom'"
            )
        ).one()

    assert tuple(row) == ("MULTIPOLYGON", 4490)


def test_division_geom_has_a_gist_index(pg_engine: sa.Engine) -> None:
    with pg_engine.connect() as conn:
        methods = conn.execute(
            sa.text(
                "SELECT am.amname FROM pg_index i "
                "JOIN pg_class ix ON ix.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = ix.relam "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = 'division'::regclass AND a.attname = 'geom'"
            )
        ).scalars()

        assert list(methods) == ["gist"]


# --- SQLite --------------------------------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO division (code, level, name, parent_id, is_active, "
                    "created_at, updated_at) VALUES ('110101', 'district', '东城区', 999, 1, "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
    finally:
        engine.dispose()
    # WAL is a property of the file: a plain connection that set nothing sees it too.
    with closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
