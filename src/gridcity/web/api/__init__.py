"""JSON API under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from gridcity.web.api import (
    audit,
    auth,
    calendar,
    catalog,
    census,
    component_map,
    components,
    coords,
    departments,
    divisions,
    grid_settings,
    grids,
    layers,
    locate,
    users,
)

api_router = APIRouter(prefix="/api/v1")
for module in (
    auth,
    divisions,
    departments,
    users,
    audit,
    coords,
    grids,
    locate,
    layers,
    grid_settings,
    catalog,
    census,
    # Before the router with /components/{identifier}: /components/near must match first.
    component_map,
    components,
    calendar,
):
    api_router.include_router(module.router)
