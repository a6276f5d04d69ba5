"""The ``gridcity`` command: init, migrate, demo, serve, worker, createuser, check."""

from __future__ import annotations

import getpass
import socket
import sys
import time
from collections.abc import Callable
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer
from alembic.util import CommandError
from rich.progress import Progress

from gridcity.adapters.db import migrate as db_migrate
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import ConfigError, Environment, Settings, load_settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.errors import DomainError
from gridcity.services.deps import CLI

app = typer.Typer(
    help="gridcity — grid-based city management", no_args_is_help=True, add_completion=False
)

SYSTEM = Actor(
    user_id=None,
    username="cli",
    roles=frozenset({Role.ADMIN}),
    scope=Scope(everything=True),
    display_name="command line",
)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear line to stderr and exit."""
    print(f"gridcity: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _bootstrap(settings: Settings) -> Container:
    """Build the container, or one clear line when the database cannot even be opened."""
    try:
        return bootstrap(settings)
    except (OSError, ValueError, sa.exc.ArgumentError) as exc:
        fail(f"cannot open the database {_safe_url(settings.database_url)}: {exc}")


def _container(*, need_schema: bool = True) -> Container:
    """Settings + a reachable database (+ an up-to-date schema), or one clear line and exit."""
    settings = _settings()
    container = _bootstrap(settings)
    try:
        with container.db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        fail(f"cannot reach the database {_safe_url(settings.database_url)}: {reason}")
    if need_schema:
        current = db_migrate.current_revision(container.db.engine)
        head = db_migrate.head_revision(container.db.engine)
        if current != head:
            fail(
                f"the database schema is at {current or 'nothing'}, the code needs {head}; "
                "run `gridcity migrate` (or `gridcity init`)"
            )
    return container


@app.command()
def init() -> None:
    """Create or upgrade the database named by GRIDCITY_DATABASE_URL and load base data."""
    container = _container(need_schema=False)
    before = db_migrate.current_revision(container.db.engine)
    db_migrate.upgrade(container.db.engine)
    after = db_migrate.current_revision(container.db.engine)
    print(
        f"database {_safe_url(container.settings.database_url)}: schema {before or 'empty'} → {after}"
    )


@app.command()
def migrate(
    to: Annotated[
        str, typer.Option(help="Target revision: 'head', a revision id, or 'base'")
    ] = "head",
) -> None:
    """Upgrade (or downgrade, with --to) the database schema."""
    container = _container(need_schema=False)
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

    container = _container()
    if container.settings.env is Environment.PRODUCTION:
        fail(
            "the demo city is refused when GRIDCITY_ENV=production: its accounts share a "
            "published password"
        )
    try:
        with Progress(transient=True) as bars:
            report = demo_city.load_demo_city(
                container.deps, SYSTEM, seed=seed, info=CLI, progress=_progress_of(bars)
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


def _progress_of(bars: Progress) -> Callable[[str, int], Callable[[int], None]]:
    """A progress factory for long operations: one bar per step, all in one live display."""

    def start(label: str, total: int) -> Callable[[int], None]:
        task = bars.add_task(label, total=total)

        def advance(step: int = 1) -> None:
            bars.advance(task, step)

        return advance

    return start


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

    container = _container()
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
        f"(database {_safe_url(s.database_url)}, {workers} worker(s))",
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

    container = _container()
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

    container = _container()
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

    settings = _settings()
    problems: list[str] = []
    print(f"environment: {settings.env.value}")
    print(f"database:    {_safe_url(settings.database_url)}")
    container = _bootstrap(settings)
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
