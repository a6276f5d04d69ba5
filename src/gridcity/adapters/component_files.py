"""Census files (部件普查) in: CSV, Excel, GeoJSON, zipped Shapefile and GeoPackage, read into
columns of text (one entry per row), the columns ``component_writes.NewComponents`` takes.

CSV is UTF-8 (with or without a BOM) or, when it is not valid UTF-8, GB18030 (a superset of
GBK and GB2312, what Chinese Excel writes); ``encoding`` overrides. Excel is the first sheet of
an .xlsx workbook; its header is the first of its first 20 rows that names two known columns
(so a title row above it is fine). CSV and Excel carry the position in lon/lat columns
(``PointX``/``PointY`` too) or in a WKT column, read in ``crs`` (default EPSG:4490); a row's
WKT wins over its lon/lat. GeoJSON (streamed), Shapefile and GeoPackage take their CRS as
``feature_io`` does, so their own CRS (.prj, ``crs`` member) is honoured and a contradicting
``crs`` refused, exactly as for grids; a zip holding several Shapefiles (our export of mixed
points, lines and polygons) is read one Shapefile after the other, in name order, numbered
through. A census file has its own limits (``ReadOptions.max_bytes``/``max_rows``: 1 GB and
add_components' 2,000,000 rows), not a grid file's.

Row numbers are what a person sees: the sheet row for CSV and Excel (the header is row 1), the
feature number from 1 for the others. Problems that only the file shows (a coordinate that is
not a number, an identifier Excel turned into a number) are collected per row; everything else
is ``add_components``'s to check. A file that cannot be read at all is refused by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.component_columns import (
    DEPARTMENT_FIELDS,
    Columns,
    geometry_header,
    resolve_columns,
)
from gridcity.adapters.component_tables import (
    Table,
    read_csv_table,
    read_excel_table,
    read_feature_table,
    text_of,
)
from gridcity.adapters.crs import STORED_EPSG, convert_points, is_projected, parse_system
from gridcity.adapters.file_support import MAX_CENSUS_BYTES, MAX_CENSUS_ROWS, check_size
from gridcity.domain.census import CensusProblem
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.imports import N_

STORED = f"EPSG:{STORED_EPSG}"
PROBLEM_CAP = 10_000  # problems kept (all are counted), as add_components keeps them
_EWKT = re.compile(r"^\s*SRID\s*=\s*(\d{1,6})\s*;(.*)$", re.IGNORECASE | re.DOTALL)
# Text columns taken as they are (class code, identifier and departments are handled apart).
TEXT_FIELDS = (
    "name",
    "state",
    "census_date",
    "changed_on",
    "data_source",
    "accuracy",
    "position_text",
    "note",
)
Advance = Callable[[str, int, int], None]


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


class FileKind(StrEnum):
    """The census file formats."""

    CSV = "csv"
    EXCEL = "xlsx"
    GEOJSON = "geojson"
    SHAPEFILE = "shapefile"
    GEOPACKAGE = "gpkg"


SUFFIXES = {
    ".csv": FileKind.CSV,
    ".xlsx": FileKind.EXCEL,
    ".geojson": FileKind.GEOJSON,
    ".json": FileKind.GEOJSON,
    ".zip": FileKind.SHAPEFILE,
    ".shp": FileKind.SHAPEFILE,
    ".gpkg": FileKind.GEOPACKAGE,
}


def kind_of(path: Path) -> FileKind:
    """The format a census file's extension names, or a refusal naming the file."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(
            "census_file_format_unknown",
            "%(path)s: unknown file type; use .csv, .xlsx, .geojson/.json, .zip (zipped Shapefile) or .gpkg",
            path=path.name,
        )
    return found


@dataclass(frozen=True)
class ReadOptions:
    """How to read a census file: its CRS and encoding when it cannot say, and what the
    catalog knows (attribute names of the classes, digits of a class code)."""

    crs: str | None = None
    encoding: str | None = None
    ignore_unknown: bool = False
    attribute_names: frozenset[str] = frozenset()
    class_digits: int | None = None
    max_bytes: int = MAX_CENSUS_BYTES  # a census file's limits, not a grid file's
    max_rows: int = MAX_CENSUS_ROWS  # features of a geo file (CSV, Excel: add_components')


