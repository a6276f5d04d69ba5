"""Grid layers (their cells now or at any moment) and responsibility: who answers for a grid,
which unit grids nobody covers, and the assignments behind both."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcity.adapters.geo import from_geojson
from gridcity.domain.layers import Scheme
from gridcity.domain.responsibility import Post
from gridcity.services import (
    assignments,
    layer_drawing,
    layer_staleness,
    layers,
    responsibility,
)
from gridcity.services.layers import LayerView
from gridcity.services.responsibility import AssignmentView
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info

# One flat router (paths spelled out) so that route walkers such as the access matrix see it.
router = APIRouter(responses=ERRORS)
LAYER_TAGS: list[str | Enum] = ["grids"]
DUTY_TAGS: list[str | Enum] = ["responsibility"]

AT_HELP = "At this moment (ISO 8601 with a time zone offset); default: now"
DIVISION = r"^[0-9]{6}([0-9]{3}){0,2}$"
LAYER_CODE = r"^[a-z][a-z0-9_-]{1,31}$"


# --- layers -------------------------------------------------------------------------------


class LayerOut(BaseModel):
    """A grid layer, its scheme (code format and coverage rule) and its cells in force now."""

    code: str
    kind: str
    scheme: str | None
    name: str
    description: str
    is_active: bool
    cells: int
    code_pattern: str | None
    division_level: str | None


class LayerIn(BaseModel):
    """A new layer; its kind follows from the scheme."""

    code: str = Field(pattern=LAYER_CODE, examples=["sanitation"])
    name: str = Field(min_length=1, max_length=100, examples=["环卫网格"])
    scheme: Scheme = Field(examples=["sanitation"])
    description: str = Field(default="", max_length=500)


class LayerPatch(BaseModel):
    """Fields that may change; ``is_active: false`` takes the layer out of point location."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    is_active: bool | None = None


class CellIn(BaseModel):
    """One cell; give the ``geometry``, the unit ``grids`` or neither, as the scheme says."""

    code: str | None = Field(default=None, max_length=32, description="Omit to number it")
    division: str | None = Field(
        default=None, pattern=DIVISION, description="The division to number a cell without code in"
    )
    name: str = Field(default="", max_length=100)
    geometry: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon/MultiPolygon in CGCS2000 lon/lat (EPSG:4490)"
    )
    grids: list[str] = Field(default_factory=list, max_length=999)
    attributes: dict[str, Any] = Field(default_factory=dict)


class DrawingIn(BaseModel):
    """Every cell of the layer from ``valid_from`` on; the cells in force until then are kept."""

    valid_from: datetime
    cells: list[CellIn] = Field(max_length=10_000)


class DrawingOut(BaseModel):
    """What a re-drawing did."""

    layer: str
    valid_from: datetime
    ended: int
    created: list[str]


def _layer(view: LayerView) -> LayerOut:
    """Response model of a layer."""
    return LayerOut(**view.__dict__)


@router.get("/layers", tags=LAYER_TAGS, response_model=list[LayerOut], summary="List grid layers")
def list_layers(actor: ApiActor, deps: Deps) -> list[LayerOut]:
    """Every layer with its scheme and its number of cells in force now."""
    return [_layer(v) for v in layers.list_layers(deps, actor)]


@router.get("/layers/{code}", tags=LAYER_TAGS, response_model=LayerOut, summary="One grid layer")
def get_layer(code: str, actor: ApiActor, deps: Deps) -> LayerOut:
    """By its code."""
    return _layer(layers.get_layer(deps, actor, code))


@router.get(
    "/layers/{code}/cells",
    tags=LAYER_TAGS,
    summary="A layer's cells as GeoJSON (EPSG:4490 lon/lat)",
)
def layer_cells(
    code: str,
    actor: ApiActor,
    deps: Deps,
    at: datetime | None = Query(None, description=AT_HELP),
    parent: str | None = Query(None, pattern=DIVISION, description="Only in or around this"),
) -> dict[str, Any]:
    """Cells in force at ``at`` in your scope; properties carry codes, division and attributes."""
    return layers.layer_cells_geojson(deps, actor, code, at=at, parent=parent)


@router.post(
    "/layers",
    tags=LAYER_TAGS,
    response_model=LayerOut,
    status_code=201,
    summary="Create a grid layer",
)
def create_layer(body: LayerIn, actor: ApiActor, deps: Deps, info: Info) -> LayerOut:
    """Administrators only; the layer starts active and empty."""
    view = layers.create_layer(
        deps,
        actor,
        code=body.code,
        name=body.name,
        scheme=body.scheme.value,
        description=body.description,
        info=info,
    )
    return _layer(view)


