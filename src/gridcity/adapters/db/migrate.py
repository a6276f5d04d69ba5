"""Alembic, driven from code: no alembic.ini to find, the URL comes from our settings."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: sa.Engine) -> Config:
    """An Alembic config that runs on the given engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``base`` removes every table)."""
    command.downgrade(alembic_config(engine), revision)


def migrate_to(engine: sa.Engine, target: str = "head") -> None:
    """Upgrade or downgrade, whichever way leads from the current revision to ``target``.

    Alembic's ``upgrade`` to an older revision silently does nothing, so the direction is
    decided here; an unknown revision raises ``alembic.util.CommandError``.
    """
    current = current_revision(engine)
    cfg = alembic_config(engine)
    if current is not None and target != "head":
        script = ScriptDirectory.from_config(cfg)
        below = {rev.revision for rev in script.iterate_revisions(current, "base")} - {current}
        wanted = script.get_revision(target) if target != "base" else None
        if target == "base" or (wanted is not None and wanted.revision in below):
            command.downgrade(cfg, target)
            return
    command.upgrade(cfg, target)


def current_revision(engine: sa.Engine) -> str | None:
    """Revision the database is at, or None when it has never been migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: sa.Engine) -> str | None:
    """Newest revision in our migration history."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
