"""The grid map: unit grids in the user's data scope with codes, labels, a choropleth of a
per-grid figure, search by code, and a details panel loaded with htmx."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridcity.config import BasemapCrs, Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.coords import FloatArray, wgs84_to_gcj02_array
from gridcity.domain.errors import DomainError
from gridcity.domain.grids import GRID_CODE_LENGTH
from gridcity.domain.responsibility import CELL_POSTS, Post
from gridcity.services import grid_queries, layers, shifts
from gridcity.services.deps import ServiceDeps
from gridcity.services.grid_queries import Figure
from gridcity.services.grids import UNIT_LAYER
from gridcity.web.deps import ApiActor, Deps, PageActor
from gridcity.web.errors import human_message
from gridcity.web.i18n import N_, gettext_
from gridcity.web.templating import Templates
from gridcity.web.ui.common import is_htmx, shift_labels
from gridcity.web.ui.map_page import basemap_config, needs_gcj02_shift

router = APIRouter(prefix="/grids")
CODE_PATTERN = r"^[0-9]{6}([0-9]{3}){0,3}$"
LAYER_CODE = r"^[a-z][a-z0-9_-]{1,31}$"
DISPLAY_DECIMALS = 6  # ~0.1 m: plenty for drawing, a third less to send than the stored 7
GZIP_MIN_BYTES = 500  # as Starlette's GZipMiddleware: smaller bodies gain nothing
UNIT_GRIDS = N_("Unit grids")
SEARCH_EVENT = "grid-search"  # the htmx event that tells the script what a search found

FIGURES = {
    Figure.AREA: (N_("Area (m²)"), "sequential"),
    Figure.DEVIATION: (N_("Deviation from the nominal 10,000 m² (%)"), "diverging"),
    Figure.REDIVISIONS: (N_("Re-divisions of its community"), "sequential"),
    Figure.PEOPLE: (N_("Supervisors and grid workers on duty"), "sequential"),
}
POST_LABELS = {
    Post.SUPERVISOR: N_("Supervisor"),
    Post.GRID_WORKER: N_("Grid worker"),
    Post.LEADER: N_("Leader in charge"),
}
# Why a person answers for a grid (``responsibility.VIA_ORDER``).
VIA_LABELS = {
    "grid": N_("this grid"),
    "responsibility": N_("its responsibility grid"),
    "community": N_("its community"),
    "subdistrict": N_("its subdistrict"),
    "district": N_("its district"),
}
ATTRIBUTE_LABELS = {
    "land_use": N_("Land-use class"),
    "management_level": N_("Management level"),
    "responsible_party": N_("Responsible party"),
}
# Words the script shows, translated here so that grid_map.js needs no catalog of its own.
SCRIPT_TEXT = {
    "communities": N_("Community boundaries"),
    "labels": N_("Grid codes"),
    "code": N_("Code"),
    "loading": N_("Loading grids…"),
    "failed": N_("The grids could not be loaded"),
    "empty": N_("No unit grids in your data scope yet"),
    "notOnMap": N_("Not on the map: no grid in force matches"),
    "noFigure": N_("No figure"),
    "uncovered": N_("%(n)s grids have no supervisor or grid worker on duty now"),
}


@router.get("", response_class=HTMLResponse)
def grid_map_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    code: str = Query("", max_length=100),
) -> Response:
    """The page; ``?code=`` finds a grid (or grids by code prefix or name) and shows it.
    An htmx request (the search box) gets the details panel only."""
    require(actor, Permission.GRID_READ)
    query = code.strip()
    panel, found = _panel(deps, actor, query)
    templates: Templates = request.app.state.templates
    # A history restore asks with HX-Request too, but needs the whole page.
    if is_htmx(request) and request.headers.get("hx-history-restore-request") != "true":
        response = templates.render(request, "grid_detail.html", panel)
        response.headers["HX-Trigger"] = json.dumps({SEARCH_EVENT: found})
        return response
    settings: Settings = request.app.state.container.settings
    context = {
        **panel,
        "config": _config(settings, deps, actor, found),
        "query": query,
        "figures": [(key.value, gettext_(label)) for key, (label, _kind) in FIGURES.items()],
        "can_generate": actor.can(Permission.GRID_WRITE),
    }
    return templates.render(request, "grid_map.html", context)


@router.get("/cells.geojson")
def cells_geojson(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    layer: str = Query(UNIT_LAYER, pattern=LAYER_CODE),
    parent: str | None = Query(None, pattern=CODE_PATTERN),
    crs: BasemapCrs = BasemapCrs.WGS84,
) -> Response:
    """A layer's cells in force in scope, lean for drawing (code, name), shifted for GCJ-02
    tiles; unit grids may be narrowed to those under ``parent``."""
    if layer == UNIT_LAYER:
        outlines = grid_queries.grid_outlines(deps, actor, parent=parent)
        codes, names, shapes = outlines.codes, outlines.names, outlines.shapes
    else:
        cells = layers.cells_in_force(deps, actor, layer)
        codes, names, shapes = (
            [c.code for c in cells],
            [c.name for c in cells],
            [c.geometry for c in cells],
        )
    shift = crs is BasemapCrs.GCJ02

    def display(xy: FloatArray) -> FloatArray:
        return np.round(wgs84_to_gcj02_array(xy) if shift else xy, DISPLAY_DECIMALS)

    drawn = np.asarray(shapes, dtype=object)
    geometries = shapely.to_geojson(shapely.transform(drawn, display)) if len(drawn) else []
    features = ",".join(
        _feature(code, name, geometry)
        for code, name, geometry in zip(codes, names, geometries, strict=True)
    )
    body = ('{"type":"FeatureCollection","features":[' + features + "]}").encode()
    return _json(request, body)


@router.get("/figures.json")
def figures_json(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    figure: Figure = Figure.AREA,
    parent: str | None = Query(None, pattern=CODE_PATTERN),
) -> Response:
    """One figure for every grid in scope, with the choropleth classes and their labels."""
    values = grid_queries.grid_figure(deps, actor, figure, parent=parent)
    breaks = grid_queries.class_breaks(list(values.values()), figure)
    label, kind = FIGURES[figure]
    payload = {
        "figure": figure.value,
        "label": gettext_(label),
        "kind": kind,
        "classes": _classes(figure, breaks),
        "values": values,
    }
    return _json(request, json.dumps(payload, ensure_ascii=False).encode())


@router.get("/{code}/detail", response_class=HTMLResponse)
def grid_detail(
    request: Request,
    actor: PageActor,
    deps: Deps,
    code: str,
    at: datetime | None = Query(None),
) -> Response:
    """The details panel of one grid (an htmx fragment); a browser is sent to the map page."""
    require(actor, Permission.GRID_READ)
    if not is_htmx(request):
        return RedirectResponse(f"/grids?code={code[:GRID_CODE_LENGTH]}", status_code=303)
    context: dict[str, Any] = {"can_generate": actor.can(Permission.GRID_WRITE)}
    try:
        context.update(_details(deps, actor, grid_queries.grid_details(deps, actor, code, at=at)))
        context["historical"] = at is not None
    except DomainError as exc:
        context["problem"] = human_message(exc)
    templates: Templates = request.app.state.templates
    return templates.render(request, "grid_detail.html", context)


def _panel(deps: ServiceDeps, actor: Actor, query: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the details panel shows for a search, and what the script should highlight."""
    found: dict[str, Any] = {"query": query, "codes": [], "exact": ""}
    context: dict[str, Any] = {"can_generate": actor.can(Permission.GRID_WRITE)}
    if not query:
        return context, found
    try:
        if len(query) == GRID_CODE_LENGTH and query.isdigit():
            details = grid_queries.grid_details(deps, actor, query)
            context.update(_details(deps, actor, details))
            found.update(codes=[query] if details.in_force else [], exact=query)
            return context, found
        result = grid_queries.search_grids(deps, actor, query)
    except DomainError as exc:
        context["problem"] = human_message(exc)
        return context, found
    found["codes"] = [m.code for m in result.matches]
    if result.total == 1:
        only = result.matches[0].code
        context.update(_details(deps, actor, grid_queries.grid_details(deps, actor, only)))
        found["exact"] = only
    else:
        context["result"] = result
    return context, found


