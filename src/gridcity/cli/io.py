"""``gridcity grid import|export`` and ``gridcity divisions import|export``: unit grids and
administrative boundaries from and to GeoJSON, zipped Shapefile, GeoPackage and CSV (WKT).

The format follows the extension. Inputs are read in the file's own CRS, else --crs, else
EPSG:4490, and stored in EPSG:4490; exports are written in EPSG:4490 unless --crs says
otherwise. Imports are all-or-nothing: a failure is one line naming the file and the first
bad feature (index and code) with a count of the others; --dry-run lists every problem.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.crs import parse_system
from gridcity.adapters.feature_io import FeatureSet, format_of, read_file, write_file
from gridcity.cli.support import SYSTEM, container_or_fail, fail, progress_of
from gridcity.domain.coords import Crs
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError
from gridcity.domain.imports import ImportRefused
from gridcity.services import division_import, grid_import
from gridcity.services.deps import CLI
from gridcity.services.grids import AffectedCell

STORED = "EPSG:4490"
CRS_IN_HELP = "CRS of a file that names none (.prj, GeoPackage SRS, GeoJSON crs): wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn (default EPSG:4490)"
CRS_OUT_HELP = "CRS to write: wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn"
ENCODING_IN_HELP = (
    "Text encoding of Shapefile attributes (overrides the .cpg) or of a CSV file, e.g. gbk"
)
ENCODING_OUT_HELP = (
    "Text encoding of a Shapefile's attributes or of a CSV file (default UTF-8), e.g. gbk"
)
WKT_HELP = "CSV column with the WKT geometry (default: wkt or geometry)"
LAYER_HELP = "Layer of a GeoPackage, or Shapefile in a zip, that holds several"
DRY_RUN_HELP = "Check everything and report, write nothing"
# Bars go to stderr and only to a terminal: redirected output stays exactly the result lines.
_CONSOLE = Console(stderr=True)

divisions_app = typer.Typer(
    help="Administrative divisions (区/街道/社区): import and export their boundaries.",
    no_args_is_help=True,
)

FileIn = Annotated[Path, typer.Argument(help="GeoJSON, zipped Shapefile, GeoPackage or CSV")]
FileOut = Annotated[
    Path, typer.Argument(help="File to write: .geojson/.json, .zip (Shapefile), .gpkg or .csv")
]
CrsIn = Annotated[str | None, typer.Option("--crs", help=CRS_IN_HELP)]
EncodingIn = Annotated[str | None, typer.Option("--encoding", help=ENCODING_IN_HELP)]
WktColumn = Annotated[str | None, typer.Option("--wkt-column", help=WKT_HELP)]
Layer = Annotated[str | None, typer.Option("--layer", help=LAYER_HELP)]
DryRun = Annotated[bool, typer.Option("--dry-run", help=DRY_RUN_HELP)]
CrsOut = Annotated[str, typer.Option("--crs", help=CRS_OUT_HELP)]
EncodingOut = Annotated[str | None, typer.Option("--encoding", help=ENCODING_OUT_HELP)]


def grid_import_command(
    file: FileIn,
    crs: CrsIn = None,
    encoding: EncodingIn = None,
    wkt_column: WktColumn = None,
    layer: Layer = None,
    valid_from: Annotated[
        str | None,
        typer.Option(help="Start of the new grids, ISO 8601 with offset (default: now)"),
    ] = None,
    dry_run: DryRun = False,
) -> None:
    """Replace the unit grids of every community in FILE (features with `grid_code`), all-or-nothing."""
    _check_crs(crs)
    start = _moment("--valid-from", valid_from)
    container = container_or_fail()
    with _bars() as bars:
        source = _read(bars, file, crs, encoding, wkt_column, layer)
        try:
            result = grid_import.import_grids(
                container.deps,
                SYSTEM,
                source.features,
                valid_from=start or container.deps.clock(),
                info=CLI,
                source=str(file),
                dry_run=dry_run,
                progress=progress_of(bars),
            )
        except DomainError as exc:
            _refused(file, exc, dry_run)
    what = f"{result.created} unit grids in {len(result.communities)} communities"
    if result.dry_run:
        print(
            f"{file}: {what} checked (read in {source.crs}); importing would end "
            f"{result.ended} grids in force; nothing written (dry run)"
        )
        _name_affected(result.affected, "would hold replaced grids")
        return
    print(
        f"{file}: {what} imported (read in {source.crs}), valid from "
        f"{result.valid_from.isoformat()}; {result.ended} earlier grids ended"
    )
    _name_affected(result.affected, "now hold replaced grids; re-draw them")


def _name_affected(cells: Sequence[AffectedCell], what: str) -> None:
    """One line naming the cells of other layers built on the replaced unit grids."""
    if cells:
        names = ", ".join(f"{c.layer}:{c.code}" for c in cells)
        print(f"{len(cells)} cells made of unit grids {what}: {names}")


def grid_export_command(
    file: FileOut,
    community: Annotated[
        str | None, typer.Option(help="Only the grids under this community (or other) code")
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="The grids in force at this ISO 8601 moment (default: now)")
    ] = None,
    crs: CrsOut = STORED,
    encoding: EncodingOut = None,
) -> None:
    """Write the unit grids in force (codes, attributes, validity) to FILE."""
    _check_crs(crs)
    moment = _moment("--at", at)
    _check_format(file)
    container = container_or_fail()
    try:
        rows = grid_import.export_grids(container.deps, SYSTEM, under=community, at=moment)
    except DomainError as exc:
        fail(f"{file}: {exc}")
    written = _write(file, rows, crs, encoding)
    print(f"{file}: {written} unit grids written{_in(crs)}")


@divisions_app.command("import")
def divisions_import_command(
    file: FileIn,
    crs: CrsIn = None,
    encoding: EncodingIn = None,
    wkt_column: WktColumn = None,
    layer: Layer = None,
    dry_run: DryRun = False,
) -> None:
    """Create or update the divisions in FILE (`code`, `name`, optional `level`), all-or-nothing."""
    _check_crs(crs)
    container = container_or_fail()
    with _bars() as bars:
        source = _read(bars, file, crs, encoding, wkt_column, layer)
    try:
        result = division_import.import_divisions(
            container.deps, SYSTEM, source.features, info=CLI, source=str(file), dry_run=dry_run
        )
    except DomainError as exc:
        _refused(file, exc, dry_run)
    counts = (
        f"{len(result.created)} new, {len(result.updated)} changed, {result.unchanged} unchanged"
    )
    if result.dry_run:
        print(
            f"{file}: {counts} divisions checked (read in {source.crs}); nothing written (dry run)"
        )
        return
    print(f"{file}: {counts} divisions imported (read in {source.crs})")


@divisions_app.command("export")
def divisions_export_command(
    file: FileOut,
    level: Annotated[DivisionLevel | None, typer.Option(help="Only this level")] = None,
    crs: CrsOut = STORED,
    encoding: EncodingOut = None,
) -> None:
    """Write the divisions that have a boundary (code, name, level, parent, area) to FILE."""
    _check_crs(crs)
    _check_format(file)
    container = container_or_fail()
    rows = division_import.export_divisions(container.deps, SYSTEM, level=level)
    written = _write(file, rows, crs, encoding)
    print(f"{file}: {written} divisions written{_in(crs)}")


# --- shared steps --------------------------------------------------------------------------


@contextmanager
def _bars() -> Iterator[Progress]:
    """Transient progress bars on stderr, shown only on a terminal."""
    with Progress(transient=True, console=_CONSOLE, disable=not _CONSOLE.is_terminal) as bars:
        yield bars


def _check_crs(crs: str | None) -> None:
    """Stop with one line when --crs names no system we know."""
    if crs is None:
        return
    try:
        parse_system(crs)
    except DomainError as exc:
        fail(f"--crs: {exc}")


def _check_format(file: Path) -> None:
    """Stop with one line when the extension names no format we write."""
    try:
        format_of(file, writing=True)
    except DomainError as exc:
        fail(str(exc))


def _moment(option: str, text: str | None) -> datetime | None:
    """An ISO 8601 moment with its offset, or one clear line."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 date and time")
    if moment.utcoffset() is None:
        fail(f"{option} {text!r} needs a time zone offset, e.g. 2026-03-01T00:00+08:00")
    return moment


