"""The component map layer: Web-Mercator tiles of clusters or points, and the components near a
point (for picking one). Answers are compact column-wise JSON, gzipped when the client takes
it, with an ETag that changes only when the inventory (or the filter, or the caller's data
scope) does, so a browser re-uses its tiles until then."""

from __future__ import annotations

import gzip
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gridcity.adapters.component_index import Points
from gridcity.adapters.component_tiling import STATES
from gridcity.config import BasemapCrs
from gridcity.services import component_map
from gridcity.services.component_map import TileView
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps

# One flat router (paths spelled out) so that route walkers such as the access matrix see it.
router = APIRouter(responses=ERRORS, tags=["components"])

GZIP_MIN_BYTES = 500  # as Starlette's GZipMiddleware: smaller bodies gain nothing
DECIMALS = 7  # ~1 cm
CLASS_HELP = "Class codes (repeat the parameter); two digits select a whole major class"
STATE_HELP = "States (repeat): intact, damaged, lost, occupied, abandoned, removed, or 完好…"
DEPARTMENT_HELP = "Competent department ids (repeat)"
REMOVED_HELP = "Also show removed components (the default shows every other state)"
CRS_HELP = "Coordinates of the map: WGS84/CGCS2000 (default) or GCJ02 (the basemap's)"


class PointsOut(BaseModel):
    """One entry per component, column by column (the same index in every list)."""

    identifier: list[str]
    lon: list[float]
    lat: list[float]
    class_code: list[str]
    state: list[str]


class ClustersOut(BaseModel):
    """One entry per non-empty cell of the tile's grid, column by column."""

    lon: list[float] = Field(description="Mean longitude of the cluster's components")
    lat: list[float] = Field(description="Mean latitude of the cluster's components")
    count: list[int]
    states: list[list[int]] = Field(description="Counts per state, in the order of state_order")
    classes: list[list[tuple[str, int]]] = Field(description="Up to 3 most frequent classes")


class TileOut(BaseModel):
    """A tile's components that pass the filters: ``points`` when there are at most 2,000 of
    them (from zoom 15; below it at most 256), else ``clusters``; ``seq`` is the inventory's
    change counter the answer reflects."""

    z: int
    x: int
    y: int
    seq: int
    kind: str = Field(examples=["clusters"])
    total: int
    cells: int = Field(description="The tile is split into cells × cells cluster cells")
    state_order: list[str]
    points: PointsOut | None = None
    clusters: ClustersOut | None = None


class NearOut(BaseModel):
    """A component near the point asked about."""

    identifier: str
    name: str
    class_code: str
    state: str
    lon: float
    lat: float
    distance_m: float


class NearListOut(BaseModel):
    """Components near a point, nearest first."""

    seq: int
    items: list[NearOut]


def _rounded(values: Any) -> list[float]:
    rounded: list[float] = np.round(values, DECIMALS).tolist()
    return rounded


def _points_out(points: Points) -> dict[str, Any]:
    return {
        "identifier": points.identifiers,
        "lon": _rounded(points.x),
        "lat": _rounded(points.y),
        "class_code": points.class_codes,
        "state": points.states,
    }


def tile_payload(view: TileView) -> dict[str, Any]:
    """The JSON of a tile (built by hand: through pydantic, 2,000 points take milliseconds)."""
    payload: dict[str, Any] = {
        "z": view.z,
        "x": view.x,
        "y": view.y,
        "seq": view.seq,
        "kind": view.kind,
        "total": view.total,
        "cells": view.cells,
        "state_order": list(STATES),
    }
    if view.points is not None:
        payload["points"] = _points_out(view.points)
    if view.clusters is not None:
        found = view.clusters
        payload["clusters"] = {
            "lon": _rounded(found.x),
            "lat": _rounded(found.y),
            "count": found.count.tolist(),
            "states": found.states.tolist(),
            "classes": found.classes,
        }
    return payload


def _json(request: Request, payload: dict[str, Any], headers: dict[str, str]) -> Response:
    body = orjson.dumps(payload)
    headers = {"Vary": "Accept-Encoding", **headers}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=5)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/components/tiles/{z}/{x}/{y}",
    response_model=TileOut,
    summary="Components of a map tile, as clusters or points",
    responses={304: {"description": "The tile is unchanged since the ETag sent"}},
)
def component_tile(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    z: int,
    x: int,
    y: int,
    class_code: list[str] = Query([], alias="class", description=CLASS_HELP),
    state: list[str] = Query([], description=STATE_HELP),
    department: list[int] = Query([], description=DEPARTMENT_HELP),
    include_removed: bool = Query(False, description=REMOVED_HELP),
    crs: BasemapCrs = Query(BasemapCrs.WGS84, description=CRS_HELP),
    cells: int = Query(component_map.DEFAULT_CELLS, description="Cluster cells per tile side"),
) -> Response:
    """Web-Mercator tile z/x/y (as Leaflet and OpenStreetMap number them) of the components in
    your data scope. 422 ``invalid_tile`` for a tile that does not exist."""
    view = component_map.component_tile(
        deps,
        actor,
        z,
        x,
        y,
        class_codes=class_code,
        states=state,
        department_ids=department,
        include_removed=include_removed,
        crs=crs.value,
        cells=cells,
    )
    etag = f'"{view.tag}"'
    # private: the answer depends on the caller's data scope; no-cache: revalidate each time
    # (a 304 costs one counter query), so a change shows at once.
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return _json(request, tile_payload(view), headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare as strong, RFC 9110)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


@router.get(
    "/components/near",
    response_model=NearListOut,
    summary="Components near a point (to pick one on the map)",
)
def components_near(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    lon: float = Query(ge=-180, le=180, allow_inf_nan=False),
    lat: float = Query(ge=-90, le=90, allow_inf_nan=False),
    radius: float = Query(30.0, description="Metres, at most 500"),
    limit: int = Query(10, description="At most 50"),
    class_code: list[str] = Query([], alias="class", description=CLASS_HELP),
    state: list[str] = Query([], description=STATE_HELP),
    department: list[int] = Query([], description=DEPARTMENT_HELP),
    include_removed: bool = Query(False, description=REMOVED_HELP),
    crs: BasemapCrs = Query(BasemapCrs.WGS84, description=CRS_HELP),
) -> Response:
    """Nearest first, within your data scope; lon/lat and the answer in the map's coordinates."""
    found = component_map.components_near(
        deps,
        actor,
        lon,
        lat,
        radius_m=radius,
        limit=limit,
        class_codes=class_code,
        states=state,
        department_ids=department,
        include_removed=include_removed,
        crs=crs.value,
    )
    payload = {
        "seq": found.seq,
        "items": [
            {
                "identifier": c.identifier,
                "name": c.name,
                "class_code": c.class_code,
                "state": c.state,
                "lon": round(c.lon, DECIMALS),
                "lat": round(c.lat, DECIMALS),
                "distance_m": c.distance_m,
            }
            for c in found.items
        ],
    }
    return _json(request, payload, {"Cache-Control": "private, no-cache"})
