"""The cells of a census file by column: CSV (UTF-8 with or without BOM, else GB18030), the
first sheet of an Excel workbook (below its header row), and the features of GeoJSON,
Shapefile and GeoPackage files through ``feature_io`` (their own CRS honoured, EPSG:4490 out).

Row numbers are those a person sees: the sheet row for CSV and Excel (the header is row 1),
the feature number from 1 for the others. ``component_files`` makes a batch of them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.component_columns import FIELD_ALIASES, normal
from gridcity.adapters.crs import STORED_EPSG
from gridcity.adapters.csv_wkt import unguard
from gridcity.adapters.feature_io import read_file, stored_geometries
from gridcity.adapters.file_support import (
    MAX_CENSUS_BYTES,
    MAX_CENSUS_ROWS,
    codec_of,
    too_large,
    too_many,
)
from gridcity.adapters.geojson_files import stream_features
from gridcity.domain.errors import InvalidInput

STORED = f"EPSG:{STORED_EPSG}"
HEADER_SCAN_ROWS = 20
PROGRESS_EVERY = 50_000
POOL_MAX = 50_000
Advance = Callable[[str, int, int], None]
_KNOWN = frozenset(normal(a) for aliases in FIELD_ALIASES.values() for a in aliases)


@dataclass
class Table:
    """A file's cells by column, the row number of each data row, and geometries if the
    format carries them (else None: CSV and Excel, read from their columns)."""

    headers: list[str]
    rows: list[int]
    cells: list[list[Any]]
    geometries: Sequence[BaseGeometry | None] | NDArray[np.object_] | None = None
    reasons: dict[int, str] = field(default_factory=dict)  # data row index -> unreadable why
    crs: str = STORED
    layers: tuple[tuple[str, int, int], ...] = ()


def text_of(value: Any) -> str:
    """One cell as text: numbers without a spurious .0, dates as YYYY-MM-DD, times as HH:MM:SS,
    durations as H:MM:SS (Excel's [h]:mm:ss)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        hours, rest = divmod(abs(seconds), 3600)
        return f"{'-' if seconds < 0 else ''}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return json.dumps(value, ensure_ascii=False)


# --- CSV ---------------------------------------------------------------------------------------


def read_csv_table(path: Path, encoding: str | None, progress: Advance) -> Table:
    """The cells of a CSV file: UTF-8 (BOM or not), else GB18030, unless ``encoding`` says."""
    if encoding:
        return _csv_cells(path, codec_of(path, encoding), progress)
    try:
        return _csv_cells(path, "utf-8-sig", progress)
    except UnicodeDecodeError:
        return _csv_cells(path, "gb18030", progress)


def _csv_cells(path: Path, codec: str, progress: Advance) -> Table:
    """Rows of a CSV file by column (a UnicodeDecodeError when ``codec`` is wrong)."""
    size = path.stat().st_size
    try:
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=codec, newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(
                    "empty_census_file", "%(path)s holds no header row", path=path.name
                )
            width = len(header)
            cells: list[list[Any]] = [[] for _ in range(width)]
            pools: list[dict[str, str]] = [{} for _ in range(width)]
            records: list[list[str]] = []
            rows: list[int] = []
            for number, record in enumerate(reader, start=2):
                if not "".join(record).strip():
                    continue
                if len(record) != width:
                    record = (record + [""] * width)[:width]
                records.append(record)
                rows.append(number)
                if len(records) == PROGRESS_EVERY:
                    _by_column(cells, pools, records)
                    progress("read", raw.tell(), size)
            _by_column(cells, pools, records)
    except UnicodeDecodeError:
        if codec != "utf-8-sig":
            raise InvalidInput(
                "file_encoding_wrong",
                "%(path)s: the attributes are not %(encoding)s text; say their encoding with --encoding (e.g. gbk)",
                path=path.name,
                encoding=codec,
            ) from None
        raise
    except csv.Error as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=path.name, why=str(exc)
        ) from None
    return Table([h.strip() for h in header], rows, cells)


