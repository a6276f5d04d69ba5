"""Admin pages: grid layers (list, create, rename, switch on and off) and one layer's page with
its cells, what re-divided unit grids left stale, drawing a layer of unit-grid cells on the map,
and re-drawing a layer from an uploaded GeoJSON file. Every write goes through the services."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from gridcity.adapters import feature_io
from gridcity.config import BasemapCrs, Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.layers import CellShape, Scheme
from gridcity.services import divisions, layer_admin, layer_schemes, layer_staleness, layers
from gridcity.services.deps import ServiceDeps
from gridcity.services.grids import UNIT_LAYER
from gridcity.services.layer_drawing import CellInput
from gridcity.services.layer_schemes import SchemeView
from gridcity.services.layer_staleness import LayerStaleness
from gridcity.services.layers import CHINA_TZ, LayerView
from gridcity.services.pagination import Page
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.errors import human_message
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.limits import MB
from gridcity.web.templating import Templates
from gridcity.web.ui.common import flashes, raise_if_forbidden, redirect
from gridcity.web.ui.map_page import basemap_config, needs_gcj02_shift
from gridcity.web.ui.uploads import staged

router = APIRouter(prefix="/admin/layers")
PER_PAGE = 100
UNHELD_SHOWN = 60  # unheld grid codes listed on the page; the API gives all of them
GEOJSON_SUFFIXES = (".geojson", ".json")
DONE_HERE = {"drawn": N_("Saved: the layer was re-drawn; its earlier cells stay as history")}
KIND_LABELS = {
    "unit": N_("Unit grids"),
    "responsibility": N_("Responsibility grids"),
    "social": N_("Social-service grids"),
    "enforcement": N_("Enforcement grids"),
    "sanitation": N_("Sanitation grids"),
    "fire": N_("Fire-safety grids"),
}
# What a scheme's cells are (the scheme's own name is city data: ``/admin/layer-schemes``).
SHAPE_HINTS = {
    CellShape.UNIT_GRIDS.value: N_("made of whole unit grids"),
    CellShape.POLYGON.value: N_("polygons"),
    CellShape.DIVISION.value: N_("one per division"),
}
# Words the drawing script shows, translated here so that layer_draw.js needs no catalog.
SCRIPT_TEXT = {
    "loading": N_("Loading grids…"),
    "failed": N_("The grids could not be loaded"),
    "empty": N_("No unit grids in your data scope yet"),
    "newCell": N_("new cell in %(division)s"),
    "grids": N_("%(n)s unit grids"),
    "gone": N_("%(n)s grids no longer in force: saving leaves them out"),
    "chooseCell": N_("Choose a cell or start a new one first"),
    "saving": N_("Saving…"),
    "saveFailed": N_("Not saved"),
    "noCells": N_("No cells yet: start a new one and click unit grids into it"),
    "stale": N_("stale"),
}


class DrawnCell(BaseModel):
    """One cell as the drawing script sends it."""

    code: str | None = Field(default=None, max_length=32)
    division: str | None = Field(default=None, max_length=12)
    name: str = Field(default="", max_length=100)
    grids: list[str] = Field(default_factory=list, max_length=999)


class DrawnLayer(BaseModel):
    """The whole drawing: every cell of the layer from ``valid_from`` (a day, or now)."""

    valid_from: str = Field(default="", max_length=10)
    cells: list[DrawnCell] = Field(max_length=10_000)


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """Every layer with its scheme, validity and cells in force; the create form for admins."""
    require(actor, Permission.GRID_READ)
    return _render_list(request, deps, actor)


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=100)],
    scheme: Annotated[str, Form(max_length=20)],
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Create an empty, active layer, or show the list again with the reason it was refused."""
    require(actor, Permission.GRID_WRITE)
    values = {"code": code, "name": name, "scheme": scheme, "description": description}
    try:
        view = layers.create_layer(
            deps, actor, code=code, name=name, scheme=scheme, description=description, info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_list(request, deps, actor, error=exc, values=values)
    return redirect(f"/admin/layers/{view.code}", done="created")


@router.get("/{code}", response_class=HTMLResponse)
def layer_page(
    request: Request, actor: PageActor, deps: Deps, code: str, page: int = Query(1, ge=1)
) -> Response:
    """One layer: its settings, cells, stale cells and, for admins, drawing and upload."""
    require(actor, Permission.GRID_READ)
    return _render_layer(request, deps, actor, code, page=page)


@router.post("/{code}", response_class=HTMLResponse)
def rename(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: str,
    name: Annotated[str, Form(max_length=100)],
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Change the layer's name and description."""
    require(actor, Permission.GRID_WRITE)
    try:
        layers.update_layer(deps, actor, code, name=name, description=description, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        values = {"name": name, "description": description}
        return _render_layer(request, deps, actor, code, error=exc, values=values)
    return redirect(f"/admin/layers/{code}", done="updated")


@router.post("/{code}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: str,
    is_active: Annotated[bool, Form()],
) -> Response:
    """Switch a layer on (point location, coverage) or off (its cells stay readable)."""
    require(actor, Permission.GRID_WRITE)
    try:
        layers.update_layer(deps, actor, code, is_active=is_active, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_layer(request, deps, actor, code, error=exc)
    return redirect(f"/admin/layers/{code}", done="updated")


@router.post("/{code}/cells")
def save_drawing(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: str,
    drawing: Annotated[str, Form(max_length=2_000_000)],
) -> Response:
    """The map's drawing (JSON in a form field, sent by fetch with X-CSRF-Token), re-drawn
    through the layer service; answers JSON: where to go next, or the refusal to show."""
    require(actor, Permission.GRID_WRITE)
    try:
        try:
            drawn = DrawnLayer.model_validate_json(drawing)
        except ValidationError as exc:
            raise InvalidInput(
                "layer_drawing_invalid", "The drawing could not be read: %(why)s", why=str(exc)
            ) from None
        cells = [
            CellInput(code=c.code, division=c.division, name=c.name, grids=tuple(c.grids))
            for c in drawn.cells
        ]
        layer_admin.redraw_from_grids(
            deps, actor, code, cells, valid_from=_start(deps, drawn.valid_from), info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return JSONResponse(
            {"code": exc.code, "message": human_message(exc)}, status_code=exc.status
        )
    return JSONResponse({"redirect": f"/admin/layers/{code}?done=drawn"})


@router.post("/{code}/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: str,
    file: Annotated[UploadFile | None, File()] = None,
    valid_from: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Re-draw the layer from a GeoJSON file of its cells (any CRS the file names); the file is
    staged as the import page stages it: bounded in size, its type sniffed, removed after."""
    require(actor, Permission.GRID_WRITE)
    settings: Settings = request.app.state.container.settings
    try:
        async with staged(file, settings.max_upload_mb * MB) as stored:
            if stored.path.suffix not in GEOJSON_SUFFIXES:
                raise InvalidInput("layer_file_type", "Upload a GeoJSON file (.geojson or .json)")
            features = feature_io.read_file(stored.path).features
        layer_admin.redraw_from_features(
            deps, actor, code, features, valid_from=_start(deps, valid_from), info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_layer(request, deps, actor, code, error=exc)
    return redirect(f"/admin/layers/{code}", done="drawn")


# --- helpers ----------------------------------------------------------------------------------


def _start(deps: ServiceDeps, value: str) -> datetime:
    """00:00 China time of the chosen day, or now when no day was chosen."""
    if not value.strip():
        return deps.clock()
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            "date_invalid", "%(value)s is not a date (YYYY-MM-DD)", value=value.strip()
        ) from None
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ)


def _render_list(
    request: Request,
    deps: ServiceDeps,
    actor: Actor,
    *,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The list page; a refusal is shown on the create form with status 422."""
    schemes = _schemes(deps, actor)
    context = {
        "layers": layers.list_layers(deps, actor),
        "validity": layer_admin.layer_validity(deps, actor),
        "kind_labels": KIND_LABELS,
        "scheme_names": {code: _scheme_name(v) for code, v in schemes.items()},
        "shape_hints": SHAPE_HINTS,
        "schemes": [v for v in schemes.values() if v.editable],
        "can_write": actor.can(Permission.GRID_WRITE),
        "values": values or {"scheme": Scheme.RESPONSIBILITY.value},
        "flashes": flashes(request, error),
    }
    templates: Templates = request.app.state.templates
    return templates.render(
        request, "admin/layers.html", context, status_code=422 if error else 200
    )


def _render_layer(
    request: Request,
    deps: ServiceDeps,
    actor: Actor,
    code: str,
    *,
    page: int = 1,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The page of one layer; a refusal is shown at the top with status 422."""
    view = layers.get_layer(deps, actor, code)
    messages = flashes(request, error)
    if request.query_params.get("done") in DONE_HERE:
        messages.insert(0, ("success", gettext_(DONE_HERE[request.query_params["done"]])))
    scheme = _schemes(deps, actor).get(view.scheme or "")
    shape = scheme.shape if scheme else ""
    of_grids = shape == CellShape.UNIT_GRIDS.value
    staleness = layer_staleness.layer_staleness(deps, actor, code) if of_grids else None
    stale = {c.code: c for c in staleness.stale} if staleness else {}
    cells = layers.cells_in_force(deps, actor, code)
    start = (page - 1) * PER_PAGE
    shown = Page(
        items=cells[start : start + PER_PAGE], total=len(cells), page=page, per_page=PER_PAGE
    )
    can_write = actor.can(Permission.GRID_WRITE) and scheme is not None and scheme.editable
    drawing = can_write and of_grids and scheme is not None
    context = {
        "layer": view,
        "shape": shape,
        "scheme_name": _scheme_name(scheme) if scheme else (view.scheme or ""),
        "validity": layer_admin.layer_validity(deps, actor).get(code),
        "kind_labels": KIND_LABELS,
        "page": shown,
        "base_query": "",
        "stale": stale,
        "staleness": staleness,
        "unheld_shown": staleness.unheld[:UNHELD_SHOWN] if staleness else (),
        "can_write": can_write,
        "can_switch": actor.can(Permission.GRID_WRITE) and view.code != UNIT_LAYER,
        "draw": _draw_config(request, deps, actor, view, staleness) if drawing else None,
        "divisions": _divisions(deps, actor, DivisionLevel(scheme.division_level))
        if drawing and scheme is not None
        else [],
        "values": values or {"name": view.name, "description": view.description},
        "flashes": messages,
    }
    templates: Templates = request.app.state.templates
    return templates.render(request, "admin/layer.html", context, status_code=422 if error else 200)


def _schemes(deps: ServiceDeps, actor: Actor) -> dict[str, SchemeView]:
    """Every scheme with its stored settings (names, format), by scheme name."""
    return {v.scheme: v for v in layer_schemes.list_layer_schemes(deps, actor)}


def _scheme_name(view: SchemeView) -> str:
    """The scheme's name in the page's language (city data, not a catalog entry)."""
    return view.name_zh if current_locale.get() == "zh_CN" else view.name_en


def _divisions(deps: ServiceDeps, actor: Actor, level: DivisionLevel) -> list[Any]:
    """Divisions of the layer's level in scope, for starting a new cell in one."""
    found: list[Any] = []
    page = 1
    while True:
        batch = divisions.list_divisions(deps, actor, level=level, page=page, per_page=200)
        found += batch.items
        if page >= batch.pages:
            return found
        page += 1


def _draw_config(
    request: Request,
    deps: ServiceDeps,
    actor: Actor,
    view: LayerView,
    staleness: LayerStaleness | None,
) -> dict[str, Any]:
    """What layer_draw.js needs: the unit grids' source, the cells with their grids, the words."""
    settings: Settings = request.app.state.container.settings
    crs = BasemapCrs.GCJ02.value if needs_gcj02_shift(settings) else BasemapCrs.WGS84.value
    current = layers.layer_cells_geojson(deps, actor, view.code)
    return {
        "grids": f"/grids/cells.geojson?layer={UNIT_LAYER}&crs={crs}",
        "save": f"/admin/layers/{view.code}/cells",
        "basemap": basemap_config(settings),
        "cells": [
            {
                "code": f["properties"]["code"],
                "name": f["properties"]["name"],
                "division": f["properties"]["division_code"],
                "grids": f["properties"].get("grids", []),
            }
            for f in current["features"]
        ],
        "stale": sorted(c.code for c in staleness.stale) if staleness else [],
        "text": {key: gettext_(msgid) for key, msgid in SCRIPT_TEXT.items()},
    }
