"""What every service function needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pwdlib import PasswordHash

from gridcity.adapters.component_index import ComponentMaps
from gridcity.adapters.db.engine import Database
from gridcity.adapters.spatial_index import SpatialCache
from gridcity.domain.passwords import LockoutPolicy, PasswordPolicy


def utc_now() -> datetime:
    """The real clock (aware UTC); tests inject their own."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceDeps:
    """Database, clock, password hasher and the policies a city configures."""

    db: Database
    hasher: PasswordHash
    clock: Callable[[], datetime] = utc_now
    password_policy: PasswordPolicy = field(default_factory=PasswordPolicy)
    lockout_policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    session_hours: int = 12
    token_days: int = 30
    # Point-location indexes built by this process; checked against the database on each use.
    spatial_cache: SpatialCache = field(default_factory=SpatialCache, compare=False, repr=False)
    # The component map index of this process, patched from the ``components`` counter (0011).
    component_maps: ComponentMaps = field(default_factory=ComponentMaps, compare=False, repr=False)


@dataclass(frozen=True)
class RequestInfo:
    """Where a command came from, for the audit log."""

    ip: str = ""
    request_id: str = ""
    user_agent: str = ""


CLI = RequestInfo(ip="cli")
