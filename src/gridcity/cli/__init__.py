"""The ``gridcity`` command: init, migrate, demo, serve, worker, createuser, check."""

from __future__ import annotations

import getpass
import socket
import sys
import time
from typing import Annotated

import sqlalchemy as sa
import typer
from alembic.util import CommandError
from rich.progress import Progress

from gridcity.adapters.db import migrate as db_migrate
from gridcity.cli.calendar import calendar_app
from gridcity.cli.catalog import catalog_app
from gridcity.cli.components import components_app
from gridcity.cli.coords import coords_app
from gridcity.cli.grid import grid_app
from gridcity.cli.io import divisions_app
from gridcity.cli.support import (
    SYSTEM,
    bootstrap_or_fail,
    container_or_fail,
    fail,
    progress_of,
    safe_url,
    settings_or_fail,
)
from gridcity.config import Environment
from gridcity.domain.access import Role
from gridcity.domain.errors import DomainError
from gridcity.services import catalog
from gridcity.services.deps import CLI

app = typer.Typer(
    help="gridcity — grid-based city management", no_args_is_help=True, add_completion=False
)
app.add_typer(coords_app, name="coords")
app.add_typer(grid_app, name="grid")
app.add_typer(divisions_app, name="divisions")
app.add_typer(catalog_app, name="catalog")
app.add_typer(components_app, name="components")
app.add_typer(calendar_app, name="calendar")


@app.command()
def init() -> None:
    """Create or upgrade the database named by GRIDCITY_DATABASE_URL and load base data."""
    container = container_or_fail(need_schema=False)
    before = db_migrate.current_revision(container.db.engine)
    db_migrate.upgrade(container.db.engine)
    after = db_migrate.current_revision(container.db.engine)
    print(
        f"database {safe_url(container.settings.database_url)}: schema {before or 'empty'} → {after}"
    )
    # Base data, not demo data: a new database gets the standard catalog, an existing one only
    # what it lacks (a city's edits stay).
    loaded = catalog.load_standard_catalog(container.deps, SYSTEM, info=CLI)
    print(
        f"standard catalog: {loaded.classes} classes, {loaded.mappings} mappings, "
        f"{loaded.time_limits} time-limit examples added"
    )


@app.command()
def migrate(
    to: Annotated[
        str, typer.Option(help="Target revision: 'head', a revision id, or 'base'")
    ] = "head",
) -> None:
    """Upgrade (or downgrade, with --to) the database schema."""
    container = container_or_fail(need_schema=False)
    current = db_migrate.current_revision(container.db.engine)
    try:
        db_migrate.migrate_to(container.db.engine, to)
    except CommandError as exc:
        fail(f"migrate --to {to}: {exc}")
    print(
        f"schema {current or 'empty'} → {db_migrate.current_revision(container.db.engine) or 'empty'}"
    )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed of the generator")] = 2004,
) -> None:
    """Load the demo city (Dongcheng-sized) once; a database with divisions is left alone."""
    from gridcity.services import demo_city

    container = container_or_fail()
    if container.settings.env is Environment.PRODUCTION:
        fail(
            "the demo city is refused when GRIDCITY_ENV=production: its accounts share a "
            "published password"
        )
    try:
        with Progress(transient=True) as bars:
            report = demo_city.load_demo_city(
                container.deps, SYSTEM, seed=seed, info=CLI, progress=progress_of(bars)
            )
    except demo_city.AlreadyLoaded:
        if not demo_city.is_loaded(container.deps, SYSTEM):
            print(
                "demo city: not loaded — the database already holds other divisions, kept as they are"
            )
            return
        print("demo city: already loaded, data kept")
    except DomainError as exc:
        fail(f"demo city: {exc}")
    else:
        print(report.summary())
    print(demo_city.logins_text())


