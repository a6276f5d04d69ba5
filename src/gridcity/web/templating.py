"""Jinja2 rendering with gettext, the CSRF token, the actor and the navigation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gridcity.domain.access import Actor, Permission, Role
from gridcity.domain.divisions import DivisionLevel
from gridcity.web.i18n import N_, current_locale, gettext_, ngettext_

TEMPLATES = Path(__file__).resolve().parent / "ui" / "templates"
CHINA_TZ = ZoneInfo("Asia/Shanghai")

ROLE_LABELS = {
    Role.SUPERVISOR: N_("Supervisor"),
    Role.OPERATOR: N_("Intake operator"),
    Role.DUTY_CHIEF: N_("Duty chief"),
    Role.DISPATCHER: N_("Dispatcher"),
    Role.HANDLER: N_("Department handler"),
    Role.LEADER: N_("Leader"),
    Role.ADMIN: N_("Administrator"),
    Role.PUBLIC: N_("Public"),
}

LEVEL_LABELS = {
    DivisionLevel.DISTRICT: N_("District"),
    DivisionLevel.SUBDISTRICT: N_("Subdistrict"),
    DivisionLevel.COMMUNITY: N_("Community"),
}


@dataclass(frozen=True)
class NavItem:
    """One link of the side navigation, shown only with its permission."""

    href: str
    label: str
    permission: Permission | None


NAV = (
    NavItem("/home", N_("Home"), None),
    NavItem("/map", N_("Map"), Permission.MAP_VIEW),
    NavItem("/grids", N_("Grids"), Permission.GRID_READ),
    NavItem("/admin/layers", N_("Grid layers"), Permission.GRID_READ),
    NavItem("/admin/responsibility", N_("Responsibility"), Permission.GRID_READ),
    NavItem("/admin/layer-schemes", N_("Layer schemes"), Permission.SETTINGS_WRITE),
    NavItem("/admin/shifts", N_("Shifts"), Permission.SETTINGS_WRITE),
    NavItem("/admin/catalog", N_("Catalog"), Permission.CATALOG_READ),
    NavItem("/admin/components", N_("Components"), Permission.COMPONENT_READ),
    NavItem("/admin/census", N_("Component census"), Permission.COMPONENT_READ),
    NavItem("/admin/divisions", N_("Divisions"), Permission.ORG_READ),
    NavItem("/admin/departments", N_("Departments"), Permission.ORG_READ),
    NavItem("/admin/centers", N_("Centers"), Permission.ORG_READ),
    NavItem("/admin/import", N_("Import and export"), Permission.GRID_READ),
    NavItem("/admin/users", N_("Users"), Permission.USER_READ),
    NavItem("/admin/audit", N_("Audit log"), Permission.AUDIT_READ),
)


def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(CHINA_TZ).strftime(fmt)


def build_environment() -> Environment:
    """The template environment, with gettext bound to the current request's locale."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]
    env.filters["localtime"] = _local_time
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["LEVEL_LABELS"] = LEVEL_LABELS
    return env


class Templates:
    """Renders pages; every page gets the actor, its navigation and the CSRF token."""

    def __init__(self) -> None:
        self.env = build_environment()

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        """An HTML response of the named template."""
        actor = getattr(request.state, "actor", None) or Actor.anonymous()
        settings = request.app.state.container.settings
        ctx: dict[str, Any] = {
            "request": request,
            "actor": actor,
            "nav": [n for n in NAV if n.permission is None or actor.can(n.permission)],
            "csrf_token": request.scope.get("state", {}).get("csrf_token", ""),
            "locale": current_locale.get(),
            "path": request.url.path,
            "settings": settings,
        }
        ctx.update(context or {})
        html = self.env.get_template(name).render(ctx)
        return HTMLResponse(html, status_code=status_code)
