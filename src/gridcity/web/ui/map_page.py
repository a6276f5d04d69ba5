"""The map: district, subdistricts and communities in the user's data scope, over an optional basemap."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from gridcity.config import BasemapCrs, Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.coords import FloatArray, wgs84_to_gcj02_array
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import NotFound
from gridcity.services import divisions
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import ApiActor, Deps, PageActor
from gridcity.web.i18n import N_, gettext_

router = APIRouter(prefix="/map")
_FULL_CODE = re.compile(r"^[0-9]{6}([0-9]{3}){0,2}$")
API_SOURCE = "/api/v1/divisions/geojson"
SHIFTED_SOURCE = "/map/divisions.geojson?crs=GCJ02"
# Words the script shows, translated here so that map.js needs no catalog of its own.
SCRIPT_TEXT = {
    "district": N_("District"),
    "subdistrict": N_("Subdistrict"),
    "community": N_("Community"),
    "code": N_("Code"),
    "area": N_("Area (km²)"),
    "labels": N_("Name labels"),
    "loading": N_("Loading boundaries…"),
    "failed": N_("The boundaries could not be loaded"),
    "empty": N_("No boundaries in your data scope yet"),
}


@router.get("", response_class=HTMLResponse)
def map_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    focus: str = Query("", max_length=12),
) -> Response:
    """The map page; ``?focus=<code>`` zooms to one division and highlights it."""
    require(actor, Permission.MAP_VIEW)
    settings: Settings = request.app.state.container.settings
    focused, notice = _focus(deps, actor, focus.strip())
    context = {
        "config": _config(settings, focused),
        "focused": focused,
        "flashes": [("error", notice)] if notice else [],
    }
    return request.app.state.templates.render(request, "map.html", context)


@router.get("/divisions.geojson")
def divisions_geojson(
    actor: ApiActor,
    deps: Deps,
    level: DivisionLevel | None = None,
    crs: BasemapCrs = BasemapCrs.WGS84,
) -> dict[str, Any]:
    """Boundaries in scope, in the coordinates of the basemap (GCJ-02 tiles need a shift)."""
    collection = divisions.boundaries_geojson(deps, actor, level=level)
    if crs is BasemapCrs.GCJ02:
        for feature in collection["features"]:
            feature["geometry"] = shift_to_gcj02(feature["geometry"])
    return collection


def shift_to_gcj02(geometry: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON geometry in CGCS2000/WGS-84 lon/lat, moved into GCJ-02 for display (~1 cm)."""

    def shift(xy: FloatArray) -> FloatArray:
        return np.round(wgs84_to_gcj02_array(xy), 7)

    return dict(mapping(shapely.transform(shape(geometry), shift)))


def display_shapes(settings: Settings, shapes: Sequence[BaseGeometry]) -> list[dict[str, Any]]:
    """Stored lon/lat shapes as GeoJSON geometries for a map over the basemap: 7 decimals
    (~1 cm), moved into GCJ-02 when its tiles are drawn in it."""
    shift = needs_gcj02_shift(settings)

    def display(xy: FloatArray) -> FloatArray:
        return np.round(wgs84_to_gcj02_array(xy) if shift else xy, 7)

    drawn = shapely.transform(np.asarray(shapes, dtype=object), display)
    return [dict(mapping(shapely.set_precision(g, 1e-7))) for g in drawn]


def _focus(deps: ServiceDeps, actor: Actor, code: str) -> tuple[divisions.DivisionView | None, str]:
    """The division to focus on, or a notice saying why there is none."""
    if not code:
        return None, ""
    if not _FULL_CODE.match(code):
        return None, gettext_("%(code)s is not a division code") % {"code": code}
    try:
        return divisions.get_division(deps, actor, code), ""
    except NotFound:
        return None, gettext_("Division %(code)s is not in your data scope") % {"code": code}


def basemap_config(settings: Settings) -> dict[str, str] | None:
    """The basemap tile layer for a map script, or None: the map then draws without tiles."""
    if not settings.basemap_url:
        return None
    return {"url": settings.basemap_url, "attribution": settings.basemap_attribution}


def needs_gcj02_shift(settings: Settings) -> bool:
    """True when the basemap's tiles are drawn in GCJ-02, so our shapes must be shifted too."""
    return bool(settings.basemap_url) and settings.basemap_crs is BasemapCrs.GCJ02


def _config(settings: Settings, focused: divisions.DivisionView | None) -> dict[str, Any]:
    """What map.js needs: where the boundaries come from, the basemap, the focus, the words."""
    basemap = basemap_config(settings)
    return {
        "source": SHIFTED_SOURCE if needs_gcj02_shift(settings) else API_SOURCE,
        "levels": [level.value for level in DivisionLevel],
        "basemap": basemap,
        "focus": focused.code if focused else "",
        "text": {key: gettext_(msgid) for key, msgid in SCRIPT_TEXT.items()},
    }
