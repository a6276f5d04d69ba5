"""Fixtures: a migrated database per test on SQLite and, when available, PostgreSQL + PostGIS.

In CI (``CI=true``) nothing is skipped: a missing PostgreSQL/PostGIS or Chromium is an error.
Outside CI those suites are skipped with a notice printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gridcity.adapters.db import migrate
from gridcity.adapters.db.tables import Base
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import Settings
from gridcity.web.app import create_app
from tests.factories import SmallCity, build_small_city

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "GRIDCITY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SKIP_NOTICES: list[str] = []
SKIP_REASON: dict[str, str] = {}
# Still argon2id, with tiny costs so the suite stays fast; production uses the recommended ones.
FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


def unavailable(what: str, why: str) -> None:
    """Skip outside CI (with a notice at the end); fail in CI."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: nothing may be skipped)", pytrace=False)
    if message not in SKIP_NOTICES:
        SKIP_NOTICES.append(message)
    pytest.skip(message)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand this process's skip notices to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["skip_notices"] = list(SKIP_NOTICES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """In the pytest-xdist controller: gather the notices each worker skipped with."""
    for notice in getattr(node, "workeroutput", {}).get("skip_notices", []):
        if notice not in SKIP_NOTICES:
            SKIP_NOTICES.append(notice)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Make skipped suites impossible to miss."""
    for notice in SKIP_NOTICES:
        terminalreporter.write_line(f"NOTICE: suite skipped — {notice}", yellow=True, bold=True)


def settings_for(database_url: str, **extra: object) -> Settings:
    """Settings of a test process (no jobs thread, no component index built at start-up: pass
    ``warm_component_index=True`` to have one)."""
    return Settings(  # type: ignore[arg-type]
        env="test",
        database_url=database_url,
        run_jobs_in_process=False,
        warm_component_index=extra.pop("warm_component_index", False),
        log_level="WARNING",
        **extra,
    )


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A scratch PostgreSQL database with PostGIS for this run, or None when unavailable."""
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            available = conn.execute(
                sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
    except sa.exc.SQLAlchemyError as exc:
        SKIP_REASON["pg"] = str(exc).splitlines()[0]
        yield None
        return
    if not available:
        SKIP_REASON["pg"] = "the PostGIS extension is not installed (postgresql-15-postgis-3)"
        yield None
        return
    try:
        with scratch_pg_database(admin) as url:
            yield url
    finally:
        admin.dispose()


@contextmanager
def scratch_pg_database(admin: sa.Engine) -> Iterator[str]:
    """A new, empty PostgreSQL database (no schema, no extension), dropped afterwards."""
    name = f"gridcity_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(PG_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Settings the migrations seed (a city edits them later): each PostgreSQL test starts from the
# seeded rows, as each SQLite test does from its copy of the migrated template.
SEEDED_TABLES = (
    "layer_scheme_setting",
    "named_shift",
    "catalog_code_set",
    "catalog_setting",
    "calendar_year",
    "calendar_day",
    "calendar_setting",
)
_SEEDS: dict[str, list[dict[str, object]]] = {}


@pytest.fixture(scope="session")
def pg_migrated(pg_database: str | None) -> str | None:
    """The scratch PostgreSQL database, migrated to head once."""
    if pg_database is None:
        return None
    engine = sa.create_engine(pg_database)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        for name in SEEDED_TABLES:
            table = Base.metadata.tables[name]
            _SEEDS[name] = [dict(row._mapping) for row in conn.execute(sa.select(table))]
    engine.dispose()
    return pg_database


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for name, rows in _SEEDS.items():
            if rows:
                conn.execute(sa.insert(Base.metadata.tables[name]), rows)
    engine.dispose()


# --- SQLite -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


# --- Per-test database, on both backends ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL + PostGIS."""
    if request.param == "sqlite":
        target = tmp_path / "gridcity.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str | None = request.getfixturevalue("pg_migrated")
    if url is None:
        unavailable("PostgreSQL + PostGIS", SKIP_REASON.get("pg", "not reachable"))
    assert url is not None
    _truncate_all(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that was never migrated: a new SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if request.getfixturevalue("pg_database") is None:
        unavailable("PostgreSQL + PostGIS", SKIP_REASON.get("pg", "not reachable"))
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with scratch_pg_database(admin) as url:
            yield url
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database (for tests that need only one backend)."""
    target = tmp_path / "gridcity.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    """Settings, database and services for one test."""
    built = bootstrap(settings_for(database_url), hasher=FAST_HASHER)
    yield built
    built.db.engine.dispose()


@pytest.fixture
def city(container: Container) -> SmallCity:
    """The small test city with one user per role."""
    return build_small_city(container)


@pytest.fixture
def app(container: Container) -> FastAPI:
    """The web app on the test database."""
    return create_app(container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app (cookies kept, like a browser)."""
    with TestClient(app) as test_client:
        yield test_client
