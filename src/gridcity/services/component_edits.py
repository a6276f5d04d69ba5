"""Editing one component of the registry (部件): checked field by field against the stored
row, versioned (old → new, who, when, why), conditional on the version the editor saw.

The class never changes (a different class is a different component), nor the district the
identifier names; a new geometry is re-anchored and re-located in its grid and community.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import CatalogClass, Component, ComponentVersion, Department
from gridcity.adapters.geo import to_geojson
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import parse_form_fields
from gridcity.domain.components import (
    NAME_MAX,
    NOTE_MAX,
    POSITION_TEXT_MAX,
    SOURCE_MAX,
    anchor_point,
    changes,
    check_attributes,
    check_dates,
    check_geometry,
    check_reason,
    check_text,
    parse_accuracy,
    parse_state,
)
from gridcity.domain.errors import Conflict, InvalidInput
from gridcity.services import audit
from gridcity.services.component_queries import (
    ComponentView,
    component_view,
    load_visible,
    local_today,
)
from gridcity.services.component_writes import COMPONENTS_STATE
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.locate import locate_points

CLEARABLE = frozenset({"owner_department_id", "maintainer_department_id", "changed_on"})


@dataclass(frozen=True)
class ComponentEdit:
    """Fields to change; None keeps the stored value. ``clear`` names optional fields to empty
    (owner/maintainer department, change date). ``attributes`` replaces them all."""

    name: str | None = None
    class_code: str | None = None
    geometry: BaseGeometry | None = None
    competent_department_id: int | None = None
    owner_department_id: int | None = None
    maintainer_department_id: int | None = None
    state: str | None = None
    census_date: date | None = None
    changed_on: date | None = None
    data_source: str | None = None
    accuracy: str | None = None
    position_text: str | None = None
    note: str | None = None
    attributes: Mapping[str, Any] | None = None
    clear: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Place:
    geometry: BaseGeometry
    x: float
    y: float
    district: str
    community: str | None
    grid: str | None


def _place(deps: ServiceDeps, actor: Actor, geom: BaseGeometry) -> _Place:
    """A new geometry checked, anchored and located (outside the managed area is refused)."""
    check_geometry(geom)
    x, y = anchor_point(geom)
    found = locate_points(deps, actor, [[x, y]])
    if not found.located[0]:
        raise InvalidInput(
            "outside_managed_area",
            "The position %(x)s, %(y)s lies outside the managed area",
            x=round(x, 6),
            y=round(y, 6),
        )
    return _Place(
        geom,
        x,
        y,
        str(found.district[0]),
        str(found.community[0]) or None,
        str(found.grid[0]) or None,
    )


def _active_departments(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Names of the departments an edit names; an unknown or inactive one is refused."""
    wanted = sorted({i for i in ids if i is not None})
    found = {
        int(i): str(n)
        for i, n in session.execute(
            sa.select(Department.id, Department.name).where(
                Department.id.in_(wanted), Department.is_active.is_(True)
            )
        )
    }
    for i in wanted:
        if i not in found:
            raise InvalidInput(
                "unknown_department",
                "No active department %(ref)s (give its credit code or its name)",
                ref=i,
            )
    return found


def _record(row: Component, names: Mapping[int, str]) -> dict[str, Any]:
    """The component's editable fields as plain JSON values, for the change record."""
    record: dict[str, Any] = {
        "name": row.name,
        "geometry": to_geojson(row.geom),
        "grid_code": row.grid_code,
        "community_code": row.community_code,
        "competent_department": names.get(row.competent_department_id),
        "owner_department": names.get(row.owner_department_id or 0),
        "maintainer_department": names.get(row.maintainer_department_id or 0),
        "state": row.state,
        "census_date": row.census_date.isoformat(),
        "changed_on": row.changed_on.isoformat() if row.changed_on else None,
        "data_source": row.data_source,
        "accuracy": row.accuracy,
        "position_text": row.position_text,
        "note": row.note,
    }
    for key, value in (row.attributes or {}).items():
        record[f"attributes.{key}"] = value
    return record


@dataclass
class _Update:
    """Column values to write and the record of the same change (for ``changes``)."""

    values: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)

    def set(self, column: str, value: Any, key: str | None = None, shown: Any = None) -> None:
        self.values[column] = value
        self.record[key or column] = value if key is None else shown


def _department_updates(
    update: _Update, edit: ComponentEdit, names: Mapping[int, str], clear: frozenset[str]
) -> None:
    if edit.competent_department_id is not None:
        dept = edit.competent_department_id
        update.set("competent_department_id", dept, "competent_department", names[dept])
    for role in ("owner", "maintainer"):
        column = f"{role}_department_id"
        chosen: int | None = getattr(edit, column)
        if column in clear:
            update.set(column, None, f"{role}_department", None)
        elif chosen is not None:
            update.set(column, chosen, f"{role}_department", names[chosen])


def _text_updates(update: _Update, edit: ComponentEdit, class_name: str) -> None:
    if edit.name is not None:
        name = check_text(edit.name, NAME_MAX, "text_too_long", "name") or class_name
        update.set("name", name)
    for column, limit in (
        ("data_source", SOURCE_MAX),
        ("position_text", POSITION_TEXT_MAX),
        ("note", NOTE_MAX),
    ):
        value: str | None = getattr(edit, column)
        if value is not None:
            update.set(column, check_text(value, limit, "text_too_long", column))
    if edit.accuracy is not None:
        chosen = parse_accuracy(edit.accuracy)
        update.set("accuracy", chosen.value if chosen else "")
    if edit.state is not None:
        update.set("state", parse_state(edit.state).value)


