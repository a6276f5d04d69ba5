"""Scratch PostgreSQL databases for the benchmarks (each script imports these; run a script as
``.venv/bin/python bench/<name>.py``, which puts this folder on the import path)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"gridcity_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_reachable(url: str) -> bool:
    """True when the server answers and offers PostGIS."""
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).scalar()
        engine.dispose()
        return bool(found)
    except sa.exc.SQLAlchemyError:
        return False
