"""Coordinate conversion between WGS84, CGCS2000, GCJ-02, BD-09 and EPSG systems."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcity.adapters.crs import convert_points, parse_system, system_label
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor

router = APIRouter(prefix="/coords", tags=["coordinates"], responses=ERRORS)

MAX_POINTS = 10_000
# Wide enough for Gauss-Krüger metres with a zone prefix (~4e7); lon/lat ranges are checked
# once the source system is known (422 ``coordinate_out_of_range``).
LIMIT = 1e8
SYSTEMS = "wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn (e.g. EPSG:4548, CGCS2000 Gauss-Krüger 117°E)"
Coordinate = Annotated[float, Field(ge=-LIMIT, le=LIMIT, allow_inf_nan=False)]
SystemName = Annotated[str, Field(min_length=1, max_length=32, description=SYSTEMS)]


class PointOut(BaseModel):
    """One converted point; in a projected system lon/lat are easting/northing in metres."""

    lon: float
    lat: float
    from_: str = Field(serialization_alias="from", examples=["wgs84"])
    to: str = Field(examples=["gcj02"])


class BatchIn(BaseModel):
    """Many points to convert from one system into another."""

    from_: SystemName = Field(alias="from", examples=["gcj02"])
    to: SystemName = Field(examples=["cgcs2000"])
    points: list[tuple[Coordinate, Coordinate]] = Field(
        max_length=MAX_POINTS,
        description=f"[lon, lat] (or [x, y] in metres) pairs, at most {MAX_POINTS:,}",
        examples=[[[116.403963, 39.915119]]],
    )


class BatchOut(BaseModel):
    """The converted points, in the order given."""

    from_: str = Field(serialization_alias="from")
    to: str
    points: list[tuple[float, float]]


def _labels(source: str, target: str) -> tuple[str, str]:
    """Canonical names of both systems (refuses unknown ones first)."""
    return system_label(parse_system(source)), system_label(parse_system(target))


@router.get("/convert", response_model=PointOut, summary="Convert one point")
def convert_point(
    actor: ApiActor,
    lon: float = Query(ge=-LIMIT, le=LIMIT, allow_inf_nan=False, description="Longitude or x"),
    lat: float = Query(ge=-LIMIT, le=LIMIT, allow_inf_nan=False, description="Latitude or y"),
    source: str = Query(alias="from", min_length=1, max_length=32, description=SYSTEMS),
    target: str = Query(alias="to", min_length=1, max_length=32, description=SYSTEMS),
) -> PointOut:
    """Degrees in lon/lat systems, metres in projected EPSG systems; GCJ-02/BD-09 inverses are
    iterative (round trip < 1 mm)."""
    from_label, to_label = _labels(source, target)
    (x, y), *_ = convert_points(np.array([[lon, lat]]), source, target).tolist()
    return PointOut(lon=x, lat=y, from_=from_label, to=to_label)


@router.post("/convert", response_model=BatchOut, summary="Convert many points")
def convert_batch(body: BatchIn, actor: ApiActor) -> BatchOut:
    """Up to 10,000 points in one request; one bad point refuses the whole batch."""
    from_label, to_label = _labels(body.from_, body.to)
    xy = np.array(body.points, dtype=np.float64).reshape(-1, 2)
    converted = convert_points(xy, body.from_, body.to).tolist()
    return BatchOut(from_=from_label, to=to_label, points=[(x, y) for x, y in converted])
