"""The map: district, subdistricts and communities in the user's data scope, over an optional
basemap, with the component layer (部件图层: clusters and points, a filter panel, details)."""

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
from gridcity.domain.components import ComponentState
from gridcity.domain.coords import FloatArray, wgs84_to_gcj02_array
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import NotFound
from gridcity.services import component_map, divisions
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
# Words of the component layer and its details panel (component_map.po).
COMPONENT_TEXT = {
    "components": N_("Components"),
    "loadingComponents": N_("Loading components…"),
    "componentsFailed": N_("The components could not be loaded"),
    "nearby": N_("Components nearby"),
    "noneNearby": N_("No component within %(m)s m"),
    "failed": N_("The components could not be loaded"),
    "detailsFailed": N_("The details could not be loaded: %(reason)s"),
    "loadingDetails": N_("Loading details…"),
    "identifier": N_("Identifier"),
    "class": N_("Class"),
    "state": N_("State"),
    "competent": N_("Competent department"),
    "owner": N_("Owner"),
    "maintainer": N_("Maintainer"),
    "grid": N_("Unit grid"),
    "community": N_("Community"),
    "census_date": N_("Census date"),
    "changed_on": N_("Change date"),
    "data_source": N_("Data source"),
    "accuracy": N_("Position accuracy"),
    "position_text": N_("Position description"),
    "note": N_("Note"),
    "attributes": N_("Attributes"),
    "lonlat": N_("Longitude, latitude"),
    "version": N_("Version"),
    "updated_at": N_("Last change"),
    "history": N_("History"),
    "noHistory": N_("No changes recorded"),
    "historyFailed": N_("The history could not be loaded"),
    "close": N_("Close"),
    # History actions (the inventory's created / updated / state_changed).
    "action_created": N_("Created"),
    "action_updated": N_("Updated"),
    "action_state_changed": N_("State changed"),
}
STATE_LABELS = {
    ComponentState.INTACT: N_("Intact"),
    ComponentState.DAMAGED: N_("Damaged"),
    ComponentState.LOST: N_("Lost"),
    ComponentState.OCCUPIED: N_("Occupied"),
    ComponentState.ABANDONED: N_("Abandoned"),
    ComponentState.REMOVED: N_("Removed"),
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
    config = _config(settings, focused)
    components = (
        _components(settings, deps, actor) if actor.can(Permission.COMPONENT_READ) else None
    )
    if components is not None:
        config["components"] = components
        config["text"].update({key: gettext_(msgid) for key, msgid in COMPONENT_TEXT.items()})
    context = {
        "config": config,
        "components": components,
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


def _components(settings: Settings, deps: ServiceDeps, actor: Actor) -> dict[str, Any]:
    """What the component layer and its filter panel need: where tiles and details come from,
    the classes and departments in the actor's scope (with counts) and the states."""
    crs = "GCJ02" if needs_gcj02_shift(settings) else "WGS84"
    choices = component_map.filter_choices(deps, actor, crs=crs)
    return {
        "tiles": "/api/v1/components/tiles/{z}/{x}/{y}",
        "near": "/api/v1/components/near",
        "detail": "/api/v1/components/{identifier}",
        "history": "/api/v1/components/{identifier}/history",
        "crs": crs,
        "classes": [
            {
                "code": c.code,
                "major": c.major,
                "name": c.name,
                "initials": c.initials,
                "count": c.count,
            }
            for c in choices.classes
        ],
        "majors": choices.majors,
        "departments": [
            {"id": d.id, "name": d.name, "count": d.count} for d in choices.departments
        ],
        "states": [
            {
                "value": state.value,
                "label": gettext_(label),
                "shown": state is not ComponentState.REMOVED,
            }
            for state, label in STATE_LABELS.items()
        ],
    }
