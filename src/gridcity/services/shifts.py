"""Named shifts as data (convention 5): a city's own ``day``, ``night`` or ``early`` hours.

Administrators add, change, retire and delete them. An assignment names its shift, so a
change of hours applies to every assignment using it — past answers included — and is refused
when two assignments of one person on one post and target would then overlap. A shift in use
cannot be deleted, only retired (it keeps its assignments and takes no new ones). Each command
locks the shift's row first (``lock_rows``) and every new or lengthened assignment holds all
shift rows (``hold_shifts``), so a change of hours and a concurrent assignment cannot pass each
other: one waits for the other's commit and then checks against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from itertools import combinations
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import Assignment, NamedShiftRow
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import Conflict, NotFound
from gridcity.domain.responsibility import (
    Duty,
    NamedShift,
    check_named_shift,
    duties_overlap,
    parse_shift,
    weekdays_of,
)
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps

SHIFT_TABLE = cast(sa.Table, NamedShiftRow.__table__)


@dataclass(frozen=True)
class ShiftView:
    """A named shift with its hours and how many assignments name it."""

    name: str
    starts_at: str
    ends_at: str
    name_zh: str
    name_en: str
    retired: bool
    overnight: bool
    assignments: int


def named_shifts(session: Session) -> dict[str, NamedShift]:
    """Every named shift, retired ones included (their assignments still resolve)."""
    return {row.name: _shift(row) for row in session.scalars(sa.select(NamedShiftRow))}


def hold_shifts(session: Session) -> None:
    """Keep every named shift from changing or going until the caller commits."""
    # An overlap check reads the hours of all shifts the person's assignments name, not only the
    # new one's; the table is a handful of rows, so all of them are held (FOR SHARE).
    lock_rows(session, SHIFT_TABLE, shared=True)


def _shift(row: NamedShiftRow) -> NamedShift:
    """Domain value of a stored shift."""
    return NamedShift(
        row.name,
        time.fromisoformat(row.starts_at),
        time.fromisoformat(row.ends_at),
        row.name_zh,
        row.name_en,
        row.is_retired,
    )


def _view(shift: NamedShift, uses: int) -> ShiftView:
    """Read model of a named shift."""
    return ShiftView(
        name=shift.name,
        starts_at=f"{shift.start:%H:%M}",
        ends_at=f"{shift.end:%H:%M}",
        name_zh=shift.name_zh,
        name_en=shift.name_en,
        retired=shift.retired,
        overnight=shift.end < shift.start,
        assignments=uses,
    )


def _uses(session: Session) -> dict[str, int]:
    """Assignments per shift text."""
    rows = session.execute(
        sa.select(Assignment.shift, sa.func.count()).group_by(Assignment.shift)
    ).all()
    return {shift: int(n) for shift, n in rows}


def shift_names(deps: ServiceDeps, actor: Actor) -> list[NamedShift]:
    """Every named shift, for labelling assignments (all staff; no use counts)."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        return list(named_shifts(session).values())


