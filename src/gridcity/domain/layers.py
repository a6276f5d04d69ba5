"""Grid layers besides the unit grids: each scheme has its own code format and coverage rule.

A layer's *scheme* decides how its cells are coded and checked (standards.md §1.3; seeds 篇3,
篇5, 篇6). Every code is a marker, the code of the division the cell belongs to and a sequence,
so a code says where its cell lies and a data scope filters cells by code prefix. The seed
formats (a city may edit marker, division and sequence digits: ``domain/layer_schemes.py``):

==============  ======  ===========  ====  ==========  ===================================
scheme          marker  division     seq   cells are   coverage rule
==============  ======  ===========  ====  ==========  ===================================
responsibility  ZR      subdistrict  2     unit grids  a unit grid in at most one cell
social          SH      community    3     polygons    inside its community, no overlap
enforcement     ZF      district     3     polygons    inside the district, no overlap
sanitation      HW      district     3     polygons    inside the district, no overlap
fire_big        XF      subdistrict  –     division    the whole subdistrict
fire_medium     XF      community    –     division    the whole community
fire_small      XF      community    2     polygons    tile their community, no overlap
==============  ======  ===========  ====  ==========  ===================================

The three fire schemes form one hierarchy by code prefix: ``XF110101001`` (big, a subdistrict)
⊃ ``XF110101001001`` (medium, a community) ⊃ ``XF11010100100101`` (small, a responsibility zone
of that community). Social-service grids keep a *static* code (the cell's identity, kept
across re-drawings) and a *dynamic* code (community, drawing date and position in reading
order) that changes with each drawing (seed 篇3: 静态码 + 动态码).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridcity.domain.boundaries import OUTSIDE_PARENT_TOLERANCE
from gridcity.domain.divisions import CODE_LENGTH, DivisionLevel, validate_code
from gridcity.domain.errors import InvalidInput
from gridcity.domain.grid_validation import GAP_TOLERANCE
from gridcity.domain.grids import validate_grid_code

# Drawn layers are snapped less exactly than generated unit grids: two cells may overlap by
# 1 m², or by the share of the smaller one that a division may stick out of its parent (the
# noise neighbouring divisions already carry); the locator answers the lowest code there.
LAYER_OVERLAP_TOLERANCE_M2 = 1.0
MAX_CELLS = 10_000
DYNAMIC_CODE_MAX = 32
_LAYER_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


class LayerKind(StrEnum):
    """What a layer is for (the ``grid_layer.kind`` column)."""

    UNIT = "unit"
    RESPONSIBILITY = "responsibility"
    SOCIAL = "social"
    ENFORCEMENT = "enforcement"
    SANITATION = "sanitation"
    FIRE = "fire"


class Scheme(StrEnum):
    """How a layer's cells are coded and checked; the fire kind has one scheme per level."""

    UNIT = "unit"
    RESPONSIBILITY = "responsibility"
    SOCIAL = "social"
    ENFORCEMENT = "enforcement"
    SANITATION = "sanitation"
    FIRE_BIG = "fire_big"
    FIRE_MEDIUM = "fire_medium"
    FIRE_SMALL = "fire_small"


class CellShape(StrEnum):
    """Where a cell's geometry comes from."""

    POLYGON = "polygon"  # drawn and given with the cell
    UNIT_GRIDS = "unit_grids"  # the union of whole unit grids, listed with the cell
    DIVISION = "division"  # the boundary of the division the code names


