"""Engine and session factory; the unit of work the services open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from gridcity.adapters.db.spatial import configure_sqlite
from gridcity.domain.errors import Conflict


def create_db_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """Engine for SQLite (WAL, foreign keys) or PostgreSQL (psycopg 3, pre-ping)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", lambda conn, _rec: configure_sqlite(conn))
        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Owns the engine; ``transaction()`` is the one way services open and commit work."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Reads need no transaction: with autocommit there is no BEGIN/ROLLBACK round trip, and
        # PostgreSQL's READ COMMITTED gives each statement its own snapshot either way.
        self._read_sessions = sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits once at the end, or rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except sa.exc.IntegrityError as exc:
            # A unique key another request claimed between our check and our insert.
            session.rollback()
            raise Conflict(
                "concurrent_change",
                "Someone else changed the same data just now; reload and try again",
            ) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries only (autocommit; it must not write)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.close()

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False


def lock_rows(
    session: Session,
    table: sa.Table,
    *where: sa.ColumnElement[bool],
    shared: bool = False,
    deleting: bool = False,
) -> None:
    """Hold rows until the transaction ends, so a check made after this stays true until commit.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the rows, which still lets other transactions
    insert rows that reference them (their ``FOR KEY SHARE``: a login's session, a new token);
    ``FOR SHARE`` when ``shared``, ``FOR UPDATE`` when ``deleting`` the rows. SQLite has one
    writer at a time, and its driver opens the transaction only at the first write, so a
    read-then-write would check before holding anything: a no-op UPDATE takes the database's
    write lock now (another writer waits for our commit, then sees what we wrote).
    """
    if session.get_bind().dialect.name == "postgresql":
        query = sa.select(*table.primary_key.columns).where(*where)
        if shared:
            query = query.with_for_update(read=True)
        else:
            query = query.with_for_update(key_share=not deleting)
        session.execute(query)
        return
    key = next(iter(table.primary_key.columns))
    session.execute(sa.update(table).where(*where).values({key.name: key}))


def insert_missing(session: Session, table: sa.Table, rows: list[dict[str, object]]) -> None:
    """Insert rows whose primary key is not there yet; a row a parallel transaction inserted
    first is left as it is (ON CONFLICT DO NOTHING), so both go on without a key error."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(table).values(rows).on_conflict_do_nothing(index_elements=keys))
