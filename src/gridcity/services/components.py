"""The component registry (部件): create one component from a form, edit it, change the state
of many at once; reading lives in ``component_queries`` (re-exported here).

Every write takes ``component.write`` (administrators), runs in one transaction, records one
``component_version`` row per changed component (what changed, old → new, who, when, why),
bumps the ``components`` counter and stamps the rows with it, and appends one audit row.
Creation goes through ``component_writes.add_components``, the one path that adds components.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import Component, ComponentVersion, Department
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.components import (
    check_reason,
    looks_like_identifier,
    parse_state,
)
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.component_edits import ComponentEdit, update_component
from gridcity.services.component_lists import (
    COUNT_LIMIT,
    ComponentPage,
    ComponentSummary,
    list_components,
)
from gridcity.services.component_queries import (
    ComponentView,
    DepartmentRef,
    HistoryEntry,
    actor_departments,
    component_history,
    component_view,
    get_component,
    is_visible,
)
from gridcity.services.component_writes import (
    COMPONENTS_STATE,
    ImportSource,
    NewComponents,
    add_components,
)
from gridcity.services.deps import RequestInfo, ServiceDeps

__all__ = [
    "COUNT_LIMIT",
    "MAX_STATE_BATCH",
    "ComponentPage",
    "ComponentEdit",
    "ComponentRefused",
    "ComponentSummary",
    "ComponentView",
    "DepartmentRef",
    "HistoryEntry",
    "NewComponent",
    "StateChange",
    "change_states",
    "component_history",
    "create_component",
    "get_component",
    "list_components",
    "update_component",
]

MAX_STATE_BATCH = 10_000
_CHUNK = 500  # identifiers per IN (...) list


# --- creation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewComponent:
    """One component from a form or the API; an empty value takes the default (the class name,
    the class's department, 完好, today)."""

    class_code: str
    geometry: BaseGeometry | None
    name: str = ""
    identifier: str = ""
    competent_department_id: int | None = None
    owner_department_id: int | None = None
    maintainer_department_id: int | None = None
    state: str = ""
    census_date: date | None = None
    changed_on: date | None = None
    data_source: str = ""
    accuracy: str = ""
    position_text: str = ""
    note: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


class ComponentRefused(InvalidInput):
    """A form's component refused: the first problem's code and message, every problem kept."""

    def __init__(self, problems: Sequence[CensusProblem]) -> None:
        first = problems[0]
        super().__init__(first.code, first.message, **dict(first.params))
        self.problems = tuple(problems)


def _department_reference(session: Session, department_id: int | None) -> str:
    """How the census path names a department: its credit code, else its (unique) full name."""
    if department_id is None:
        return ""
    row = session.get(Department, department_id)
    if row is None or not row.is_active:
        raise InvalidInput(
            "unknown_department",
            "No active department %(ref)s (give its credit code or its name)",
            ref=department_id,
        )
    return row.credit_code or row.name


def create_component(
    deps: ServiceDeps,
    actor: Actor,
    data: NewComponent,
    *,
    info: RequestInfo,
    allow_duplicate: bool = False,
) -> ComponentView:
    """Add one component (administrators) through the census write path, as a batch of one.

    A component of the same class within 2 m refuses it as a likely duplicate unless
    ``allow_duplicate``; the batch is recorded as file "form", so its history says so.
    """
    require(actor, Permission.COMPONENT_WRITE)
    with deps.db.read() as session:
        refs = [
            _department_reference(session, d)
            for d in (
                data.competent_department_id,
                data.owner_department_id,
                data.maintainer_department_id,
            )
        ]
    batch = NewComponents(
        rows=[1],
        class_code=[data.class_code.strip()],
        geometry=_geometries([data.geometry]),
        identifier=[data.identifier.strip()],
        name=[data.name],
        competent=[refs[0]],
        owner=[refs[1]],
        maintainer=[refs[2]],
        state=[data.state],
        # Empty: the write path's own "today" (see the report on its UTC day).
        census_date=[data.census_date.isoformat() if data.census_date else ""],
        changed_on=[data.changed_on.isoformat() if data.changed_on else ""],
        data_source=[data.data_source],
        accuracy=[data.accuracy],
        position_text=[data.position_text],
        note=[data.note],
        attributes=[dict(data.attributes)],
    )
    source = ImportSource(
        file_name="form", file_format="form", reason=check_reason(data.reason, required=False)
    )
    try:
        result = add_components(
            deps, actor, batch, source=source, info=info, refuse_duplicates=not allow_duplicate
        )
    except CensusRefused as exc:
        raise ComponentRefused(exc.problems) from None
    with deps.db.read() as session:
        row = session.scalar(sa.select(Component).where(Component.import_id == result.import_id))
        assert row is not None  # the batch of one was just written
        return component_view(session, row)


def _geometries(values: Sequence[BaseGeometry | None]) -> NDArray[np.object_]:
    """An object array of geometries, as the bulk path takes them."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


# --- state changes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """What a bulk state change did: how many changed, how many already had the state."""

    state: str
    changed: int
    unchanged: int
    identifiers: tuple[str, ...]


def change_states(
    deps: ServiceDeps,
    actor: Actor,
    identifiers: Sequence[str],
    state: str,
    *,
    reason: str,
    info: RequestInfo,
) -> StateChange:
    """Set the state of many components at once, all or nothing (administrators).

    A reason is required. An identifier that is unknown or outside the actor's scope refuses
    the whole batch, naming it; components already in the state are left as they are. Removing
    a component is the state ``removed``: its row and history stay.
    """
    require(actor, Permission.COMPONENT_WRITE)
    target = parse_state(state).value
    why = check_reason(reason, required=True)
    wanted = check_identifiers(identifiers)
    if not wanted:
        raise InvalidInput("no_components_chosen", "Choose at least one component")
    if len(wanted) > MAX_STATE_BATCH:
        raise InvalidInput(
            "state_batch_too_large",
            "At most %(max)s components per state change, got %(n)s",
            max=MAX_STATE_BATCH,
            n=len(wanted),
        )
    now = deps.clock()
    with deps.db.transaction() as session:
        rows = _locked_rows(session, wanted)
        depts = actor_departments(session, actor)
        missing = [i for i in wanted if i not in rows or not is_visible(actor, rows[i], depts)]
        if missing:
            raise _not_found_batch(missing)
        moving = [rows[i] for i in wanted if rows[i].state != target]
        if not moving:
            return StateChange(target, 0, len(wanted), ())
        bump_version(session, COMPONENTS_STATE, now)
        session.flush()
        seq = read_versions(session)[COMPONENTS_STATE]
        ids = [r.id for r in moving]
        for start in range(0, len(ids), _CHUNK):
            session.execute(
                sa.update(Component)
                .where(Component.id.in_(ids[start : start + _CHUNK]))
                .values(state=target, version=Component.version + 1, change_seq=seq, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        session.execute(
            sa.insert(ComponentVersion),
            [
                {
                    "component_id": r.id,
                    "version": r.version + 1,
                    "action": "state_changed",
                    "changes": {"state": [r.state, target]},
                    "reason": why,
                    "actor_id": actor.user_id,
                    "actor_name": actor.username,
                    "changed_at": now,
                }
                for r in moving
            ],
        )
        changed = tuple(r.identifier for r in moving)
        audit.append(
            session,
            at=now,
            actor=actor,
            action="component.state_changed",
            target_type="component",
            target_id=changed[0] if len(changed) == 1 else f"{len(changed)}",
            detail={
                "state": target,
                "count": len(changed),
                "identifiers": list(changed[:100]),
                "reason": why,
            },
            info=info,
        )
    return StateChange(target, len(changed), len(wanted) - len(changed), changed)


def _locked_rows(session: Session, identifiers: Sequence[str]) -> dict[str, Component]:
    """The components with these identifiers, held until commit."""
    found: dict[str, Component] = {}
    for start in range(0, len(identifiers), _CHUNK):
        part = list(identifiers[start : start + _CHUNK])
        lock_rows(session, Component.__table__, Component.identifier.in_(part))  # type: ignore[arg-type]
        for row in session.scalars(sa.select(Component).where(Component.identifier.in_(part))):
            found[row.identifier] = row
    return found


def _not_found_batch(missing: Sequence[str]) -> NotFound:
    """The refusal of a batch naming (up to 20 of) the identifiers it cannot reach."""
    more = len(missing) - 20
    shown = ", ".join(missing[:20]) + (f" (+{more})" if more > 0 else "")
    return NotFound(
        "components_not_found",
        "Nothing was changed: no component %(identifiers)s (unknown or outside your data scope)",
        identifiers=shown,
    )


def check_identifiers(values: Sequence[str]) -> list[str]:
    """Distinct identifiers in the order given (blanks dropped), each 16 or 17 digits."""
    found = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    bad = [v for v in found if not looks_like_identifier(v)]
    if bad:
        raise InvalidInput(
            "invalid_identifier",
            "A component identifier has 16 or 17 digits: %(values)s",
            values=", ".join(bad[:20]),
        )
    return found
