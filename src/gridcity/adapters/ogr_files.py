"""Zipped Shapefiles and GeoPackages through pyogrio (its wheel bundles GDAL).

A zip is unpacked by us, not by GDAL, so that a missing part or several Shapefiles get a
clear refusal; Shapefile text is decoded as its .cpg says, else as the DBF's code page mark,
else as UTF-8 (a Chinese file without .cpg is never silently read as Latin-1).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.file_support import (
    LONG_NAMES,
    MAX_FEATURES,
    MAX_INPUT_BYTES,
    SHAPEFILE_TEXT_BYTES,
    SHORT_NAMES,
    atomic,
    check_text,
    codec_of,
    columns_of,
    too_large,
    too_many,
)
from gridcity.adapters.geojson_files import Feature, parsed_feature
from gridcity.domain.errors import InvalidInput

# What pyogrio raises for a file GDAL cannot open, read or write.
OGR_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


def read_shapefile(
    path: Path,
    codec: str | None,
    layer: str | None,
    max_bytes: int | None = None,
    max_features: int | None = None,
) -> tuple[list[Feature], str | None]:
    """A zipped Shapefile (or a .shp beside its .shx/.dbf), attributes decoded per .cpg."""
    if path.suffix.lower() == ".shp":
        _check_parts(path, {ext: path.with_suffix(ext).exists() for ext in (".shx", ".dbf")})
        return read_ogr(path, path, None, codec or _dbf_codec(path, path), max_features)
    with tempfile.TemporaryDirectory(prefix="gridcity-shp-") as folder:
        shp = _unzip_shapefile(path, Path(folder), layer, max_bytes)
        return read_ogr(path, shp, None, codec or _dbf_codec(path, shp), max_features)


def _unzip_shapefile(path: Path, folder: Path, layer: str | None, max_bytes: int | None) -> Path:
    """The parts of the one (or the named) Shapefile of a zip, extracted into ``folder``."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {
                info.filename.lower(): info
                for info in archive.infolist()
                if not info.is_dir() and not info.filename.startswith("__MACOSX/")
            }
            shps = [name for name in members if name.endswith(".shp")]
            if layer is not None:
                shps = [n for n in shps if PurePosixPath(n).stem == layer.lower()]
            if len(shps) != 1:
                raise _shapefile_count(path, shps, layer)
            stem = shps[0][: -len(".shp")]
            parts = {
                ext: members.get(stem + ext) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
            }
            _check_parts(path, {ext: parts[ext] is not None for ext in (".shx", ".dbf")})
            # A census zip (max_bytes given) may unpack to 4x its limit, as an .xlsx may: a DBF
            # is fixed-width text (1,000,000 exported components: a 51 MB zip of 1.5 GB).
            limit = MAX_INPUT_BYTES if max_bytes is None else 4 * max_bytes
            if sum(info.file_size for info in parts.values() if info) > limit:
                raise too_large(path, sum(i.file_size for i in parts.values() if i), limit)
            for ext, info in parts.items():
                if info is not None:
                    with archive.open(info) as src, (folder / f"layer{ext}").open("wb") as dst:
                        shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError) as exc:
        raise InvalidInput(
            "file_not_zip",
            "%(path)s is not a readable zip archive of a Shapefile: %(why)s",
            path=str(path),
            why=str(exc),
        ) from None
    return folder / "layer.shp"


def _shapefile_count(path: Path, shps: list[str], layer: str | None) -> InvalidInput:
    """The refusal for a zip with no Shapefile (of that name) or with several."""
    if not shps:
        return InvalidInput(
            "shapefile_missing",
            "%(path)s holds no Shapefile %(layer)s(.shp)",
            path=str(path),
            layer=f"{layer} " if layer else "",
        )
    return InvalidInput(
        "shapefile_several",
        "%(path)s holds several Shapefiles (%(names)s); choose one with --layer",
        path=str(path),
        names=", ".join(sorted(PurePosixPath(n).stem for n in shps)),
    )


def _check_parts(path: Path, present: Mapping[str, bool]) -> None:
    """Refuse a Shapefile without its index (.shx) or attribute table (.dbf)."""
    for ext, there in present.items():
        if not there:
            raise InvalidInput(
                "shapefile_part_missing",
                "%(path)s: the Shapefile has no %(part)s file beside its .shp",
                path=str(path),
                part=ext,
            )


