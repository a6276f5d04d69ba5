"""Component rows as sorted columns for the map index: Web-Mercator tile numbers, Morton codes,
and the packed numeric rows the database hands over (decision 0011). Pure numpy.

Every anchor point gets the Morton code of its Web-Mercator tile at zoom ``INDEX_ZOOM`` (the
tile's quadkey read as a number, 52 bits). Sorted by that code, the points of any tile at any
zoom z ≤ 26 are one contiguous run, and so are the points of any cell of a tile's grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcity.domain.components import ComponentState

INDEX_ZOOM = 26  # z26 tiles are ~0.6 m wide at the equator, ~0.45 m at 40°N
MAX_LAT = 85.05112878  # Web Mercator's limit
STATES: tuple[str, ...] = tuple(s.value for s in ComponentState)
STATE_CODE = {name: i for i, name in enumerate(STATES)}

U64 = NDArray[np.uint64]
F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]


# --- Web Mercator tiles and Morton codes ----------------------------------------------------


def tile_units(lon: F64, lat: F64, zoom: int) -> tuple[F64, F64]:
    """Positions in tile units at ``zoom`` (tile i spans [i, i + 1)), y growing southwards."""
    n = float(1 << zoom)
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0 * n
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT))
    y = (1.0 - np.arcsinh(np.tan(phi)) / math.pi) / 2.0 * n
    return x, y


def lonlat_of(x: F64, y: F64, zoom: int) -> tuple[F64, F64]:
    """Inverse of :func:`tile_units`: lon/lat of positions in tile units."""
    n = float(1 << zoom)
    lon = np.asarray(x, dtype=np.float64) / n * 360.0 - 180.0
    lat = np.degrees(
        np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(y, dtype=np.float64) / n)))
    )
    return lon, lat


def _spread(values: NDArray[Any]) -> U64:
    """The bits of 32-bit integers moved to the even bit positions of 64-bit ones."""
    v = np.asarray(values, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def interleave(tx: NDArray[Any], ty: NDArray[Any]) -> U64:
    """Morton code of tile numbers: x bits even, y bits odd (a quadkey read as a number)."""
    return _spread(tx) | (_spread(ty) << np.uint64(1))


def morton_codes(lon: F64, lat: F64) -> U64:
    """The Morton code of each point's z``INDEX_ZOOM`` tile."""
    top = (1 << INDEX_ZOOM) - 1
    x, y = tile_units(lon, lat, INDEX_ZOOM)
    tx = np.clip(np.floor(x), 0, top).astype(np.uint64)
    ty = np.clip(np.floor(y), 0, top).astype(np.uint64)
    return interleave(tx, ty)


def tile_span(z: int, x: int, y: int) -> tuple[int, int]:
    """The codes [first, end) of the points inside tile (z, x, y)."""
    shift = 2 * (INDEX_ZOOM - z)
    base = int(interleave(np.array([x]), np.array([y]))[0]) << shift
    return base, base + (1 << shift)


def check_tile(z: int, x: int, y: int, max_zoom: int = INDEX_ZOOM) -> bool:
    """True when (z, x, y) names a tile of the Web-Mercator pyramid up to ``max_zoom``."""
    return 0 <= z <= max_zoom and 0 <= x < (1 << z) and 0 <= y < (1 << z)


# --- rows → columns ---------------------------------------------------------------------------

# A row as the database hands it over: numbers only, so that a million of them load straight
# into a structured array. Digit strings (identifiers, community codes) travel as
# ``int(digits) * 32 + len(digits)``, which keeps leading zeros; class and state as
# ``class_id * 8 + state number``. ``pack_rows`` is the Python twin of the service's SQL.
ROW_DTYPE = np.dtype(
    [
        ("id", np.int64),
        ("identifier", np.int64),
        ("class_state", np.int64),
        ("department", np.int64),
        ("place", np.int64),
        ("x", np.float64),
        ("y", np.float64),
    ]
)
Rows = NDArray[np.void]
# (id, identifier, class id, state, competent department id, community code or None, x, y)
Row = tuple[int, str, int, str, int, str | None, float, float]


def pack_digits(text: str) -> int:
    """A digit string as one integer that keeps its length (and so its leading zeros)."""
    return int(text) * 32 + len(text)


def unpack_digits(values: NDArray[np.int64]) -> list[str]:
    """The digit strings of :func:`pack_digits` values."""
    return [str(v >> 5).zfill(v & 31) for v in values.tolist()]


