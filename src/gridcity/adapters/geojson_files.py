"""GeoJSON feature files: read a FeatureCollection, write one atomically (UTF-8).

Reading keeps going past a bad geometry (the feature gets ``geometry=None`` and the reason),
so that callers can name every bad feature; only an unreadable file is refused outright.
``read_features`` loads the whole file (grid files: a few MB); ``stream_features`` reads a
census file of a million features in bounded memory, straight into columns (ijson).
Writing rounds lon/lat coordinates to ``DECIMALS`` places and replaces the target in one
rename, so a failed run never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import ijson
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.file_support import too_many
from gridcity.domain.errors import InvalidInput

# 1e-10° is ~0.01 mm. Rounding moves a vertex that lies on a community edge (where a grid
# edge meets it) off that edge, leaving a sliver of ~edge length × rounding error: measured on
# the demo city, 8 decimals left 2,801 findings > 0.01 m², 9 left 37, 10 left none (a 1 km
# edge gives at most ~0.003 m²), for 7 % more bytes than 8 decimals.
DECIMALS = 10
_EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:)?EPSG:(?:[0-9.]*:)?([0-9]{4,6})$", re.IGNORECASE)
_CRS84 = re.compile(r"^(?:urn:ogc:def:crs:)?OGC:(?:1\.3:)?CRS84$", re.IGNORECASE)


@dataclass(frozen=True)
class Feature:
    """One feature: its position in the file, its geometry (None if unusable) and properties."""

    index: int
    geometry: BaseGeometry | None
    properties: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why the geometry could not be read


def parsed_feature(
    index: int, props: dict[str, Any], data: Any, parse: Callable[[Any], BaseGeometry], what: str
) -> Feature:
    """A feature whose geometry ``parse`` builds from ``data`` (WKB, WKT); no data, or data GEOS
    cannot read, is kept as the reason."""
    if data is None or (isinstance(data, str) and not data.strip()):
        return Feature(index, None, props, "no geometry")
    try:
        return Feature(index, parse(data), props)
    except (shapely.errors.GEOSException, ValueError) as exc:
        return Feature(index, None, props, f"unreadable {what} ({exc})")


@dataclass(frozen=True)
class FeatureFile:
    """The features of a file and the CRS its ``crs`` member names (None when absent)."""

    path: Path
    features: list[Feature]
    crs: str | None


def read_features(path: Path) -> FeatureFile:
    """The features of a GeoJSON FeatureCollection; refuses only a file that cannot be read."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise InvalidInput(
            "file_unreadable", "Cannot read %(path)s: %(why)s", path=str(path), why=exc.strerror
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "file_not_json", "%(path)s is not UTF-8 JSON: %(why)s", path=str(path), why=str(exc)
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput(
            "file_not_feature_collection",
            "%(path)s is not a GeoJSON FeatureCollection",
            path=str(path),
        )
    raw = data.get("features")
    if not isinstance(raw, list):
        raise InvalidInput(
            "file_not_feature_collection",
            "%(path)s is not a GeoJSON FeatureCollection",
            path=str(path),
        )
    features = [_feature(i, item) for i, item in enumerate(raw)]
    return FeatureFile(path, features, crs_of(data.get("crs"), path))


def _feature(index: int, item: object) -> Feature:
    """One feature; a geometry that shapely cannot build is kept as its reason."""
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return Feature(index, None, {}, "not a GeoJSON Feature")
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        properties = {}
    geometry = item.get("geometry")
    if not geometry:
        return Feature(index, None, properties, "no geometry")
    try:
        return Feature(index, shape(geometry), properties)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        return Feature(index, None, properties, f"unreadable geometry ({exc})")
    except shapely.errors.GEOSException as exc:
        return Feature(index, None, properties, f"unreadable geometry ({exc})")


# --- streaming (census files) -----------------------------------------------------------------

STREAM_CHUNK = 1 << 20  # bytes the parser reads at a time
POOL_MAX = 200_000  # distinct property texts kept once (census columns repeat a lot)
_BOM = b"\xef\xbb\xbf"
_NUMBER = (float, int)
Advance = Callable[[str, int, int], None]


def _backend() -> ModuleType:
    """ijson's C parser (yajl2_c); without it ijson's best other one, ~10x slower, said aloud."""
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:
        warnings.warn(
            "ijson's C backend (yajl2_c) is not installed: GeoJSON census files are read with "
            f"ijson's {ijson.backend} backend, several times slower; reinstall ijson from a wheel",
            RuntimeWarning,
            stacklevel=2,
        )
        return ijson  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FeatureColumns:
    """The features of a GeoJSON file as columns: each property (in order of first appearance)
    by feature, None where a feature lacks it; each feature's geometry, None where it has none
    or it is unusable (then ``reasons`` says why, by feature index); and the ``crs`` member."""

    path: Path
    count: int
    headers: list[str]
    cells: list[list[Any]]
    geometries: NDArray[np.object_]
    reasons: dict[int, str]
    crs: str | None