def _dbf_codec(path: Path, shp: Path) -> str | None:
    """The encoding its .cpg names; None (GDAL decides) when the DBF marks a code page; UTF-8."""
    cpg = shp.with_suffix(".cpg")
    named = cpg.read_text(encoding="ascii", errors="replace").strip() if cpg.exists() else ""
    if named:
        return codec_of(path, named)
    with shp.with_suffix(".dbf").open("rb") as fh:
        header = fh.read(30)
    return None if len(header) == 30 and header[29] != 0 else "utf-8"


def read_ogr(
    path: Path,
    source: Path,
    layer: str | None,
    codec: str | None,
    max_features: int | None = None,
) -> tuple[list[Feature], str | None]:
    """Features and CRS text of a Shapefile or GeoPackage layer, through pyogrio (at most
    ``max_features``: a grid file's limit if None)."""
    max_features = MAX_FEATURES if max_features is None else max_features
    try:
        layers = [str(name) for name, _kind in pyogrio.list_layers(source)]
        if layer is None and len(layers) > 1:
            raise InvalidInput(
                "file_several_layers",
                "%(path)s holds several layers (%(names)s); choose one with --layer",
                path=str(path),
                names=", ".join(layers),
            )
        if pyogrio.read_info(source, layer=layer, encoding=codec)["features"] > max_features:
            raise too_many(path, max_features)
        meta, _fids, geometry, columns = pyogrio.raw.read(
            source, layer=layer, encoding=codec, force_2d=True, datetime_as_string=True
        )
    except UnicodeDecodeError:
        raise InvalidInput(
            "file_encoding_wrong",
            "%(path)s: the attributes are not %(encoding)s text; say their encoding with --encoding (e.g. gbk)",
            path=str(path),
            encoding=codec or "utf-8",
        ) from None
    except OGR_ERRORS as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=str(path), why=str(exc)
        ) from None
    names = [LONG_NAMES.get(str(n), str(n)) for n in meta["fields"]]
    values = [[_plain(v) for v in column.tolist()] for column in columns]
    if geometry is None:  # a table without a geometry column: every feature says so
        geometry = [None] * (len(values[0]) if values else 0)
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)] or [
        {} for _ in range(len(geometry))
    ]
    features = [
        parsed_feature(i, props, wkb, shapely.from_wkb, "geometry")
        for i, (wkb, props) in enumerate(zip(geometry, rows, strict=True))
    ]
    return features, meta.get("crs")


def _plain(value: object) -> object:
    """A field value as a plain Python scalar (NaN → None, dates → ISO text)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def write_shapefile(
    path: Path,
    geoms: Sequence[BaseGeometry | None],
    props: Sequence[Mapping[str, Any]],
    label: str | None,
    codec: str,
) -> None:
    """A zip of .shp/.shx/.dbf/.prj/.cpg with short field names and text in ``codec``."""
    check_text(path, props, codec, SHAPEFILE_TEXT_BYTES)
    short = [{SHORT_NAMES.get(k, k)[:10]: v for k, v in p.items()} for p in props]
    with tempfile.TemporaryDirectory(prefix="gridcity-shp-") as folder:
        write_ogr(
            Path(folder) / f"{path.stem}.shp",
            "ESRI Shapefile",
            geoms,
            short,
            label,
            codec.upper(),
            path.stem,
        )
        with atomic(path) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(folder).iterdir()):
                archive.write(part, part.name)


def write_ogr(
    target: Path,
    driver: str,
    geoms: Sequence[BaseGeometry | None],
    props: Sequence[Mapping[str, Any]],
    label: str | None,
    encoding: str | None,
    layer: str,
) -> None:
    """One layer through pyogrio: polygons as MultiPolygon, typed columns (NaN is null)."""
    columns = columns_of(props)
    wkb = np.empty(len(geoms), dtype=object)
    wkb[:] = [shapely.to_wkb(g) if g is not None else None for g in geoms]
    kinds = {g.geom_type for g in geoms if g is not None}
    polygonal = kinds <= {"Polygon", "MultiPolygon"}
    pyogrio.raw.write(
        target,
        wkb,
        [_column([p.get(c) for p in props]) for c in columns],
        fields=columns,
        crs=label,
        driver=driver,
        geometry_type="MultiPolygon"
        if polygonal
        else (kinds.pop() if len(kinds) == 1 else "Unknown"),
        promote_to_multi=polygonal,
        encoding=encoding,
        layer=layer,
    )


def _column(values: list[Any]) -> np.ndarray:
    """A field's values as an array: numbers as float64 (None → NaN), anything else as text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present) and len(present) == len(values):
            return np.asarray(values, dtype=np.int64)
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = [None if v is None else str(v) for v in values]
    return out
