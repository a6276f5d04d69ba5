"""Admin pages: professional departments (专业部门) and the two centers (监督中心, 指挥中心)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.departments import CenterKind, DepartmentKind
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError
from gridcity.services import departments, divisions, users
from gridcity.services.deps import ServiceDeps
from gridcity.services.pagination import MAX_PER_PAGE, Page
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_
from gridcity.web.templating import Templates
from gridcity.web.ui.common import flashes, is_htmx, query_string, raise_if_forbidden, redirect

router = APIRouter()
T = TypeVar("T")

KIND_LABELS = {
    DepartmentKind.GOVERNMENT: N_("Government department"),
    DepartmentKind.PUBLIC_INSTITUTION: N_("Public institution"),
    DepartmentKind.ENTERPRISE: N_("Enterprise"),
    DepartmentKind.SUBDISTRICT_OFFICE: N_("Subdistrict office"),
    DepartmentKind.OTHER: N_("Other"),
}
CENTER_LABELS = {
    CenterKind.SUPERVISION: N_("Supervision center"),
    CenterKind.COMMAND: N_("Command center"),
}


def every_page(fetch: Callable[[int], Page[T]]) -> Iterator[T]:
    """Every item of a paged listing, page after page (for choice lists in forms)."""
    number = 1
    while True:
        page = fetch(number)
        yield from page.items
        if number >= page.pages:
            return
        number += 1


def all_departments(deps: ServiceDeps, actor: Actor) -> list[departments.DepartmentView]:
    """Every department, by name."""
    return list(
        every_page(
            lambda n: departments.list_departments(deps, actor, page=n, per_page=MAX_PER_PAGE)
        )
    )


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A page of the admin templates."""
    templates: Templates = request.app.state.templates
    return templates.render(request, name, context, status_code=status_code)


# --- Departments ------------------------------------------------------------------------


@router.get("/admin/departments", response_class=HTMLResponse)
def departments_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    page: int = Query(1, ge=1),
) -> Response:
    """Searchable, paginated list of departments; htmx asks for the table only."""
    result = departments.list_departments(deps, actor, q=q, page=page, per_page=20)
    context = {
        "page": result,
        "q": q,
        "base_query": query_string(q=q),
        "kind_labels": KIND_LABELS,
        "can_write": actor.can(Permission.ORG_WRITE),
        "flashes": flashes(request),
    }
    template = "admin/departments_table.html" if is_htmx(request) else "admin/departments.html"
    return render(request, template, context)


@router.get("/admin/departments/new", response_class=HTMLResponse)
def new_department_page(request: Request, actor: PageActor) -> Response:
    """Form for a new department."""
    require(actor, Permission.ORG_WRITE)
    values = {"kind": DepartmentKind.GOVERNMENT.value, "is_active": True}
    return _department_form(request, actor, None, values)