@dataclass
class ComponentFile:
    """A census file read: the batch, the problems only the file shows, and its columns."""

    path: Path
    kind: FileKind
    columns: Columns
    crs: str
    rows: list[int] = field(default_factory=list)
    values: dict[str, list[str] | None] = field(default_factory=dict)  # NewComponents' text columns
    attributes: list[dict[str, Any]] | None = None
    geometry: NDArray[np.object_] = field(default_factory=lambda: np.empty(0, dtype=object))
    problems: list[CensusProblem] = field(default_factory=list)
    problem_total: int = 0
    layers: tuple[tuple[str, int, int], ...] = ()  # Shapefiles of a zip: name, first, last row
    by_name: dict[str, set[int]] = field(default_factory=dict)  # rows whose department is a name
    geometry_rows: set[int] = field(default_factory=set)  # rows with a reader geometry problem

    def column_of(self, column: str, row: int, params: dict[str, object]) -> str:
        """The file's own header for a column ``add_components`` names in a problem."""
        if column == "geometry":
            return geometry_header(self.columns)
        if column == "attributes":
            name = params.get("name")
            found = self.columns.header(f"attr:{name}") if isinstance(name, str) else None
            return found or column
        if column in DEPARTMENT_FIELDS:
            if row in self.by_name.get(column, ()):
                return self.columns.header(DEPARTMENT_FIELDS[column]) or column
            return self.columns.header(column) or column
        if column == "class_code" and self.columns.header("class_code") is None:
            return self.columns.header("identifier") or self.columns.header("name") or column
        return self.columns.header(column) or column


class _Problems:
    """Problems of the reading, the first PROBLEM_CAP kept and all counted."""

    def __init__(self) -> None:
        self.items: list[CensusProblem] = []
        self.total = 0

    def add(self, row: int, column: str, code: str, message: str, /, **params: object) -> None:
        self.total += 1
        if len(self.items) < PROBLEM_CAP:
            self.items.append(CensusProblem(row, column, code, message, params))


def read_components(
    path: Path, options: ReadOptions, progress: Advance = _no_progress
) -> ComponentFile:
    """A census file as a batch of new components, or a refusal naming the file."""
    path = Path(path)
    kind = kind_of(path)
    if options.crs is not None:
        parse_system(options.crs)
    check_size(path, options.max_bytes)
    if kind is FileKind.CSV:
        table = read_csv_table(path, options.encoding, progress)
    elif kind is FileKind.EXCEL:
        table = read_excel_table(path, progress, options.max_bytes)
    else:
        table = read_feature_table(
            path, options.crs, options.encoding, progress, options.max_bytes, options.max_rows
        )
    in_columns = kind in (FileKind.CSV, FileKind.EXCEL)
    columns = resolve_columns(
        path,
        table.headers,
        attribute_names=options.attribute_names,
        geometry_in_columns=in_columns,
        ignore_unknown=options.ignore_unknown,
    )
    problems = _Problems()
    result = ComponentFile(path, kind, columns, "", rows=table.rows)
    _values(table, columns, options, problems, result)
    if in_columns:
        result.crs = options.crs or STORED
        result.geometry = _positions(table, columns, options.crs or STORED, problems, result)
    else:
        result.crs = table.crs
        geoms = np.empty(len(table.rows), dtype=object)
        geoms[:] = table.geometries if table.geometries is not None else []
        for index, why in table.reasons.items():
            row = table.rows[index]
            problems.add(
                row,
                "geometry",
                "unreadable_geometry",
                N_("The geometry cannot be used: %(reason)s"),
                reason=why,
            )
            result.geometry_rows.add(row)
        result.geometry = geoms
    result.layers = table.layers
    result.problems, result.problem_total = problems.items, problems.total
    progress("read", 1, 1)
    return result


# --- the batch from the cells ----------------------------------------------------------------


