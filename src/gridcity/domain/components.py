"""Components (部件): states, accuracy classes, attribute checks and the change record.

A component is one surveyed public facility: a class of the active code set, an identifier
(``catalog.component_identifier``), a geometry, its departments and a state. Removal is a
state (``removed``), never a deleted row, so that history and old cases keep their component.
Everything here is pure; the services load rows, call these functions and write.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcity.domain.catalog import FieldType, FormField
from gridcity.domain.errors import InvalidInput


class ComponentState(StrEnum):
    """部件状态 (GB/T 47678.5 表2 GLBJZT: 完好, 破损, 丢失, 废弃, 移除; 占用 from city practice)."""

    INTACT = "intact"
    DAMAGED = "damaged"
    LOST = "lost"
    OCCUPIED = "occupied"
    ABANDONED = "abandoned"
    REMOVED = "removed"


STATE_NAMES_ZH: dict[ComponentState, str] = {
    ComponentState.INTACT: "完好",
    ComponentState.DAMAGED: "破损",
    ComponentState.LOST: "丢失",
    ComponentState.OCCUPIED: "占用",
    ComponentState.ABANDONED: "废弃",
    ComponentState.REMOVED: "移除",
}
_STATE_BY_ZH = {zh: state for state, zh in STATE_NAMES_ZH.items()}
# A removed component no longer exists on the street: it leaves the map by default and takes no
# new cases, but its row and history stay.
GONE_STATES = frozenset({ComponentState.REMOVED})


class AccuracyClass(StrEnum):
    """Position accuracy class (🟡 A ±0.5 m, B ±1.0 m, C ±10 m; standards.md §2.7)."""

    A = "A"
    B = "B"
    C = "C"


# 数据来源 values the 2026 standard names (SJLY); a city may record others (free text).
DATA_SOURCES = ("实测", "地形图", "基础地理数据", "其他")

NAME_MAX = 60
NOTE_MAX = 1000
SOURCE_MAX = 30
POSITION_TEXT_MAX = 256
PHOTO_MAX = 20
DUPLICATE_DISTANCE_DEFAULT_M = 2.0
DUPLICATE_DISTANCE_MAX_M = 100.0
_M_PER_DEG = 111_320.0


def parse_state(value: str) -> ComponentState:
    """A state from its identifier (``damaged``) or its Chinese name (``破损``)."""
    text = value.strip()
    found = _STATE_BY_ZH.get(text)
    if found is not None:
        return found
    try:
        return ComponentState(text.lower())
    except ValueError:
        raise InvalidInput(
            "invalid_component_state",
            "Unknown component state %(value)s (allowed: %(allowed)s)",
            value=value,
            allowed=", ".join(f"{s.value}/{STATE_NAMES_ZH[s]}" for s in ComponentState),
        ) from None


def parse_accuracy(value: str) -> AccuracyClass | None:
    """An accuracy class A/B/C, or None for an empty value."""
    text = value.strip().upper()
    if not text:
        return None
    try:
        return AccuracyClass(text)
    except ValueError:
        raise InvalidInput(
            "invalid_accuracy_class",
            "An accuracy class is A, B or C: %(value)s",
            value=value,
        ) from None


def check_text(value: str, limit: int, code: str, what: str) -> str:
    """A stripped text of at most ``limit`` characters."""
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(
            code,
            "%(what)s has at most %(limit)s characters, got %(n)s",
            what=what,
            limit=limit,
            n=len(text),
        )
    return text


def check_dates(census_date: date, changed_on: date | None, today: date) -> None:
    """A census date not in the future; a change date not before it and not in the future."""
    if census_date > today:
        raise InvalidInput(
            "census_date_in_future",
            "The census date %(value)s is in the future",
            value=census_date.isoformat(),
        )
    if changed_on is not None and not census_date <= changed_on <= today:
        raise InvalidInput(
            "invalid_change_date",
            "The change date %(value)s must lie between the census date and today",
            value=changed_on.isoformat(),
        )


def check_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """A valid, non-empty point, line or polygon (or multi-) in lon/lat."""
    if geom is None or geom.is_empty:
        raise InvalidInput("missing_geometry", "A component needs a position")
    kind = geom.geom_type
    if kind not in {
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
    }:
        raise InvalidInput(
            "invalid_geometry_type",
            "A component is a point, a line or a polygon, not %(kind)s",
            kind=kind,
        )
    if not shapely.is_valid(geom):
        raise InvalidInput(
            "invalid_geometry",
            "The geometry is not valid: %(reason)s",
            reason=shapely.is_valid_reason(geom),
        )
    return geom


def anchor_point(geom: shapely.Geometry) -> tuple[float, float]:
    """The point that places a component on the map and in its grid (a point on a line or
    inside a polygon, never outside it)."""
    if geom.geom_type == "Point":
        return float(geom.x), float(geom.y)
    if geom.geom_type in {"LineString", "MultiLineString"}:
        point = shapely.line_interpolate_point(geom, 0.5, normalized=True)
    else:
        point = shapely.point_on_surface(geom)
    return float(point.x), float(point.y)


def anchor_points(geoms: NDArray[np.object_]) -> NDArray[np.float64]:
    """:func:`anchor_point` for an array of geometries, vectorised (n, 2)."""
    xy = np.empty((len(geoms), 2), dtype=np.float64)
    if len(geoms) == 0:
        return xy
    types = shapely.get_type_id(geoms)
    points = types == 0
    xy[points, 0] = shapely.get_x(geoms[points])
    xy[points, 1] = shapely.get_y(geoms[points])
    lines = (types == 1) | (types == 5)
    if lines.any():
        on_line = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
        xy[lines] = shapely.get_coordinates(on_line)
    rest = ~(points | lines)
    if rest.any():
        xy[rest] = shapely.get_coordinates(shapely.point_on_surface(geoms[rest]))
    return xy


def check_attributes(
    fields: Sequence[FormField], values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Extension attributes of a class, checked against its fields (types, choices, required).

    Unknown names are refused, so that a typo never hides a value. Values arrive as JSON or as
    text from a census file; numbers and booleans given as text are converted.
    """
    by_name = {f.name: f for f in fields}
    result: dict[str, Any] = {}
    for name, raw in values.items():
        spec = by_name.get(name)
        if spec is None:
            raise InvalidInput(
                "unknown_attribute",
                "The class has no attribute %(name)s (it has: %(known)s)",
                name=name,
                known=", ".join(by_name) or "-",
            )
        value = _attribute_value(spec, raw)
        if value is not None:
            result[name] = value
    if not partial:
        for spec in fields:
            if spec.required and spec.name not in result:
                raise InvalidInput(
                    "missing_attribute", "The attribute %(name)s is required", name=spec.name
                )
    return result


