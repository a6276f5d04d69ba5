"""Admin pages: staff accounts (roles, data scope, passwords, lockouts) and the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import STAFF_ROLES, Actor, Permission, Role, parse_roles, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError
from gridcity.services import audit, departments, divisions, users
from gridcity.services.deps import ServiceDeps
from gridcity.services.pagination import MAX_PER_PAGE
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_
from gridcity.web.ui.admin_org import all_departments, every_page, render
from gridcity.web.ui.common import flashes, is_htmx, query_string, raise_if_forbidden, redirect

router = APIRouter()

LOCALE_NAMES = {"zh_CN": "简体中文", "en": "English"}
DEPTH = {DivisionLevel.DISTRICT: 0, DivisionLevel.SUBDISTRICT: 1, DivisionLevel.COMMUNITY: 2}
# Labels of the audit actions known today; an unknown action is shown by its code.
ACTION_LABELS = {
    "login.session": N_("Signed in"),
    "login.token": N_("API token issued"),
    "login.failed": N_("Sign-in failed"),
    "login.locked": N_("Sign-in while locked"),
    "account.locked": N_("Account locked"),
    "logout": N_("Signed out"),
    "token.revoked": N_("API token revoked"),
    "user.created": N_("User created"),
    "user.updated": N_("User edited"),
    "user.permissions_changed": N_("Permissions changed"),
    "user.password_set": N_("Password set"),
    "user.unlocked": N_("Account unlocked"),
    "department.created": N_("Department created"),
    "department.updated": N_("Department edited"),
    "center.created": N_("Center created"),
    "center.updated": N_("Center edited"),
    "division.created": N_("Division created"),
    "division.updated": N_("Division edited"),
}
TARGET_LABELS = {
    "user": N_("User"),
    "department": N_("Department"),
    "center": N_("Center"),
    "division": N_("Division"),
}
TARGET_PAGES = {
    "user": "/admin/users/{}",
    "department": "/admin/departments/{}",
    "division": "/admin/divisions/{}",
    "center": "/admin/centers",
}


@dataclass(frozen=True)
class UserForm:
    """What the user form posts, besides the username and the first password."""

    display_name: str
    roles: tuple[str, ...]
    department_id: int | None
    center_id: int | None
    scope_divisions: tuple[str, ...]
    scope_departments: tuple[int, ...]
    phone: str
    locale: str
    is_active: bool

    def to_input(self) -> users.UserInput:
        """Service input; unknown role names grant nothing."""
        return users.UserInput(
            display_name=self.display_name,
            roles=parse_roles(self.roles),
            phone=self.phone,
            department_id=self.department_id,
            center_id=self.center_id,
            scope_divisions=frozenset(self.scope_divisions),
            scope_departments=frozenset(self.scope_departments),
            is_active=self.is_active,
            locale=self.locale,
        )


def user_form(
    display_name: Annotated[str, Form(max_length=100)],
    roles: Annotated[list[str] | None, Form()] = None,
    department_id: Annotated[int | None, Form()] = None,
    center_id: Annotated[int | None, Form()] = None,
    scope_divisions: Annotated[list[str] | None, Form()] = None,
    scope_departments: Annotated[list[int] | None, Form()] = None,
    phone: Annotated[str, Form(max_length=30)] = "",
    locale: Annotated[str, Form(max_length=10)] = "zh_CN",
    is_active: Annotated[bool, Form()] = False,
) -> UserForm:
    """The posted user fields (a browser omits unticked boxes, hence the empty defaults)."""
    return UserForm(
        display_name,
        tuple(roles or ()),
        department_id,
        center_id,
        tuple(scope_divisions or ()),
        tuple(scope_departments or ()),
        phone,
        locale,
        is_active,
    )


PostedUser = Annotated[UserForm, Depends(user_form)]


# --- Users ------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    role: str = Query("", max_length=20),
    page: int = Query(1, ge=1),
) -> Response:
    """Searchable, paginated list of accounts; htmx asks for the table only."""
    chosen = _role_filter(role)
    result = users.list_users(deps, actor, q=q, role=chosen, page=page, per_page=20)
    context = {
        "page": result,
        "q": q,
        "role": chosen.value if chosen else "",
        "roles": STAFF_ROLES,
        "base_query": query_string(q=q, role=chosen.value if chosen else ""),
        "department_names": {d.id: d.name for d in all_departments(deps, actor)},
        "now": deps.clock(),
        "can_write": actor.can(Permission.USER_WRITE),
        "flashes": flashes(request),
    }
    template = "admin/users_table.html" if is_htmx(request) else "admin/users.html"
    return render(request, template, context)


def _role_filter(value: str) -> Role | None:
    """The role chosen in the filter; blank (the form's "all roles") means any role."""
    return next((r for r in STAFF_ROLES if r.value == value), None)


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_page(
    request: Request, actor: PageActor, deps: Deps, department_id: int | None = None
) -> Response:
    """Form for a new account."""
    require(actor, Permission.USER_WRITE)
    values = {"department_id": department_id, "locale": "zh_CN", "is_active": True}
    return _user_page(request, actor, deps, None, values)


@router.post("/admin/users/new", response_class=HTMLResponse)
def create_user(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    form: PostedUser,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Open the account, or show the form again with the reason it was refused."""
    require(actor, Permission.USER_WRITE)
    try:
        view = users.create_user(
            deps, actor, username=username, password=password, data=form.to_input(), info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        values = {**_values_of(form), "username": username}
        return _user_page(request, actor, deps, None, values, error=exc)
    return redirect(f"/admin/users/{view.id}", done="created")


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, actor: PageActor, deps: Deps, user_id: int) -> Response:
    """An account: details for readers, the edit, password and unlock forms for administrators."""
    require(actor, Permission.USER_READ)
    view = users.get_user(deps, actor, user_id)
    return _user_page(request, actor, deps, view, _values_of(view))


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def update_user(
    request: Request, actor: PageActor, deps: Deps, info: Info, user_id: int, form: PostedUser
) -> Response:
    """Save changes (roles and scope are audited as permission changes), or show the reason."""
    require(actor, Permission.USER_WRITE)
    view = users.get_user(deps, actor, user_id)
    data = form.to_input()
    try:
        users.update_user(deps, actor, user_id, data, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _user_page(request, actor, deps, view, _values_of(form), error=exc)
    return redirect(f"/admin/users/{user_id}", done="updated")


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    user_id: int,
    new_password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Set a new password for someone (their sessions end), or show why it was refused."""
    require(actor, Permission.USER_WRITE)
    view = users.get_user(deps, actor, user_id)
    try:
        users.set_password(deps, actor, user_id, new_password, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _user_page(request, actor, deps, view, _values_of(view), error=exc)
    return redirect(f"/admin/users/{user_id}", done="password")


@router.post("/admin/users/{user_id}/unlock", response_class=HTMLResponse)
def unlock(request: Request, actor: PageActor, deps: Deps, info: Info, user_id: int) -> Response:
    """Lift a lockout before it expires."""
    users.unlock_user(deps, actor, user_id, info=info)
    return redirect(f"/admin/users/{user_id}", done="unlocked")


def _values_of(data: UserForm | users.UserView) -> dict[str, Any]:
    """Form values from what was posted or what is stored."""
    return {
        "display_name": data.display_name,
        "roles": [str(r) for r in data.roles],
        "department_id": data.department_id,
        "center_id": data.center_id,
        "scope_divisions": list(data.scope_divisions),
        "scope_departments": list(data.scope_departments),
        "phone": data.phone,
        "locale": data.locale,
        "is_active": data.is_active,
    }


def _user_page(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    view: users.UserView | None,
    values: dict[str, Any],
    *,
    error: DomainError | None = None,
) -> Response:
    """The user page (new or existing) with the choice lists its form needs."""
    division_rows = sorted(
        every_page(lambda n: divisions.list_divisions(deps, actor, page=n, per_page=MAX_PER_PAGE)),
        key=lambda d: d.code,
    )
    context = {
        "user": view,
        "values": values,
        "roles": STAFF_ROLES,
        "departments": all_departments(deps, actor),
        "centers": departments.list_centers(deps, actor),
        "divisions": [(d, DEPTH[d.level]) for d in division_rows],
        "division_names": {d.code: d.name for d in division_rows},
        "locales": LOCALE_NAMES,
        "locked": _is_locked(view, deps),
        "is_self": view is not None and view.id == actor.user_id,
        "can_write": actor.can(Permission.USER_WRITE),
        "can_audit": actor.can(Permission.AUDIT_READ),
        "flashes": flashes(request, error),
    }
    return render(request, "admin/user_form.html", context, status_code=422 if error else 200)


def _is_locked(view: users.UserView | None, deps: ServiceDeps) -> bool:
    """True while a lockout is in force."""
    return view is not None and deps.lockout_policy.is_locked(view.locked_until, deps.clock())


# --- Audit log --------------------------------------------------------------------------


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    action: str = Query("", max_length=64),
    page: int = Query(1, ge=1),
) -> Response:
    """Newest entries first, searchable by who or target, filtered by action."""
    result = audit.list_entries(deps, actor, q=q.strip(), action=action, page=page, per_page=50)
    context = {
        "page": result,
        "q": q,
        "action": action,
        "actions": audit.list_actions(deps, actor),
        "action_labels": ACTION_LABELS,
        "target_labels": TARGET_LABELS,
        "base_query": query_string(q=q, action=action),
        "compact_json": compact_json,
        "target_href": target_href,
    }
    template = "admin/audit_table.html" if is_htmx(request) else "admin/audit.html"
    return render(request, template, context)


def compact_json(detail: dict[str, Any]) -> str:
    """An audit detail on one line, Chinese kept readable."""
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, separators=(", ", ": "), default=str)


def target_href(target_type: str, target_id: str) -> str | None:
    """The page of an audited thing, when it has one."""
    pattern = TARGET_PAGES.get(target_type)
    return pattern.format(target_id) if pattern and target_id else None
