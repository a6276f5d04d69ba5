"""What every `gridcity` command shares: one-line failures, settings, the container."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import sqlalchemy as sa
import typer
from rich.progress import Progress

from gridcity.adapters.db import migrate as db_migrate
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import ConfigError, Settings, load_settings
from gridcity.domain.access import Actor, Role, Scope

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


def settings_or_fail() -> Settings:
    """The settings, or one line naming the bad setting and exit 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def safe_url(url: str) -> str:
    """A database URL fit for printing (password hidden)."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def bootstrap_or_fail(settings: Settings) -> Container:
    """Build the container, or one clear line when the database cannot even be opened."""
    try:
        return bootstrap(settings)
    except (OSError, ValueError, sa.exc.ArgumentError) as exc:
        fail(f"cannot open the database {safe_url(settings.database_url)}: {exc}")


def container_or_fail(*, need_schema: bool = True) -> Container:
    """Settings + a reachable database (+ an up-to-date schema), or one clear line and exit."""
    settings = settings_or_fail()
    container = bootstrap_or_fail(settings)
    try:
        with container.db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        fail(f"cannot reach the database {safe_url(settings.database_url)}: {reason}")
    if need_schema:
        current = db_migrate.current_revision(container.db.engine)
        head = db_migrate.head_revision(container.db.engine)
        if current != head:
            fail(
                f"the database schema is at {current or 'nothing'}, the code needs {head}; "
                "run `gridcity migrate` (or `gridcity init`)"
            )
    return container


def progress_of(bars: Progress) -> Callable[[str, int], Callable[[int], None]]:
    """A progress factory for long operations: one bar per step, all in one live display."""

    def start(label: str, total: int) -> Callable[[int], None]:
        task = bars.add_task(label, total=total)

        def advance(step: int = 1) -> None:
            bars.advance(task, step)

        return advance

    return start