def _read(
    bars: Progress,
    file: Path,
    crs: str | None,
    encoding: str | None,
    wkt_column: str | None,
    layer: str | None,
) -> FeatureSet:
    """The file's features in EPSG:4490, or one line naming the file and exit 2."""
    task = bars.add_task(f"reading {file.name}", total=None)
    try:
        return read_file(file, crs=crs, encoding=encoding, wkt_column=wkt_column, layer=layer)
    except DomainError as exc:
        fail(str(exc))
    finally:
        bars.remove_task(task)


def _refused(file: Path, exc: DomainError, dry_run: bool) -> NoReturn:
    """One line: the first problem (feature index and code) and how many more there are."""
    if not isinstance(exc, ImportRefused) or not exc.problems:
        fail(f"{file}: {exc}")
    if dry_run:
        for problem in exc.problems:
            print(f"{file}: {problem.text}")
    more = len(exc.problems) - 1
    tail = ""
    if more:
        hint = "" if dry_run else "; --dry-run lists them all"
        tail = f" (and {more} more problem{'s' if more > 1 else ''}{hint})"
    fail(f"{file}: nothing imported: {exc.problems[0].text}{tail}")


def _write(
    file: Path, rows: list[tuple[BaseGeometry, dict[str, Any]]], crs: str, encoding: str | None
) -> int:
    """Write the rows, or one line naming the file (and feature) and exit 2."""
    with _bars() as bars:
        bars.add_task(f"writing {file.name}", total=None)
        try:
            return write_file(file, rows, crs=crs, encoding=encoding)
        except DomainError as exc:
            fail(str(exc))


def _in(crs: str) -> str:
    """Where the coordinates are, and how to read GCJ-02/BD-09 files back (they cannot say)."""
    system = parse_system(crs)
    if system in (Crs.GCJ02, Crs.BD09):
        return f" in {system.value} (no CRS recorded in the file: read it back with --crs {system.value})"
    return f" in {crs}"
