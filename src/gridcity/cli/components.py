"""``gridcity components import|export``: census files of components (部件普查) in and out.

Import is all-or-nothing through the one write path: a refused file prints a table of its
problems (row, column, reason; the first 50, then how many more) and exits 1, ``--report``
writes all of them to a CSV file; a file that cannot be read at all exits 2 with one line.
Progress bars (read, check, locate, write) go to stderr, and only to a terminal: redirected
output stays exactly the result lines.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from gridcity.adapters.component_columns import Abbreviations
from gridcity.adapters.component_export import ExportFormat, parse_format
from gridcity.adapters.crs import parse_system
from gridcity.cli.support import SYSTEM, container_or_fail, fail
from gridcity.domain.census import CensusProblem, CensusRefused
from gridcity.domain.components import DUPLICATE_DISTANCE_DEFAULT_M
from gridcity.domain.errors import DomainError
from gridcity.services import census
from gridcity.services.deps import CLI

SHOWN_PROBLEMS = 50
STAGES = {"read": "reading", "check": "checking", "locate": "locating", "write": "writing"}
_CONSOLE = Console(stderr=True)

components_app = typer.Typer(
    help="Components (部件): census import and export (CSV, Excel, GeoJSON, zipped Shapefile).",
    no_args_is_help=True,
)


class _Progress:
    """The progress callback: a rich bar per stage (none when not on a terminal)."""

    def __init__(self, bars: Progress | None) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bars is None:
            return
        label = STAGES.get(stage, stage)
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.bars.add_task(label, total=max(total, 1))
        self.bars.update(task, completed=done, total=max(total, 1))


@contextmanager
def _progress() -> Iterator[_Progress]:
    if not _CONSOLE.is_terminal:
        yield _Progress(None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_CONSOLE, transient=True) as bars:
        yield _Progress(bars)


@components_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="CSV, Excel (.xlsx), GeoJSON, zipped Shapefile or GeoPackage")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and report, write nothing")
    ] = False,
    duplicate_distance: Annotated[
        float,
        typer.Option(
            "--duplicate-distance",
            help="Metres within which two components of one class are likely duplicates (0 = off)",
        ),
    ] = DUPLICATE_DISTANCE_DEFAULT_M,
    refuse_duplicates: Annotated[
        bool, typer.Option("--refuse-duplicates", help="Likely duplicates refuse the file")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the import)")] = "",
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            help="CRS of lon/lat (or PointX/PointY, WKT) columns, or of a geo file that names none: wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn (default EPSG:4490)",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of a CSV file or Shapefile attributes"),
    ] = None,
    ignore_unknown: Annotated[
        bool,
        typer.Option("--ignore-unknown", help="Leave unknown columns out instead of refusing"),
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write every problem to this CSV file")
    ] = None,
) -> None:
    """Add the components of FILE to the inventory, all-or-nothing."""
    if crs is not None:
        try:
            parse_system(crs)
        except DomainError as exc:
            fail(f"--crs: {exc}")
    container = container_or_fail()
    options = census.CensusOptions(
        crs=crs,
        encoding=encoding,
        duplicate_distance_m=duplicate_distance,
        refuse_duplicates=refuse_duplicates,
        dry_run=dry_run,
        reason=reason,
        ignore_unknown=ignore_unknown,
    )
    try:
        with _progress() as advance:
            result = census.import_census(
                container.deps, SYSTEM, file, options=options, info=CLI, progress=advance
            )
    except CensusRefused as exc:
        _refused(file, exc, report)
    except DomainError as exc:
        text = str(exc)
        fail(text if file.name in text else f"{file}: {text}")
    _summary(file, result)


def _summary(file: Path, result: census.CensusResult) -> None:
    """What was imported (or would be), by class, the duplicates and the columns not used."""
    a = result.added
    if a.dry_run:
        print(
            f"{file}: {a.added} components checked (read in {result.crs}); "
            f"{a.identifiers_drawn} identifiers would be drawn; nothing written (dry run)"
        )
    else:
        print(
            f"{file}: {a.added} components imported (read in {result.crs}); "
            f"{a.identifiers_drawn} identifiers drawn; import {a.import_id}"
        )
    if a.by_class:
        print("by class: " + ", ".join(f"{code} ×{n}" for code, n in sorted(a.by_class.items())))
    for name, first, last in result.layers:
        print(f"layer {name}: rows {first}–{last}")
    if a.duplicates:
        print(f"{len(a.duplicates)} likely duplicates:")
        for d in a.duplicates:
            other = f"row {d.other_row}" if d.other_row else f"component {d.other_identifier}"
            print(f"  row {d.row} and {other}: class {d.class_code}, {d.distance_m} m apart")
    if result.unused_columns:
        print(
            "columns read but not used (assigned from the position): "
            + ", ".join(result.unused_columns)
        )
    if result.ignored_columns:
        print("unknown columns left out: " + ", ".join(result.ignored_columns))


def _refused(file: Path, exc: CensusRefused, report: Path | None) -> None:
    """The row-level report as a table (the first SHOWN_PROBLEMS), the report file; exit 1."""
    out = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"{file}: nothing imported, {exc.total} problems", title_justify="left")
    for name in ("row", "column", "reason"):
        table.add_column(name, overflow="fold")
    for p in exc.problems[:SHOWN_PROBLEMS]:
        table.add_row(str(p.row), p.column, p.reason)
    out.print(table)
    more = exc.total - min(SHOWN_PROBLEMS, len(exc.problems))
    if more > 0:
        out.print(f"and {more} more" + ("" if report else " (--report FILE.csv writes them all)"))
    if report is not None:
        try:
            _write_report(report, exc.problems)
        except OSError as error:
            fail(f"--report {report}: {error.strerror or error}")
        kept = "" if len(exc.problems) == exc.total else f" (the first {len(exc.problems)})"
        out.print(f"report: {report}, {len(exc.problems)} problems{kept}")
    raise typer.Exit(1)


def _write_report(path: Path, problems: Sequence[CensusProblem]) -> None:
    """Every problem as a CSV row: row, column, code, reason (UTF-8 with BOM, for Excel)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "column", "code", "reason"])
        for p in problems:
            writer.writerow([p.row, p.column, p.code, p.reason])


