"""Refusals when a community's set of unit grids replaces the current one: well-formed
unique codes of that community, valid polygons, every grid inside the community, no overlaps,
and no gaps ("全覆盖、无缝隙", standards.md §1.2).

The cover rules and their tolerances live once, in ``grid_validation``; this module raises the
first blocking finding as the write path's refusal. They run on the stored lon/lat geometries,
exactly as they will be stored and located: containment and gaps are shares of an area, so
degrees serve as well as metres; absolute areas are converted with the community's m² per
square degree, which the caller measures geodesically (so that this module stays free of pyproj).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_validation import Finding, FindingKind, cover_findings, polygon_problem
from gridcity.domain.grids import MAX_SEQUENCE, community_of, grid_code, validate_grid_code

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
    why = polygon_problem(geom)
    if why is not None:
        raise InvalidInput(
            "grid_geometry_invalid",
            "Grid %(code)s is not a valid polygon: %(why)s",
            code=code,
            why=why,
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
    """Refuse grids that leave the community, overlap one another or leave a gap: the first
    blocking finding of the rule set (worst crossing, then worst overlap, then the gap)."""
    findings = [
        f
        for f in cover_findings(
            codes, cells, [(community_code, community)], m2_per_unit=m2_per_unit
        )
        if f.blocking
    ]
    for kind in (FindingKind.CROSSES_COMMUNITY, FindingKind.OVERLAP, FindingKind.GAP):
        found = [f for f in findings if f.kind is kind]
        if found:
            raise _refusal(community_code, community, m2_per_unit, found)


def _refusal(
    community_code: str, community: BaseGeometry, m2_per_unit: float, found: list[Finding]
) -> InvalidInput:
    """The write path's refusal for the blocking findings of one kind (the worst one named)."""
    if found[0].kind is FindingKind.CROSSES_COMMUNITY:
        # The grid with the largest share outside, as a share is what the rule limits.
        worst = max(found, key=lambda f: cast(float, f.params["pct"]))
    else:
        worst = max(found, key=lambda f: f.amount_m2)
    if worst.kind is FindingKind.CROSSES_COMMUNITY:
        return InvalidInput(
            "grid_outside_community",
            "%(pct)s%% of grid %(code)s lies outside community %(community)s",
            pct=worst.params["pct"],
            code=worst.code,
            community=community_code,
        )
    if worst.kind is FindingKind.OVERLAP:
        return InvalidInput(
            "grid_overlap",
            "Grids %(a)s and %(b)s overlap by %(m2)s m²",
            a=worst.code,
            b=str(worst.params["other_code"]),
            m2=round(worst.amount_m2, 2),
        )
    gap = sum(f.amount_m2 for f in found) / max(community.area * m2_per_unit, 1e-12)
    return InvalidInput(
        "grid_gap",
        "The grids leave %(pct)s%% of community %(community)s uncovered",
        pct=round(gap * 100, 3),
        community=community_code,
    )
