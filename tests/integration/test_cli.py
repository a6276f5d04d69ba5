"""The ``gridcity`` command, run as a separate process the way an operator runs it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from gridcity.adapters.db import migrate
from gridcity.adapters.db.tables import Base
from gridcity.cli import app

HEAD = migrate.head_revision(sa.create_engine("sqlite://"))
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/x"
REAL_SECRET = "k3Jq9vX2mP8sL5tR7wZ1nB4cF6hD0gYaE-uQ_iO"
STRONG_PASSWORD = "Grid#City2026"
# One command line per command, complete enough that only our own checks can stop it.
COMMAND_LINES = {
    "init": ["init"],
    "migrate": ["migrate"],
    "demo": ["demo"],
    "serve": ["serve", "--port", "8999"],
    "worker": ["worker", "--once"],
    "createuser": ["createuser", "alice", "--role", "admin", "--password-stdin"],
    "check": ["check"],
}


@dataclass(frozen=True)
class Run:
    """What one ``gridcity`` process did."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """Lines written to standard error."""
        return self.err.splitlines()


Gridcity = Callable[..., Run]


@pytest.fixture
def gridcity(tmp_path: Path) -> Gridcity:
    """Runs ``python -m gridcity`` with only the GRIDCITY_ settings a test gives it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCITY_")}

    def run(*args: str, stdin: str = "", **settings: str) -> Run:
        env = clean | {"GRIDCITY_LOG_LEVEL": "WARNING"} | settings
        done = subprocess.run(
            [sys.executable, "-m", "gridcity", *args],
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


def assert_one_error_line(run: Run, starting: str) -> str:
    """Exit status 2 and exactly one line on stderr, starting as given."""
    assert run.code == 2, run
    assert len(run.err_lines) == 1, run.err
    assert run.err_lines[0].startswith(starting), run.err
    return run.err_lines[0]


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- init, check, migrate -----------------------------------------------------------------


def test_python_m_gridcity_is_the_gridcity_command(gridcity: Gridcity) -> None:
    run = gridcity("--help")

    assert run.code == 0
    for name in COMMAND_LINES:
        assert name in run.out


def test_init_creates_the_schema_and_check_reports_it(
    gridcity: Gridcity, empty_database_url: str
) -> None:
    init = gridcity("init", GRIDCITY_DATABASE_URL=empty_database_url)
    check = gridcity("check", GRIDCITY_DATABASE_URL=empty_database_url)

    assert init.code == 0, init
    assert f"schema empty → {HEAD}" in init.out
    assert re.search(rf"^schema:\s+{HEAD} \(code needs {HEAD}\)$", check.out, re.M), check.out
    assert "schema is not up to date" not in check.out
    spatial = "PostGIS" if empty_database_url.startswith("postgresql") else "GEOS"
    assert re.search(rf"^spatial:\s+{spatial} ", check.out, re.M), check.out


def test_check_flags_a_database_that_was_never_migrated(gridcity: Gridcity, tmp_path: Path) -> None:
    run = gridcity("check", GRIDCITY_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")

    assert run.code == 1
    assert re.search(rf"^schema:\s+empty \(code needs {HEAD}\)$", run.out, re.M), run.out
    assert "problem:     schema is not up to date: run `gridcity migrate`" in run.out


def test_migrate_to_base_then_migrate_rebuilds_the_schema(
    gridcity: Gridcity, empty_database_url: str
) -> None:
    url = empty_database_url
    assert gridcity("init", GRIDCITY_DATABASE_URL=url).code == 0

    down = gridcity("migrate", "--to", "base", GRIDCITY_DATABASE_URL=url)
    tables_after_down = _tables(url)
    up = gridcity("migrate", GRIDCITY_DATABASE_URL=url)

    assert (down.code, down.out.strip()) == (0, f"schema {HEAD} → empty")
    assert not tables_after_down & set(Base.metadata.tables)
    assert (up.code, up.out.strip()) == (0, f"schema empty → {HEAD}")
    assert _tables(url) >= set(Base.metadata.tables)


def test_migrate_to_an_unknown_revision_is_one_clear_line(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    run = gridcity("migrate", "--to", "nonsense", GRIDCITY_DATABASE_URL=sqlite_url)

    line = assert_one_error_line(run, "gridcity: error: migrate --to nonsense:")
    assert "nonsense" in line.removeprefix("gridcity: error: migrate --to nonsense:")


# --- configuration and database errors: one line, exit 2 ----------------------------------


@pytest.mark.parametrize("command", ["serve", "init", "migrate"])
def test_an_unreachable_database_is_one_clear_line(gridcity: Gridcity, command: str) -> None:
    run = gridcity(*COMMAND_LINES[command], GRIDCITY_DATABASE_URL=UNREACHABLE)

    assert_one_error_line(run, "gridcity: error: cannot reach the database")


def test_the_unreachable_database_line_hides_the_password(gridcity: Gridcity) -> None:
    url = "postgresql+psycopg://nobody:s3cret-pw@127.0.0.1:1/x"

    run = gridcity("init", GRIDCITY_DATABASE_URL=url)

    line = assert_one_error_line(run, "gridcity: error: cannot reach the database")
    assert "s3cret-pw" not in line
    assert "nobody:***@127.0.0.1:1/x" in line


def test_every_command_is_covered_by_the_configuration_tests() -> None:
    registered = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}

    assert registered == set(COMMAND_LINES)


@pytest.mark.parametrize("command", sorted(COMMAND_LINES))
def test_production_refuses_the_placeholder_secret_for_every_command(
    gridcity: Gridcity, command: str, sqlite_url: str
) -> None:
    run = gridcity(
        *COMMAND_LINES[command],
        stdin=STRONG_PASSWORD + "\n",
        GRIDCITY_ENV="production",
        GRIDCITY_DATABASE_URL=sqlite_url,
    )

    line = assert_one_error_line(run, "gridcity: error: ")
    assert "GRIDCITY_SECRET_KEY" in line


def test_production_refuses_a_well_known_placeholder_too(gridcity: Gridcity) -> None:
    run = gridcity("check", GRIDCITY_ENV="production", GRIDCITY_SECRET_KEY="changeme")

    assert "GRIDCITY_SECRET_KEY" in assert_one_error_line(run, "gridcity: error: ")


def test_production_with_a_real_secret_gets_past_the_configuration(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    run = gridcity(
        "check",
        GRIDCITY_ENV="production",
        GRIDCITY_SECRET_KEY=REAL_SECRET,
        GRIDCITY_DATABASE_URL=sqlite_url,
    )

    assert "environment: production" in run.out
    assert "GRIDCITY_SECRET_KEY" not in run.err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GRIDCITY_PORT", "notanumber"),
        ("GRIDCITY_DATABASE_URL", "mysql://x"),
        ("GRIDCITY_DEFAULT_LOCALE", "fr"),
        ("GRIDCITY_SESSION_HOURS", "0"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_setting(
    gridcity: Gridcity, variable: str, value: str
) -> None:
    run = gridcity("init", **{variable: value})

    assert_one_error_line(run, f"gridcity: error: {variable}: ")


# --- accounts and jobs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt#", "The password needs at least 10 characters"),
        ("onlylowercaseletters", "The password needs 3 of: lower case, upper case, digits"),
    ],
)
def test_createuser_refuses_a_weak_password_with_the_policy_reason(
    gridcity: Gridcity, sqlite_url: str, password: str, reason: str
) -> None:
    run = gridcity(
        *COMMAND_LINES["createuser"], stdin=password + "\n", GRIDCITY_DATABASE_URL=sqlite_url
    )

    assert_one_error_line(run, f"gridcity: error: {reason}")
    assert _count_users(sqlite_url) == 0


def test_createuser_with_a_strong_password_creates_the_account(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    run = gridcity(
        *COMMAND_LINES["createuser"],
        stdin=STRONG_PASSWORD + "\n",
        GRIDCITY_DATABASE_URL=sqlite_url,
    )

    assert run.code == 0, run
    assert run.out.startswith("created user alice (id 1) with roles admin")
    assert _count_users(sqlite_url) == 1


def test_worker_once_runs_the_purge_job_the_first_time_only(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    first = gridcity("worker", "--once", GRIDCITY_DATABASE_URL=sqlite_url)
    second = gridcity("worker", "--once", GRIDCITY_DATABASE_URL=sqlite_url)

    assert first.code == 0, first
    assert "ran: purge_expired_sessions" in first.out
    assert second.code == 0, second
    assert "purge_expired_sessions" not in second.out


def _count_users(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar_one())
    finally:
        engine.dispose()


def test_serve_on_a_port_in_use_is_one_clear_line(gridcity: Gridcity, sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        run = gridcity("serve", "--port", port, GRIDCITY_DATABASE_URL=sqlite_url)
    line = assert_one_error_line(run, f"gridcity: error: cannot listen on 127.0.0.1:{port}")
    assert "--port" in line


@pytest.mark.parametrize(
    ("url", "starting"),
    [
        (
            "postgresql+psycopg://u@h:abc/db",
            "gridcity: error: GRIDCITY_DATABASE_URL: is not a valid",
        ),
        ("sqlite:////proc/no/such/dir/x.db", "gridcity: error: cannot open the database"),
    ],
)
@pytest.mark.parametrize("command", ["check", "init"])
def test_a_database_that_cannot_be_opened_is_one_clear_line(
    gridcity: Gridcity, url: str, starting: str, command: str
) -> None:
    assert_one_error_line(gridcity(command, GRIDCITY_DATABASE_URL=url), starting)


def test_demo_loads_once_and_then_keeps_the_data(gridcity: Gridcity, sqlite_url: str) -> None:
    first = gridcity("demo", GRIDCITY_DATABASE_URL=sqlite_url)
    second = gridcity("demo", GRIDCITY_DATABASE_URL=sqlite_url)
    assert first.code == 0 and "204 communities" in first.out and "Grid#2026demo" in first.out
    assert second.code == 0 and "already loaded, data kept" in second.out
    assert "Grid#2026demo" in second.out


def test_demo_prints_no_logins_into_a_database_that_holds_other_data(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    from gridcity.bootstrap import bootstrap
    from gridcity.domain.divisions import DivisionLevel
    from gridcity.services import divisions
    from tests.conftest import FAST_HASHER, settings_for
    from tests.factories import SYSTEM, TEST_INFO

    container = bootstrap(settings_for(sqlite_url), hasher=FAST_HASHER)
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="320582",
        name="张家港市",
        level=DivisionLevel.DISTRICT,
        info=TEST_INFO,
    )
    container.db.engine.dispose()
    run = gridcity("demo", GRIDCITY_DATABASE_URL=sqlite_url)
    assert run.code == 0 and "not loaded" in run.out
    assert "Grid#2026demo" not in run.out


def test_demo_is_refused_in_production(gridcity: Gridcity, sqlite_url: str) -> None:
    run = gridcity(
        "demo",
        GRIDCITY_DATABASE_URL=sqlite_url,
        GRIDCITY_ENV="production",
        GRIDCITY_SECRET_KEY="k" * 20 + "#Q9" * 10,
    )
    assert_one_error_line(run, "gridcity: error: the demo city is refused")


def test_grid_locate_answers_a_point_and_exits_1_outside(
    gridcity: Gridcity, sqlite_url: str
) -> None:
    from gridcity.bootstrap import bootstrap
    from tests.conftest import FAST_HASHER, settings_for
    from tests.factories import COMM_A1, add_quarter_grids, build_small_city

    container = bootstrap(settings_for(sqlite_url), hasher=FAST_HASHER)
    build_small_city(container)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    container.db.engine.dispose()
    inside = gridcity("grid", "locate", "116.4025", "39.9075", GRIDCITY_DATABASE_URL=sqlite_url)
    assert inside.code == 0, inside
    assert re.search(rf"^grid\s+{COMM_A1}001", inside.out, re.M), inside.out
    assert re.search(r"^community\s+110101001001 多福巷社区", inside.out, re.M)
    outside = gridcity("grid", "locate", "100.0", "30.0", GRIDCITY_DATABASE_URL=sqlite_url)
    assert outside.code == 1, outside
    assert outside.out == ""
