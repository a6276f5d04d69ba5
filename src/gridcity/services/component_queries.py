"""Reading the component inventory (部件): one component, a filtered page of them, and the
history of one; every read is limited to the actor's data scope.

Scope (decision 0006, applied to components): a component is visible to an actor whose division
scope covers it (a code covers everything that starts with it) or who works for, or has in their
department scope, one of its three departments (competent, owner, maintainer). Administrators
see everything; a component outside the scope answers *404 not found*, as if it did not exist.

A division covers a component by the component's identifier for district codes (6 digits or
fewer: an identifier begins with its district's admin code), and by its unit grid code, or its
community code when it has no grid, for longer codes. Every filter is written as a range on an
indexed column (identifier, grid code, class) so that a page stays cheap on a million rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from gridcity.adapters.db.tables import (
    CatalogClass,
    Component,
    ComponentImport,
    ComponentVersion,
    Department,
    Division,
    User,
)
from gridcity.adapters.geo import to_geojson
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.components import (
    STATE_NAMES_ZH,
    ComponentState,
)
from gridcity.domain.errors import NotFound
from gridcity.services.deps import ServiceDeps

Clause = sa.ColumnElement[bool]
CHINA_TZ = ZoneInfo("Asia/Shanghai")


def local_today(deps: ServiceDeps) -> date:
    """Today in China (a census made this morning is not "in the future" before 08:00 UTC)."""
    return deps.clock().astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class DepartmentRef:
    """A department named in a component (competent, owner or maintainer)."""

    id: int
    name: str


@dataclass(frozen=True)
class ComponentView:
    """Everything the registry holds about one component, with names for its codes."""

    identifier: str
    name: str
    code_set: str
    class_id: int
    class_code: str
    class_name: str
    state: str
    state_name: str
    geometry: dict[str, Any]
    lon: float
    lat: float
    grid_code: str | None
    community_code: str | None
    community_name: str
    subdistrict_code: str | None
    subdistrict_name: str
    competent_department: DepartmentRef
    owner_department: DepartmentRef | None
    maintainer_department: DepartmentRef | None
    census_date: date
    changed_on: date | None
    data_source: str
    accuracy: str
    position_text: str
    note: str
    attributes: dict[str, Any]
    attribute_fields: list[dict[str, Any]]
    photos: list[Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a component's life: its creation, then every change (old → new, who, why)."""

    version: int
    action: str
    changed_at: datetime
    actor_name: str
    reason: str
    changes: dict[str, list[Any]]
    source: dict[str, str] | None


# --- data scope -------------------------------------------------------------------------------


def actor_departments(session: Session, actor: Actor) -> frozenset[int]:
    """The departments whose components the actor sees: their scope plus their own department."""
    found = set(actor.scope.departments)
    if actor.user_id is not None:
        own = session.scalar(sa.select(User.department_id).where(User.id == actor.user_id))
        if own is not None:
            found.add(int(own))
    return frozenset(found)


def after_prefix(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: no bound)."""
    stem = prefix.rstrip("9")
    if not stem:
        return None
    return stem[:-1] + chr(ord(stem[-1]) + 1)


Column = InstrumentedAttribute[Any] | sa.ColumnElement[Any]


def starts_with(column: Column, prefix: str) -> Clause:
    """``column`` begins with the digits ``prefix``, as a range a B-tree index answers (LIKE
    'p%' cannot use one in SQLite, nor in PostgreSQL outside the C collation)."""
    upper = after_prefix(prefix)
    lower: Clause = column >= prefix
    return sa.and_(lower, column < upper) if upper is not None else lower


def unindexed(column: InstrumentedAttribute[Any]) -> sa.ColumnElement[Any]:
    """The same values as an expression no index answers (``x || ''``, ``x + 0``), so that
    SQLite walks the identifier index instead of sorting every match of a dense filter."""
    if isinstance(column.type, sa.String):
        return column.concat("")
    return column + 0


def in_division(code: str, *, indexed: bool = True) -> Clause:
    """Components inside a division (or any prefix of division codes)."""
    if len(code) <= 6:
        return starts_with(Component.identifier, code)
    grid = Component.grid_code if indexed else unindexed(Component.grid_code)
    return sa.or_(
        starts_with(grid, code),
        sa.and_(grid.is_(None), starts_with(Component.community_code, code)),
    )


def _row_in_division(code: str, identifier: str, grid: str | None, community: str | None) -> bool:
    """:func:`in_division` for one stored component."""
    if len(code) <= 6:
        return identifier.startswith(code)
    if grid is not None:
        return grid.startswith(code)
    return (community or "").startswith(code)


def with_department(departments: Collection[int], *, indexed: bool = True) -> Clause:
    """Components with one of these departments as competent, owner or maintainer."""
    ids = sorted(departments)
    competent = Component.competent_department_id
    return sa.or_(
        (competent if indexed else unindexed(competent)).in_(ids),
        Component.owner_department_id.in_(ids),
        Component.maintainer_department_id.in_(ids),
    )


def scope_clause(actor: Actor, departments: Collection[int], *, indexed: bool = True) -> Clause:
    """The components the actor may see, as a WHERE clause."""
    if actor.scope.everything:
        return sa.true()
    terms = [in_division(code, indexed=indexed) for code in sorted(actor.scope.divisions)]
    if departments:
        terms.append(with_department(departments, indexed=indexed))
    return sa.or_(*terms) if terms else sa.false()


def is_visible(actor: Actor, row: Component, departments: Collection[int]) -> bool:
    """:func:`scope_clause` for one loaded component."""
    if actor.scope.everything:
        return True
    if any(
        _row_in_division(code, row.identifier, row.grid_code, row.community_code)
        for code in actor.scope.divisions
    ):
        return True
    held = {row.competent_department_id, row.owner_department_id, row.maintainer_department_id}
    return bool(held & set(departments))


def not_found(identifier: str) -> NotFound:
    """The refusal for a component that does not exist or lies outside the actor's scope."""
    return NotFound("component_not_found", "No component %(identifier)s", identifier=identifier)


