"""Composition root: settings → engine → services dependencies. Nothing happens at import time."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gridcity.adapters.db.engine import Database, create_db_engine
from gridcity.config import Environment, Settings
from gridcity.domain.passwords import LockoutPolicy, PasswordPolicy
from gridcity.services.deps import ServiceDeps


@dataclass(frozen=True)
class Container:
    """Everything a process builds once: settings and the services' dependencies."""

    settings: Settings
    deps: ServiceDeps

    @property
    def db(self) -> Database:
        """The database of this process."""
        return self.deps.db


def password_hasher() -> PasswordHash:
    """argon2id with the library's recommended parameters (RFC 9106 second choice)."""
    return PasswordHash((Argon2Hasher(),))


def local_secret(settings: Settings) -> str:
    """The secret key: the configured one, else (outside production) one generated per
    installation and kept in ``secret_key`` beside the SQLite file (or in ``var/``), so that a
    development server never signs with a value published in this repository."""
    if settings.secret_key:
        return settings.secret_key
    if settings.env is Environment.TEST:
        return secrets.token_urlsafe(48)
    folder = settings.sqlite_path.parent if settings.sqlite_path else Path("var")
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def bootstrap(settings: Settings, *, hasher: PasswordHash | None = None) -> Container:
    """Wire adapters into the services for one process."""
    settings = settings.model_copy(update={"secret_key": local_secret(settings)})
    db = Database(create_db_engine(settings.database_url))
    deps = ServiceDeps(
        db=db,
        hasher=hasher or password_hasher(),
        password_policy=PasswordPolicy(min_length=settings.password_min_length),
        lockout_policy=LockoutPolicy(
            threshold=settings.lockout_threshold, minutes=settings.lockout_minutes
        ),
        session_hours=settings.session_hours,
        token_days=settings.token_days,
    )
    return Container(settings=settings, deps=deps)
