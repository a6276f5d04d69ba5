"""Feature files in four formats: GeoJSON, zipped Shapefile, GeoPackage and CSV with WKT.

Reading gives every feature in the stored CRS (CGCS2000 lon/lat, EPSG:4490) with its index,
its properties and, when its geometry is unusable, the reason, so that an importer can name
every bad feature; only a file that cannot be read at all is refused outright, by name.
The input CRS is the file's own (.prj, GeoPackage SRS, GeoJSON ``crs``), else the one the
caller gives, else EPSG:4490; a given CRS that contradicts the file's is refused. Writing
converts out of the stored CRS and replaces the target in one rename.

Shapefile and GeoPackage go through pyogrio (its wheel bundles GDAL), GeoJSON through
``geojson_files``, CSV through the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from gridcity.adapters import file_support, geojson_files
from gridcity.adapters.crs import STORED_EPSG, convert_points, parse_system
from gridcity.adapters.csv_wkt import read_csv, write_csv
from gridcity.adapters.file_support import atomic, check_size, codec_of, too_many
from gridcity.adapters.geojson_files import Feature
from gridcity.adapters.ogr_files import (
    OGR_ERRORS,
    read_ogr,
    read_shapefile,
    write_ogr,
    write_shapefile,
)
from gridcity.domain.coords import Crs
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.imports import N_

STORED = f"EPSG:{STORED_EPSG}"


class Reason(str):
    """Why a geometry is unusable, in English, keeping its msgid and params for translation."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> Reason:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    @classmethod
    def of(cls, error: DomainError) -> Reason:
        """A domain refusal's message as a Reason."""
        return cls(error.message, **error.params)


# GCJ-02 and BD-09 have no EPSG code, so files holding them carry a WGS-84 or CGCS2000 label:
# --crs gcj02/bd09 over such a label says what the file cannot, and is not a contradiction.
_OFFSET_SYSTEMS = (Crs.GCJ02, Crs.BD09)
_LONLAT_EPSG = (4326, STORED_EPSG)
_NAMED_EPSG = {Crs.WGS84: 4326, Crs.CGCS2000: STORED_EPSG}


class Format(StrEnum):
    """The file formats we read and write."""

    GEOJSON = "geojson"
    SHAPEFILE = "shapefile"
    GEOPACKAGE = "gpkg"
    CSV = "csv"


_SUFFIXES = {
    ".geojson": Format.GEOJSON,
    ".json": Format.GEOJSON,
    ".zip": Format.SHAPEFILE,
    ".shp": Format.SHAPEFILE,
    ".gpkg": Format.GEOPACKAGE,
    ".csv": Format.CSV,
}


@dataclass(frozen=True)
class FeatureSet:
    """The features of a file in the stored CRS, and the system they were read in."""

    path: Path
    format: Format
    features: list[Feature]
    crs: str  # as named: "EPSG:4548", "gcj02"


def format_of(path: Path, *, writing: bool = False) -> Format:
    """The format a file name's extension says, or a refusal naming the file."""
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None or (writing and path.suffix.lower() == ".shp"):
        raise InvalidInput(
            "file_format_unknown",
            "%(path)s: unknown file type; use .geojson, .json, .zip (zipped Shapefile), .gpkg or .csv",
            path=str(path),
        )
    return found


# --- reading ---------------------------------------------------------------------------------


def read_file(
    path: Path,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    wkt_column: str | None = None,
    layer: str | None = None,
    max_bytes: int | None = None,
    max_features: int | None = None,
) -> FeatureSet:
    """Every feature of a file, converted into the stored CRS; refuses only an unreadable file
    (or one over the limits: a grid file's unless a census gives its own)."""
    path = Path(path)
    max_features = file_support.MAX_FEATURES if max_features is None else max_features
    kind = format_of(path)
    if crs is not None:
        parse_system(crs)
    codec = codec_of(path, encoding) if encoding else None
    check_size(path, max_bytes)
    file_crs: str | None = None
    if kind is Format.CSV:
        rows = read_csv(path, codec or "utf-8-sig", wkt_column)
        stored, systems = _csv_to_stored(rows.features, rows.srids, crs)
        return FeatureSet(path, kind, stored, systems)
    if kind is Format.GEOJSON:
        source = geojson_files.read_features(path)
        features, file_crs = source.features, source.crs
    elif kind is Format.SHAPEFILE:
        features, file_crs = read_shapefile(path, codec, layer, max_bytes, max_features)
    else:
        features, file_crs = read_ogr(path, path, layer, None, max_features)
    if len(features) > max_features:
        raise too_many(path, max_features)
    system = _input_system(path, file_crs, crs)
    return FeatureSet(path, kind, _to_stored(features, system), system)


