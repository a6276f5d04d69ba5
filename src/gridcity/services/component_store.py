"""Writing a checked component batch (the second half of ``add_components``): identifiers
drawn from held serial counters, then the rows in bulk — SQLite: multi-row INSERTs whose
batch-wide values are bound once; PostgreSQL: COPY of text built column by column.

Python's sqlite3 spends most of an ``executemany`` binding parameters, and ``None`` and
``bytes`` are its slowest kinds (it looks for adapters first), so per-row values are bound as
str, int, float or bytearray only: NULLs come from ``NULLIF`` on '' or 0. On SQLite, when a
batch is at least as big as the inventory (a first census), the secondary indexes are dropped
and rebuilt inside the transaction (sorting once beats a million scattered inserts; 1 M rows
into an empty table: ~30 % less write time); readers lose nothing, WAL keeps serving them the
committed snapshot, indexes included. PostgreSQL keeps its indexes: dropping them would take
an ACCESS EXCLUSIVE lock on ``component`` (map readers blocked until commit), and measured on
1 M rows it gained nothing — the per-row foreign-key triggers dominate its COPY.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import insert_missing
from gridcity.adapters.db.tables import Component, ComponentSerial
from gridcity.domain.catalog import CodeSet
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.errors import InvalidInput
from gridcity.services.component_checks import Checked

Advance = Callable[[str, int, int], None]
REBUILD_INDEXES_MIN_ROWS = 50_000  # below this, index inserts are cheap enough
_SQLITE_ROWS_PER_INSERT = 500
_COPY_CHUNK = 50_000


# --- identifiers -------------------------------------------------------------------------------


def draw_serials(
    session: Session,
    code_set: str,
    wanted: Mapping[tuple[str, str], int],
    floor: Mapping[tuple[str, str], int],
) -> dict[tuple[str, str], int]:
    """Reserve serials: for each (admin, class), the first of ``wanted[key]`` new ones.

    The counter rows are held until commit (locked in key order, so two writers never wait
    for each other in a circle) and never draw the same serial; ``floor`` is the highest
    serial a batch brings itself (given identifiers).
    """
    keys = sorted(set(wanted) | set(floor))
    if not keys:
        return {}
    table = ComponentSerial.__table__
    insert_missing(
        session,
        table,  # type: ignore[arg-type]
        [
            {"code_set": code_set, "admin_code": a, "class_code": c, "last_serial": 0}
            for a, c in keys
        ],
    )
    key_match = sa.tuple_(ComponentSerial.admin_code, ComponentSerial.class_code).in_(keys)
    query = (
        sa.select(
            ComponentSerial.admin_code, ComponentSerial.class_code, ComponentSerial.last_serial
        )
        .where(ComponentSerial.code_set == code_set, key_match)
        .order_by(ComponentSerial.admin_code, ComponentSerial.class_code)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    else:  # SQLite: a no-op UPDATE takes the database's write lock before we read
        session.execute(
            sa.update(ComponentSerial)
            .where(ComponentSerial.code_set == code_set, key_match)
            .values(last_serial=ComponentSerial.last_serial)
        )
    current = {(a, c): int(last) for a, c, last in session.execute(query)}
    first: dict[tuple[str, str], int] = {}
    for key in keys:
        start = max(current.get(key, 0), floor.get(key, 0)) + 1
        count = wanted.get(key, 0)
        if start + count - 1 > 999_999:
            raise InvalidInput(
                "serials_exhausted",
                "No serials left for class %(cls)s in division %(admin)s",
                cls=key[1],
                admin=key[0],
            )
        first[key] = start
        session.execute(
            sa.update(ComponentSerial)
            .where(
                ComponentSerial.code_set == code_set,
                ComponentSerial.admin_code == key[0],
                ComponentSerial.class_code == key[1],
            )
            .values(last_serial=start + count - 1)
        )
    return first


def draw_identifiers(
    session: Session, code_set: CodeSet, checked: Checked
) -> tuple[NDArray[np.int64], int]:
    """Every row's identifier as a number (same digits as its text): the given one, or
    admin + class + the next serial of its (district, class); and how many were drawn."""
    n = len(checked.given)
    districts, district_index = np.unique(checked.places.district, return_inverse=True)
    classes = checked.classes
    key = district_index.reshape(-1).astype(np.int64) * len(classes) + checked.class_index
    given_rows = np.flatnonzero(np.fromiter(map(bool, checked.given), bool, n))
    identifiers = np.zeros(n, dtype=np.int64)
    identifiers[given_rows] = [int(checked.given[i]) for i in given_rows]
    floor_of = np.zeros(len(districts) * len(classes), dtype=np.int64)
    np.maximum.at(floor_of, key[given_rows], identifiers[given_rows] % 1_000_000)
    drawn = np.ones(n, dtype=bool)
    drawn[given_rows] = False
    wanted_of = np.bincount(key[drawn], minlength=len(floor_of))

    def name(k: int) -> tuple[str, str]:
        """(admin code, class code) of a key number."""
        return str(districts[k // len(classes)]), classes[k % len(classes)].code

    first = draw_serials(
        session,
        code_set.key,
        {name(k): int(c) for k, c in enumerate(wanted_of) if c},
        {name(k): int(f) for k, f in enumerate(floor_of) if f},
    )
    first_of = np.zeros(len(floor_of), dtype=np.int64)
    for k in np.flatnonzero(wanted_of):
        first_of[k] = first[name(int(k))]
    rows = np.flatnonzero(drawn)
    order = rows[np.argsort(key[rows], kind="stable")]  # drawn in row order within a key
    sorted_keys = key[order]
    group_start = np.searchsorted(sorted_keys, sorted_keys, side="left")
    serial = first_of[sorted_keys] + np.arange(len(order)) - group_start
    class_numbers = np.asarray([int(c.code) for c in classes], dtype=np.int64)
    admin = districts.astype(np.int64)[sorted_keys // len(classes)]
    scale = 10 ** (code_set.class_digits + 6)
    identifiers[order] = (
        admin * scale + class_numbers[sorted_keys % len(classes)] * 1_000_000 + serial
    )
    return identifiers, len(rows)


def refuse_taken(session: Session, given: Sequence[str], rows: Sequence[int], source: str) -> None:
    """Given identifiers that the inventory already holds refuse the batch (drawn ones come
    from held counters that every write path advances, so they cannot clash)."""
    problems: list[CensusProblem] = []
    position = {value: rows[i] for i, value in enumerate(given) if value}
    identifiers = list(position)
    for start in range(0, len(identifiers), 900):
        part = identifiers[start : start + 900]
        for (value,) in session.execute(
            sa.select(Component.identifier).where(Component.identifier.in_(part))
        ):
            problems.append(
                CensusProblem.of(
                    position[value],
                    "identifier",
                    InvalidInput(
                        "identifier_exists",
                        "The inventory already holds %(value)s (edit it instead)",
                        value=value,
                    ),
                )
            )
    if problems:
        raise CensusRefused(source, problems, total=len(problems))


# --- the rows, as columns ----------------------------------------------------------------------


@dataclass(frozen=True)
class Same:
    """A column with one value on every row (bound once)."""

    value: Any


Column = list[Any] | Same


@dataclass(frozen=True)
class Stamp:
    """What every row of a batch shares."""

    code_set: str
    import_id: int
    seq: int
    now: datetime
    actor_id: int | None


def _column(values: Sequence[Any] | NDArray[Any], order: NDArray[np.int64]) -> Column:
    """A per-row column in write order, or ``Same`` when every row holds one value."""
    as_list = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if as_list and as_list.count(as_list[0]) == len(as_list):
        return Same(as_list[0])
    picked: list[Any] = np.asarray(as_list, dtype=object)[order].tolist()
    return picked


def columns(
    checked: Checked, identifiers: NDArray[np.int64], stamp: Stamp, *, hex_geometry: bool
) -> dict[str, Column]:
    """Every column of the ``component`` rows, in identifier order (inserts stay local in
    the identifier and class indexes). Nullable columns hold '' or 0 for NULL."""
    order = np.argsort(identifiers)
    class_index = checked.class_index[order]
    geoms = checked.geoms[order]
    xy = checked.xy[order]
    wkb = geometry_column(geoms, xy, hex_srid=hex_geometry)
    ids = np.asarray([c.id for c in checked.classes], dtype=np.int64)
    codes = np.asarray([c.code for c in checked.classes], dtype=object)
    places = checked.places
    return {
        "identifier": identifiers[order].astype(str).tolist(),
        "code_set": Same(stamp.code_set),
        "class_id": ids[class_index].tolist(),
        "class_code": codes[class_index].tolist(),
        "name": _column(checked.name, order),
        "geom": wkb,
        "x": xy[:, 0].tolist(),
        "y": xy[:, 1].tolist(),
        "grid_code": places.grid[order].tolist(),
        "community_code": places.community[order].tolist(),
        "competent_department_id": _column(checked.competent, order),
        "owner_department_id": _column(checked.owner, order),
        "maintainer_department_id": _column(checked.maintainer, order),
        "state": _column(checked.state, order),
        "census_date": _column(checked.census_date, order),
        "changed_on": _column(checked.changed_on, order),
        "data_source": _column(checked.data_source, order),
        "accuracy": _column(checked.accuracy, order),
        "position_text": _column(checked.position_text, order),
        "photos": Same("[]"),
        "note": _column(checked.note, order),
        "attributes": _column(checked.attributes, order),
        "import_id": Same(stamp.import_id),
        "version": Same(1),
        "change_seq": Same(stamp.seq),
        "created_at": Same(stamp.now),
        "created_by": Same(stamp.actor_id),
        "updated_at": Same(stamp.now),
    }


_POINT_HEAD = bytes.fromhex("0101000000")  # little-endian WKB point
_POINT_HEAD_SRID = bytes.fromhex("0101000020") + (4490).to_bytes(4, "little")  # EWKB, SRID 4490


def geometry_column(
    geoms: NDArray[np.object_], xy: NDArray[np.float64], *, hex_srid: bool
) -> list[Any]:
    """WKB per row: bytearrays (SQLite binds them fastest), or hex EWKB with the stored SRID
    (PostgreSQL). Points — most components — are packed with numpy from their coordinates
    (the bytes GEOS writes); other shapes go through shapely."""
    points = shapely.get_type_id(geoms) == 0
    packed_points: list[Any] = []
    if points.any():
        head = _POINT_HEAD_SRID if hex_srid else _POINT_HEAD
        packed = np.empty((int(points.sum()), len(head) + 16), dtype=np.uint8)
        packed[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
        packed[:, len(head) :] = np.ascontiguousarray(xy[points], dtype="<f8").view(np.uint8)
        size = packed.shape[1]
        if hex_srid:
            text = packed.tobytes().hex().upper()
            packed_points = [text[i : i + 2 * size] for i in range(0, len(text), 2 * size)]
        else:
            whole = bytearray(packed.tobytes())
            packed_points = [whole[i : i + size] for i in range(0, len(whole), size)]
    if points.all():
        return packed_points
    rest = ~points
    if hex_srid:
        shapes = shapely.to_wkb(shapely.set_srid(geoms[rest], 4490), hex=True, include_srid=True)
        others: list[Any] = shapes.tolist()
    else:
        others = [bytearray(b) for b in shapely.to_wkb(geoms[rest])]
    out: list[Any] = [None] * len(geoms)
    for i, value in zip(np.flatnonzero(points).tolist(), packed_points, strict=True):
        out[i] = value
    for i, value in zip(np.flatnonzero(rest).tolist(), others, strict=True):
        out[i] = value
    return out


_NULL_IF = {
    "grid_code": "''",
    "community_code": "''",
    "changed_on": "''",
    "owner_department_id": "0",
    "maintainer_department_id": "0",
}


# --- secondary indexes -------------------------------------------------------------------------


def _secondary_indexes(session: Session) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the component indexes that back no constraint (SQLite)."""
    rows = session.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name = 'component' AND sql IS NOT NULL"
        )
    )
    return sorted((str(name), str(sql)) for name, sql in rows)