@dataclass(frozen=True)
class LayerRules:
    """Code format and coverage rule of one scheme."""

    scheme: Scheme
    kind: LayerKind
    marker: str
    level: DivisionLevel
    sequence_digits: int
    shape: CellShape
    tiles_division: bool = False
    dynamic_code: bool = False

    @property
    def division_digits(self) -> int:
        """Length of the division code inside a cell code."""
        return CODE_LENGTH[self.level]

    @property
    def writable(self) -> bool:
        """False for unit grids, which are re-divided per community by the grid service."""
        return self.scheme is not Scheme.UNIT

    @property
    def pattern(self) -> str:
        """The code format as a regular expression (for people and API docs)."""
        sequence = f"[0-9]{{{self.sequence_digits}}}" if self.sequence_digits else ""
        return f"^{self.marker}[0-9]{{{self.division_digits}}}{sequence}$"

    def code(self, division: str, sequence: int = 0) -> str:
        """The cell code of the n-th cell (1-based) of a division; whole-division cells take no n."""
        if not self.sequence_digits:
            return f"{self.marker}{division}"
        return f"{self.marker}{division}{sequence:0{self.sequence_digits}d}"

    def division_of(self, code: str) -> str:
        """The division code written inside a (well-formed) cell code."""
        start = len(self.marker)
        return code[start : start + self.division_digits]

    def scope_prefix(self, division_prefix: str) -> str:
        """Cell-code prefix of the cells lying in or around a division of a data scope."""
        return self.marker + division_prefix[: self.division_digits]

    def check_code(self, code: str) -> str:
        """The code if it follows the scheme, else a refusal naming the expected format."""
        if self.scheme is Scheme.UNIT:
            return validate_grid_code(code)
        if not re.match(self.pattern, code or ""):
            raise InvalidInput(
                "layer_cell_code_format",
                "Cell code %(code)s does not match the layer's code format %(pattern)s",
                code=code,
                pattern=self.pattern,
            )
        validate_code(self.division_of(code), self.level)
        if self.sequence_digits and int(code[-self.sequence_digits :]) == 0:
            raise InvalidInput(
                "layer_cell_code_sequence", "The sequence of cell %(code)s must not be 0", code=code
            )
        return code


# A layer stored without a scheme row takes the one scheme of its kind (fire has three).
DEFAULT_SCHEME: dict[str, Scheme] = {
    kind.value: scheme
    for kind, scheme in (
        (LayerKind.UNIT, Scheme.UNIT),
        (LayerKind.RESPONSIBILITY, Scheme.RESPONSIBILITY),
        (LayerKind.SOCIAL, Scheme.SOCIAL),
        (LayerKind.ENFORCEMENT, Scheme.ENFORCEMENT),
        (LayerKind.SANITATION, Scheme.SANITATION),
    )
}


def parse_scheme(value: str) -> Scheme:
    """A scheme by name, or a refusal listing the known ones."""
    try:
        return Scheme(value)
    except ValueError:
        raise InvalidInput(
            "layer_scheme_unknown",
            "Unknown layer scheme %(scheme)s; known: %(known)s",
            scheme=value,
            known=", ".join(s.value for s in Scheme if s is not Scheme.UNIT),
        ) from None


def check_layer_code(code: str) -> str:
    """A layer code: lower-case letters, digits, ``_`` and ``-``, 2–32 characters."""
    if not _LAYER_CODE.match(code or ""):
        raise InvalidInput(
            "layer_code_format",
            "A layer code has 2 to 32 lower-case letters, digits, _ or -, starting with a letter; got %(code)s",
            code=code,
        )
    return code


# --- codes of a drawing ---------------------------------------------------------------------


def plan_codes(rules: LayerRules, given: Sequence[tuple[str | None, str | None]]) -> list[str]:
    """Cell codes of a drawing from (code, division) pairs: codes checked, missing ones numbered.

    A cell without a code takes the next free sequence of the division given with it.
    """
    if len(given) > MAX_CELLS:
        raise InvalidInput(
            "layer_cells_too_many",
            "A layer holds at most %(max)s cells, got %(n)s",
            max=MAX_CELLS,
            n=len(given),
        )
    seen: set[str] = set()
    for code, _division in given:
        if code is not None:
            rules.check_code(code)
            if code in seen:
                raise InvalidInput(
                    "layer_cell_code_duplicate", "Cell code %(code)s appears twice", code=code
                )
            seen.add(code)
    taken: dict[str, int] = {}
    for code in seen:
        division = rules.division_of(code)
        sequence = int(code[-rules.sequence_digits :]) if rules.sequence_digits else 0
        taken[division] = max(taken.get(division, 0), sequence)
    return [
        wanted if wanted is not None else _next_code(rules, where, taken, seen)
        for wanted, where in given
    ]


