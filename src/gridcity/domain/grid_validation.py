"""The one rule set of a unit grid layer: codes, geometry, cover and size.

The layer must cover its communities with no gap and no overlap, no grid may cross its
community, codes must be well formed and unique, and sizes must stay within the generation
bounds. Every problem becomes a typed ``Finding``; an empty list means the layer is clean.
Areas up to ``NOISE_M2`` are floating-point noise and never reported. A finding is
``blocking`` when a write must refuse it: ``gridcity grid validate`` lists every finding, the
write path (``grid_cover.check_cover``) raises the first blocking one. Geometries are in
projected metres, or in any planar unit with ``m2_per_unit`` square metres per unit².
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.boundaries import OUTSIDE_PARENT_TOLERANCE
from gridcity.domain.errors import InvalidInput
from gridcity.domain.gridgen import DEFAULT_TARGET_AREA_M2, MAX_SHARE, MIN_SHARE, checked_target
from gridcity.domain.grids import community_of, validate_grid_code

Geoms: TypeAlias = NDArray[np.object_]
NOISE_M2 = 0.01  # overlaps, gaps and crossings up to this area are floating-point noise
# A write refuses a community whose gaps (each over NOISE_M2) add up to more than this share
# (0.01 %) of its area; a grid may reach OUTSIDE_PARENT_TOLERANCE (0.1 %) of its own area
# outside its community (survey noise); overlaps within one community over NOISE_M2 are refused.
GAP_TOLERANCE = 1e-4
_NEIGHBOUR_EDGE_M = 0.1  # cells sharing at least this much boundary are edge neighbours
_SNAP_M = 0.01  # how far apart two boundaries may be and still count as shared


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class FindingKind(StrEnum):
    """What is wrong with a grid layer."""

    GAP = "gap"
    OVERLAP = "overlap"
    CROSSES_COMMUNITY = "crosses_community"
    INVALID_GEOMETRY = "invalid_geometry"
    INVALID_CODE = "invalid_code"
    DUPLICATE_CODE = "duplicate_code"
    AREA_OUTLIER = "area_outlier"
    UNKNOWN_COMMUNITY = "unknown_community"


@dataclass(frozen=True)
class Finding:
    """One problem: its kind, the grid feature (index, code), the area involved and why."""

    kind: FindingKind
    index: int | None  # feature index of the grid; None for a gap
    code: str  # the grid's code, or the community's for a gap
    amount_m2: float  # the area concerned (overlap, gap, outside part, cell); 0 if none
    message: str  # English msgid with %(name)s parameters
    params: Mapping[str, object] = field(default_factory=dict)
    where: tuple[float, float] | None = None  # a point on the problem, in the input's CRS
    blocking: bool = True  # a write refuses it (False: reported only, within the allowance)

    @property
    def text(self) -> str:
        """The English message with its parameters filled in."""
        return self.message % dict(self.params)


def validate_grids(
    grids: Sequence[tuple[str, BaseGeometry | None]],
    communities: Sequence[tuple[str, BaseGeometry]] | None = None,
    *,
    target_area_m2: float = DEFAULT_TARGET_AREA_M2,
) -> list[Finding]:
    """Every problem of a grid layer (code, geometry in metres), checked against communities."""
    target = checked_target(target_area_m2)
    codes = [code for code, _ in grids]
    findings = _code_findings(codes)
    geoms, valid, bad = _geometries(grids)
    findings += bad
    cover, pairs = _cover(codes, geoms, valid, communities, 1.0)
    findings += cover
    findings += _area_outliers(codes, geoms, valid, pairs, target)
    return findings


def cover_findings(
    codes: Sequence[str],
    shapes: Sequence[BaseGeometry],
    communities: Sequence[tuple[str, BaseGeometry]],
    *,
    m2_per_unit: float = 1.0,
) -> list[Finding]:
    """Overlaps, crossings, gaps and unknown communities of valid polygons, in that order."""
    geoms = np.empty(len(shapes), dtype=object)
    geoms[:] = list(shapes)
    return _cover(codes, geoms, np.ones(len(shapes), dtype=bool), communities, m2_per_unit)[0]


def _cover(
    codes: Sequence[str],
    geoms: Geoms,
    valid: NDArray[np.bool_],
    communities: Sequence[tuple[str, BaseGeometry]] | None,
    m2_per_unit: float,
) -> tuple[list[Finding], NDArray[np.intp]]:
    """The cover findings and the intersecting pairs (i < j) of valid grids."""
    tree = shapely.STRtree(geoms[valid])
    index = np.flatnonzero(valid)
    left, right = tree.query(geoms[valid], predicate="intersects")
    pairs = np.column_stack([index[left], index[right]])
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    findings = _overlaps(codes, geoms, pairs, m2_per_unit)
    if communities is None:
        findings += _holes(codes, geoms, index, tree, m2_per_unit)
    else:
        findings += _against_communities(codes, geoms, valid, communities, m2_per_unit)
    return findings, pairs


# --- codes ---------------------------------------------------------------------------------


def _code_findings(codes: Sequence[str]) -> list[Finding]:
    """Malformed codes and codes used by more than one feature."""
    findings: list[Finding] = []
    first: dict[str, int] = {}
    for i, code in enumerate(codes):
        try:
            validate_grid_code(code)
        except InvalidInput as exc:
            findings.append(
                Finding(
                    FindingKind.INVALID_CODE,
                    i,
                    code,
                    0.0,
                    N_("Feature %(index)s: %(code)s is not a valid unit grid code (%(why)s)"),
                    {"index": i, "code": code, "why": str(exc)},
                )
            )
        if code in first:
            findings.append(
                Finding(
                    FindingKind.DUPLICATE_CODE,
                    i,
                    code,
                    0.0,
                    N_("Feature %(index)s repeats the grid code %(code)s of feature %(first)s"),
                    {"index": i, "code": code, "first": first[code]},
                )
            )
        else:
            first[code] = i
    return findings


# --- geometry ------------------------------------------------------------------------------


def _geometries(
    grids: Sequence[tuple[str, BaseGeometry | None]],
) -> tuple[Geoms, NDArray[np.bool_], list[Finding]]:
    """The geometries as an array, which of them are valid polygons, and findings for the rest."""
    geoms = np.empty(len(grids), dtype=object)
    geoms[:] = [geom for _, geom in grids]
    findings: list[Finding] = []
    valid = np.zeros(len(grids), dtype=bool)
    for i, (code, geom) in enumerate(grids):
        why = polygon_problem(geom)
        if why is None:
            valid[i] = True
            continue
        findings.append(
            Finding(
                FindingKind.INVALID_GEOMETRY,
                i,
                code,
                0.0,
                N_("Feature %(index)s (%(code)s): the geometry is not a valid polygon: %(why)s"),
                {"index": i, "code": code, "why": why},
            )
        )
    return geoms, valid, findings


def polygon_problem(geom: BaseGeometry | None) -> str | None:
    """Why a geometry cannot be a unit grid, or None when it can."""
    if geom is None or geom.is_empty:
        return "empty"
    if not isinstance(geom, Polygon | MultiPolygon):
        return str(geom.geom_type)
    if not geom.is_valid:
        return str(shapely.is_valid_reason(geom))
    return None


def _point(geom: BaseGeometry) -> tuple[float, float]:
    """A point on a geometry, for people to find the problem on a map."""
    point = geom.representative_point() if not geom.is_empty else geom.centroid
    return (float(point.x), float(point.y))


def _amount(area: float) -> str:
    """An area in m² as shown in messages."""
    return f"{area:.2f}"


# --- cover ---------------------------------------------------------------------------------


def _overlaps(
    codes: Sequence[str], geoms: Geoms, pairs: NDArray[np.intp], m2_per_unit: float
) -> list[Finding]:
    """Pairs of grids whose interiors share more than the noise; blocking within a community
    (grids of neighbours may each reach a sliver past their shared boundary, see _crossings)."""
    a, b = geoms[pairs[:, 0]], geoms[pairs[:, 1]]
    inner = shapely.relate_pattern(a, b, "2********")
    pairs, a, b = pairs[inner], a[inner], b[inner]
    shared = shapely.intersection(a, b)
    areas = shapely.area(shared) * m2_per_unit
    findings: list[Finding] = []
    for (i, j), area, part in zip(pairs.tolist(), areas.tolist(), shared, strict=True):
        if area > NOISE_M2:
            findings.append(
                Finding(
                    FindingKind.OVERLAP,
                    i,
                    codes[i],
                    area,
                    N_(
                        "Features %(index)s (%(code)s) and %(other)s (%(other_code)s) overlap by %(area)s m²"
                    ),
                    {
                        "index": i,
                        "code": codes[i],
                        "other": j,
                        "other_code": codes[j],
                        "area": _amount(area),
                    },
                    _point(part),
                    blocking=community_of(codes[i]) == community_of(codes[j]),
                )
            )
    return findings


def _gap(code: str, part: BaseGeometry, area: float, message: str, *, blocking: bool) -> Finding:
    """A finding for one uncovered area of ``area`` m²."""
    return Finding(
        FindingKind.GAP,
        None,
        code,
        area,
        message,
        {"code": code, "area": _amount(area)},
        _point(part),
        blocking=blocking,
    )


def _holes(
    codes: Sequence[str],
    geoms: Geoms,
    index: NDArray[np.intp],
    tree: shapely.STRtree,
    m2_per_unit: float,
) -> list[Finding]:
    """Without communities, a gap is a hole inside the union of all grids."""
    if not len(index):
        return []
    findings: list[Finding] = []
    for polygon in shapely.get_parts(shapely.union_all(geoms[index])):
        for ring in getattr(polygon, "interiors", []):
            hole = Polygon(ring)
            area = float(hole.area) * m2_per_unit
            if area <= NOISE_M2:
                continue
            near = tree.query(hole, predicate="intersects")
            code = community_of(codes[int(index[near.min()])]) if len(near) else ""
            message = N_("A gap of %(area)s m² among the grids, next to community %(code)s")
            findings.append(_gap(code, hole, area, message, blocking=True))
    return findings


def _against_communities(
    codes: Sequence[str],
    geoms: Geoms,
    valid: NDArray[np.bool_],
    communities: Sequence[tuple[str, BaseGeometry]],
    m2_per_unit: float,
) -> list[Finding]:
    """Grids of unknown communities, grids reaching outside theirs, and uncovered community area
    (blocking when a community's gaps add up to more than GAP_TOLERANCE of it)."""
    boundary = dict(communities)
    members: dict[str, list[int]] = {code: [] for code in boundary}
    findings: list[Finding] = []
    for i in np.flatnonzero(valid).tolist():
        community = community_of(codes[i])
        if community in members:
            members[community].append(i)
        else:
            findings.append(
                Finding(
                    FindingKind.UNKNOWN_COMMUNITY,
                    i,
                    codes[i],
                    0.0,
                    N_(
                        "Feature %(index)s (%(code)s): community %(community)s is not among the communities"
                    ),
                    {"index": i, "code": codes[i], "community": community},
                    _point(geoms[i]),
                )
            )
    findings += _crossings(codes, geoms, members, boundary, m2_per_unit)
    message = N_("%(area)s m² of community %(code)s is covered by no grid")
    for code, area in boundary.items():
        covered = shapely.union_all(geoms[members[code]]) if members[code] else Polygon()
        parts = shapely.get_parts(shapely.difference(area, covered))
        amounts = shapely.area(parts) * m2_per_unit
        real = amounts > NOISE_M2
        blocking = float(amounts[real].sum()) > GAP_TOLERANCE * float(area.area) * m2_per_unit
        findings += [
            _gap(code, part, amount, message, blocking=blocking)
            for part, amount in zip(parts[real], amounts[real].tolist(), strict=True)
        ]
    return findings


def _crossings(
    codes: Sequence[str],
    geoms: Geoms,
    members: Mapping[str, list[int]],
    boundary: Mapping[str, BaseGeometry],
    m2_per_unit: float,
) -> list[Finding]:
    """Grids with more than the noise outside their own community; blocking over
    OUTSIDE_PARENT_TOLERANCE of the grid's own area."""
    cells = [i for group in members.values() for i in group]
    if not cells:
        return []
    areas = np.asarray([boundary[community_of(codes[i])] for i in cells], dtype=object)
    outside = shapely.difference(geoms[cells], areas)
    amounts = shapely.area(outside) * m2_per_unit
    shares = amounts / np.maximum(shapely.area(geoms[cells]) * m2_per_unit, 1e-12)
    findings: list[Finding] = []
    for i, part, amount, share in zip(
        cells, outside, amounts.tolist(), shares.tolist(), strict=True
    ):
        if amount > NOISE_M2:
            findings.append(
                Finding(
                    FindingKind.CROSSES_COMMUNITY,
                    i,
                    codes[i],
                    amount,
                    N_(
                        "Feature %(index)s (%(code)s) reaches %(area)s m² outside its community %(community)s"
                    ),
                    {
                        "index": i,
                        "code": codes[i],
                        "area": _amount(amount),
                        "community": community_of(codes[i]),
                        "pct": round(share * 100, 1),
                    },
                    _point(part),
                    blocking=share > OUTSIDE_PARENT_TOLERANCE,
                )
            )
    return findings


# --- sizes ---------------------------------------------------------------------------------


def _area_outliers(
    codes: Sequence[str],
    geoms: Geoms,
    valid: NDArray[np.bool_],
    pairs: NDArray[np.intp],
    target: float,
) -> list[Finding]:
    """Grids outside 0.3–3 × the target; a small grid with no neighbour in its community is a
    separate part of it (an enclave, an island) and may be as small as it is."""
    low, high = MIN_SHARE * target, MAX_SHARE * target
    areas = np.zeros(len(codes))
    areas[valid] = shapely.area(geoms[valid])
    outliers = np.flatnonzero(valid & ((areas < low) | (areas > high)))
    alone = _without_neighbour(codes, geoms, pairs, outliers[areas[outliers] < low])
    findings: list[Finding] = []
    for i in outliers.tolist():
        if i in alone:
            continue
        findings.append(
            Finding(
                FindingKind.AREA_OUTLIER,
                i,
                codes[i],
                float(areas[i]),
                N_("Feature %(index)s (%(code)s) has %(area)s m², outside %(low)s–%(high)s m²"),
                {
                    "index": i,
                    "code": codes[i],
                    "area": _amount(float(areas[i])),
                    "low": _amount(low),
                    "high": _amount(high),
                },
                _point(geoms[i]),
                blocking=False,  # sizes are not refused: a city's own survey decides
            )
        )
    return findings


def _without_neighbour(
    codes: Sequence[str], geoms: Geoms, pairs: NDArray[np.intp], small: NDArray[np.intp]
) -> set[int]:
    """Those of the given grids that share no edge with a grid of their own community."""
    involved = np.isin(pairs[:, 0], small) | np.isin(pairs[:, 1], small)
    pairs = pairs[involved]
    same = np.asarray(
        [community_of(codes[i]) == community_of(codes[j]) for i, j in pairs.tolist()], dtype=bool
    )
    pairs = pairs[same]
    a, b = geoms[pairs[:, 0]], geoms[pairs[:, 1]]
    near = shapely.intersection(shapely.boundary(a), shapely.buffer(b, _SNAP_M))
    touching = pairs[shapely.length(near) >= _NEIGHBOUR_EDGE_M]
    return set(small.tolist()) - set(touching.ravel().tolist())