def drop_indexes_for(session: Session, rows: int) -> list[tuple[str, str]]:
    """SQLite: drop the secondary indexes when ``rows`` is a big batch for the inventory's
    size, and return what to recreate after the insert ([] when they stay)."""
    if session.get_bind().dialect.name != "sqlite" or rows < REBUILD_INDEXES_MIN_ROWS:
        return []
    stored = session.scalar(sa.select(sa.func.max(Component.id))) or 0  # rows are never deleted
    if rows < stored:
        return []
    indexes = _secondary_indexes(session)
    for name, _sql in indexes:
        session.execute(sa.text(f'DROP INDEX "{name}"'))
    return indexes


def recreate_indexes(session: Session, indexes: Sequence[tuple[str, str]]) -> None:
    """Build the dropped indexes again (one sort each; SQLite may sort on two threads)."""
    if not indexes:
        return
    connection = session.connection()
    connection.exec_driver_sql("PRAGMA threads = 2")
    try:
        for _name, sql in indexes:
            connection.exec_driver_sql(sql)
    finally:
        connection.exec_driver_sql("PRAGMA threads = 0")


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """A shared value as SQLite stores it through SQLAlchemy (UTC times as text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def insert_sqlite(session: Session, cols: dict[str, Column], progress: Advance, total: int) -> None:
    """Multi-row INSERTs: shared values as numbered parameters bound once per statement,
    per-row values bound as str/int/float/bytearray (NULLs via NULLIF)."""
    names = list(cols)
    shared = [k for k in names if isinstance(cols[k], Same)]
    varying = [k for k in names if not isinstance(cols[k], Same)]
    slot = {k: f"?{i + 1}" for i, k in enumerate(shared)}
    raw = session.connection().connection.driver_connection
    assert raw is not None
    limit = raw.getlimit(9)  # SQLITE_LIMIT_VARIABLE_NUMBER
    per = max(1, min(_SQLITE_ROWS_PER_INSERT, (limit - len(shared)) // max(len(varying), 1)))

    def values_sql(count: int) -> str:
        """The INSERT for ``count`` rows."""
        groups = []
        for r in range(count):
            base = len(shared) + r * len(varying)
            own = {k: f"?{base + j + 1}" for j, k in enumerate(varying)}
            parts = []
            for k in names:
                p = slot.get(k) or own[k]
                parts.append(f"NULLIF({p}, {_NULL_IF[k]})" if k in _NULL_IF else p)
            groups.append(f"({', '.join(parts)})")
        return f"INSERT INTO component ({', '.join(names)}) VALUES {', '.join(groups)}"

    first = [_sqlite_value(cols[k].value) for k in shared]  # type: ignore[union-attr]
    per_row = [cols[k] for k in varying]
    full = values_sql(per)
    cursor = raw.cursor()
    try:
        for start in range(0, total, per):
            stop = min(total, start + per)
            params = list(first)
            params.extend(chain.from_iterable(zip(*(c[start:stop] for c in per_row), strict=True)))  # type: ignore[index]
            cursor.execute(full if stop - start == per else values_sql(stop - start), params)
            if stop % 20_000 < per or stop == total:
                progress("write", stop, total)
    finally:
        cursor.close()


# --- PostgreSQL --------------------------------------------------------------------------------

_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_text(values: list[Any], nullable: str | None) -> list[str]:
    """One column as COPY text fields (escaped; NULL for the empty value of a nullable one)."""
    if not values:
        return []
    if isinstance(values[0], str):
        texts = values
        joined = "\x00".join(texts)
        if any(s in joined for s in _COPY_SPECIAL):
            texts = [
                t.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                for t in texts
            ]
    elif isinstance(values[0], float):
        texts = list(map(repr, values))
    else:
        texts = list(map(str, values))
    if nullable is not None:
        empty = nullable.strip("'")
        texts = ["\\N" if t == empty else t for t in texts] if empty in texts else texts
    return texts


def _shared_text(value: Any, nullable: str | None) -> str:
    """A shared value as a COPY text field."""
    if value is None or (nullable is not None and str(value) == nullable.strip("'")):
        return "\\N"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return _copy_text([value], None)[0]


def copy_postgres(session: Session, cols: dict[str, Column], progress: Advance, total: int) -> None:
    """COPY in text format, the text built per column with C-speed joins (no per-row
    adaptation in Python)."""
    names = list(cols)
    fields: list[list[str] | str] = []
    for k in names:
        column = cols[k]
        nullable = _NULL_IF.get(k)
        if isinstance(column, Same):
            fields.append(_shared_text(column.value, nullable))
        else:
            fields.append(_copy_text(column, nullable))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY component ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for start in range(0, total, _COPY_CHUNK):
            stop = min(total, start + _COPY_CHUNK)
            parts = [
                repeat(f, stop - start) if isinstance(f, str) else f[start:stop] for f in fields
            ]
            copy.write("\n".join(map("\t".join, zip(*parts, strict=True))) + "\n")
            progress("write", stop, total)