_TRUE = {"true", "1", "yes", "是", "y"}
_FALSE = {"false", "0", "no", "否", "n"}


def _attribute_value(spec: FormField, raw: Any) -> Any:
    """One attribute value of its field's type (None for an empty value)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.type is FieldType.NUMBER:
        if isinstance(raw, bool):
            raise _bad_attribute(spec, raw)
        try:
            number = float(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise _bad_attribute(spec, raw) from None
        if not isinstance(number, int | float) or not math.isfinite(number):
            raise _bad_attribute(spec, raw)
        return int(number) if float(number).is_integer() else float(number)
    if spec.type is FieldType.BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _bad_attribute(spec, raw)
    text = str(raw).strip()
    if spec.type is FieldType.CHOICE and text not in spec.choices:
        raise InvalidInput(
            "invalid_attribute_choice",
            "%(name)s is one of %(choices)s, not %(value)s",
            name=spec.name,
            choices=", ".join(spec.choices),
            value=text,
        )
    if len(text) > NAME_MAX * 4:
        raise _bad_attribute(spec, raw)
    return text


def _bad_attribute(spec: FormField, raw: Any) -> InvalidInput:
    return InvalidInput(
        "invalid_attribute",
        "%(name)s expects a %(type)s, got %(value)r",
        name=spec.name,
        type=spec.type.value,
        value=raw,
    )


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What differs between two records: field -> [old, new], only for fields that changed."""
    return {key: [old.get(key), value] for key, value in new.items() if old.get(key) != value}


def check_reason(reason: str, *, required: bool) -> str:
    """Why a change was made (kept in the history); a state change must say why."""
    text = check_text(reason, 500, "invalid_reason", "A reason")
    if required and not text:
        raise InvalidInput("reason_required", "Say why (a reason is required for this change)")
    return text


def check_duplicate_distance(metres: float) -> float:
    """The distance within which two components of one class count as likely duplicates."""
    if not 0 <= metres <= DUPLICATE_DISTANCE_MAX_M:
        raise InvalidInput(
            "invalid_duplicate_distance",
            "The duplicate distance is 0–%(max)s m, got %(value)s",
            max=DUPLICATE_DISTANCE_MAX_M,
            value=metres,
        )
    return metres


@dataclass(frozen=True)
class DuplicatePair:
    """Two components (row indexes, or a row and a stored id) of one class close together."""

    first: int
    second: int
    distance_m: float


def local_metres(xy: NDArray[np.float64], origin_lat: float) -> NDArray[np.float64]:
    """Lon/lat to metres on a local plane (equirectangular; exact enough within a city)."""
    scale = np.array([_M_PER_DEG * math.cos(math.radians(origin_lat)), _M_PER_DEG])
    out: NDArray[np.float64] = xy * scale
    return out


