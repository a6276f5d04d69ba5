"""The one write path for adding components in bulk: census files, the demo city and the API.

``add_components`` checks every row (class, identifier, position inside the managed area and
the actor's data scope, departments, state, dates, attributes; ``component_checks``), flags
likely duplicates, draws identifiers, assigns grids, subdistricts and communities, and writes
everything in one transaction (``component_store``); any problem refuses the whole batch
with a report naming the row, the column and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import insert_missing, lock_rows
from gridcity.adapters.db.tables import (
    CatalogClass,
    CatalogSetting,
    Component,
    ComponentImport,
    Department,
    SpatialState,
)
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS, parse_form_fields
from gridcity.domain.census import CensusRefused
from gridcity.domain.components import (
    DUPLICATE_DISTANCE_DEFAULT_M,
    ComponentState,
    check_duplicate_distance,
    check_reason,
    close_pairs,
)
from gridcity.domain.errors import Conflict, InvalidInput
from gridcity.services import audit
from gridcity.services.catalog import active_code_set
from gridcity.services.component_checks import Checked, check_batch
from gridcity.services.component_fields import Problems
from gridcity.services.component_store import (
    Stamp,
    columns,
    copy_postgres,
    draw_identifiers,
    draw_serials,
    drop_indexes_for,
    insert_sqlite,
    recreate_indexes,
    refuse_taken,
)
from gridcity.services.component_types import (
    AddResult,
    ClassRow,
    Duplicate,
    ImportSource,
    NewComponents,
    parse_census_date,
)
from gridcity.services.deps import RequestInfo, ServiceDeps

__all__ = [
    "COMPONENTS_STATE",
    "MAX_ROWS",
    "AddResult",
    "ClassRow",
    "Duplicate",
    "ImportSource",
    "NewComponents",
    "add_components",
    "draw_serials",
    "parse_census_date",
]

COMPONENTS_STATE = "components"  # spatial_state counter of the inventory
MAX_ROWS = 2_000_000
CITY_TZ = ZoneInfo("Asia/Shanghai")  # "today" for census dates is the city's day

Advance = Callable[[str, int, int], None]  # (stage, done, total)


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


def add_components(
    deps: ServiceDeps,
    actor: Actor,
    batch: NewComponents,
    *,
    source: ImportSource,
    info: RequestInfo,
    duplicate_distance_m: float = DUPLICATE_DISTANCE_DEFAULT_M,
    refuse_duplicates: bool = False,
    dry_run: bool = False,
    progress: Advance = _no_progress,
) -> AddResult:
    """Add a batch of components, all or nothing (inventory editors).

    Likely duplicates (same class within ``duplicate_distance_m`` of another row or of a
    stored component that is not removed) are reported; with ``refuse_duplicates`` they are
    problems that refuse the batch. ``dry_run`` checks everything and writes nothing.
    Progress goes through the stages ``check`` (with ``locate`` inside it) and ``write``.
    """
    require(actor, Permission.COMPONENT_WRITE)
    n = len(batch)
    if n == 0:
        raise InvalidInput("empty_batch", "%(source)s holds no components", source=source.file_name)
    if n > MAX_ROWS:
        raise InvalidInput(
            "batch_too_large",
            "At most %(max)s components per import, got %(n)s",
            max=MAX_ROWS,
            n=n,
        )
    check_duplicate_distance(duplicate_distance_m)
    check_reason(source.reason, required=False)  # the import record keeps at most 500 characters
    now = deps.clock()
    problems = Problems()
    with deps.db.read() as session:
        code_set = CODE_SETS[active_code_set(session)]
        classes = _component_classes(session, code_set.key)
        departments = _department_lookup(session)
    checked = check_batch(
        deps,
        actor,
        batch,
        code_set=code_set,
        classes=classes,
        departments=departments,
        today=now.astimezone(CITY_TZ).date(),
        problems=problems,
        progress=progress,
    )
    duplicates = _duplicates(deps, batch.rows, checked, duplicate_distance_m)
    if refuse_duplicates:
        for dup in duplicates:
            problems.new(
                dup.row,
                "geometry",
                "likely_duplicate",
                "A %(cls)s lies %(d)s m away (%(other)s)",
                cls=dup.class_code,
                d=dup.distance_m,
                other=f"row {dup.other_row}" if dup.other_row else dup.other_identifier,
            )
    if problems.total:
        raise CensusRefused(source.file_name, problems.items, total=problems.total)

    counts = np.bincount(checked.class_index, minlength=len(checked.classes))
    by_class = {c.code: int(k) for c, k in zip(checked.classes, counts, strict=True) if k}
    if dry_run:
        drawn = sum(1 for value in checked.given if not value)
        return AddResult(None, n, drawn, tuple(duplicates), by_class, dry_run=True)

    with deps.db.transaction() as session:
        _hold_code_set(session, code_set.key)
        identifiers, drawn = draw_identifiers(session, code_set, checked)
        refuse_taken(session, checked.given, batch.rows, source.file_name)
        # The counter row may not exist yet: two first batches must not both insert it.
        insert_missing(
            session,
            SpatialState.__table__,  # type: ignore[arg-type]
            [{"name": COMPONENTS_STATE, "version": 0, "changed_at": now}],
        )
        bump_version(session, COMPONENTS_STATE, now)
        session.flush()
        seq = read_versions(session)[COMPONENTS_STATE]
        record = ComponentImport(
            file_name=source.file_name[:200],
            file_format=source.file_format,
            code_set=code_set.key,
            rows=n,
            reason=source.reason,
            actor_id=actor.user_id,
            actor_name=actor.username,
            imported_at=now,
        )
        session.add(record)
        session.flush()
        _write(
            session,
            checked,
            identifiers,
            Stamp(code_set.key, record.id, seq, now, actor.user_id),
            progress,
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.imported",
            target_type="component_import",
            target_id=record.id,
            detail={
                "file": source.file_name,
                "format": source.file_format,
                "rows": n,
                "identifiers_drawn": drawn,
                "duplicates": len(duplicates),
                "code_set": code_set.key,
            },
            info=info,
        )
    return AddResult(record.id, n, drawn, tuple(duplicates), by_class)


def _write(
    session: Session,
    checked: Checked,
    identifiers: NDArray[np.int64],
    stamp: Stamp,
    progress: Advance,
) -> None:
    """Insert the rows (rebuilding the secondary indexes after a big batch)."""
    n = len(identifiers)
    postgres = session.get_bind().dialect.name == "postgresql"
    progress("write", 0, n)
    dropped = drop_indexes_for(session, n)
    cols = columns(checked, identifiers, stamp, hex_geometry=postgres)
    (copy_postgres if postgres else insert_sqlite)(session, cols, progress, n)
    recreate_indexes(session, dropped)
    progress("write", n, n)


# --- reference data ---------------------------------------------------------------------------


def _component_classes(session: Session, code_set: str) -> dict[str, ClassRow]:
    """Minor component classes of the set by code."""
    rows = session.execute(
        sa.select(
            CatalogClass.id,
            CatalogClass.code,
            CatalogClass.name_zh,
            CatalogClass.department_id,
            CatalogClass.form_fields,
        ).where(
            CatalogClass.code_set == code_set,
            CatalogClass.kind == "component",
            CatalogClass.level == "minor",
        )
    )
    return {
        code: ClassRow(id_, code, name, dept, parse_form_fields(fields or []))
        for id_, code, name, dept, fields in rows
    }


def _department_lookup(session: Session) -> dict[str, int]:
    """Active departments by credit code, full name and short name."""
    lookup: dict[str, int] = {}
    rows = session.execute(
        sa.select(Department.id, Department.credit_code, Department.name, Department.short_name)
        .where(Department.is_active.is_(True))
        .order_by(Department.id)
    )
    for id_, credit, name, short in rows:
        for key in (short, name, credit):  # later keys win: a credit code is unambiguous
            if key:
                lookup[str(key)] = int(id_)
    return lookup


# --- duplicates -------------------------------------------------------------------------------


def _duplicates(
    deps: ServiceDeps, rows: Sequence[int], checked: Checked, distance_m: float
) -> list[Duplicate]:
    """Likely duplicates within the batch and against stored components that are not removed."""
    if distance_m <= 0:
        return []
    index = np.flatnonzero(~np.isnan(checked.xy[:, 0]) & (checked.class_index >= 0))
    if len(index) == 0:
        return []
    pts, cls = checked.xy[index], checked.class_index[index]
    code = [c.code for c in checked.classes]
    found = [
        Duplicate(
            rows[index[p.first]], rows[index[p.second]], None, code[cls[p.first]], p.distance_m
        )
        for p in close_pairs(pts, cls, pts, cls, distance_m, same_set=True)
    ]
    found.extend(_stored_duplicates(deps, rows, checked, index, distance_m))
    found.sort(key=lambda d: (d.row, d.other_row or 0, d.other_identifier or ""))
    return found


def _stored_duplicates(
    deps: ServiceDeps,
    rows: Sequence[int],
    checked: Checked,
    index: NDArray[np.int64],
    distance_m: float,
) -> list[Duplicate]:
    """Rows close to a stored component of their class (one the row re-surveys excepted)."""
    pts, cls = checked.xy[index], checked.class_index[index]
    number: Mapping[str, int] = {c.code: k for k, c in enumerate(checked.classes)}
    pad = distance_m / 80_000.0  # degrees, generous at any latitude in China
    with deps.db.read() as session:
        stored = session.execute(
            sa.select(Component.identifier, Component.class_code, Component.x, Component.y).where(
                Component.state != ComponentState.REMOVED.value,
                Component.x.between(float(pts[:, 0].min()) - pad, float(pts[:, 0].max()) + pad),
                Component.y.between(float(pts[:, 1].min()) - pad, float(pts[:, 1].max()) + pad),
                Component.class_code.in_(sorted(number)),
            )
        ).all()
    if not stored:
        return []
    ids = [r[0] for r in stored]
    s_cls = np.asarray([number[r[1]] for r in stored], dtype=np.int64)
    s_xy = np.asarray([(r[2], r[3]) for r in stored], dtype=np.float64)
    given = {g for g in checked.given if g}
    return [
        Duplicate(
            rows[index[p.first]],
            None,
            ids[p.second],
            checked.classes[cls[p.first]].code,
            p.distance_m,
        )
        for p in close_pairs(pts, cls, s_xy, s_cls, distance_m, same_set=False)
        # a row that re-surveys that very component: the identifier check refuses it
        if ids[p.second] not in given
    ]


def _hold_code_set(session: Session, checked_in: str) -> None:
    """Hold the active code set until commit (a switch waits for this batch, or this batch
    for the switch) and refuse the batch if a switch committed after it was checked."""
    lock_rows(session, CatalogSetting.__table__, CatalogSetting.id == 1, shared=True)  # type: ignore[arg-type]
    if active_code_set(session) != checked_in:
        raise Conflict(
            "code_set_switched_meanwhile",
            "Someone else switched the active code set just now; check the file again",
        )