def list_shifts(deps: ServiceDeps, actor: Actor) -> list[ShiftView]:
    """Every named shift by start time, retired ones last (all staff)."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        found = named_shifts(session)
        uses = _uses(session)
    ordered = sorted(found.values(), key=lambda s: (s.retired, s.start, s.name))
    return [_view(s, uses.get(s.name, 0)) for s in ordered]


def create_shift(
    deps: ServiceDeps,
    actor: Actor,
    *,
    name: str,
    starts_at: str,
    ends_at: str,
    name_zh: str,
    name_en: str,
    info: RequestInfo,
) -> ShiftView:
    """A new named shift (administrators)."""
    require(actor, Permission.SETTINGS_WRITE)
    shift = check_named_shift(name, starts_at, ends_at, name_zh, name_en)
    now = deps.clock()
    with deps.db.transaction() as session:
        if session.get(NamedShiftRow, shift.name) is not None:
            raise Conflict("shift_name_taken", "A shift named %(name)s exists", name=shift.name)
        session.add(
            NamedShiftRow(
                name=shift.name,
                starts_at=f"{shift.start:%H:%M}",
                ends_at=f"{shift.end:%H:%M}",
                name_zh=shift.name_zh,
                name_en=shift.name_en,
                is_retired=False,
                created_at=now,
                updated_at=now,
            )
        )
        _audit(session, actor, now, "shift.created", shift.name, _detail(shift), info)
    return _view(shift, 0)


def update_shift(
    deps: ServiceDeps,
    actor: Actor,
    name: str,
    *,
    starts_at: str | None = None,
    ends_at: str | None = None,
    name_zh: str | None = None,
    name_en: str | None = None,
    retired: bool | None = None,
    info: RequestInfo,
) -> ShiftView:
    """Change a shift's hours or names, retire it or bring it back (administrators).

    New hours apply to every assignment naming the shift; refused when two assignments of one
    person on one post and target would then overlap.
    """
    require(actor, Permission.SETTINGS_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, SHIFT_TABLE, SHIFT_TABLE.c.name == name)
        row = session.get(NamedShiftRow, name)
        if row is None:
            raise NotFound("shift_not_found", "No shift named %(name)s", name=name)
        old = _shift(row)
        new = check_named_shift(
            name,
            starts_at if starts_at is not None else row.starts_at,
            ends_at if ends_at is not None else row.ends_at,
            name_zh if name_zh is not None else row.name_zh,
            name_en if name_en is not None else row.name_en,
            retired=retired if retired is not None else row.is_retired,
        )
        if (new.start, new.end) != (old.start, old.end):
            _refuse_new_overlaps(session, new)
        changes = {
            key: [before, after]
            for key, before, after in (
                ("starts_at", row.starts_at, f"{new.start:%H:%M}"),
                ("ends_at", row.ends_at, f"{new.end:%H:%M}"),
                ("name_zh", row.name_zh, new.name_zh),
                ("name_en", row.name_en, new.name_en),
                ("retired", row.is_retired, new.retired),
            )
            if before != after
        }
        if changes:
            row.starts_at, row.ends_at = f"{new.start:%H:%M}", f"{new.end:%H:%M}"
            row.name_zh, row.name_en, row.is_retired = new.name_zh, new.name_en, new.retired
            row.updated_at = now
            _audit(session, actor, now, "shift.updated", name, changes, info)
        uses = _uses(session).get(name, 0)
    return _view(new, uses)


def delete_shift(deps: ServiceDeps, actor: Actor, name: str, *, info: RequestInfo) -> None:
    """Remove a shift no assignment names (administrators); one in use can only be retired."""
    require(actor, Permission.SETTINGS_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, SHIFT_TABLE, SHIFT_TABLE.c.name == name, deleting=True)
        row = session.get(NamedShiftRow, name)
        if row is None:
            raise NotFound("shift_not_found", "No shift named %(name)s", name=name)
        used = session.scalar(
            sa.select(sa.func.count()).select_from(Assignment).where(Assignment.shift == name)
        )
        if used:
            raise Conflict(
                "shift_in_use",
                "%(n)s assignments name shift %(name)s; retire it instead of deleting it",
                n=int(used),
                name=name,
            )
        detail = _detail(_shift(row))
        session.delete(row)
        _audit(session, actor, now, "shift.deleted", name, detail, info)


def _refuse_new_overlaps(session: Session, changed: NamedShift) -> None:
    """Refuse new hours under which two assignments of one person, post and target overlap."""
    using = sa.select(Assignment).where(Assignment.shift == changed.name)
    rows = session.scalars(using).all()
    if not rows:
        return
    keys = {(r.user_id, r.post, r.layer_id, r.cell_code, r.division_code) for r in rows}
    siblings = [
        r
        for r in session.scalars(
            sa.select(Assignment).where(Assignment.user_id.in_({k[0] for k in keys}))
        )
        if (r.user_id, r.post, r.layer_id, r.cell_code, r.division_code) in keys
    ]
    named = {**named_shifts(session), changed.name: changed}
    groups: dict[tuple[Any, ...], list[Assignment]] = {}
    for r in siblings:
        groups.setdefault((r.user_id, r.post, r.layer_id, r.cell_code, r.division_code), []).append(
            r
        )
    for group in groups.values():
        for a, b in combinations(sorted(group, key=lambda r: r.id), 2):
            if changed.name not in (a.shift, b.shift):
                continue
            if duties_overlap(_duty(a, named), _duty(b, named)):
                raise Conflict(
                    "shift_change_overlap",
                    "With these hours assignments %(a)s and %(b)s of %(user)s would overlap",
                    a=a.id,
                    b=b.id,
                    user=a.user_id,
                )


def _duty(row: Assignment, named: dict[str, NamedShift]) -> Duty:
    """When a stored assignment holds."""
    return Duty(
        row.starts_on, row.ends_on, parse_shift(row.shift, named), weekdays_of(row.weekdays)
    )


def _detail(shift: NamedShift) -> dict[str, Any]:
    """Audit detail of a shift."""
    return {
        "starts_at": f"{shift.start:%H:%M}",
        "ends_at": f"{shift.end:%H:%M}",
        "name_zh": shift.name_zh,
        "name_en": shift.name_en,
        "retired": shift.retired,
    }


def _audit(
    session: Session,
    actor: Actor,
    now: Any,
    action: str,
    name: str,
    detail: dict[str, Any],
    info: RequestInfo,
) -> None:
    """Append the audit row of a shift change."""
    audit.append(
        session,
        at=now,
        actor=actor,
        action=action,
        target_type="named_shift",
        target_id=name,
        detail=detail,
        info=info,
    )
