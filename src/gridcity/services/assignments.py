"""Assignments (定人定岗定责, 逐级分包): put a person on a post for a grid cell or a division,
end it, or remove one made in error. Each change is audited in its own transaction.

One person holds one post on one target once at any moment. The check reads the person's other
assignments, so the person's account row is locked first (``lock_rows``): of two requests
putting the same person on the same post at once, the second waits for the first to commit and
then meets its refusal, instead of both passing the check. The check also reads the hours of
the named shifts, so all shift rows are held too (``hold_shifts``): a change of hours waits for
the new assignment, or the assignment for the change, and the later one checks against both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import Assignment, Division, GridCell, GridLayer, User
from gridcity.domain.access import Actor, Permission, Role, Scope, parse_roles, require
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.domain.responsibility import (
    Duty,
    NamedShift,
    Post,
    check_period,
    check_target,
    duties_overlap,
    parse_post,
    parse_shift,
    parse_weekdays,
    required_permission,
    weekdays_of,
    weekdays_text,
)
from gridcity.services import audit, auth
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import UNIT_LAYER
from gridcity.services.layers import layer_row, rules_of
from gridcity.services.responsibility import AssignmentView
from gridcity.services.shifts import hold_shifts, named_shifts

USER_TABLE = cast(sa.Table, User.__table__)

# --- commands -----------------------------------------------------------------------------


def create_assignment(
    deps: ServiceDeps,
    actor: Actor,
    *,
    user_id: int,
    post: str,
    starts_on: date,
    ends_on: date | None = None,
    cell: str | None = None,
    layer: str | None = None,
    division: str | None = None,
    shift: str = "",
    note: str = "",
    weekdays: Iterable[int] | None = None,
    info: RequestInfo,
) -> AssignmentView:
    """Put a person on a post for a grid cell (supervisor, grid worker) or a division (leader),
    every day or on some weekdays only (``weekdays``: ISO 1 Monday … 7 Sunday)."""
    chosen = parse_post(post)
    require(actor, required_permission(chosen))
    if (cell is None) == (division is None):
        raise InvalidInput("assignment_target", "Give either a grid cell or a division")
    check_target(chosen, on_division=division is not None)
    days = parse_weekdays(weekdays)
    check_period(starts_on, ends_on)
    now = deps.clock()
    with deps.db.transaction() as session:
        # The person's row stays locked until commit: the overlap check below holds (see top).
        lock_rows(session, USER_TABLE, USER_TABLE.c.id == user_id)
        hold_shifts(session)  # no shift's hours may change while the check below reads them
        named = named_shifts(session)
        window = parse_shift(shift, named, for_new=True)
        user = _assignee(session, user_id, chosen)
        layer_row_ = layer_row(session, layer or UNIT_LAYER) if cell is not None else None
        where = _target_division(session, actor, layer_row_, cell, division)
        if not auth.actor_of(user).scope.covers_division(where):
            raise InvalidInput(
                "assignment_outside_user_scope",
                "The data scope of %(user)s does not include %(division)s",
                user=user.username,
                division=where,
            )
        row = Assignment(
            user_id=user.id,
            post=chosen.value,
            layer_id=layer_row_.id if layer_row_ else None,
            cell_code=cell,
            division_code=division,
            shift=window.text,
            weekdays=weekdays_text(days),
            starts_on=starts_on,
            ends_on=ends_on,
            note=" ".join(note.split())[:200],
            created_at=now,
            created_by=actor.user_id,
        )
        _refuse_overlap(session, row, named)
        session.add(row)
        session.flush()
        view = AssignmentView.of(row, user, layer_row_.code if layer_row_ else None)
        _audit(session, actor, now, "responsibility.assigned", view, info)
    return view


def _assignee(session: Session, user_id: int, post: Post) -> User:
    """The active account to assign; a supervisor's post needs the supervisor role."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "No user %(id)s", id=user_id)
    if not user.is_active:
        raise InvalidInput(
            "assignment_user_inactive", "Account %(user)s is disabled", user=user.username
        )
    if post is Post.SUPERVISOR and Role.SUPERVISOR not in parse_roles(user.roles.split(",")):
        raise InvalidInput(
            "assignment_needs_supervisor_role",
            "%(user)s does not hold the supervisor role",
            user=user.username,
        )
    return user


def _target_division(
    session: Session,
    actor: Actor,
    layer: GridLayer | None,
    cell: str | None,
    division: str | None,
) -> str:
    """The division the target lies in, once the target is known to exist in the actor's scope."""
    if division is not None:
        found = session.scalar(sa.select(Division.id).where(Division.code == division))
        if found is None or not actor.scope.covers_division(division):
            raise NotFound("division_not_found", "No division with code %(code)s", code=division)
        return division
    assert layer is not None and cell is not None
    rules = rules_of(session, layer)
    rules.check_code(cell)
    where = rules.division_of(cell)
    exists = session.scalar(
        sa.select(GridCell.id).where(GridCell.layer_id == layer.id, GridCell.code == cell).limit(1)
    )
    if exists is None or not actor.scope.covers_division(where):
        raise NotFound(
            "layer_cell_not_found",
            "No cell %(code)s in layer %(layer)s",
            code=cell,
            layer=layer.code,
        )
    return where