def stored_geometries(
    path: Path, geometries: NDArray[np.object_], file_crs: str | None, given: str | None
) -> tuple[NDArray[np.object_], dict[int, str], str]:
    """Geometries read from a file (None where missing) in the stored CRS, as ``read_file``
    converts them: in the file's own system, else the given one; with the reason of each one
    whose coordinates cannot be converted, and the system used."""
    system = _input_system(path, file_crs, given)
    out = np.full(len(geometries), None, dtype=object)
    present = np.flatnonzero(~shapely.is_missing(geometries))
    reasons: dict[int, str] = {}
    if not len(present):
        return out, reasons, system
    try:
        out[present] = shapely.transform(
            geometries[present], lambda xy: convert_points(xy, system, STORED)
        )
    except DomainError:  # one at a time, to name each feature that cannot be converted
        for i in present.tolist():
            one = _one_to_stored(Feature(i, geometries[i]), system)
            out[i] = one.geometry
            if one.problem is not None:
                reasons[i] = one.problem
    return out, reasons, system


# --- coordinate systems ------------------------------------------------------------------------


def _input_system(path: Path, file_crs: str | None, given: str | None) -> str:
    """The system to read the file in: its own, else the given one, else EPSG:4490."""
    if file_crs is None:
        return given or STORED
    own = _identified(file_crs)
    if own is None:
        if given is not None:
            return given
        raise InvalidInput(
            "file_crs_unknown",
            "%(path)s names a coordinate system we do not know: %(crs)s",
            path=str(path),
            crs=_crs_name(file_crs),
        )
    try:
        parse_system(own)
    except DomainError as exc:
        raise InvalidInput(
            "file_crs_unsupported", "%(path)s: %(why)s", path=str(path), why=str(exc)
        ) from None
    if given is None or _epsg_of(given) == _epsg_of(own):
        return own
    if parse_system(given) in _OFFSET_SYSTEMS and _epsg_of(own) in _LONLAT_EPSG:
        return given
    raise InvalidInput(
        "file_crs_contradiction",
        "%(path)s says its coordinates are in %(own)s, but --crs says %(given)s; leave --crs out or correct the file",
        path=str(path),
        own=own,
        given=given,
    )


def _csv_to_stored(
    features: list[Feature], srids: Mapping[int, int], given: str | None
) -> tuple[list[Feature], str]:
    """CSV rows in EPSG:4490, each read in its EWKT SRID (which must agree with ``given``), else
    in ``given``, else EPSG:4490; and the systems used, as named."""
    groups: dict[str, list[Feature]] = {}
    out: dict[int, Feature] = {}
    for feature in features:
        srid = srids.get(feature.index)
        system, problem = (given or STORED, None) if srid is None else _row_system(srid, given)
        if problem is not None:
            out[feature.index] = Feature(feature.index, None, feature.properties, problem)
        else:
            groups.setdefault(system, []).append(feature)
    for system, group in groups.items():
        out.update((f.index, f) for f in _to_stored(group, system))
    return [out[f.index] for f in features], ", ".join(sorted(groups)) or (given or STORED)


def _row_system(srid: int, given: str | None) -> tuple[str, str | None]:
    """The system one EWKT row is read in, or the reason its SRID cannot be used."""
    own = f"EPSG:{srid}"
    try:
        parse_system(own)
    except DomainError as exc:
        return own, Reason(
            N_("SRID=%(srid)s is not a coordinate system we can read: %(why)s"),
            srid=srid,
            why=Reason.of(exc),
        )
    if given is None or _epsg_of(given) == srid:
        return own, None
    if parse_system(given) in _OFFSET_SYSTEMS and srid in _LONLAT_EPSG:
        return given, None
    return own, Reason(
        N_(
            "SRID=%(srid)s says %(own)s, but --crs says %(given)s; leave --crs out or correct the row"
        ),
        srid=srid,
        own=own,
        given=given,
    )