def pack_rows(rows: Iterable[Row]) -> Rows:
    """Rows given as Python values, in the database's packed form."""
    packed = [
        (
            i,
            pack_digits(identifier),
            class_id * 8 + STATE_CODE[state],
            department,
            pack_digits(community or identifier[:6]),
            x,
            y,
        )
        for i, identifier, class_id, state, department, community, x, y in rows
    ]
    return np.array(packed, dtype=ROW_DTYPE)


@dataclass(frozen=True)
class Tables:
    """The value tables the small integer columns refer to (they only grow).

    ``class_ids`` and ``class_codes`` run in parallel (two code sets may share a code);
    ``place_keys`` are packed community (or district) codes, ``places`` the same as text.
    """

    class_ids: tuple[int, ...] = ()
    class_codes: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()
    place_keys: tuple[int, ...] = ()
    places: tuple[str, ...] = ()


@dataclass(frozen=True)
class Columns:
    """Rows as columns, sorted by Morton code."""

    codes: U64
    x: F64
    y: F64
    ids: NDArray[np.int32]
    identifiers: NDArray[np.int64]  # packed digits
    cls: NDArray[np.uint16]
    state: NDArray[np.uint8]
    dept: NDArray[np.uint16]
    place: NDArray[np.uint32]

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, index: NDArray[Any]) -> Columns:
        """The rows at ``index`` (positions or a mask), in that order."""
        return Columns(
            codes=self.codes[index],
            x=self.x[index],
            y=self.y[index],
            ids=self.ids[index],
            identifiers=self.identifiers[index],
            cls=self.cls[index],
            state=self.state[index],
            dept=self.dept[index],
            place=self.place[index],
        )


def _grow(known: tuple[int, ...], values: NDArray[np.int64]) -> tuple[tuple[int, ...], I64]:
    """The table extended by the values not in it yet, and each value's number in it."""
    table = np.asarray(known, dtype=np.int64)
    fresh = np.setdiff1d(np.unique(values), table)
    table = np.concatenate((table, fresh))
    order = np.argsort(table, kind="stable")
    numbers: I64 = order[np.searchsorted(table[order], values)]
    return tuple(table.tolist()), numbers


def encode(
    rows: Rows,
    tables: Tables,
    class_codes: Mapping[int, str],
    display: Callable[[F64], F64] | None = None,
) -> tuple[Columns, Tables]:
    """Rows read from the database as sorted columns, and the tables grown by their values.

    ``class_codes`` names the class of every class id that occurs; ``display`` moves the stored
    lon/lat into the map's coordinates (GCJ-02 basemaps), in which the index then works, like
    the tiles the browser asks for.
    """
    if len(rows) == 0:
        return _empty_columns(), tables
    xy = np.column_stack((rows["x"], rows["y"])).astype(np.float64)
    if display is not None:
        xy = display(xy)
    class_ids, cls = _grow(tables.class_ids, rows["class_state"] >> 3)
    department_ids, dept = _grow(tables.department_ids, rows["department"])
    place_keys, place = _grow(tables.place_keys, rows["place"])
    added_places = unpack_digits(np.asarray(place_keys[len(tables.place_keys) :], dtype=np.int64))
    grown = Tables(
        class_ids=class_ids,
        class_codes=tables.class_codes
        + tuple(class_codes.get(i, str(i)) for i in class_ids[len(tables.class_ids) :]),
        department_ids=department_ids,
        place_keys=place_keys,
        places=tables.places + tuple(added_places),
    )
    columns = Columns(
        codes=morton_codes(xy[:, 0], xy[:, 1]),
        x=np.ascontiguousarray(xy[:, 0]),
        y=np.ascontiguousarray(xy[:, 1]),
        ids=rows["id"].astype(np.int32),
        identifiers=rows["identifier"].astype(np.int64),
        cls=cls.astype(np.uint16),
        state=(rows["class_state"] & 7).astype(np.uint8),
        dept=dept.astype(np.uint16),
        place=place.astype(np.uint32),
    )
    order = np.argsort(columns.codes, kind="stable")
    return columns.take(order), grown


def _empty_columns() -> Columns:
    return Columns(
        codes=np.empty(0, dtype=np.uint64),
        x=np.empty(0, dtype=np.float64),
        y=np.empty(0, dtype=np.float64),
        ids=np.empty(0, dtype=np.int32),
        identifiers=np.empty(0, dtype=np.int64),
        cls=np.empty(0, dtype=np.uint16),
        state=np.empty(0, dtype=np.uint8),
        dept=np.empty(0, dtype=np.uint16),
        place=np.empty(0, dtype=np.uint32),
    )
