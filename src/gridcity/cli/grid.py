"""``gridcity grid …``: generate unit grids from community boundaries, validate a grid layer.

Files are GeoJSON FeatureCollections. Inputs are in the file's ``crs`` member, else in
``--crs`` (EPSG:4490 lon/lat by default); all metric work happens in the CGCS2000
Gauss-Krüger zone that suits the data; output is EPSG:4490 lon/lat. No database is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
import shapely
import typer
from rich.console import Console
from rich.progress import Progress
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.crs import (
    STORED_EPSG,
    convert_points,
    gk_zone_epsg,
    parse_system,
    transformer,
)
from gridcity.adapters.geo import area_m2
from gridcity.adapters.geojson_files import Feature, FeatureFile, read_features, write_features
from gridcity.cli.io import grid_export_command, grid_import_command
from gridcity.cli.locate import locate_command
from gridcity.cli.support import fail, progress_of
from gridcity.domain.boundaries import as_multipolygon
from gridcity.domain.divisions import DivisionLevel, validate_code
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.grid_validation import Finding, FindingKind, validate_grids
from gridcity.domain.gridgen import DEFAULT_TARGET_AREA_M2, GridCell, checked_target, generate_all

STORED = f"EPSG:{STORED_EPSG}"
CRS_HELP = "CRS of input files without a `crs` member: wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn"

# Bars go to stderr and only to a terminal: redirected output stays exactly the result lines.
_PROGRESS_CONSOLE = Console(stderr=True)

grid_app = typer.Typer(
    help="Unit grids (单元网格): generate them from community boundaries, validate a grid layer, "
    "import and export them.",
    no_args_is_help=True,
)
grid_app.command("locate")(locate_command)
grid_app.command("import")(grid_import_command)
grid_app.command("export")(grid_export_command)


@grid_app.command()
def generate(
    communities: Annotated[Path, typer.Argument(help="GeoJSON of community polygons (`code`)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="GeoJSON file to write")],
    target_area: Annotated[
        float, typer.Option(help="Target area of a unit grid in m²")
    ] = DEFAULT_TARGET_AREA_M2,
    lines: Annotated[
        Path | None, typer.Option(help="GeoJSON of roads/rivers that become grid edges")
    ] = None,
    crs: Annotated[str, typer.Option(help=CRS_HELP)] = STORED,
) -> None:
    """Cut each community into unit grids of about --target-area m², numbered west→east, north→south."""
    _target(target_area)
    source = _read(communities)
    areas = _communities(source, crs)
    zone = _zone(areas.values())
    projected = dict(zip(areas, _transform(list(areas.values()), STORED_EPSG, zone), strict=True))
    line_work = _lines(lines, crs, zone) if lines is not None else None
    index = {code: i for i, code in _indexed_codes(source)}
    try:
        with Progress(
            transient=True, console=_PROGRESS_CONSOLE, disable=not _PROGRESS_CONSOLE.is_terminal
        ) as bars:
            advance = progress_of(bars)("unit grids", len(projected))
            cells = generate_all(
                list(projected.items()),
                target_area_m2=target_area,
                lines=line_work,
                advance=advance,
            )
    except InvalidInput as exc:
        code = str(exc.params.get("code", ""))
        where = f"feature {index[code]} (code {code}): " if code in index else ""
        fail(f"{communities}: {where}{exc}")
    written = _write_cells(output, cells, zone)
    print(
        f"{output}: {written} unit grids for {len(areas)} communities "
        f"(target {target_area:g} m², worked in EPSG:{zone})"
    )


@grid_app.command()
def validate(
    grids: Annotated[Path, typer.Argument(help="GeoJSON of unit grids (`grid_code`)")],
    communities: Annotated[
        Path | None, typer.Option(help="GeoJSON of the community polygons (`code`)")
    ] = None,
    target_area: Annotated[
        float, typer.Option(help="Target area of a unit grid in m²")
    ] = DEFAULT_TARGET_AREA_M2,
    crs: Annotated[str, typer.Option(help=CRS_HELP)] = STORED,
) -> None:
    """Report gaps, overlaps, crossings, bad codes and size outliers; exit 0 only when clean."""
    _target(target_area)
    layer = _read(grids)
    codes = [_text(f.properties.get("grid_code")) for f in layer.features]
    stored = _to_stored([f.geometry for f in layer.features], _system(layer, crs), grids)
    reference = _communities(_read(communities), crs) if communities is not None else None
    zone = _zone([g for g in stored if g is not None] or list((reference or {}).values()))
    cells = _transform(stored, STORED_EPSG, zone)
    areas = None
    if reference is not None:
        areas = list(
            zip(reference, _transform(list(reference.values()), STORED_EPSG, zone), strict=True)
        )
    findings = validate_grids(
        list(zip(codes, cells, strict=True)), areas, target_area_m2=target_area
    )
    against = f" against {len(areas)} communities" if areas is not None else ""
    print(f"{grids}: {len(codes)} unit grids checked{against}")
    if not findings:
        print("no findings")
        return
    _print_findings(findings, zone)
    raise typer.Exit(1)


# --- reading ---------------------------------------------------------------------------------


def _target(value: float) -> None:
    """Stop with one line when --target-area is not a positive number of m²."""
    try:
        checked_target(value)
    except DomainError as exc:
        fail(f"--target-area: {exc}")


def _read(path: Path) -> FeatureFile:
    """A GeoJSON FeatureCollection, or one clear line and exit 2."""
    try:
        return read_features(path)
    except DomainError as exc:
        fail(str(exc))


def _system(source: FeatureFile, default: str) -> str:
    """The file's own CRS when it names one, else the --crs option; checked."""
    name = source.crs or default
    try:
        parse_system(name)
    except DomainError as exc:
        fail(f"{source.path}: {exc}")
    return name