@router.post("/admin/departments/new", response_class=HTMLResponse)
def create_department(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[DepartmentKind, Form()],
    short_name: Annotated[str, Form(max_length=40)] = "",
    credit_code: Annotated[str, Form(max_length=30)] = "",
    contact_person: Annotated[str, Form(max_length=50)] = "",
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    is_active: Annotated[bool, Form()] = False,
) -> Response:
    """Create, or show the form again with the reason it was refused."""
    require(actor, Permission.ORG_WRITE)
    data = departments.DepartmentInput(
        name, kind, short_name, credit_code, contact_person, contact_phone, address, is_active
    )
    try:
        view = departments.create_department(deps, actor, data, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _department_form(request, actor, None, _values_of(data), error=exc)
    return redirect(f"/admin/departments/{view.id}", done="created")


@router.get("/admin/departments/{department_id}", response_class=HTMLResponse)
def department_page(request: Request, actor: PageActor, deps: Deps, department_id: int) -> Response:
    """A department's details, its staff and (for administrators) the edit form."""
    view = departments.get_department(deps, actor, department_id)
    staff = _staff(deps, actor, department_id)
    return _department_form(request, actor, view, _values_of(view), staff=staff)


@router.post("/admin/departments/{department_id}", response_class=HTMLResponse)
def update_department(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    department_id: int,
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[DepartmentKind, Form()],
    short_name: Annotated[str, Form(max_length=40)] = "",
    credit_code: Annotated[str, Form(max_length=30)] = "",
    contact_person: Annotated[str, Form(max_length=50)] = "",
    contact_phone: Annotated[str, Form(max_length=30)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    is_active: Annotated[bool, Form()] = False,
) -> Response:
    """Save changes, or show the form again with the reason."""
    require(actor, Permission.ORG_WRITE)
    view = departments.get_department(deps, actor, department_id)
    data = departments.DepartmentInput(
        name, kind, short_name, credit_code, contact_person, contact_phone, address, is_active
    )
    try:
        departments.update_department(deps, actor, department_id, data, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        staff = _staff(deps, actor, department_id)
        return _department_form(request, actor, view, _values_of(data), error=exc, staff=staff)
    return redirect(f"/admin/departments/{department_id}", done="updated")


def _values_of(data: departments.DepartmentInput | departments.DepartmentView) -> dict[str, Any]:
    """Form values from what was typed or what is stored."""
    return {
        "name": data.name,
        "short_name": data.short_name,
        "kind": data.kind.value,
        "credit_code": data.credit_code or "",
        "contact_person": data.contact_person,
        "contact_phone": data.contact_phone,
        "address": data.address,
        "is_active": data.is_active,
    }


def _staff(deps: ServiceDeps, actor: Actor, department_id: int) -> Page[users.UserView] | None:
    """The department's accounts, for those allowed to read accounts."""
    if not actor.can(Permission.USER_READ):
        return None
    return users.list_users(deps, actor, department_id=department_id, per_page=MAX_PER_PAGE)


def _department_form(
    request: Request,
    actor: Actor,
    view: departments.DepartmentView | None,
    values: dict[str, Any],
    *,
    error: DomainError | None = None,
    staff: Page[users.UserView] | None = None,
) -> Response:
    """The department page: details, staff, and the form for administrators."""
    context = {
        "department": view,
        "values": values,
        "kinds": list(DepartmentKind),
        "kind_labels": KIND_LABELS,
        "staff": staff,
        "can_write": actor.can(Permission.ORG_WRITE),
        "can_write_users": actor.can(Permission.USER_WRITE),
        "flashes": flashes(request, error),
    }
    return render(request, "admin/department_form.html", context, status_code=422 if error else 200)


# --- Centers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CenterSlot:
    """One of the two centers of a district: the saved center, or an empty place for it."""

    district_code: str
    kind: CenterKind
    center: departments.CenterView | None
    values: dict[str, str]


@dataclass(frozen=True)
class DistrictCenters:
    """A district with its supervision and command centers."""

    code: str
    name: str
    slots: list[CenterSlot]


@router.get("/admin/centers", response_class=HTMLResponse)
def centers_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """Both centers of every district; administrators edit them in place."""
    return _centers(request, actor, deps)


@router.post("/admin/centers", response_class=HTMLResponse)
def save_center(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    district_code: Annotated[str, Form(max_length=12)],
    kind: Annotated[CenterKind, Form()],
    name: Annotated[str, Form(max_length=100)],
    phone: Annotated[str, Form(max_length=30)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create or edit one center, or show the page again with the reason."""
    require(actor, Permission.ORG_WRITE)
    existed = any(
        c.district_code == district_code and c.kind is kind
        for c in departments.list_centers(deps, actor)
    )
    try:
        departments.save_center(
            deps,
            actor,
            district_code=district_code,
            kind=kind,
            name=name,
            phone=phone,
            address=address,
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        typed = {"name": name, "phone": phone, "address": address}
        return _centers(request, actor, deps, error=exc, typed=(district_code, kind, typed))
    return redirect("/admin/centers", done="updated" if existed else "created")


def _centers(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    error: DomainError | None = None,
    typed: tuple[str, CenterKind, dict[str, str]] | None = None,
) -> Response:
    """Render the centers page (with what was typed into a refused form)."""
    context = {
        "districts": _district_centers(deps, actor, typed),
        "center_labels": CENTER_LABELS,
        "can_write": actor.can(Permission.ORG_WRITE),
        "flashes": flashes(request, error),
    }
    return render(request, "admin/centers.html", context, status_code=422 if error else 200)


def _district_centers(
    deps: ServiceDeps, actor: Actor, typed: tuple[str, CenterKind, dict[str, str]] | None
) -> list[DistrictCenters]:
    """Districts in scope (and any district that has a center), each with its two slots."""
    centers = departments.list_centers(deps, actor)
    names = {
        d.code: d.name
        for d in every_page(
            lambda n: divisions.list_divisions(
                deps, actor, level=DivisionLevel.DISTRICT, page=n, per_page=MAX_PER_PAGE
            )
        )
    }
    saved = {(c.district_code, c.kind): c for c in centers}
    codes = sorted(set(names) | {c.district_code for c in centers})
    out = []
    for code in codes:
        slots = []
        for kind in CenterKind:
            center = saved.get((code, kind))
            values = {
                "name": center.name if center else "",
                "phone": center.phone if center else "",
                "address": center.address if center else "",
            }
            if typed is not None and typed[:2] == (code, kind):
                values = typed[2]
            slots.append(CenterSlot(code, kind, center, values))
        out.append(DistrictCenters(code, names.get(code, code), slots))
    return out