@router.patch(
    "/layers/{code}",
    tags=LAYER_TAGS,
    response_model=LayerOut,
    summary="Rename or switch a layer on/off",
)
def update_layer(code: str, body: LayerPatch, actor: ApiActor, deps: Deps, info: Info) -> LayerOut:
    """Administrators only."""
    view = layers.update_layer(
        deps,
        actor,
        code,
        name=body.name,
        description=body.description,
        is_active=body.is_active,
        info=info,
    )
    return _layer(view)


@router.put(
    "/layers/{code}/cells", tags=LAYER_TAGS, response_model=DrawingOut, summary="Re-draw a layer"
)
def replace_cells(
    code: str, body: DrawingIn, actor: ApiActor, deps: Deps, info: Info
) -> DrawingOut:
    """Administrators only; all-or-nothing, checked by the layer's scheme."""
    cells = [
        layer_drawing.CellInput(
            code=c.code,
            division=c.division,
            name=c.name,
            geometry=from_geojson(c.geometry) if c.geometry is not None else None,
            grids=tuple(c.grids),
            attributes=c.attributes,
        )
        for c in body.cells
    ]
    done = layer_drawing.replace_layer_cells(
        deps, actor, code, cells, valid_from=body.valid_from, info=info
    )
    return DrawingOut(
        layer=done.layer, valid_from=done.valid_from, ended=done.ended, created=list(done.created)
    )


class StaleCellOut(BaseModel):
    """A cell in force built on unit-grid versions that a re-division ended (or will end)."""

    layer: str
    code: str
    name: str
    valid_from: datetime
    ended: list[str] = Field(description="Member grids whose drawn-on version ends")
    ended_at: datetime = Field(description="When the first of them ends")
    missing: list[str] = Field(description="Of those, codes no unit grid in force carries now")


class StalenessOut(BaseModel):
    """What a layer of unit-grid cells no longer matches after re-divisions."""

    layer: str
    at: datetime
    stale: list[StaleCellOut]
    unheld_count: int
    unheld: list[str] = Field(description="Unit grids in force in your scope that no cell holds")


@router.get(
    "/layers/{code}/stale",
    tags=LAYER_TAGS,
    response_model=StalenessOut,
    summary="Cells left stale by re-divided unit grids, and grids no cell holds",
)
def layer_stale(
    code: str,
    actor: ApiActor,
    deps: Deps,
    at: datetime | None = Query(None, description=AT_HELP),
    parent: str | None = Query(None, pattern=DIVISION, description="Only grids under this"),
) -> StalenessOut:
    """For layers made of unit grids (responsibility); re-draw the stale cells to fix them."""
    found = layer_staleness.layer_staleness(deps, actor, code, at=at, parent=parent)
    return StalenessOut(
        layer=found.layer,
        at=found.at,
        stale=[
            StaleCellOut(
                layer=c.layer,
                code=c.code,
                name=c.name,
                valid_from=c.valid_from,
                ended=list(c.ended),
                ended_at=c.ended_at,
                missing=list(c.missing),
            )
            for c in found.stale
        ],
        unheld_count=len(found.unheld),
        unheld=list(found.unheld),
    )


# --- responsibility -----------------------------------------------------------------------


class AssignmentOut(BaseModel):
    """A person on a post for a grid cell (``layer`` + ``cell``) or a ``division``."""

    id: int
    user_id: int
    username: str
    display_name: str
    phone: str
    post: str
    layer: str | None
    cell: str | None
    division: str | None
    shift: str
    starts_on: date
    ends_on: date | None
    note: str
    weekdays: list[int] = Field(description="ISO weekdays it holds on: 1 Monday … 7 Sunday")


class AssignmentIn(BaseModel):
    """Supervisors and grid workers go on a cell, leaders on a division."""

    user_id: int
    post: Post
    cell: str | None = Field(default=None, max_length=32, examples=["110101001001001"])
    layer: str | None = Field(default=None, pattern=LAYER_CODE, description="Default: unit")
    division: str | None = Field(default=None, pattern=DIVISION)
    shift: str = Field(
        default="", max_length=16, description="'', a named shift (GET /shifts) or HH:MM-HH:MM"
    )
    starts_on: date
    ends_on: date | None = None
    note: str = Field(default="", max_length=200)
    weekdays: list[int] | None = Field(
        default=None,
        max_length=7,
        description="A rota: ISO weekdays (1 Monday … 7 Sunday); default every day. "
        "An overnight shift belongs to the day it starts on.",
        examples=[[1, 2, 3, 4, 5]],
    )


class EndIn(BaseModel):
    """The last day of the assignment."""

    ends_on: date