class _Counted:
    """A binary file that reports the bytes read so far, a chunk at a time."""

    def __init__(self, raw: IO[bytes], total: int, progress: Advance) -> None:
        self.raw, self.total, self.progress = raw, total, progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        if chunk:
            self.progress("read", self.raw.tell(), self.total)
        return chunk


def stream_features(
    path: Path,
    *,
    max_features: int,
    progress: Advance,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = lambda p: p,
) -> FeatureColumns:
    """The features of a GeoJSON FeatureCollection read as columns, without ever holding the
    file's object tree: ijson hands over one feature at a time. ``prepare`` may reshape each
    feature's properties first. Point geometries are gathered as coordinates and built in one
    call; others go through ``shape``. Behaves as ``read_features``: the ``crs`` member may
    come before or after ``features`` (then a second, cheap pass reads it), UTF-8 with or
    without a BOM. Refuses a file that is not UTF-8 JSON or not a FeatureCollection, and one of
    more than ``max_features`` features."""
    backend = _backend()
    try:
        return _stream(path, backend, max_features, progress, prepare)
    except ijson.JSONError as exc:
        why = _why(exc)
        if "overflow" in why and backend is not _python_backend():
            # yajl keeps numbers in 64 bits; json (and so read_features) takes any size.
            return _stream(path, _python_backend(), max_features, progress, prepare)
        raise _not_json(path, why) from None
    except UnicodeDecodeError as exc:
        raise _not_json(path, str(exc)) from None
    except OSError as exc:
        raise InvalidInput(
            "file_unreadable",
            "Cannot read %(path)s: %(why)s",
            path=str(path),
            why=exc.strerror or str(exc),
        ) from None


def _python_backend() -> ModuleType:
    return ijson.get_backend("python")


def _why(exc: Exception) -> str:
    """The first line of a parser's complaint, as text."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def _not_json(path: Path, why: str) -> InvalidInput:
    return InvalidInput(
        "file_not_json", "%(path)s is not UTF-8 JSON: %(why)s", path=str(path), why=why
    )


def _not_collection(path: Path) -> InvalidInput:
    return InvalidInput(
        "file_not_feature_collection",
        "%(path)s is not a GeoJSON FeatureCollection",
        path=str(path),
    )


def _open(path: Path) -> IO[bytes]:
    """The file at its first byte of JSON (after a UTF-8 BOM, if any)."""
    raw = path.open("rb")
    if raw.read(3) != _BOM:
        raw.seek(0)
    return raw


_MISSING = object()


def _stream(
    path: Path,
    backend: ModuleType,
    max_features: int,
    progress: Advance,
    prepare: Callable[[dict[str, Any]], dict[str, Any]],
) -> FeatureColumns:
    """The passes over the file: its members before ``features``, ``type`` and ``crs`` from a
    pass of their own when they come later, then the features."""
    with _open(path) as raw:
        kind, member = _head(path, backend, raw)
    if kind is _MISSING:
        with _open(path) as raw:
            kind = _last(backend.items(raw, "type", buf_size=STREAM_CHUNK))
    if kind != "FeatureCollection":
        raise _not_collection(path)
    if member is _MISSING:
        with _open(path) as raw:
            member = _last(backend.items(raw, "crs", buf_size=STREAM_CHUNK, use_float=True))
    crs = crs_of(None if member is _MISSING else member, path)
    size = path.stat().st_size
    with _open(path) as raw:
        items = backend.items(
            _Counted(raw, size, progress), "features.item", use_float=True, buf_size=STREAM_CHUNK
        )
        columns = _columns(path, items, max_features, prepare)
    return FeatureColumns(path, *columns, crs=crs)


def _last(values: Iterator[Any]) -> Any:
    """The last value (a repeated JSON member: the last one counts, as for ``json.load``)."""
    found: Any = _MISSING
    for found in values:  # noqa: B007
        pass
    return found


def _head(path: Path, backend: ModuleType, raw: IO[bytes]) -> tuple[Any, Any]:
    """The ``type`` and ``crs`` members that come before ``features`` (_MISSING if they do not);
    refuses a file that is not an object with a ``features`` array."""
    events = backend.parse(raw, buf_size=64 * 1024, use_float=True)
    first = next(events, None)
    if first is None or first[1] != "start_map":
        raise _not_collection(path)
    kind: Any = _MISSING
    member: Any = _MISSING
    key = None
    depth = 1
    builder: ijson.ObjectBuilder | None = None
    for _prefix, event, value in events:
        if depth == 1:
            if event == "map_key":
                key = value
                builder = ijson.ObjectBuilder() if key in ("type", "crs") else None
                continue
            if event == "end_map":
                raise _not_collection(path)  # no features at all
            if key == "features":
                if event != "start_array":
                    raise _not_collection(path)
                break
        if builder is not None:
            builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 1 and builder is not None:
            if key == "type":
                kind = builder.value
            else:
                member = builder.value
    return kind, member


def _columns(
    path: Path,
    items: Iterator[Any],
    max_features: int,
    prepare: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[int, list[str], list[list[Any]], NDArray[np.object_], dict[int, str]]:
    """The features as columns, the points' coordinates kept apart and built at the end."""
    columns: dict[str, list[Any]] = {}
    pool: dict[str, str] = {}
    last_names: tuple[str, ...] = ()
    last_columns: list[list[Any]] = []
    others: dict[int, BaseGeometry] = {}
    reasons: dict[int, str] = {}
    point_at = array("q")
    xs, ys = array("d"), array("d")
    index = -1
    for index, item in enumerate(items):
        if index >= max_features:
            raise too_many(path, max_features)
        props: Any = {}
        if type(item) is not dict or item.get("type") != "Feature":
            reasons[index] = "not a GeoJSON Feature"
        else:
            props = item.get("properties") or {}
            if type(props) is not dict:
                props = {}
            geometry = item.get("geometry")
            if geometry:
                coordinates = geometry.get("coordinates") if type(geometry) is dict else None
                if (
                    type(coordinates) is list
                    and len(coordinates) == 2
                    and type(coordinates[0]) in _NUMBER
                    and type(coordinates[1]) in _NUMBER
                    and geometry.get("type") == "Point"
                ):
                    point_at.append(index)
                    xs.append(coordinates[0])
                    ys.append(coordinates[1])
                else:
                    built = _shape(geometry)
                    if isinstance(built, str):
                        reasons[index] = built
                    else:
                        others[index] = built
            props = prepare(props)
        names = tuple(props)
        if names == last_names:  # the common case: the keys of the feature before
            for column, value in zip(last_columns, props.values(), strict=True):
                if type(value) is str:
                    value = pool.get(value, value)
                    if len(pool) < POOL_MAX:
                        pool.setdefault(value, value)
                column.append(value)
            continue
        last_names, last_columns = names, []
        for name, value in props.items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = [None] * index
            elif len(column) < index:
                column.extend([None] * (index - len(column)))
            if type(value) is str:
                value = pool.get(value, value)
                if len(pool) < POOL_MAX:
                    pool.setdefault(value, value)
            column.append(value)
            last_columns.append(column)
    count = index + 1
    for column in columns.values():
        if len(column) < count:
            column.extend([None] * (count - len(column)))
    geometries = np.full(count, None, dtype=object)
    if len(point_at):
        geometries[np.frombuffer(point_at, dtype=np.int64)] = shapely.points(
            np.frombuffer(xs, dtype=np.float64), np.frombuffer(ys, dtype=np.float64)
        )
    for i, geom in others.items():
        geometries[i] = geom
    return count, list(columns), list(columns.values()), geometries, reasons