def _next_code(
    rules: LayerRules, division: str | None, taken: dict[str, int], seen: set[str]
) -> str:
    """The next free code of a division (or the division's own cell for whole-division schemes)."""
    if not division:
        raise InvalidInput(
            "layer_cell_needs_code",
            "A cell without a code needs the code of its division (%(digits)s digits)",
            digits=rules.division_digits,
        )
    validate_code(division, rules.level)
    sequence = taken.get(division, 0) + 1
    if rules.sequence_digits and sequence >= 10**rules.sequence_digits:
        raise InvalidInput(
            "layer_cell_sequence_full",
            "%(division)s already holds the most cells its code allows",
            division=division,
        )
    code = rules.code(division, sequence)
    if code in seen:
        raise InvalidInput(
            "layer_cell_code_duplicate", "Cell code %(code)s appears twice", code=code
        )
    taken[division] = sequence
    seen.add(code)
    return code


def check_members(
    rules: LayerRules, codes: Sequence[str], members: Sequence[Sequence[str]]
) -> None:
    """Unit-grid cells: each lists unit grids of its own division, and no grid is in two cells."""
    owner: dict[str, str] = {}
    for code, grids in zip(codes, members, strict=True):
        if not grids:
            raise InvalidInput(
                "layer_cell_no_grids", "Cell %(code)s must list at least one unit grid", code=code
            )
        division = rules.division_of(code)
        for grid in grids:
            validate_grid_code(grid)
            if not grid.startswith(division):
                raise InvalidInput(
                    "layer_grid_outside_division",
                    "Unit grid %(grid)s of cell %(code)s lies outside %(division)s",
                    grid=grid,
                    code=code,
                    division=division,
                )
            if grid in owner:
                raise InvalidInput(
                    "layer_grid_twice",
                    "Unit grid %(grid)s is in both cell %(first)s and cell %(second)s",
                    grid=grid,
                    first=owner[grid],
                    second=code,
                )
            owner[grid] = code


# --- geometry of a drawing ------------------------------------------------------------------


def check_geometry(
    rules: LayerRules,
    codes: Sequence[str],
    shapes: Sequence[BaseGeometry],
    divisions: Mapping[str, BaseGeometry],
    *,
    m2_per_unit: float,
) -> None:
    """Cells lie inside their division, do not overlap and, where the scheme says, tile it.

    Shapes and division boundaries are lon/lat; ``m2_per_unit`` converts planar areas to m².
    """
    if not codes or rules.shape is CellShape.DIVISION:
        return  # whole divisions are checked as divisions, not again as cells
    array = np.asarray(shapes, dtype=object)
    parents = np.asarray([divisions[rules.division_of(c)] for c in codes], dtype=object)
    _check_inside(codes, array, parents, [rules.division_of(c) for c in codes])
    _check_no_overlap(codes, array, m2_per_unit)
    if rules.tiles_division:
        _check_tiles(rules, codes, array, divisions)


def _check_inside(
    codes: Sequence[str],
    shapes: NDArray[np.object_],
    parents: NDArray[np.object_],
    division_codes: Sequence[str],
) -> None:
    """Refuse the cell sticking out of its division the most, beyond the tolerance."""
    areas = shapely.area(shapes)
    outside = shapely.area(shapely.difference(shapes, parents))
    share = np.divide(outside, areas, out=np.zeros_like(outside), where=areas > 0)
    worst = int(np.argmax(share))
    if share[worst] > OUTSIDE_PARENT_TOLERANCE:
        raise InvalidInput(
            "layer_cell_outside_division",
            "%(pct)s%% of cell %(code)s lies outside %(division)s",
            pct=round(float(share[worst]) * 100, 1),
            code=codes[worst],
            division=division_codes[worst],
        )