class ResponsibleOut(BaseModel):
    """An assignment in force and why it answers (grid, responsibility or a division level)."""

    via: str
    assignment: AssignmentOut


class ResponsibilityOut(BaseModel):
    """Everyone answering for one grid cell at one moment."""

    layer: str
    code: str
    name: str
    at: datetime
    people: list[ResponsibleOut]


class UncoveredOut(BaseModel):
    """Unit grids nobody covers at ``at``."""

    at: datetime
    count: int
    grids: list[str]


def _assignment(view: AssignmentView) -> AssignmentOut:
    """Response model of an assignment."""
    return AssignmentOut(**{**view.__dict__, "weekdays": list(view.weekdays)})


@router.get(
    "/grids/{code}/responsible",
    tags=DUTY_TAGS,
    response_model=ResponsibilityOut,
    summary="Who is responsible for a grid",
)
def responsible(
    code: str,
    actor: ApiActor,
    deps: Deps,
    at: datetime | None = Query(None, description=AT_HELP),
    layer: str = Query("unit", pattern=LAYER_CODE, description="The layer of the cell"),
) -> ResponsibilityOut:
    """The grid's own people, its responsibility grid's, and its divisions' leaders, in force."""
    found = responsibility.responsible_for(deps, actor, code, layer=layer, at=at)
    return ResponsibilityOut(
        layer=found.layer,
        code=found.code,
        name=found.name,
        at=found.at,
        people=[
            ResponsibleOut(via=p.via, assignment=_assignment(p.assignment)) for p in found.people
        ],
    )


@router.get(
    "/responsibility/uncovered",
    tags=DUTY_TAGS,
    response_model=None,
    summary="Unit grids with no supervisor or grid worker",
)
def uncovered(
    actor: ApiActor,
    deps: Deps,
    at: datetime | None = Query(None, description=AT_HELP),
    parent: str | None = Query(None, pattern=DIVISION),
    format: Literal["json", "geojson"] = Query("json"),
) -> UncoveredOut | dict[str, Any]:
    """Codes (``json``) or a FeatureCollection (``geojson``) of the uncovered unit grids."""
    if format == "geojson":
        return responsibility.uncovered_geojson(deps, actor, at=at, parent=parent)
    codes = responsibility.uncovered_grids(deps, actor, at=at, parent=parent)
    moment = at if at is not None else deps.clock()
    return UncoveredOut(at=moment, count=len(codes), grids=codes)


@router.get(
    "/responsibility/assignments",
    tags=DUTY_TAGS,
    response_model=list[AssignmentOut],
    summary="List assignments in your scope",
)
def list_assignments(
    actor: ApiActor,
    deps: Deps,
    user_id: int | None = Query(None),
    division: str | None = Query(None, pattern=DIVISION),
    cell: str | None = Query(None, max_length=32),
    at: datetime | None = Query(None, description="Only those in force then"),
) -> list[AssignmentOut]:
    """Ordered by first day."""
    found = responsibility.list_assignments(
        deps, actor, user_id=user_id, division=division, cell=cell, at=at
    )
    return [_assignment(v) for v in found]


@router.post(
    "/responsibility/assignments",
    tags=DUTY_TAGS,
    response_model=AssignmentOut,
    status_code=201,
    summary="Assign a person to a grid or a division",
)
def create_assignment(body: AssignmentIn, actor: ApiActor, deps: Deps, info: Info) -> AssignmentOut:
    """Grid posts: administrators and duty chiefs; leaders' posts: administrators."""
    view = assignments.create_assignment(
        deps,
        actor,
        user_id=body.user_id,
        post=body.post.value,
        cell=body.cell,
        layer=body.layer,
        division=body.division,
        shift=body.shift,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        note=body.note,
        weekdays=body.weekdays,
        info=info,
    )
    return _assignment(view)


@router.post(
    "/responsibility/assignments/{assignment_id}/end",
    tags=DUTY_TAGS,
    response_model=AssignmentOut,
    summary="End an assignment on a day",
)
def end_assignment(
    assignment_id: int, body: EndIn, actor: ApiActor, deps: Deps, info: Info
) -> AssignmentOut:
    """It stays on record, so past questions keep their answers."""
    view = assignments.end_assignment(deps, actor, assignment_id, ends_on=body.ends_on, info=info)
    return _assignment(view)


@router.delete(
    "/responsibility/assignments/{assignment_id}",
    tags=DUTY_TAGS,
    status_code=204,
    summary="Remove an assignment made in error",
)
def delete_assignment(assignment_id: int, actor: ApiActor, deps: Deps, info: Info) -> None:
    """The audit log keeps what it was."""
    assignments.delete_assignment(deps, actor, assignment_id, info=info)