def _check_port_free(host: str, port: int) -> None:
    """Fail with one line when another process already listens on the address."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port} ({exc.strerror}); stop the other server or "
                "choose another --port"
            )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    container = container_or_fail()
    s = container.settings
    _check_port_free(host or s.host, port or s.port)
    if s.env is Environment.PRODUCTION and not s.cookie_secure:
        print(
            "gridcity: warning: GRIDCITY_COOKIE_SECURE is false; set it to true behind HTTPS "
            "so session cookies are never sent in clear",
            file=sys.stderr,
        )
    print(
        f"gridcity serving on http://{host or s.host}:{port or s.port}  "
        f"(database {safe_url(s.database_url)}, {workers} worker(s))",
        flush=True,
    )
    uvicorn.run(
        "gridcity.web.app:create_app",
        factory=True,
        host=host or s.host,
        port=port or s.port,
        workers=workers,
        reload=reload,
        log_level="warning",
        proxy_headers=True,
    )


@app.command()
def worker(
    period: Annotated[float, typer.Option(help="Seconds between rounds")] = 30.0,
    once: Annotated[bool, typer.Option(help="Run one round and exit")] = False,
) -> None:
    """Run the periodic jobs (production: run this beside `serve`)."""
    from gridcity.jobs import run_due
    from gridcity.web.observability import configure_logging

    container = container_or_fail()
    configure_logging(container.settings.log_level, container.settings.log_json)
    while True:
        ran = run_due(container.deps)
        if ran:
            print("ran: " + ", ".join(ran), flush=True)
        if once:
            return
        time.sleep(period)


@app.command()
def createuser(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[list[Role], typer.Option("--role", "-r", help="Role (repeatable)")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    scope: Annotated[
        list[str], typer.Option(help="Division code in the data scope (repeatable)")
    ] = [],  # noqa: B006
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account (asks for the password)."""
    from gridcity.services import users

    container = container_or_fail()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the passwords differ")
    data = users.UserInput(
        display_name=name or username, roles=frozenset(role), scope_divisions=frozenset(scope)
    )
    try:
        view = users.create_user(
            container.deps, SYSTEM, username=username, password=password, data=data, info=CLI
        )
    except DomainError as exc:
        fail(str(exc))
    print(
        f"created user {view.username} (id {view.id}) with roles {', '.join(r.value for r in view.roles)}"
    )


@app.command()
def check() -> None:
    """Check configuration, database, schema and static assets; exit 1 on any problem."""
    from gridcity.adapters.db.spatial import spatial_version
    from gridcity.web.app import STATIC
    from gridcity.web.i18n import translations

    settings = settings_or_fail()
    problems: list[str] = []
    print(f"environment: {settings.env.value}")
    print(f"database:    {safe_url(settings.database_url)}")
    container = bootstrap_or_fail(settings)
    try:
        with container.db.engine.connect() as conn:
            print(f"spatial:     {spatial_version(conn)}")
        current = db_migrate.current_revision(container.db.engine)
        head = db_migrate.head_revision(container.db.engine)
        print(f"schema:      {current or 'empty'} (code needs {head})")
        if current != head:
            problems.append("schema is not up to date: run `gridcity migrate`")
    except sa.exc.SQLAlchemyError as exc:
        problems.append(f"database unreachable: {str(exc).splitlines()[0]}")
    for asset in (
        "htmx.min.js",
        "alpine.min.js",
        "leaflet/leaflet.js",
        "swagger-ui/swagger-ui-bundle.js",
    ):
        if not (STATIC / "vendor" / asset).exists():
            problems.append(f"front-end asset missing: static/vendor/{asset} (run `make assets`)")
    zh = translations("zh_CN").gettext("Sign in")
    print(f"zh_CN:       {'ok' if zh != 'Sign in' else 'catalog missing'}")
    if zh == "Sign in":
        problems.append("zh_CN catalog is missing")
    for p in problems:
        print(f"problem:     {p}")
    if problems:
        raise typer.Exit(1)
    print("all good")


def main() -> None:
    """Entry point of the console script."""
    app()