def _plan(
    row: Component,
    cls: CatalogClass | None,
    edit: ComponentEdit,
    place: _Place | None,
    names: Mapping[int, str],
    today: date,
) -> _Update:
    """What the edit writes, checked against the stored component."""
    if edit.class_code is not None and edit.class_code.strip() != row.class_code:
        raise InvalidInput(
            "class_change_refused",
            "A component keeps its class (%(cls)s): set this one to 移除 (removed) and add "
            "another of class %(new)s",
            cls=row.class_code,
            new=edit.class_code.strip(),
        )
    unknown = edit.clear - CLEARABLE
    if unknown:
        raise InvalidInput(
            "not_clearable",
            "These fields cannot be emptied: %(fields)s",
            fields=", ".join(sorted(unknown)),
        )
    update = _Update()
    _text_updates(update, edit, cls.name_zh if cls else row.name)
    _department_updates(update, edit, names, edit.clear)
    if place is not None:
        if place.district != row.identifier[:6]:
            raise InvalidInput(
                "district_change_refused",
                "The new position lies in division %(new)s, but the identifier %(identifier)s "
                "belongs to %(old)s: set this component to 移除 (removed) and add a new one there",
                new=place.district,
                identifier=row.identifier,
                old=row.identifier[:6],
            )
        update.set("geom", place.geometry, "geometry", to_geojson(place.geometry))
        update.values.update(x=place.x, y=place.y)
        update.set("grid_code", place.grid)
        update.set("community_code", place.community)
    census = edit.census_date or row.census_date
    changed_on = None if "changed_on" in edit.clear else (edit.changed_on or row.changed_on)
    if edit.census_date is not None or edit.changed_on is not None or "changed_on" in edit.clear:
        check_dates(census, changed_on, today)
        update.set("census_date", census, "census_date", census.isoformat())
        update.set("changed_on", changed_on, "changed_on", changed_on and changed_on.isoformat())
    if edit.attributes is not None:
        fields = parse_form_fields(cls.form_fields or []) if cls else ()
        checked = check_attributes(fields, edit.attributes)
        update.values["attributes"] = checked
        for key in set(row.attributes or {}) | set(checked):
            update.record[f"attributes.{key}"] = checked.get(key)
    return update


def update_component(
    deps: ServiceDeps,
    actor: Actor,
    identifier: str,
    edit: ComponentEdit,
    *,
    expected_version: int,
    reason: str,
    info: RequestInfo,
) -> ComponentView:
    """Edit one component (administrators) if it is still at ``expected_version``.

    A new geometry is re-anchored and re-located (grid, community); the class never changes
    (``class_change_refused``) and neither does the district the identifier names. A lost race
    is a 409 ``component_changed_meanwhile``; an edit that changes nothing writes nothing.
    A state change needs a reason.
    """
    require(actor, Permission.COMPONENT_WRITE)
    why = check_reason(reason, required=False)
    place = _place(deps, actor, edit.geometry) if edit.geometry is not None else None
    today = local_today(deps)
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, Component.__table__, Component.identifier == identifier.strip())  # type: ignore[arg-type]
        row = load_visible(session, actor, identifier)
        if row.version != expected_version:
            raise _changed_meanwhile(row, expected_version)
        cls = session.get(CatalogClass, row.class_id)
        current = (
            row.competent_department_id,
            row.owner_department_id,
            row.maintainer_department_id,
        )
        given = (
            edit.competent_department_id,
            edit.owner_department_id,
            edit.maintainer_department_id,
        )
        stored = _known_names(session, current)
        # Only a department the edit changes must be active: a form sends the unchanged ones too.
        names = {
            **stored,
            **_active_departments(
                session, [d for d, c in zip(given, current, strict=True) if d != c]
            ),
        }
        update = _plan(row, cls, edit, place, names, today)
        diff = changes(_record(row, stored), update.record)
        if not diff:
            return component_view(session, row)
        if "state" in diff:
            why = check_reason(reason, required=True)
        version = stamp(session, row, expected_version, update.values, now)
        session.add(
            ComponentVersion(
                component_id=row.id,
                version=version,
                action="updated",
                changes=diff,
                reason=why,
                actor_id=actor.user_id,
                actor_name=actor.username,
                changed_at=now,
            )
        )
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.updated",
            target_type="component",
            target_id=row.identifier,
            detail={"version": version, "fields": sorted(diff), "reason": why},
            info=info,
        )
        session.flush()
        session.refresh(row)
        return component_view(session, row)


def _known_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Names of departments a component already names (active or not)."""
    wanted = sorted({i for i in ids if i is not None})
    rows = session.execute(
        sa.select(Department.id, Department.name).where(Department.id.in_(wanted))
    )
    return {int(i): str(n) for i, n in rows}


def _changed_meanwhile(row: Component, expected: int) -> Conflict:
    return Conflict(
        "component_changed_meanwhile",
        "Someone else changed component %(identifier)s meanwhile (version %(current)s, you "
        "edited version %(expected)s); reload it and make your change again",
        identifier=row.identifier,
        current=row.version,
        expected=expected,
    )


def stamp(
    session: Session, row: Component, expected: int, values: dict[str, Any], now: datetime
) -> int:
    """Write the values if the row is still at ``expected`` (else 409), bump the components
    counter and stamp the row with it; returns the new version."""
    bump_version(session, COMPONENTS_STATE, now)
    session.flush()
    seq = read_versions(session)[COMPONENTS_STATE]
    done = session.execute(
        sa.update(Component)
        .where(Component.id == row.id, Component.version == expected)
        .values(**values, version=expected + 1, change_seq=seq, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise _changed_meanwhile(row, expected)
    return expected + 1
