"""Rules a community's set of unit grids must obey before it replaces the current one:
well-formed unique codes of that community, valid polygons, every grid inside the community,
no overlaps, and no gaps ("全覆盖、无缝隙", standards.md §1.2).

All checks run on the stored lon/lat geometries, exactly as they will be stored and located:
containment and gaps are shares of an area, so degrees serve as well as metres; the absolute
overlap tolerance is converted with the community's m² per square degree, which the caller
measures geodesically (so that this module stays free of pyproj).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.boundaries import OUTSIDE_PARENT_TOLERANCE
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grids import MAX_SEQUENCE, community_of, grid_code, validate_grid_code

# Overlap between two grids above this many square metres is a real overlap, not float noise.
OVERLAP_TOLERANCE_M2 = 0.01
# Uncovered share of the community above this (0.01 %) is a real gap.
GAP_TOLERANCE = 1e-4
ATTRIBUTE_SCALARS = (str, int, float, bool, type(None))


def assign_grid_codes(community_code: str, codes: Sequence[str | None]) -> list[str]:
    """The given codes, checked, with each missing one set to the next free sequence in order."""
    if not codes:
        raise InvalidInput("grid_cells_empty", "A re-division needs at least one grid")
    if len(codes) > MAX_SEQUENCE:
        raise InvalidInput(
            "grid_cells_too_many",
            "A community can hold at most %(max)s unit grids, got %(n)s",
            max=MAX_SEQUENCE,
            n=len(codes),
        )
    given = [c for c in codes if c is not None]
    seen: set[str] = set()
    for code in given:
        validate_grid_code(code)
        if community_of(code) != community_code:
            raise InvalidInput(
                "grid_code_community",
                "Grid %(code)s does not belong to community %(community)s",
                code=code,
                community=community_code,
            )
        if code in seen:
            raise InvalidInput("grid_code_duplicate", "Grid code %(code)s appears twice", code=code)
        seen.add(code)
    next_sequence = max((int(c[12:]) for c in given), default=0) + 1
    assigned: list[str] = []
    for wanted in codes:
        if wanted is None:
            wanted = grid_code(community_code, next_sequence)
            next_sequence += 1
        assigned.append(wanted)
    return assigned


def check_cell_shape(code: str, geom: BaseGeometry) -> MultiPolygon:
    """The grid's geometry as a valid, non-empty MultiPolygon, or a refusal naming the grid."""
    if not isinstance(geom, Polygon | MultiPolygon):
        raise InvalidInput(
            "grid_geometry_type",
            "Grid %(code)s must be a Polygon or MultiPolygon, got %(t)s",
            code=code,
            t=geom.geom_type,
        )
    if geom.is_empty or not geom.is_valid:
        raise InvalidInput(
            "grid_geometry_invalid",
            "Grid %(code)s is not a valid polygon: %(why)s",
            code=code,
            why=shapely.is_valid_reason(geom),
        )
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def check_attributes(code: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes as a plain dict of text keys and scalar values, or a refusal naming the key."""
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, ATTRIBUTE_SCALARS):
            raise InvalidInput(
                "grid_attribute_invalid",
                "Grid %(code)s: attribute %(key)s must be text, a number, true/false or empty",
                code=code,
                key=str(key),
            )
        clean[key] = value
    return clean


def check_cover(
    community_code: str,
    community: BaseGeometry,
    codes: Sequence[str],
    cells: Sequence[BaseGeometry],
    *,
    m2_per_unit: float,
) -> None:
    """Refuse grids that leave the community, overlap one another or leave a gap."""
    # Planar areas of the given coordinates times ``m2_per_unit`` are square metres.
    shapes = np.asarray(cells, dtype=object)
    _check_inside(community_code, community, codes, shapes)
    _check_no_overlap(codes, shapes, m2_per_unit)
    _check_no_gap(community_code, community, shapes)


def _check_inside(
    community_code: str, community: BaseGeometry, codes: Sequence[str], shapes: NDArray[np.object_]
) -> None:
    areas = shapely.area(shapes)
    outside = shapely.area(shapely.difference(shapes, community))
    share = np.divide(outside, areas, out=np.zeros_like(outside), where=areas > 0)
    worst = int(np.argmax(share))
    if share[worst] > OUTSIDE_PARENT_TOLERANCE:
        pct = round(float(share[worst]) * 100, 1)
        raise InvalidInput(
            "grid_outside_community",
            "%(pct)s%% of grid %(code)s lies outside community %(community)s",
            pct=pct,
            code=codes[worst],
            community=community_code,
        )


def _check_no_overlap(
    codes: Sequence[str], shapes: NDArray[np.object_], m2_per_unit: float
) -> None:
    first, second = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    pairs = first < second
    first, second = first[pairs], second[pairs]
    if first.size == 0:
        return
    overlap = shapely.area(shapely.intersection(shapes[first], shapes[second])) * m2_per_unit
    worst = int(np.argmax(overlap))
    if overlap[worst] > OVERLAP_TOLERANCE_M2:
        m2 = round(float(overlap[worst]), 2)
        raise InvalidInput(
            "grid_overlap",
            "Grids %(a)s and %(b)s overlap by %(m2)s m²",
            a=codes[int(first[worst])],
            b=codes[int(second[worst])],
            m2=m2,
        )


def _check_no_gap(
    community_code: str, community: BaseGeometry, shapes: NDArray[np.object_]
) -> None:
    if community.area <= 0:
        return
    gap = community.difference(shapely.union_all(shapes)).area / community.area
    if gap > GAP_TOLERANCE:
        pct = round(gap * 100, 3)
        raise InvalidInput(
            "grid_gap",
            "The grids leave %(pct)s%% of community %(community)s uncovered",
            pct=pct,
            community=community_code,
        )
