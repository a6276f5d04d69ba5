"""Unit grids as they are now or were at a given moment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gridcity.services import grids
from gridcity.services.grids import GridView
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps

router = APIRouter(prefix="/grids", tags=["grids"], responses=ERRORS)

AT_HELP = "The grids in force at this moment (ISO 8601 with a time zone offset); default: now"


class GridOut(BaseModel):
    """One version of a unit grid; ``valid_to`` is null while it is in force."""

    code: str
    name: str
    community_code: str
    area_m2: float
    attributes: dict[str, Any]
    valid_from: datetime
    valid_to: datetime | None


def _out(view: GridView) -> GridOut:
    return GridOut(**view.__dict__)


@router.get("", response_model=PageOut[GridOut], summary="List unit grids in your scope")
def list_grids(
    actor: ApiActor,
    deps: Deps,
    community: str | None = Query(None, pattern=r"^[0-9]{12}$"),
    q: str = Query("", max_length=100, description="Code starts with, or name contains"),
    at: datetime | None = Query(None, description=AT_HELP),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> dict[str, object]:
    """Paginated, ordered by code."""
    result = grids.list_grids(
        deps, actor, community=community, q=q, at=at, page=page, per_page=per_page
    )
    return page_out(result, _out)


@router.get("/geojson", summary="Unit grids as a GeoJSON FeatureCollection (EPSG:4490 lon/lat)")
def grids_geojson(
    actor: ApiActor,
    deps: Deps,
    parent: str | None = Query(
        None,
        pattern=r"^[0-9]{6}([0-9]{3}){0,2}$",
        description="District, subdistrict or community code",
    ),
    at: datetime | None = Query(None, description=AT_HELP),
) -> dict[str, Any]:
    """For maps and GIS tools; properties carry the code, name, community and attributes."""
    return grids.grids_geojson(deps, actor, parent=parent, at=at)


@router.get("/{code}", response_model=GridOut, summary="One unit grid")
def get_grid(
    code: str,
    actor: ApiActor,
    deps: Deps,
    at: datetime | None = Query(None, description=AT_HELP),
) -> GridOut:
    """By its 15-digit code, as in force at ``at``."""
    return _out(grids.get_grid(deps, actor, code, at=at))
