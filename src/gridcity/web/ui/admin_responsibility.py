"""Admin page: responsibility assignments (定人定岗定责) — who holds which post on which grid or
division, when; adding, ending and removing them; and how many unit grids nobody covers now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.responsibility import Post, parse_post, parse_weekdays
from gridcity.services import assignments, layers, responsibility, shifts, users
from gridcity.services.deps import ServiceDeps
from gridcity.services.grids import UNIT_LAYER
from gridcity.services.layers import CHINA_TZ
from gridcity.services.pagination import Page
from gridcity.services.responsibility import AssignmentView
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.errors import human_message
from gridcity.web.i18n import N_, gettext_
from gridcity.web.ui.common import (
    flashes,
    is_htmx,
    query_string,
    raise_if_forbidden,
    redirect,
    shift_labels,
)

router = APIRouter(prefix="/admin/responsibility")
PER_PAGE = 20
# Shown after a redirect, on top of the shared ``DONE_MESSAGES``.
DONE_HERE = {
    "ended": N_("The assignment has been ended"),
    "deleted": N_("The assignment has been deleted"),
}
STATE_LABELS = {
    "in_force": N_("In force"),
    "ended": N_("Ended"),
    "future": N_("Not yet started"),
}
POST_LABELS = {
    Post.SUPERVISOR: N_("Supervisor"),
    Post.GRID_WORKER: N_("Grid worker"),
    Post.LEADER: N_("Leader in charge"),
}
# ISO weekday → short label, for the rota boxes and the list.
WEEKDAY_LABELS = {
    1: N_("Mon"),
    2: N_("Tue"),
    3: N_("Wed"),
    4: N_("Thu"),
    5: N_("Fri"),
    6: N_("Sat"),
    7: N_("Sun"),
}


@dataclass(frozen=True)
class Row:
    """One assignment as listed, with its state on the day the page is shown."""

    assignment: AssignmentView
    state: str

    @property
    def target(self) -> str:
        """The grid cell or division code the assignment is for."""
        a = self.assignment
        return a.division or a.cell or ""


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    post: Annotated[str, Query(max_length=16)] = "",
    prefix: Annotated[str, Query(max_length=20)] = "",
    at: Annotated[str, Query(max_length=10)] = "",
    page: int = Query(1, ge=1),
) -> Response:
    """Searchable, paginated list; htmx asks for the table only."""
    return _render(request, actor, deps, q=q, post=post, prefix=prefix, at=at, page=page)


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    user_id: Annotated[int, Form()],
    post: Annotated[str, Form(max_length=16)],
    target: Annotated[str, Form(max_length=20)],
    starts_on: Annotated[date, Form()],
    layer: Annotated[str, Form(max_length=32)] = UNIT_LAYER,
    shift: Annotated[str, Form(max_length=20)] = "",
    ends_on: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
    rota: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Add an assignment, or show the page again with the reason it was refused.

    The form marks its weekday boxes with ``rota``: then no box ticked is refused rather than
    read as every day (a client posting no weekdays at all means every day)."""
    require(actor, Permission.RESPONSIBILITY_WRITE)
    values = {
        "user_id": user_id,
        "post": post,
        "target": target,
        "layer": layer,
        "shift": shift,
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on,
        "note": note,
        "weekdays": [int(d) for d in weekdays or [] if d.isdigit()],
    }
    code = target.strip()
    try:
        days = parse_weekdays((weekdays or []) if rota else weekdays)
        chosen = parse_post(post)
        on_division = chosen is Post.LEADER
        assignments.create_assignment(
            deps,
            actor,
            user_id=user_id,
            post=chosen.value,
            starts_on=starts_on,
            ends_on=_day(ends_on),
            cell=None if on_division else code,
            layer=None if on_division else (layer or UNIT_LAYER),
            division=code if on_division else None,
            shift=shift.strip(),
            note=note,
            weekdays=days,
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render(request, actor, deps, error=exc, values=values)
    return redirect("/admin/responsibility", done="created")


@router.post("/{assignment_id}/end", response_class=HTMLResponse)
def end_today(
    request: Request, actor: PageActor, deps: Deps, info: Info, assignment_id: int
) -> Response:
    """Make today the last day of an assignment (it stays in the list as history)."""
    require(actor, Permission.RESPONSIBILITY_WRITE)
    try:
        assignments.end_assignment(deps, actor, assignment_id, ends_on=_today(deps), info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render(request, actor, deps, error=exc)
    return redirect("/admin/responsibility", done="ended")


@router.post("/{assignment_id}/delete", response_class=HTMLResponse)
def delete(
    request: Request, actor: PageActor, deps: Deps, info: Info, assignment_id: int
) -> Response:
    """Remove an assignment made in error (the audit log keeps what it was)."""
    require(actor, Permission.RESPONSIBILITY_WRITE)
    try:
        assignments.delete_assignment(deps, actor, assignment_id, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render(request, actor, deps, error=exc)
    return redirect("/admin/responsibility", done="deleted")


# --- helpers ----------------------------------------------------------------------------------


def _render(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    q: str = "",
    post: str = "",
    prefix: str = "",
    at: str = "",
    page: int = 1,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The list page (or, for htmx, its table); a refusal is shown with status 422."""
    today = _today(deps)
    messages = flashes(request, error)
    done = request.query_params.get("done", "")
    if done in DONE_HERE:
        messages.insert(0, ("success", gettext_(DONE_HERE[done])))
    chosen_post = ""
    day: date | None = None
    try:
        chosen_post = parse_post(post).value if post else ""
        day = _day(at)
    except DomainError as exc:
        raise_if_forbidden(exc)
        messages.append(("error", human_message(exc)))
        error = error or exc
    rows = _rows(deps, actor, today, q=q, post=chosen_post, prefix=prefix.strip(), day=day)
    start = (page - 1) * PER_PAGE
    result = Page(
        items=rows[start : start + PER_PAGE], total=len(rows), page=page, per_page=PER_PAGE
    )
    can_write = actor.can(Permission.RESPONSIBILITY_WRITE)
    named = shifts.list_shifts(deps, actor)
    context = {
        "page": result,
        "q": q,
        "post": chosen_post,
        "prefix": prefix,
        "at": day.isoformat() if day else "",
        "today": today.isoformat(),
        "posts": list(Post),
        "post_labels": POST_LABELS,
        "shift_labels": shift_labels(named),
        "state_labels": STATE_LABELS,
        "named_shifts": [s for s in named if not s.retired],
        "weekday_labels": WEEKDAY_LABELS,
        "base_query": query_string(
            q=q, post=chosen_post, prefix=prefix, at=day.isoformat() if day else ""
        ),
        "can_write": can_write,
        "people": users.assignable_people(deps, actor) if can_write else [],
        "layers": [lv for lv in layers.list_layers(deps, actor) if lv.is_active]
        if can_write
        else [],
        "values": values
        or {"starts_on": today.isoformat(), "layer": UNIT_LAYER, "weekdays": list(range(1, 8))},
        "uncovered": len(responsibility.uncovered_grids(deps, actor)),
        "flashes": messages,
    }
    template = (
        "admin/responsibility_table.html"
        if is_htmx(request) and error is None
        else "admin/responsibility.html"
    )
    return request.app.state.templates.render(
        request, template, context, status_code=422 if error else 200
    )


def _rows(
    deps: ServiceDeps,
    actor: Actor,
    today: date,
    *,
    q: str,
    post: str,
    prefix: str,
    day: date | None,
) -> list[Row]:
    """Assignments in the actor's scope matching the filters, newest start first."""
    term = q.strip().lower()
    found = []
    for a in responsibility.list_assignments(deps, actor):
        target = a.division or a.cell or ""
        if post and a.post != post:
            continue
        if prefix and not target.startswith(prefix):
            continue
        if day is not None and not _holds(a, day):
            continue
        if term and not any(
            term in text.lower() for text in (a.username, a.display_name, a.phone, target, a.note)
        ):
            continue
        found.append(Row(a, _state(a, today)))
    found.sort(key=lambda r: (r.assignment.starts_on, r.assignment.id), reverse=True)
    return found


def _holds(a: AssignmentView, day: date) -> bool:
    """True when the assignment's days and weekdays include ``day`` (whatever its shift)."""
    return (
        a.starts_on <= day
        and (a.ends_on is None or day <= a.ends_on)
        and day.isoweekday() in a.weekdays
    )


def _state(a: AssignmentView, today: date) -> str:
    """in_force, ended or future, by calendar day."""
    if a.ends_on is not None and a.ends_on < today:
        return "ended"
    if a.starts_on > today:
        return "future"
    return "in_force"


def _today(deps: ServiceDeps) -> date:
    """Today's date in Beijing."""
    return deps.clock().astimezone(CHINA_TZ).date()


def _day(text: str) -> date | None:
    """An optional YYYY-MM-DD date."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "date_invalid", "%(value)s is not a date (YYYY-MM-DD)", value=text.strip()
        ) from None
