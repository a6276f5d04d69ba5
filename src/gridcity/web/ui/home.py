"""Each role lands on its own home page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridcity.domain.access import STAFF_ROLES, Permission, Role
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Forbidden, NotFound
from gridcity.services import audit, departments, divisions, users
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import Deps, PageActor

router = APIRouter()


@router.get("/home", response_class=RedirectResponse)
def home(actor: PageActor) -> RedirectResponse:
    """Redirect to the home page of the user's main role."""
    return RedirectResponse(f"/home/{actor.landing_role.value}", status_code=303)


@router.get("/home/{role}", response_class=HTMLResponse)
def role_home(role: str, request: Request, actor: PageActor, deps: Deps) -> Response:
    """The workbench of one role; only users holding that role may open it."""
    try:
        wanted = Role(role)
    except ValueError:
        raise NotFound("page_not_found", "No such page") from None
    if wanted not in STAFF_ROLES or wanted not in actor.roles:
        raise Forbidden("role_home_forbidden", "This page belongs to another role")
    context: dict[str, Any] = {
        "role": wanted,
        "other_roles": sorted(r for r in actor.roles if r is not wanted),
        "counts": divisions.count_by_level(deps, actor),
    }
    context.update(_role_context(wanted, deps, actor))
    return request.app.state.templates.render(request, f"home/{wanted.value}.html", context)


def _role_context(role: Role, deps: ServiceDeps, actor: Any) -> dict[str, Any]:
    if role is Role.SUPERVISOR:
        page = divisions.list_divisions(deps, actor, level=DivisionLevel.COMMUNITY, per_page=200)
        return {"communities": page.items, "community_total": page.total}
    if role is Role.HANDLER:
        user = users.get_user(deps, actor, actor.user_id)
        dep_id = user.department_id
        department = departments.get_department(deps, actor, dep_id) if dep_id else None
        return {"department": department}
    if role in (Role.OPERATOR, Role.DUTY_CHIEF, Role.DISPATCHER):
        user = users.get_user(deps, actor, actor.user_id)
        centers = departments.list_centers(deps, actor)
        return {
            "centers": centers,
            "my_center": next((c for c in centers if c.id == user.center_id), None),
            "department_count": departments.department_count(deps, actor),
        }
    context: dict[str, Any] = {
        "department_count": departments.department_count(deps, actor),
        "user_count": users.count_users(deps, actor),
        "centers": departments.list_centers(deps, actor),
    }
    if actor.can(Permission.AUDIT_READ):
        context["recent"] = audit.list_entries(deps, actor, per_page=8).items
        context["locks"] = audit.list_entries(
            deps, actor, action="account.locked", per_page=5
        ).items
    return context