def _values(
    table: Table,
    columns: Columns,
    options: ReadOptions,
    problems: _Problems,
    result: ComponentFile,
) -> None:
    """The text columns of the batch (departments by code, else name; attributes by row)."""
    n = len(table.rows)
    fields = columns.fields

    def texts(name: str) -> list[str] | None:
        position = fields.get(name)
        return None if position is None else _texts(table.cells[position])

    class_codes = texts("class_code") or [""] * n
    digits = options.class_digits
    if "class_code" in fields and digits:
        # A spreadsheet drops the leading zero of a code it took for a number (0101 → 101).
        short = {c for c in set(class_codes) if c.isdigit() and len(c) == digits - 1}
        if short:
            class_codes = [c.zfill(digits) if c in short else c for c in class_codes]
    identifiers = texts("identifier")
    if identifiers is not None:
        header = columns.header("identifier") or "identifier"
        for i, value in enumerate(table.cells[fields["identifier"]]):
            if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
                problems.add(
                    table.rows[i],
                    header,
                    "identifier_not_text",
                    N_(
                        "The identifier %(value)s is stored as a number, which keeps only 15 digits; format the column as text and enter the identifiers again"
                    ),
                    value=identifiers[i],
                )
                identifiers[i] = ""
    values: dict[str, list[str] | None] = {"class_code": class_codes, "identifier": identifiers}
    for name in TEXT_FIELDS:
        values[name] = texts(name)
    for code_field, name_field in DEPARTMENT_FIELDS.items():
        codes, names = texts(code_field), texts(name_field)
        if names is not None:
            used = {table.rows[i] for i, c in enumerate(codes or [""] * n) if not c and names[i]}
            result.by_name[code_field] = used
            codes = [c or names[i] for i, c in enumerate(codes or [""] * n)]
        values[code_field] = codes
    result.values = values
    if columns.attributes:
        by_name = {name: _texts(table.cells[p]) for name, p in columns.attributes.items()}
        result.attributes = [
            {name: cells[i] for name, cells in by_name.items() if cells[i]} for i in range(n)
        ]


def _texts(cells: Sequence[Any]) -> list[str]:
    """A column as text, repeated values sharing one string (census columns repeat a lot)."""
    try:
        distinct = set(cells)
    except TypeError:  # unhashable values (a JSON list or object in GeoJSON)
        return [text_of(v) for v in cells]
    if any(isinstance(v, bool) for v in distinct):  # True == 1: keep them apart
        return [text_of(v) for v in cells]
    text = {v: text_of(v) for v in distinct}
    return [text[v] for v in cells]


# --- positions of CSV and Excel rows -----------------------------------------------------------


def _positions(
    table: Table, columns: Columns, crs: str, problems: _Problems, result: ComponentFile
) -> NDArray[np.object_]:
    """Each row's geometry in EPSG:4490: its WKT, else its lon/lat; None where it has none."""
    n = len(table.rows)
    geoms = np.full(n, None, dtype=object)
    wkt_at = columns.fields.get("wkt")
    wkt_cells = _texts(table.cells[wkt_at]) if wkt_at is not None else [""] * n
    has_wkt = np.array([bool(t) for t in wkt_cells], dtype=bool)
    if "lon" in columns.fields and "lat" in columns.fields:
        x = _numbers(table, columns, "lon", ~has_wkt, problems, result)
        y = _numbers(table, columns, "lat", ~has_wkt, problems, result)
        ok = ~has_wkt & ~np.isnan(x) & ~np.isnan(y)
        index = np.flatnonzero(ok)
        xy = np.column_stack([x[index], y[index]])
        stored, bad = _points_to_stored(xy, crs)
        header = geometry_header(columns)
        for k in bad:
            row = table.rows[int(index[k])]
            problems.add(
                row,
                header,
                "coordinates_not_in_crs",
                N_(
                    "The coordinates %(x)s, %(y)s are not in %(crs)s; name the file's coordinate system"
                ),
                x=float(xy[k, 0]),
                y=float(xy[k, 1]),
                crs=crs,
            )
            result.geometry_rows.add(row)
        good = np.ones(len(index), dtype=bool)
        good[bad] = False
        geoms[index[good]] = shapely.points(stored[good])
    if has_wkt.any():
        _wkt_geometries(table, columns, wkt_cells, has_wkt, crs, geoms, problems, result)
    return geoms


