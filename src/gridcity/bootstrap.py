"""Composition root: settings → engine → services dependencies. Nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gridcity.adapters.db.engine import Database, create_db_engine
from gridcity.config import Settings
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


def bootstrap(settings: Settings, *, hasher: PasswordHash | None = None) -> Container:
    """Wire adapters into the services for one process."""
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
