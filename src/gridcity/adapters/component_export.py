"""Census files (部件普查) out, streamed: CSV, Excel, GeoJSON and zipped Shapefile, written a
chunk of rows at a time so that a million components never sit in memory at once.

Every writer writes a temporary file beside the target and renames it at the end, so a failed
export never leaves half a file. CSV and Excel rows end with ``lon``, ``lat`` (the anchor
point) and ``wkt`` (the geometry, left empty for a point: lon/lat say it); GeoJSON and
Shapefile carry the geometry itself. CSV is UTF-8 with a BOM (Excel opens it right), its text
cells guarded against formula injection as ``csv_wkt`` does; Excel cells are text cells, never
formulas. A Shapefile holds one kind of geometry, so a zip holds one Shapefile per kind present
(``<name>_point``, ``_multipoint``, ``_line``, ``_polygon``), or one named like the zip when
all components are of one kind; its DBF text is UTF-8 (.cpg) and at most 254 bytes a field.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import orjson
import pyogrio.raw
import shapely
from numpy.typing import NDArray

from gridcity.adapters.csv_wkt import guard
from gridcity.adapters.file_support import SHAPEFILE_TEXT_BYTES, atomic
from gridcity.adapters.geojson_files import DECIMALS
from gridcity.domain.errors import InvalidInput

EXCEL_MAX_ROWS = 1_048_576 - 1  # a sheet's rows, less the header
EXCEL_CELL_MAX = 32_767
GEOMETRY_COLUMNS = ("lon", "lat", "wkt")
_FORMULA_START = frozenset("=+-@\t\r")  # what csv_wkt.guard may guard (checked first: cheap)
_KINDS = {0: "point", 4: "multipoint", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}
_OGR_TYPES = {
    "point": "Point",
    "multipoint": "MultiPoint",
    "line": "MultiLineString",
    "polygon": "MultiPolygon",
}


class ExportFormat(StrEnum):
    """The formats an export writes, and the extension of each."""

    CSV = "csv"
    EXCEL = "xlsx"
    GEOJSON = "geojson"
    SHAPEFILE = "shapefile"

    @property
    def suffix(self) -> str:
        """The file extension of the format."""
        return {"csv": ".csv", "xlsx": ".xlsx", "geojson": ".geojson", "shapefile": ".zip"}[
            self.value
        ]

    @property
    def media_type(self) -> str:
        """The HTTP content type of the format."""
        return {
            "csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "geojson": "application/geo+json",
            "shapefile": "application/zip",
        }[self.value]


def parse_format(value: str) -> ExportFormat:
    """An export format by name (csv, xlsx, geojson, shapefile; zip and excel too), or a refusal."""
    text = {"zip": "shapefile", "excel": "xlsx", "json": "geojson"}.get(
        value.strip().lower(), value.strip().lower()
    )
    try:
        return ExportFormat(text)
    except ValueError:
        raise InvalidInput(
            "export_format_unknown",
            "Unknown export format %(format)s (csv, xlsx, geojson or shapefile)",
            format=value,
        ) from None


class ComponentWriter(ABC):
    """Streams rows (a geometry and one value per column) into a file of one format."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.columns = list(columns)
        self.count = 0

    @abstractmethod
    def write(self, geoms: NDArray[np.object_], rows: Sequence[Sequence[Any]]) -> None:
        """Append a chunk: geometries in EPSG:4490 and the rows' values in column order."""

    @abstractmethod
    def finish(self) -> None:
        """Complete the file and put it in place."""

    @abstractmethod
    def abort(self) -> None:
        """Drop what was written (the target is left as it was)."""

    def __enter__(self) -> ComponentWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self.abort()


def open_writer(format: ExportFormat, path: Path, columns: Sequence[str]) -> ComponentWriter:
    """A writer of the format into ``path`` (replaced at the end)."""
    writers: dict[ExportFormat, type[ComponentWriter]] = {
        ExportFormat.CSV: _CsvWriter,
        ExportFormat.EXCEL: _ExcelWriter,
        ExportFormat.GEOJSON: _GeoJsonWriter,
        ExportFormat.SHAPEFILE: _ShapefileWriter,
    }
    return writers[format](path, columns)


def _temp_beside(path: Path) -> Path:
    """A new empty file beside ``path`` (the same file system, so the rename is atomic)."""
    handle, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(handle)
    return Path(name)