def _by_column(
    cells: list[list[Any]], pools: list[dict[str, str]], records: list[list[str]]
) -> None:
    """Move a batch of records into the columns (transposed at C speed, a batch at a time so
    that the records and the columns never both hold the whole file), the CSV guard's
    apostrophe taken off where there is one; empties ``records``.

    A census column mostly repeats a few values (states, dates, departments): each is kept
    once (a million rows of an export hold ~2 GB of cells otherwise). A column that passes
    POOL_MAX distinct values (identifiers, coordinates) is taken as it comes."""
    if records:
        for column, pool, values in zip(cells, pools, zip(*records, strict=True), strict=True):
            clean = [unguard(v) if v[:1] == "'" else v for v in values]
            if len(pool) < POOL_MAX:
                clean = [pool.setdefault(v, v) for v in clean]
            column.extend(clean)
    records.clear()


# --- Excel -------------------------------------------------------------------------------------


def read_excel_table(path: Path, progress: Advance, max_bytes: int = MAX_CENSUS_BYTES) -> Table:
    """The cells of the first sheet of a workbook, below its header row (python-calamine: the
    cells as openpyxl gave them, see ``_cell``; ~50x faster)."""
    from python_calamine import CalamineError, CalamineWorkbook

    _check_unpacked(path, max_bytes)
    try:
        with CalamineWorkbook.from_path(path) as book:
            return _sheet_table(path, book.get_sheet_by_index(0), progress)
    except (CalamineError, OSError, ValueError) as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=path.name, why=str(exc)
        ) from None


def _sheet_table(path: Path, sheet: Any, progress: Advance) -> Table:
    """A loaded sheet as a Table: rows numbered as the sheet numbers them, from 1."""
    total = sheet.end[0] + 1 if sheet.end else 0  # the last row's number
    lines: Iterator[list[Any]] = iter(sheet.iter_rows())
    start = sheet.start
    if start and start[1]:  # calamine starts each row at the first column holding a value
        lines = ([""] * start[1] + values for values in lines)
    scanned: list[list[Any]] = []
    header_at = None
    for number, values in enumerate(lines, start=1):
        scanned.append(values)
        if _looks_like_header(values):
            header_at = number
            break
        if number >= HEADER_SCAN_ROWS:
            break
    if header_at is None:
        header_at = next((k + 1 for k, v in enumerate(scanned) if any(_filled(c) for c in v)), None)
        if header_at is None:
            raise InvalidInput("empty_census_file", "%(path)s holds no header row", path=path.name)
        lines = itertools.chain(scanned[header_at:], lines)
    header = [text_of(_cell(v)) for v in scanned[header_at - 1]]
    width = len(header)
    cells: list[list[Any]] = [[] for _ in range(width)]
    records: list[list[Any]] = []
    rows: list[int] = []
    for number, values in enumerate(lines, start=header_at + 1):
        if not any(_filled(v) for v in values):
            continue
        if len(values) != width:
            values = (values + [None] * width)[:width]
        records.append(values)
        rows.append(number)
        if len(records) == PROGRESS_EVERY:
            _sheet_columns(cells, records)
            progress("read", number, total)
    _sheet_columns(cells, records)
    return Table(header, rows, cells)


def _sheet_columns(cells: list[list[Any]], records: list[list[Any]]) -> None:
    """Move a batch of sheet rows into the columns (cells as ``_cell`` has them); empties
    ``records``."""
    if records:
        for column, values in zip(cells, zip(*records, strict=True), strict=True):
            column.extend([_cell(v) for v in values])
    records.clear()


def _cell(value: Any) -> Any:
    """A calamine cell as openpyxl (read-only, values only) gave it, so that the same text and
    the same checks come out: text stripped; a whole number below 10^15 an int (the sheet
    writes it without a decimal point: openpyxl made it an int, calamine a float), larger
    ones stay floats (they have lost digits: ``identifier_not_text``); a date a midnight
    datetime. Times, durations, bools and other floats are the same in both; an empty cell
    is "" (openpyxl: None), which every reader of the cells takes as empty."""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        return int(value) if value.is_integer() and -1e15 < value < 1e15 else value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _looks_like_header(values: Iterable[Any]) -> bool:
    """True for a row that names at least two known columns."""
    return sum(1 for v in values if isinstance(v, str) and normal(v) in _KNOWN) >= 2