def _details(deps: ServiceDeps, actor: Actor, details: grid_queries.GridDetails) -> dict[str, Any]:
    """Template context of the details panel: the grid and its attributes, labelled."""
    labels = shift_labels(shifts.shift_names(deps, actor))
    shown = {k: v for k, v in details.grid.attributes.items() if k not in ("area_m2", "name")}
    attributes = [
        (gettext_(ATTRIBUTE_LABELS[key]) if key in ATTRIBUTE_LABELS else key, value)
        for key, value in sorted(
            shown.items(), key=lambda kv: (kv[0] not in ATTRIBUTE_LABELS, kv[0])
        )
        if value not in (None, "")
    ]
    deviation = f"{details.deviation_percent:+.1f}%".replace("-", "−")
    people = [
        (
            gettext_(POST_LABELS[Post(r.assignment.post)]),
            gettext_(VIA_LABELS.get(r.via, r.via)),
            r.assignment,
            labels.get(r.assignment.shift, r.assignment.shift),
        )
        for r in details.responsible
    ]
    return {
        "details": details,
        "attributes": attributes,
        "deviation": deviation,
        "people": people,
        "covered": any(Post(r.assignment.post) in CELL_POSTS for r in details.responsible),
    }


def _classes(figure: Figure, breaks: list[float]) -> list[dict[str, Any]]:
    """Choropleth classes: each one's upper bound (None: open) and its legend label."""
    uppers: list[float | None] = [*breaks, None]
    out = []
    for i, upper in enumerate(uppers):
        lower = breaks[i - 1] if i else None
        out.append({"upper": upper, "label": _class_label(figure, lower, upper)})
    return out