def _identified(text: str) -> str | None:
    """ "EPSG:nnnn" for a CRS given as such or as WKT that PROJ matches to a code, else None."""
    if text.upper().startswith("EPSG:"):
        return text.upper()
    try:
        code = CRS.from_user_input(text).to_epsg(min_confidence=70)
    except CRSError:
        return None
    return None if code is None else f"EPSG:{code}"


def _crs_name(text: str) -> str:
    """A short name of a CRS for messages (its WKT name, else the text's start)."""
    try:
        return str(CRS.from_user_input(text).name)
    except CRSError:
        return text[:80]


def _epsg_of(name: str) -> int | Crs:
    """The EPSG code of a system, or the named offset system itself."""
    system = parse_system(name)
    if isinstance(system, Crs):
        return _NAMED_EPSG.get(system, system)
    return system


def _to_stored(features: list[Feature], system: str) -> list[Feature]:
    """The features with their geometries in EPSG:4490, one conversion for all of them."""
    # Run even for EPSG:4490 itself: the conversion refuses what is not lon/lat at all.
    present = [f for f in features if f.geometry is not None]
    try:
        moved = _convert([f.geometry for f in present], system, STORED)
    except DomainError:
        return [_one_to_stored(f, system) for f in features]
    out = {f.index: Feature(f.index, g, f.properties) for f, g in zip(present, moved, strict=True)}
    return [out.get(f.index, f) for f in features]


def _one_to_stored(feature: Feature, system: str) -> Feature:
    """One feature into EPSG:4490, or the feature with the reason its coordinates fail."""
    if feature.geometry is None:
        return feature
    try:
        return Feature(
            feature.index, _convert([feature.geometry], system, STORED)[0], feature.properties
        )
    except DomainError as exc:
        reason = Reason(
            N_("coordinates not in %(system)s: %(why)s"), system=system, why=Reason.of(exc)
        )
        return Feature(feature.index, None, feature.properties, reason)


def _convert(geoms: Sequence[BaseGeometry | None], source: str, target: str) -> list[BaseGeometry]:
    """Geometries from one system into another, all coordinates in one call."""
    array = np.empty(len(geoms), dtype=object)
    array[:] = list(geoms)
    if not len(array):
        return []
    return list(shapely.transform(array, lambda xy: convert_points(xy, source, target)))


# --- writing ---------------------------------------------------------------------------------


def write_file(
    path: Path,
    features: Sequence[tuple[BaseGeometry, Mapping[str, Any]]],
    *,
    crs: str = STORED,
    encoding: str | None = None,
) -> int:
    """Write stored-CRS features in ``crs`` to a file of the extension's format, atomically."""
    path = Path(path)
    kind = format_of(path, writing=True)
    label = _written_label(crs)
    codec = codec_of(path, encoding) if encoding else None
    if not path.parent.is_dir():
        raise InvalidInput(
            "file_unwritable",
            "Cannot write %(path)s: %(why)s",
            path=str(path),
            why="no such folder",
        )
    geoms = (
        _convert([g for g, _ in features], STORED, crs)
        if _epsg_of(crs) != STORED_EPSG
        else [g for g, _ in features]
    )
    props = [dict(p) for _, p in features]
    try:
        if kind is Format.GEOJSON:
            geojson_files.write_features(path, zip(geoms, props, strict=True), crs=label)
        elif kind is Format.CSV:
            write_csv(path, geoms, props, codec or "utf-8-sig")
        elif kind is Format.SHAPEFILE:
            write_shapefile(path, geoms, props, label, codec or "utf-8")
        else:
            with atomic(path) as temp:
                write_ogr(temp, "GPKG", geoms, props, label, None, path.stem)
    except OSError as exc:
        raise InvalidInput(
            "file_unwritable",
            "Cannot write %(path)s: %(why)s",
            path=str(path),
            why=exc.strerror or str(exc),
        ) from None
    except OGR_ERRORS as exc:
        raise InvalidInput(
            "file_unwritable", "Cannot write %(path)s: %(why)s", path=str(path), why=str(exc)
        ) from None
    return len(props)


def _written_label(crs: str) -> str | None:
    """The EPSG name a file records for ``crs``; None for GCJ-02 and BD-09, which have none."""
    code = _epsg_of(crs)
    return f"EPSG:{code}" if isinstance(code, int) else None