def load_visible(session: Session, actor: Actor, identifier: str) -> Component:
    """A component row the actor may see, or NotFound."""
    row = session.scalar(sa.select(Component).where(Component.identifier == identifier.strip()))
    if row is None or not is_visible(actor, row, actor_departments(session, actor)):
        raise not_found(identifier)
    return row


# --- one component ----------------------------------------------------------------------------


def department_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the given departments."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(Department.id, Department.name).where(Department.id.in_(wanted))
    )
    return {int(i): str(n) for i, n in rows}


def _ref(names: dict[int, str], department_id: int | None) -> DepartmentRef | None:
    if department_id is None:
        return None
    return DepartmentRef(department_id, names.get(department_id, ""))


def state_name(state: str) -> str:
    """The Chinese name of a state (the standard's GLBJZT value)."""
    return STATE_NAMES_ZH[ComponentState(state)]


def component_view(session: Session, row: Component) -> ComponentView:
    """Read model of a component row (its class, department and division names looked up)."""
    cls = session.get(CatalogClass, row.class_id)
    depts = (row.competent_department_id, row.owner_department_id, row.maintainer_department_id)
    names = department_names(session, depts)
    subdistrict = row.community_code[:9] if row.community_code else None
    places: dict[str, str] = {}
    codes = [c for c in (row.community_code, subdistrict) if c]
    if codes:
        places = {
            str(code): str(name)
            for code, name in session.execute(
                sa.select(Division.code, Division.name).where(Division.code.in_(codes))
            )
        }
    competent = _ref(names, row.competent_department_id)
    assert competent is not None  # the column is NOT NULL
    return ComponentView(
        identifier=row.identifier,
        name=row.name,
        code_set=row.code_set,
        class_id=row.class_id,
        class_code=row.class_code,
        class_name=cls.name_zh if cls else "",
        state=row.state,
        state_name=state_name(row.state),
        geometry=to_geojson(row.geom),
        lon=row.x,
        lat=row.y,
        grid_code=row.grid_code,
        community_code=row.community_code,
        community_name=places.get(row.community_code or "", ""),
        subdistrict_code=subdistrict,
        subdistrict_name=places.get(subdistrict or "", ""),
        competent_department=competent,
        owner_department=_ref(names, row.owner_department_id),
        maintainer_department=_ref(names, row.maintainer_department_id),
        census_date=row.census_date,
        changed_on=row.changed_on,
        data_source=row.data_source,
        accuracy=row.accuracy,
        position_text=row.position_text,
        note=row.note,
        attributes=dict(row.attributes or {}),
        attribute_fields=list(cls.form_fields or []) if cls else [],
        photos=list(row.photos or []),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_component(deps: ServiceDeps, actor: Actor, identifier: str) -> ComponentView:
    """One component by its identifier (staff, within their data scope)."""
    require(actor, Permission.COMPONENT_READ)
    with deps.db.read() as session:
        return component_view(session, load_visible(session, actor, identifier))


# --- history ----------------------------------------------------------------------------------


def _creation(session: Session, row: Component) -> HistoryEntry:
    """The first entry: the census batch (or form) that created the component."""
    batch = session.get(ComponentImport, row.import_id) if row.import_id is not None else None
    if batch is None:
        return HistoryEntry(1, "created", row.created_at, "", "", {}, None)
    return HistoryEntry(
        version=1,
        action="created",
        changed_at=batch.imported_at,
        actor_name=batch.actor_name,
        reason=batch.reason,
        changes={},
        source={"file_name": batch.file_name, "file_format": batch.file_format},
    )


def history_of(session: Session, row: Component) -> list[HistoryEntry]:
    """Creation, then every recorded change in version order."""
    versions = session.scalars(
        sa.select(ComponentVersion)
        .where(ComponentVersion.component_id == row.id)
        .order_by(ComponentVersion.version)
    )
    return [_creation(session, row)] + [
        HistoryEntry(
            version=v.version,
            action=v.action,
            changed_at=v.changed_at,
            actor_name=v.actor_name,
            reason=v.reason,
            changes={k: list(pair) for k, pair in (v.changes or {}).items()},
            source=None,
        )
        for v in versions
    ]


def component_history(deps: ServiceDeps, actor: Actor, identifier: str) -> list[HistoryEntry]:
    """Who created the component and how, then who changed what (old → new), when and why."""
    require(actor, Permission.COMPONENT_READ)
    with deps.db.read() as session:
        return history_of(session, load_visible(session, actor, identifier))
