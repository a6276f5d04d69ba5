"""The grids and divisions version counters as a guard: a write prepared against one state of
the spatial data (an import checked in a dry run) is refused once that state has moved on.

The counters live in ``spatial_state`` and every write to grids or divisions bumps them in its
own transaction, so holding their rows and comparing inside the importing transaction closes
the window between the check and the write: a second confirmation of the same dry run, sent at
the same instant, waits for the first to commit and then finds the counters moved.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import insert_missing, lock_rows
from gridcity.adapters.db.tables import SpatialState
from gridcity.adapters.spatial_index import read_versions
from gridcity.domain.errors import Conflict
from gridcity.services.deps import ServiceDeps
from gridcity.services.divisions import DIVISIONS_STATE
from gridcity.services.grids import GRIDS_STATE

Versions = tuple[int, int]  # (grids, divisions)
STATE_TABLE = cast(sa.Table, SpatialState.__table__)


def data_versions(deps: ServiceDeps) -> Versions:
    """The grids and divisions counters now: what a checked import must find unchanged."""
    with deps.db.read() as session:
        versions = read_versions(session)
    return versions.get(GRIDS_STATE, 0), versions.get(DIVISIONS_STATE, 0)


def hold_unchanged(session: Session, expected: Versions, now: datetime) -> None:
    """Hold both counters until commit and refuse when they differ from ``expected``."""
    names = (GRIDS_STATE, DIVISIONS_STATE)
    # A counter never bumped is 0 and has no row yet: make the rows, so that they can be held.
    insert_missing(
        session,
        STATE_TABLE,
        [{"name": name, "version": 0, "changed_at": now} for name in names],
    )
    lock_rows(session, STATE_TABLE, SpatialState.name.in_(names))
    rows = session.execute(
        sa.select(SpatialState.name, SpatialState.version).where(SpatialState.name.in_(names))
    )
    found = {str(name): int(version) for name, version in rows}
    if (found.get(GRIDS_STATE, 0), found.get(DIVISIONS_STATE, 0)) != expected:
        raise stale()


def stale() -> Conflict:
    """The refusal of a write whose check saw other grids or divisions than there are now."""
    return Conflict(
        "import_stale",
        "The grids or divisions changed after the check (an import or an edit since); "
        "check the file again",
    )