def _refuse_overlap(session: Session, new: Assignment, named: dict[str, NamedShift]) -> None:
    """One person holds one post on one target once at any moment (shifts and weekdays may split
    the week); the caller holds the person's row locked."""
    same = session.scalars(
        sa.select(Assignment).where(
            Assignment.user_id == new.user_id,
            Assignment.post == new.post,
            Assignment.layer_id.is_(None)
            if new.layer_id is None
            else Assignment.layer_id == new.layer_id,
            Assignment.cell_code == new.cell_code
            if new.cell_code is not None
            else Assignment.division_code == new.division_code,
        )
    )
    duty = _duty(new, named)
    for old in same:
        if old.id != new.id and duties_overlap(duty, _duty(old, named)):
            raise Conflict(
                "assignment_overlap",
                "This person already holds this post here from %(start)s (assignment %(id)s)",
                start=old.starts_on.isoformat(),
                id=old.id,
            )


def _duty(row: Assignment, named: dict[str, NamedShift]) -> Duty:
    """When an assignment holds: days, weekdays and shift."""
    return Duty(
        row.starts_on, row.ends_on, parse_shift(row.shift, named), weekdays_of(row.weekdays)
    )


def end_assignment(
    deps: ServiceDeps, actor: Actor, assignment_id: int, *, ends_on: date, info: RequestInfo
) -> AssignmentView:
    """Set the last day of an assignment (kept as history for past questions)."""
    now = deps.clock()
    with deps.db.transaction() as session:
        row, user, layer_code = _editable(session, actor, assignment_id)
        check_period(row.starts_on, ends_on)
        before = row.ends_on
        row.ends_on = ends_on
        if before is not None and ends_on > before:  # a later last day may meet another one
            lock_rows(session, USER_TABLE, USER_TABLE.c.id == row.user_id)
            hold_shifts(session)
            _refuse_overlap(session, row, named_shifts(session))
        view = AssignmentView.of(row, user, layer_code)
        detail = {"ends_on": [before.isoformat() if before else None, ends_on.isoformat()]}
        _audit(session, actor, now, "responsibility.ended", view, info, detail)
    return view


def delete_assignment(
    deps: ServiceDeps, actor: Actor, assignment_id: int, *, info: RequestInfo
) -> None:
    """Remove an assignment made in error (the audit log keeps what it was)."""
    now = deps.clock()
    with deps.db.transaction() as session:
        row, user, layer_code = _editable(session, actor, assignment_id)
        view = AssignmentView.of(row, user, layer_code)
        session.delete(row)
        _audit(session, actor, now, "responsibility.deleted", view, info)


def _editable(
    session: Session, actor: Actor, assignment_id: int
) -> tuple[Assignment, User, str | None]:
    """An assignment the actor may change: permission for its post, target in scope."""
    require(actor, Permission.RESPONSIBILITY_WRITE)  # refuse by role before looking anything up
    found = session.execute(
        sa.select(Assignment, User, GridLayer.code)
        .join(User, User.id == Assignment.user_id)
        .outerjoin(GridLayer, GridLayer.id == Assignment.layer_id)
        .where(Assignment.id == assignment_id)
        .with_for_update(of=Assignment)
    ).first()
    if found is None or not _reaches_target(session, actor.scope, found[0], found[2]):
        raise NotFound("assignment_not_found", "No assignment %(id)s", id=assignment_id)
    require(actor, required_permission(Post(found[0].post)))
    return found[0], found[1], found[2]


def _reaches_target(
    session: Session, scope: Scope, row: Assignment, layer_code: str | None
) -> bool:
    """True when the assignment's target lies in the scope."""
    if scope.everything:
        return True
    if row.division_code is not None:
        return scope.covers_division(row.division_code)
    layer = layer_row(session, layer_code or UNIT_LAYER)
    return scope.covers_division(rules_of(session, layer).division_of(row.cell_code or ""))


def _audit(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    view: AssignmentView,
    info: RequestInfo,
    extra: dict[str, Any] | None = None,
) -> None:
    """Append the audit row of an assignment change."""
    audit.append(
        session,
        at=now,
        actor=actor,
        action=action,
        target_type="assignment",
        target_id=view.id,
        detail={
            "user": view.username,
            "post": view.post,
            "layer": view.layer,
            "cell": view.cell,
            "division": view.division,
            "shift": view.shift,
            "weekdays": view.weekdays,
            "starts_on": view.starts_on.isoformat(),
            "ends_on": view.ends_on.isoformat() if view.ends_on else None,
            **(extra or {}),
        },
        info=info,
    )