def _check_no_overlap(
    codes: Sequence[str], shapes: NDArray[np.object_], m2_per_unit: float
) -> None:
    """Refuse the pair of cells overlapping the most beyond drawing noise."""
    first, second = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    pairs = first < second
    first, second = first[pairs], second[pairs]
    if first.size == 0:
        return
    overlap = shapely.area(shapely.intersection(shapes[first], shapes[second]))
    smaller = np.minimum(shapely.area(shapes[first]), shapely.area(shapes[second]))
    allowed = np.maximum(
        LAYER_OVERLAP_TOLERANCE_M2 / max(m2_per_unit, 1e-12), smaller * OUTSIDE_PARENT_TOLERANCE
    )
    excess = overlap - allowed
    worst = int(np.argmax(excess))
    if excess[worst] > 0:
        raise InvalidInput(
            "layer_cell_overlap",
            "Cells %(a)s and %(b)s overlap by %(m2)s m²",
            a=codes[int(first[worst])],
            b=codes[int(second[worst])],
            m2=round(float(overlap[worst] * m2_per_unit), 2),
        )


def _check_tiles(
    rules: LayerRules,
    codes: Sequence[str],
    shapes: NDArray[np.object_],
    divisions: Mapping[str, BaseGeometry],
) -> None:
    """Refuse a division that its cells leave partly uncovered."""
    by_division: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        by_division.setdefault(rules.division_of(code), []).append(index)
    for division, indices in sorted(by_division.items()):
        boundary = divisions[division]
        if boundary.area <= 0:
            continue
        gap = boundary.difference(shapely.union_all(shapes[indices])).area / boundary.area
        if gap > GAP_TOLERANCE:
            raise InvalidInput(
                "layer_cell_gap",
                "The cells leave %(pct)s%% of %(division)s uncovered",
                pct=round(gap * 100, 3),
                division=division,
            )


# --- social-service grids: the dynamic code ------------------------------------------------


def dynamic_codes(
    rules: LayerRules,
    codes: Sequence[str],
    shapes: Sequence[BaseGeometry],
    given: Sequence[object],
    drawn_on: date,
) -> list[str]:
    """Dynamic code of each cell: the one given, else ``<community>-<YYYYMMDD>-<nnn>``.

    nnn is the cell's position in reading order in its community (north to south in rows,
    then west to east), so it changes when the community is re-drawn; the static code stays.
    """
    points = shapely.point_on_surface(np.asarray(shapes, dtype=object))
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    result = [""] * len(codes)
    by_division: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        by_division.setdefault(rules.division_of(code), []).append(index)
    for division, indices in by_division.items():
        band = max(float(np.sqrt(np.mean([shapes[i].area for i in indices]))), 1e-9)
        order = sorted(indices, key=lambda i: (-round(ys[i] / band), xs[i], codes[i]))
        for position, index in enumerate(order, 1):
            result[index] = f"{division}-{drawn_on:%Y%m%d}-{position:03d}"
    for index, value in enumerate(given):
        if value is not None:
            result[index] = check_dynamic_code(codes[index], value)
    seen: dict[str, str] = {}
    for code, value in zip(codes, result, strict=True):
        if value in seen:
            raise InvalidInput(
                "layer_dynamic_code_duplicate",
                "Cells %(a)s and %(b)s have the same dynamic code %(value)s",
                a=seen[value],
                b=code,
                value=value,
            )
        seen[value] = code
    return result


def check_dynamic_code(code: str, value: object) -> str:
    """A dynamic code given with a cell: text of 1–32 characters."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= DYNAMIC_CODE_MAX:
        raise InvalidInput(
            "layer_dynamic_code",
            "The dynamic code of cell %(code)s must be 1 to %(max)s characters",
            code=code,
            max=DYNAMIC_CODE_MAX,
        )
    return value.strip()