def _anchor_and_wkt(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], list[str]]:
    """The anchor points (x, y of points, else a representative point) and WKT of non-points."""
    types = shapely.get_type_id(geoms)
    xy = np.empty((len(geoms), 2))
    points = types == 0
    xy[points, 0] = shapely.get_x(geoms[points])
    xy[points, 1] = shapely.get_y(geoms[points])
    others = ~points
    wkt = [""] * len(geoms)
    if others.any():
        from gridcity.domain.components import anchor_points

        xy[others] = anchor_points(geoms[others])
        texts = shapely.to_wkt(geoms[others], rounding_precision=-1)
        for i, text in zip(np.flatnonzero(others).tolist(), texts, strict=True):
            wkt[i] = str(text)
    return xy, wkt


class _FileWriter(ComponentWriter):
    """A writer into one temporary file, renamed onto the target at the end."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        self.temp = _temp_beside(path)
        self.handle: IO[Any] | None = None

    def finish(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.temp.replace(self.path)

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.temp.unlink(missing_ok=True)


class _CsvWriter(_FileWriter):
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        self.handle = self.temp.open("w", encoding="utf-8-sig", newline="")
        self.out = csv.writer(self.handle)
        self.out.writerow([*self.columns, *GEOMETRY_COLUMNS])

    def write(self, geoms: NDArray[np.object_], rows: Sequence[Sequence[Any]]) -> None:
        xy, wkt = _anchor_and_wkt(geoms)
        for k, values in enumerate(rows):
            cells = [
                guard(v) if isinstance(v, str) and v[:1] in _FORMULA_START else v for v in values
            ]
            self.out.writerow([*cells, repr(float(xy[k, 0])), repr(float(xy[k, 1])), wkt[k]])
        self.count += len(rows)


# The parts of a minimal .xlsx workbook (SpreadsheetML) around its one streamed sheet.
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="components" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_XML_UNFIT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _column_letters(index: int) -> str:
    """A, B, … Z, AA, … for a 0-based column index."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _ExcelWriter(_FileWriter):
    """An .xlsx workbook whose one sheet is streamed into the zip as it is written: text cells
    are inline strings (never formulas), numbers are numbers. openpyxl's own writer is some
    fifteen times slower, too slow for a city's inventory."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        self.names = [*self.columns, *GEOMETRY_COLUMNS]
        self.letters = [_column_letters(i) for i in range(len(self.names))]
        self.zip = zipfile.ZipFile(self.temp, "w", zipfile.ZIP_DEFLATED)
        for name, text in _XLSX_PARTS.items():
            self.zip.writestr(name, text)
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.sheet.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData>"
        )
        self.row = 0
        self._append(self.names, "")

    def _append(self, values: Sequence[Any], identifier: str) -> None:
        self.row += 1
        n = self.row
        cells = []
        for i, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{self.letters[i]}{n}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                text = str(value)
                if len(text) > EXCEL_CELL_MAX or _XML_UNFIT.search(text):
                    raise InvalidInput(
                        "export_cell_unfit",
                        "Component %(identifier)s: %(column)s is too long for an Excel cell or holds control characters; export CSV or GeoJSON instead",
                        identifier=identifier,
                        column=self.names[i],
                    )
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{xml_escape(text)}</t></is></c>'
                )
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        self.sheet.write(f'<row r="{n}">{"".join(cells)}</row>'.encode())

    def write(self, geoms: NDArray[np.object_], rows: Sequence[Sequence[Any]]) -> None:
        if self.count + len(rows) > EXCEL_MAX_ROWS:
            raise InvalidInput(
                "export_too_many_rows",
                "An Excel sheet holds at most %(max)s rows; export CSV, GeoJSON or Shapefile, or fewer components",
                max=EXCEL_MAX_ROWS,
            )
        xy, wkt = _anchor_and_wkt(geoms)
        for k, values in enumerate(rows):
            identifier = str(values[0]) if values else ""
            self._append([*values, float(xy[k, 0]), float(xy[k, 1]), wkt[k]], identifier)
        self.count += len(rows)

    def finish(self) -> None:
        self.sheet.write(b"</sheetData></worksheet>")
        self.sheet.close()
        self.zip.close()
        super().finish()

    def abort(self) -> None:
        try:
            self.sheet.close()
            self.zip.close()
        except (OSError, ValueError, zipfile.BadZipFile):
            pass
        super().abort()


class _GeoJsonWriter(_FileWriter):
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        self.handle = self.temp.open("wb")
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
        self.handle.write(
            b'{"type":"FeatureCollection","crs":' + orjson.dumps(crs) + b',"features":[\n'
        )

    def write(self, geoms: NDArray[np.object_], rows: Sequence[Sequence[Any]]) -> None:
        assert self.handle is not None
        rounded = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
        shapes = shapely.to_geojson(rounded)
        for k, values in enumerate(rows):
            props = {c: v for c, v in zip(self.columns, values, strict=True) if v not in ("", None)}
            if self.count or k:
                self.handle.write(b",\n")
            self.handle.write(
                b'{"type":"Feature","properties":'
                + orjson.dumps(props)
                + b',"geometry":'
                + str(shapes[k]).encode()
                + b"}"
            )
        self.count += len(rows)

    def finish(self) -> None:
        assert self.handle is not None
        self.handle.write(b"\n]}\n")
        super().finish()


class _ShapefileWriter(ComponentWriter):
    """One Shapefile per geometry kind in a temporary folder, zipped at the end."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        super().__init__(path, columns)
        self.folder = tempfile.TemporaryDirectory(prefix="gridcity-shp-")
        self.kinds: set[str] = set()

    def write(self, geoms: NDArray[np.object_], rows: Sequence[Sequence[Any]]) -> None:
        kinds = np.array([_KINDS[t] for t in shapely.get_type_id(geoms).tolist()], dtype=object)
        for kind in sorted(set(kinds.tolist())):
            part = np.flatnonzero(kinds == kind)
            chosen = [rows[i] for i in part.tolist()]
            fields = [self._field(chosen, c) for c in range(len(self.columns))]
            shapes = geoms[part]
            if kind in ("line", "polygon"):
                shapes = shapely.force_2d(_as_multi(shapes, kind))
            wkb = np.empty(len(part), dtype=object)
            wkb[:] = list(shapely.to_wkb(shapes))
            pyogrio.raw.write(
                Path(self.folder.name) / f"{kind}.shp",
                wkb,
                fields,
                fields=self.columns,
                crs="EPSG:4490",
                driver="ESRI Shapefile",
                geometry_type=_OGR_TYPES[kind],
                encoding="UTF-8",
                append=kind in self.kinds,
            )
            self.kinds.add(kind)
        self.count += len(rows)

    def _field(self, rows: Sequence[Sequence[Any]], column: int) -> NDArray[np.object_]:
        """One column as DBF text (None for empty), refused where it passes 254 bytes."""
        out = np.empty(len(rows), dtype=object)
        for k, values in enumerate(rows):
            value = values[column]
            if value is None or value == "":
                out[k] = None
                continue
            text = str(value)
            if len(text) > SHAPEFILE_TEXT_BYTES // 4 and len(text.encode()) > SHAPEFILE_TEXT_BYTES:
                raise InvalidInput(
                    "export_text_too_long",
                    "Component %(identifier)s: %(column)s needs more than the %(max)s bytes a Shapefile field holds; export GeoJSON, CSV or Excel instead",
                    identifier=str(values[0]),
                    column=self.columns[column],
                    max=SHAPEFILE_TEXT_BYTES,
                )
            out[k] = text
        return out

    def finish(self) -> None:
        folder = Path(self.folder.name)
        if not self.kinds:  # nothing to export: an empty point layer, still a valid Shapefile
            pyogrio.raw.write(
                folder / "point.shp",
                np.empty(0, dtype=object),
                [np.empty(0, dtype=object) for _ in self.columns],
                fields=self.columns,
                crs="EPSG:4490",
                driver="ESRI Shapefile",
                geometry_type="Point",
                encoding="UTF-8",
            )
            self.kinds.add("point")
        single = len(self.kinds) == 1
        try:
            with atomic(self.path) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(folder.iterdir()):
                    stem = self.path.stem if single else f"{self.path.stem}_{part.stem}"
                    zf.write(part, stem + part.suffix)
        finally:
            self.folder.cleanup()

    def abort(self) -> None:
        self.folder.cleanup()


def _as_multi(geoms: NDArray[np.object_], kind: str) -> NDArray[np.object_]:
    """Lines as MultiLineString, polygons as MultiPolygon (a Shapefile layer holds one type)."""
    single = 1 if kind == "line" else 3
    out = geoms.copy()
    simple = shapely.get_type_id(geoms) == single
    if simple.any():
        make = shapely.multilinestrings if kind == "line" else shapely.multipolygons
        out[simple] = [make([g]) for g in geoms[simple]]
    return out
