"""Administrative divisions and their boundaries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcity.adapters.geo import from_geojson
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import divisions
from gridcity.services.divisions import DivisionView
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps, Info

router = APIRouter(prefix="/divisions", tags=["organisation"], responses=ERRORS)


class DivisionOut(BaseModel):
    """A district, subdistrict or community."""

    id: int
    code: str
    level: DivisionLevel
    name: str
    parent_code: str | None
    area_m2: float | None
    has_boundary: bool
    is_active: bool


class DivisionIn(BaseModel):
    """A new division; the parent is implied by the code."""

    code: str = Field(pattern=r"^[0-9]{6}([0-9]{3}){0,2}$", examples=["110101001"])
    name: str = Field(min_length=1, max_length=100)
    level: DivisionLevel
    boundary: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon/MultiPolygon in CGCS2000 lon/lat (EPSG:4490)"
    )


class DivisionPatch(BaseModel):
    """Fields that may change; the code never does."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    boundary: dict[str, Any] | None = None
    is_active: bool | None = None


def _out(view: DivisionView) -> DivisionOut:
    return DivisionOut(**view.__dict__)


@router.get("", response_model=PageOut[DivisionOut], summary="List divisions in your scope")
def list_divisions(
    actor: ApiActor,
    deps: Deps,
    q: str = Query("", max_length=100, description="Name contains, or code starts with"),
    level: DivisionLevel | None = None,
    parent: str | None = Query(None, pattern=r"^[0-9]{6,12}$"),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> dict[str, object]:
    """Searchable, paginated, ordered by code."""
    result = divisions.list_divisions(
        deps, actor, q=q, level=level, parent=parent, page=page, per_page=per_page
    )
    return page_out(result, _out)


@router.get("/geojson", summary="Boundaries as a GeoJSON FeatureCollection (EPSG:4490 lon/lat)")
def boundaries(
    actor: ApiActor,
    deps: Deps,
    level: DivisionLevel | None = None,
    parent: str | None = Query(None, pattern=r"^[0-9]{6,12}$"),
) -> dict[str, Any]:
    """For maps and GIS tools."""
    return divisions.boundaries_geojson(deps, actor, level=level, parent=parent)


@router.get("/{code}", response_model=DivisionOut, summary="One division")
def get_division(code: str, actor: ApiActor, deps: Deps) -> DivisionOut:
    """By full code (6, 9 or 12 digits)."""
    return _out(divisions.get_division(deps, actor, code))


@router.post("", response_model=DivisionOut, status_code=201, summary="Create a division")
def create_division(body: DivisionIn, actor: ApiActor, deps: Deps, info: Info) -> DivisionOut:
    """Administrators only; the parent must exist."""
    geom = from_geojson(body.boundary) if body.boundary is not None else None
    view = divisions.create_division(
        deps, actor, code=body.code, name=body.name, level=body.level, boundary=geom, info=info
    )
    return _out(view)


@router.patch("/{code}", response_model=DivisionOut, summary="Rename, re-draw or (de)activate")
def update_division(
    code: str, body: DivisionPatch, actor: ApiActor, deps: Deps, info: Info
) -> DivisionOut:
    """Administrators only; every change is audited."""
    geom = from_geojson(body.boundary) if body.boundary is not None else None
    view = divisions.update_division(
        deps, actor, code, name=body.name, boundary=geom, is_active=body.is_active, info=info
    )
    return _out(view)