def close_pairs(
    xy_a: NDArray[np.float64],
    classes_a: NDArray[Any],
    xy_b: NDArray[np.float64],
    classes_b: NDArray[Any],
    distance_m: float,
    *,
    same_set: bool,
) -> list[DuplicatePair]:
    """Pairs (i in a, j in b) of the same class at most ``distance_m`` apart (vectorised).

    With ``same_set`` a and b are the same points and each pair is reported once (i < j).
    Pairs come sorted by (i, j).
    """
    if distance_m <= 0 or len(xy_a) == 0 or len(xy_b) == 0:
        return []
    lat = float(np.mean(xy_a[:, 1]))
    pa, pb = local_metres(xy_a, lat), local_metres(xy_b, lat)
    if same_set:
        ia, ib = _near_in_cells(pa, _class_ids(classes_a), distance_m)
    else:
        ids = _class_ids(np.concatenate((classes_a, classes_b)))
        both = np.concatenate((pa, pb))
        ia, ib = _near_in_cells(both, ids, distance_m)
        cross = (ia < len(pa)) & (ib >= len(pa))
        flipped = (ib < len(pa)) & (ia >= len(pa))
        ia, ib = np.concatenate((ia[cross], ib[flipped])), np.concatenate((ib[cross], ia[flipped]))
        ib = ib - len(pa)
    dist = np.hypot(*(pa[ia] - pb[ib]).T)
    keep = dist <= distance_m
    ia, ib, dist = ia[keep], ib[keep], dist[keep]
    order = np.lexsort((ib, ia))
    return [
        DuplicatePair(int(i), int(j), round(float(d), 2))
        for i, j, d in zip(ia[order], ib[order], dist[order], strict=True)
    ]


def _class_ids(classes: NDArray[Any]) -> NDArray[np.int64]:
    """A small integer per distinct class (integer classes are used as they are)."""
    if np.issubdtype(classes.dtype, np.integer):
        return classes.astype(np.int64, copy=False)
    _, ids = np.unique(classes.astype(str), return_inverse=True)
    return ids.astype(np.int64).reshape(-1)


def _near_in_cells(
    xy: NDArray[np.float64], classes: NDArray[np.int64], distance_m: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Candidate pairs (i < j) of one class: points sharing a cell of one of four grids.

    Cells are a little over 2 × ``distance_m`` wide, and the four grids are shifted by half a
    cell in x, y or both; two points at most ``distance_m`` apart in x and in y always share a
    cell of at least one of the grids, so no close pair is missed (the caller measures the
    real distance). Sorting the cell keys finds the points that share a cell in O(n log n).
    """
    size = 2.0 * distance_m * (1.0 + 1e-6)
    low = xy.min(axis=0)
    index_bits = max(int(len(xy) - 1).bit_length(), 1)
    pairs: list[NDArray[np.int64]] = []
    for shift in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)):
        cell = np.floor((xy - low) / size + np.asarray(shift)).astype(np.int64)
        span = cell.max(axis=0) + 1
        key = (classes * span[0] + cell[:, 0]) * span[1] + cell[:, 1]
        if int(key.max()).bit_length() + index_bits <= 63:
            # Sorting keys with the row number in their low bits is much faster than argsort.
            packed = np.sort((key << index_bits) | np.arange(len(key)))
            sorted_key, order = packed >> index_bits, packed & ((1 << index_bits) - 1)
        else:
            order = np.argsort(key)
            sorted_key = key[order]
        starts = np.flatnonzero(np.diff(sorted_key, prepend=sorted_key[0] - 1) != 0)
        sizes = np.diff(np.append(starts, len(key)))
        for group_size in np.unique(sizes[sizes > 1]):
            first = starts[sizes == group_size]
            i, j = np.triu_indices(int(group_size), k=1)
            members = order[first[:, None] + np.arange(group_size)]
            pairs.append(np.stack((members[:, i].ravel(), members[:, j].ravel()), axis=1))
    if not pairs:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    found = np.sort(np.concatenate(pairs), axis=1)
    found = np.unique(found, axis=0)
    return found[:, 0], found[:, 1]


_IDENTIFIER = re.compile(r"^[0-9]{16,17}$")


def looks_like_identifier(value: str) -> bool:
    """True for a 16- or 17-digit string (the set decides which is right)."""
    return _IDENTIFIER.fullmatch(value) is not None


def state_counts(states: Iterable[str]) -> dict[str, int]:
    """How many components are in each state (every state listed, zeros included)."""
    counts = {s.value: 0 for s in ComponentState}
    for s in states:
        counts[s] = counts.get(s, 0) + 1
    return counts