def _check_unpacked(path: Path, max_bytes: int) -> None:
    """Refuse a workbook whose unpacked size is beyond what a file may hold (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=path.name, why=str(exc)
        ) from None
    if unpacked > 4 * max_bytes:
        raise too_large(path, unpacked, 4 * max_bytes)


# --- GeoJSON, Shapefile, GeoPackage --------------------------------------------------------------


def read_feature_table(
    path: Path,
    crs: str | None,
    encoding: str | None,
    progress: Advance,
    max_bytes: int = MAX_CENSUS_BYTES,
    max_rows: int = MAX_CENSUS_ROWS,
) -> Table:
    """The features of a geo file in EPSG:4490, numbered from 1: GeoJSON streamed, Shapefile
    and GeoPackage through ``feature_io`` (with the census limits, not a grid file's)."""
    progress("read", 0, 1)
    if encoding:
        codec_of(path, encoding)  # a wrong name is refused whatever the format
    if path.suffix.lower() in (".geojson", ".json"):
        return _geojson_table(path, crs, max_rows, progress)
    layers: list[str | None] = [None]
    if path.suffix.lower() == ".zip":
        layers = list(_shapefiles_in(path)) or [None]
    headers: dict[str, None] = {}
    props: list[dict[str, Any]] = []
    geometries: list[BaseGeometry | None] = []
    reasons: dict[int, str] = {}
    systems: list[str] = []
    spans: list[tuple[str, int, int]] = []
    for layer in layers:
        found = read_file(
            path,
            crs=crs,
            encoding=encoding,
            layer=layer,
            max_bytes=max_bytes,
            max_features=max_rows,
        )
        first = len(props) + 1
        for feature in found.features:
            if feature.problem is not None and feature.problem != "no geometry":
                reasons[len(props)] = feature.problem
            props.append(_flat(feature.properties))
            geometries.append(feature.geometry)
            headers.update(dict.fromkeys(props[-1]))
        if len(props) > max_rows:  # the Shapefiles of a zip together
            raise too_many(path, max_rows)
        systems.append(found.crs)
        if layer is not None:
            spans.append((layer, first, len(props)))
    names = list(headers)
    cells = [[p.get(name) for p in props] for name in names]
    return Table(
        names,
        list(range(1, len(props) + 1)),
        cells,
        geometries,
        reasons,
        ", ".join(dict.fromkeys(systems)),
        tuple(spans) if len(spans) > 1 else (),
    )


def _geojson_table(path: Path, crs: str | None, max_rows: int, progress: Advance) -> Table:
    """A GeoJSON census file read as it streams (bounded memory), in EPSG:4490."""
    found = stream_features(path, max_features=max_rows, progress=progress, prepare=_flat)
    geometries, bad, system = stored_geometries(path, found.geometries, found.crs, crs)
    reasons = dict(sorted({**found.reasons, **bad}.items()))
    return Table(
        found.headers,
        list(range(1, found.count + 1)),
        found.cells,
        geometries,
        reasons,
        system,
    )


def _flat(properties: dict[str, Any]) -> dict[str, Any]:
    """Properties with a nested ``attributes`` object spread out as ``attr_<name>``."""
    nested = properties.get("attributes")
    if not isinstance(nested, dict):
        return properties
    out = {k: v for k, v in properties.items() if k != "attributes"}
    out.update({f"attr_{k}": v for k, v in nested.items()})
    return out


def _shapefiles_in(path: Path) -> list[str]:
    """The Shapefile names in a zip, in name order (the reader refuses a bad zip itself)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                PurePosixPath(info.filename).stem
                for info in archive.infolist()
                if info.filename.lower().endswith(".shp")
                and not info.filename.startswith("__MACOSX/")
            ]
    except (zipfile.BadZipFile, OSError):
        return []
    return sorted(names) if len(names) > 1 else []