def _shape(geometry: Any) -> BaseGeometry | str:
    """A GeoJSON geometry built by shapely, or the reason it cannot be."""
    try:
        return shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        return f"unreadable geometry ({exc})"
    except shapely.errors.GEOSException as exc:
        return f"unreadable geometry ({exc})"


def crs_of(member: object, path: Path) -> str | None:
    """The system a GeoJSON ``crs`` member names, as "EPSG:nnnn"; None when there is none."""
    if member is None:
        return None
    name = member
    if isinstance(member, dict):
        name = (member.get("properties") or {}).get("name")
    if isinstance(name, str):
        text = name.strip()
        match = _EPSG_NAME.match(text)
        if match:
            return f"EPSG:{int(match[1])}"
        if _CRS84.match(text):
            return "EPSG:4326"
    raise InvalidInput(
        "file_crs_unknown",
        "%(path)s names a coordinate system we do not know: %(crs)s",
        path=str(path),
        crs=json.dumps(member, ensure_ascii=False),
    )


def rounded(geom: BaseGeometry, decimals: int = DECIMALS) -> BaseGeometry:
    """The geometry with every coordinate rounded to ``decimals`` places (structure kept)."""
    return shapely.transform(geom, lambda xy: np.round(xy, decimals))


def write_features(
    path: Path,
    features: Iterable[tuple[BaseGeometry, Mapping[str, Any]]],
    *,
    crs: str | None = "EPSG:4490",
    decimals: int = DECIMALS,
) -> int:
    """Write a FeatureCollection atomically (temp file + rename); return the feature count.

    ``crs`` "EPSG:nnnn" becomes the ``crs`` member; None writes none (GCJ-02 and BD-09 have no
    name a reader would understand)."""
    items = [
        {"type": "Feature", "properties": dict(props), "geometry": mapping(rounded(geom, decimals))}
        for geom, props in features
    ]
    member = ""
    if crs is not None:
        epsg = crs.split(":", 1)[1]
        header = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
        member = f'"crs":{_dumps(header)},'
    # One feature per line: diffs and line-oriented tools stay usable on big files.
    text = (
        f'{{"type":"FeatureCollection",{member}"features":[\n'
        + ",\n".join(_dumps(item) for item in items)
        + "\n]}\n"
    )
    path = Path(path)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return len(items)


def _dumps(obj: object) -> str:
    """Compact JSON, UTF-8 characters kept as they are."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