def _text(value: object) -> str:
    """A code property as text (numbers written without quotes are accepted)."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


def _indexed_codes(source: FeatureFile) -> list[tuple[int, str]]:
    """(feature index, code) of every feature."""
    return [(f.index, _text(f.properties.get("code"))) for f in source.features]


def _communities(source: FeatureFile, default_crs: str) -> dict[str, BaseGeometry]:
    """Community boundaries by code, in EPSG:4490; the first bad feature stops everything."""
    system = _system(source, default_crs)
    seen: dict[str, int] = {}
    for feature in source.features:
        code = _text(feature.properties.get("code"))
        label = f"{source.path}: feature {feature.index} (code {code or 'missing'})"
        if not code:
            fail(f"{label}: no `code` property")
        try:
            validate_code(code, DivisionLevel.COMMUNITY)
        except DomainError as exc:
            fail(f"{label}: {exc}")
        if code in seen:
            fail(f"{label}: the code repeats feature {seen[code]}")
        seen[code] = feature.index
        problem = _boundary_problem(feature)
        if problem:
            fail(f"{label}: invalid geometry: {problem}")
    stored = _to_stored([f.geometry for f in source.features], system, source.path)
    boundaries: dict[str, BaseGeometry] = {}
    for (index, code), geom in zip(_indexed_codes(source), stored, strict=True):
        try:
            boundaries[code] = as_multipolygon(geom)
        except DomainError as exc:
            fail(f"{source.path}: feature {index} (code {code}): invalid geometry: {exc}")
    return boundaries


def _boundary_problem(feature: Feature) -> str | None:
    """Why a feature's geometry cannot be a community boundary, or None."""
    geom = feature.geometry
    if geom is None:
        return feature.problem or "no geometry"
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return f"expected a non-empty Polygon or MultiPolygon, got {geom.geom_type}"
    if not geom.is_valid:
        return str(shapely.is_valid_reason(geom))
    return None


def _lines(path: Path, default_crs: str, zone: int) -> BaseGeometry:
    """All road/river lines of a file as one collection in the projected zone."""
    source = _read(path)
    for feature in source.features:
        if feature.geometry is None:
            fail(f"{path}: feature {feature.index}: invalid geometry: {feature.problem}")
    stored = _to_stored([f.geometry for f in source.features], _system(source, default_crs), path)
    return shapely.GeometryCollection([g for g in _transform(stored, STORED_EPSG, zone) if g])


# --- coordinates -----------------------------------------------------------------------------


def _to_stored(
    geoms: Sequence[BaseGeometry | None], system: str, path: Path
) -> list[BaseGeometry | None]:
    """Geometries from their file's CRS into EPSG:4490, all coordinates in one conversion."""
    if system.upper() == STORED:
        return list(geoms)
    try:
        return _apply(geoms, lambda xy: convert_points(xy, system, STORED))
    except DomainError as exc:
        fail(f"{path}: {exc}")


def _transform(
    geoms: Sequence[BaseGeometry | None], source: int, target: int
) -> list[BaseGeometry | None]:
    """Geometries from one EPSG CRS into another, all coordinates in one pyproj call."""
    fn = transformer(source, target)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = fn.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return _apply(geoms, move)


def _apply(
    geoms: Sequence[BaseGeometry | None], fn: Callable[[np.ndarray], np.ndarray]
) -> list[BaseGeometry | None]:
    """``shapely.transform`` over a list that may hold None."""
    array = np.empty(len(geoms), dtype=object)
    array[:] = list(geoms)
    present = np.asarray([g is not None for g in geoms], dtype=bool)
    if present.any():
        array[present] = shapely.transform(array[present], fn)
    return list(array)


def _zone(geoms: Iterable[BaseGeometry | None]) -> int:
    """The Gauss-Krüger zone of the middle of all the geometries (lon/lat)."""
    items = [g for g in geoms if g is not None]
    if not items:
        return gk_zone_epsg(117.0)
    min_x, _, max_x, _ = shapely.total_bounds(np.asarray(items, dtype=object))
    return gk_zone_epsg((min_x + max_x) / 2)


# --- writing and printing ---------------------------------------------------------------------


def _write_cells(output: Path, cells: list[GridCell], zone: int) -> int:
    """The cells in EPSG:4490 with their codes and geodesic areas, written atomically."""
    lonlat = _transform([c.geometry for c in cells], zone, STORED_EPSG)
    features = [
        (
            geom,
            {
                "grid_code": cell.code,
                "community_code": cell.community_code,
                "area_m2": round(area_m2(geom), 2),
            },
        )
        for cell, geom in zip(cells, lonlat, strict=True)
        if geom is not None
    ]
    try:
        return write_features(output, features, crs=STORED)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")


# Said of a finding that the write path accepts (decision 0008): reported, not refused.
ALLOWED = " (within the allowance: an import or re-division accepts it)"


def _print_findings(findings: list[Finding], zone: int) -> None:
    """The findings grouped by kind, each with a lon/lat to look at, then a summary line."""
    by_kind: dict[FindingKind, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_kind[finding.kind].append(finding)
    back = transformer(zone, STORED_EPSG)
    for kind in FindingKind:
        if kind not in by_kind:
            continue
        print(f"{kind.value} ({len(by_kind[kind])})")
        for finding in by_kind[kind]:
            at = ""
            if finding.where is not None:
                lon, lat = back.transform(*finding.where)
                at = f" at {lon:.6f}, {lat:.6f}"
            print(f"  {finding.text}{at}{'' if finding.blocking else ALLOWED}")
    counts = ", ".join(f"{len(by_kind[k])} {k.value}" for k in FindingKind if k in by_kind)
    print(f"{len(findings)} findings: {counts}")