@components_app.command("export")
def export_command(
    file: Annotated[
        Path, typer.Argument(help="File to write: .csv, .xlsx, .geojson/.json or .zip (Shapefile)")
    ],
    format: Annotated[
        str | None,
        typer.Option("--format", help="csv, xlsx, geojson or shapefile (default: the extension)"),
    ] = None,
    standard: Annotated[
        bool,
        typer.Option(
            "--standard", help="GB/T 47678.5-2026 abbreviations (GLBJBSM …) instead of our names"
        ),
    ] = False,
    class_code: Annotated[
        list[str], typer.Option("--class", help="Only this class code (repeatable)")
    ] = [],  # noqa: B006
    state: Annotated[list[str], typer.Option("--state", help="Only this state (repeatable)")] = [],  # noqa: B006
    under: Annotated[
        str, typer.Option("--under", help="Only components under this division code")
    ] = "",
) -> None:
    """Write the components to FILE."""
    chosen = _format_of(file, format)
    container = container_or_fail()
    filters = census.ExportFilters(tuple(class_code), tuple(state), under)
    abbreviations = Abbreviations.GBT47678 if standard else Abbreviations.OURS
    try:
        written = census.export_components(
            container.deps,
            SYSTEM,
            file,
            format=chosen,
            filters=filters,
            abbreviations=abbreviations,
        )
    except DomainError as exc:
        fail(f"{file}: {exc}")
    names = "GB/T 47678.5 abbreviations" if standard else "our column names"
    print(f"{file}: {written} components written ({chosen.value}, {names}, EPSG:4490)")


def _format_of(file: Path, given: str | None) -> ExportFormat:
    """The format asked for, else the one the extension names, or one clear line."""
    try:
        if given:
            return parse_format(given)
        by_suffix = {f.suffix: f for f in ExportFormat} | {".json": ExportFormat.GEOJSON}
        found = by_suffix.get(file.suffix.lower())
        if found is None:
            return parse_format(file.suffix.lstrip("."))
        return found
    except DomainError as exc:
        fail(f"{file}: {exc}")