def _class_label(figure: Figure, lower: float | None, upper: float | None) -> str:
    """'≤ a', 'a – b' or '> b', in the figure's own format."""
    if figure in (Figure.REDIVISIONS, Figure.PEOPLE):
        return f"{upper:.0f}" if upper is not None else f"≥ {(lower or 0) + 1:.0f}"

    def fmt(value: float) -> str:
        if figure is Figure.DEVIATION:
            return f"{value:+.0f}%".replace("-", "−") if value else "0%"
        return f"{value:,.0f}"

    if lower is None and upper is None:
        return gettext_("all")
    if lower is None:
        assert upper is not None
        return f"≤ {fmt(upper)}"
    if upper is None:
        return f"> {fmt(lower)}"
    return f"{fmt(lower)} – {fmt(upper)}"


def _config(
    settings: Settings, deps: ServiceDeps, actor: Actor, found: dict[str, Any]
) -> dict[str, Any]:
    """What grid_map.js needs: sources, basemap, the initial search, the words."""
    crs = "&crs=GCJ02" if needs_gcj02_shift(settings) else ""
    others = [
        {"code": v.code, "name": v.name, "kind": v.kind}
        for v in layers.list_layers(deps, actor)
        if v.code != UNIT_LAYER and v.is_active and v.cells
    ]
    return {
        "layers": [
            {**layer, "source": f"/grids/cells.geojson?layer={layer['code']}{crs}"}
            for layer in [
                {"code": UNIT_LAYER, "name": gettext_(UNIT_GRIDS), "kind": "unit"},
                *others,
            ]
        ],
        "divisions": (
            f"/map/divisions.geojson?level=community{crs}"
            if actor.can(Permission.MAP_VIEW)
            else None
        ),
        "figures": "/grids/figures.json",
        "uncovered": "/api/v1/responsibility/uncovered",
        "detail": "/grids/{code}/detail",
        "basemap": basemap_config(settings),
        "found": found,
        "searchEvent": SEARCH_EVENT,
        "text": {key: gettext_(msgid) for key, msgid in SCRIPT_TEXT.items()},
    }


def _feature(code: str, name: str, geometry: str) -> str:
    """One GeoJSON feature as text, its geometry already serialised."""
    properties = json.dumps({"code": code, "name": name}, ensure_ascii=False)
    return f'{{"type":"Feature","id":{json.dumps(code)},"geometry":{geometry},"properties":{properties}}}'


def _json(request: Request, body: bytes) -> Response:
    """A JSON response, gzipped when the client takes it (GeoJSON of ~3,600 grids is ~1 MB)."""
    headers = {"Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=5)
    return Response(body, media_type="application/json", headers=headers)
