"""Server-rendered pages (Jinja2 + htmx + Alpine)."""

from __future__ import annotations

from fastapi import APIRouter

from gridcity.web.ui import (
    account,
    admin_catalog,
    admin_catalog_switch,
    admin_census,
    admin_component_new,
    admin_components,
    admin_divisions,
    admin_grids,
    admin_import,
    admin_layers,
    admin_org,
    admin_responsibility,
    admin_settings_grid,
    admin_users,
    grid_map,
    home,
    map_page,
)

ui_router = APIRouter(include_in_schema=False)
for module in (
    account,
    home,
    admin_divisions,
    admin_org,
    admin_users,
    map_page,
    grid_map,
    admin_grids,
    admin_responsibility,
    admin_settings_grid,
    admin_layers,
    admin_import,
    admin_catalog,
    admin_catalog_switch,
    # Before admin_components: /admin/components/new must not be taken for an identifier.
    admin_component_new,
    admin_components,
    admin_census,
):
    ui_router.include_router(module.router)