def _numbers(
    table: Table,
    columns: Columns,
    name: str,
    wanted: NDArray[np.bool_],
    problems: _Problems,
    result: ComponentFile,
) -> NDArray[np.float64]:
    """A coordinate column as numbers (NaN where empty); a cell that is not a number is a problem."""
    cells = table.cells[columns.fields[name]]
    header = columns.header(name) or name
    try:  # numpy parses the numbers (text or not) at C speed; a bad cell sends us below
        out = np.array(
            [np.nan if v is None or v == "" or isinstance(v, bool) else v for v in cells],
            dtype=np.float64,
        )
        bad = np.flatnonzero(wanted & ~np.isnan(out) & ~np.isfinite(out))
    except (TypeError, ValueError):
        out = np.full(len(cells), np.nan)
        for i, value in enumerate(cells):
            if value is None or value == "" or isinstance(value, bool):
                continue
            try:
                out[i] = float(value if isinstance(value, int | float) else str(value).strip())
            except ValueError:
                out[i] = np.inf
        bad = np.flatnonzero(wanted & ~np.isnan(out) & ~np.isfinite(out))
    for i in bad.tolist():
        problems.add(
            table.rows[i],
            header,
            "invalid_coordinate",
            N_("A coordinate is a number: %(value)s"),
            value=str(cells[i]),
        )
        result.geometry_rows.add(table.rows[i])
    out[~wanted | ~np.isfinite(out)] = np.nan
    return out


def _points_to_stored(xy: NDArray[np.float64], crs: str) -> tuple[NDArray[np.float64], list[int]]:
    """Points from ``crs`` into EPSG:4490, and the indexes of those that cannot be converted."""
    if not len(xy):
        return xy, []
    system = parse_system(crs)
    bad: list[int] = []
    if not is_projected(system):
        outside = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
        bad = [int(i) for i in np.flatnonzero(outside)]
    mask = np.ones(len(xy), dtype=bool)
    mask[bad] = False
    keep = np.flatnonzero(mask)
    out = np.full_like(xy, np.nan)
    try:
        out[keep] = convert_points(xy[keep], crs, STORED)
    except DomainError:
        for i in keep.tolist():
            try:
                out[i] = convert_points(xy[i : i + 1], crs, STORED)[0]
            except DomainError:
                bad.append(int(i))
    return out, sorted(bad)


def _wkt_geometries(
    table: Table,
    columns: Columns,
    cells: list[str],
    wanted: NDArray[np.bool_],
    crs: str,
    geoms: NDArray[np.object_],
    problems: _Problems,
    result: ComponentFile,
) -> None:
    """Geometries of the rows with WKT (an EWKT ``SRID=n;`` prefix names that row's system)."""
    header = columns.header("wkt") or "wkt"
    groups: dict[str, list[int]] = {}
    texts: dict[int, str] = {}
    for i in np.flatnonzero(wanted).tolist():
        text = cells[i]
        match = _EWKT.match(text)
        system = crs
        if match:
            system, text = f"EPSG:{int(match.group(1))}", match.group(2)
        groups.setdefault(system, []).append(i)
        texts[i] = text
    for system, index in groups.items():
        parsed = shapely.from_wkt(
            np.array([texts[i] for i in index], dtype=object), on_invalid="ignore"
        )
        for k in np.flatnonzero(shapely.is_missing(parsed)).tolist():
            row = table.rows[index[k]]
            problems.add(
                row,
                header,
                "unreadable_wkt",
                N_("Not a WKT geometry: %(value)s"),
                value=texts[index[k]][:80],
            )
            result.geometry_rows.add(row)
        present = [(i, g) for i, g in zip(index, parsed, strict=True) if g is not None]
        try:
            parse_system(system)
        except DomainError as exc:
            for i, _ in present:
                problems.add(table.rows[i], header, exc.code, exc.message, **exc.params)
                result.geometry_rows.add(table.rows[i])
            continue
        for i, geom in _geometries_to_stored(present, system):
            if geom is None:
                row = table.rows[i]
                problems.add(
                    row,
                    header,
                    "coordinates_not_in_crs",
                    N_(
                        "The coordinates of the geometry are not in %(crs)s; name the file's coordinate system"
                    ),
                    crs=system,
                )
                result.geometry_rows.add(row)
            else:
                geoms[i] = geom


def _geometries_to_stored(
    items: list[tuple[int, BaseGeometry]], system: str
) -> Iterator[tuple[int, BaseGeometry | None]]:
    """Geometries from ``system`` into EPSG:4490, all at once; one by one to find a bad one."""
    if not items:
        return

    def move(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return convert_points(xy, system, STORED)

    array = np.empty(len(items), dtype=object)
    array[:] = [g for _, g in items]
    try:
        moved = shapely.transform(array, move)
    except DomainError:
        for i, geom in items:
            try:
                yield i, shapely.transform(geom, move)
            except DomainError:
                yield i, None
        return
    yield from zip((i for i, _ in items), moved, strict=True)
