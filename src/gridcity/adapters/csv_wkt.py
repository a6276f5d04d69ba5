"""CSV with WKT: one row per feature, the geometry as (E)WKT, every other column a property.

Export guards against formula injection (OWASP "CSV Injection"): a text cell that a
spreadsheet would run as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return — gets a leading apostrophe; the reader takes it off again, so a round trip
is exact. Plain numbers (``-3.5``) and the WKT column are never guarded. A geometry cell may
carry PostGIS's EWKT prefix ``SRID=4548;``, which names that row's coordinate system.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.file_support import (
    LONG_NAMES,
    MAX_FEATURES,
    atomic,
    check_text,
    columns_of,
    too_many,
)
from gridcity.adapters.geojson_files import Feature, parsed_feature
from gridcity.domain.errors import InvalidInput

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")  # what a spreadsheet may run, behind any apostrophes
_GUARDED = re.compile(r"^'+[=+\-@\t\r]")  # the same with at least one guard in front
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EWKT = re.compile(r"^\s*SRID\s*=\s*(\d{1,6})\s*;(.*)$", re.IGNORECASE | re.DOTALL)

csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))  # big polygons in WKT


@dataclass(frozen=True)
class CsvRows:
    """The features of a CSV file and the EPSG code each row's EWKT names (by feature index)."""

    features: list[Feature]
    srids: dict[int, int]


def guard(value: str) -> str:
    """A text cell made safe to open in a spreadsheet (a leading apostrophe when needed)."""
    return "'" + value if _FORMULA.match(value) and not _NUMBER.match(value) else value


def unguard(value: str) -> str:
    """A cell as it was before ``guard``."""
    return value[1:] if _GUARDED.match(value) else value


def read_csv(path: Path, codec: str, wkt_column: str | None) -> CsvRows:
    """Rows of a CSV file; the geometry is the WKT column, every other column a property."""
    try:
        with path.open(encoding=codec, newline="") as fh:
            reader = csv.reader(fh)
            header = [name.strip() for name in next(reader, [])]
            column = _wkt_index(path, header, wkt_column)
            names = [LONG_NAMES.get(n, n) for n in header]
            features: list[Feature] = []
            srids: dict[int, int] = {}
            for row in reader:
                if not row:
                    continue
                if len(features) >= MAX_FEATURES:
                    raise too_many(path)
                cells = (row + [""] * len(header))[: len(header)]
                props = {
                    n: (unguard(v) or None)
                    for i, (n, v) in enumerate(zip(names, cells, strict=True))
                    if i != column
                }
                text = cells[column]
                ewkt = _EWKT.match(text)
                if ewkt:
                    srids[len(features)] = int(ewkt.group(1))
                    text = ewkt.group(2)
                features.append(parsed_feature(len(features), props, text, shapely.from_wkt, "WKT"))
            return CsvRows(features, srids)
    except UnicodeDecodeError:
        raise InvalidInput(
            "file_encoding_wrong",
            "%(path)s: the attributes are not %(encoding)s text; say their encoding with --encoding (e.g. gbk)",
            path=str(path),
            encoding=codec.removesuffix("-sig"),
        ) from None
    except csv.Error as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=str(path), why=str(exc)
        ) from None


def _wkt_index(path: Path, header: list[str], wanted: str | None) -> int:
    """Position of the WKT column: the one named, else the first usual name."""
    lowered = [name.lower() for name in header]
    for name in [wanted] if wanted else WKT_COLUMNS:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    raise InvalidInput(
        "csv_wkt_column_missing",
        "%(path)s has no WKT geometry column %(names)s; name it with --wkt-column",
        path=str(path),
        names=" or ".join([wanted] if wanted else WKT_COLUMNS),
    )


def write_csv(
    path: Path, geoms: Sequence[BaseGeometry | None], props: Sequence[Mapping[str, Any]], codec: str
) -> None:
    """Properties as guarded columns and the geometry as full-precision WKT in a last ``wkt``
    column."""
    check_text(path, props, codec, None)
    columns = [c for c in columns_of(props) if c != "wkt"]
    with atomic(path) as temp, temp.open("w", encoding=codec, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*columns, "wkt"])
        for geom, p in zip(geoms, props, strict=True):
            wkt = shapely.to_wkt(geom, rounding_precision=-1) if geom is not None else ""
            writer.writerow([*(_cell(p.get(c)) for c in columns), wkt])


def _cell(value: object) -> object:
    """One property as written: empty for None, guarded when text, as it is otherwise."""
    if value is None:
        return ""
    return guard(value) if isinstance(value, str) else value
