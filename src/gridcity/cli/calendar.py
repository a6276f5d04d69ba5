"""``gridcity calendar …``: deadlines on the working calendar, the covered years, a month's days,
loading a year from the State Council notice, and the office hours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from gridcity.cli.support import SYSTEM, container_or_fail, fail
from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import DomainError
from gridcity.domain.work_calendar import DayKind, Pause, parse_instant
from gridcity.domain.work_calendar_file import CalendarFileRefused
from gridcity.services import work_calendar
from gridcity.services.deps import CLI

calendar_app = typer.Typer(
    help="The working calendar (工作日历): deadlines, covered years, holidays, office hours.",
    no_args_is_help=True,
)
MAX_FILE_BYTES = 1024 * 1024
KIND_LABELS = {
    DayKind.WORKDAY: "工作日",
    DayKind.WEEKEND: "休息日",
    DayKind.HOLIDAY: "节假日",
    DayKind.MAKEUP_WORKDAY: "调休上班",
}
WEEKDAYS = "一二三四五六日"


@calendar_app.command("deadline")
def deadline_command(
    start: Annotated[str, typer.Option(help="ISO 8601 start; without an offset it is city time")],
    limit: Annotated[str, typer.Option(help="The limit, a number above 0 (0.5 allowed)")],
    unit: Annotated[TimeUnit, typer.Option(help="Clock of the limit")],
    pause: Annotated[
        list[str],
        typer.Option(help="A pause START/END of the clock (挂账); END may be empty (repeatable)"),
    ] = [],  # noqa: B006
) -> None:
    """Print the deadline in ISO 8601 with its offset (city time)."""
    container = container_or_fail()
    try:
        calendar = work_calendar.calendar_for(container.deps, SYSTEM)
        pauses = [_pause(text, calendar.zone) for text in pause]
        when = work_calendar.compute_deadline(
            container.deps,
            SYSTEM,
            parse_instant(start, calendar.zone),
            limit,
            unit,
            pauses,
        )
    except DomainError as exc:
        fail(f"calendar deadline: {exc}")
    print(when.isoformat())


def _pause(text: str, zone: ZoneInfo) -> Pause:
    """``START/END`` (END empty: still paused) as a pause."""
    start, sep, end = text.partition("/")
    if not sep:
        fail(f"calendar deadline: a pause is START/END (END may be empty), got {text!r}")
    return Pause(parse_instant(start, zone), parse_instant(end, zone) if end.strip() else None)


@calendar_app.command("years")
def years_command() -> None:
    """Print the covered years: year, days off, make-up workdays, source, loaded when and by whom."""
    container = container_or_fail()
    years = work_calendar.covered_years(container.deps, SYSTEM)
    for y in years:
        print(
            f"{y.year}\t{y.holidays} days off\t{y.makeup_workdays} make-up workdays\t"
            f"{y.source}\t{y.loaded_at:%Y-%m-%d %H:%M} UTC\t{y.loaded_by}"
        )
    if not years:
        print("no year is covered: deadlines on working time are refused")


@calendar_app.command("show")
def show_command(
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM (2026-10)")],
) -> None:
    """Print each day of a month: date, weekday, kind and holiday name."""
    container = container_or_fail()
    year_text, _, month_text = month.partition("-")
    if not (year_text.isdigit() and month_text.isdigit() and len(year_text) == 4):
        fail(f"calendar show: not a month (YYYY-MM, such as 2026-10): {month!r}")
    try:
        days = work_calendar.month_days(container.deps, SYSTEM, int(year_text), int(month_text))
    except DomainError as exc:
        fail(f"calendar show {month}: {exc}")
    for info in days:
        line = f"{info.day.isoformat()}\t周{WEEKDAYS[info.day.weekday()]}\t{KIND_LABELS[info.kind]}"
        print(f"{line}\t{info.name}" if info.name else line)
    working = sum(1 for d in days if d.is_workday)
    print(f"{month}: {working} working days, {len(days) - working} days off")


@calendar_app.command("load")
def load_command(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file: date, is_workday, name")],
    source: Annotated[
        str, typer.Option(help="Where the days come from (the notice's number); default: the file")
    ] = "",
) -> None:
    """Add a year (or replace a covered one) from a file, all-or-nothing; print what changed."""
    container = container_or_fail()
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            fail(f"calendar load: {file}: more than 1 MB, not a year of holidays")
        data = file.read_bytes()
    except OSError as exc:
        fail(f"calendar load: cannot read {file}: {exc.strerror or exc}")
    try:
        result = work_calendar.load_year_file(
            container.deps, SYSTEM, data, name=file.name, source=source, info=CLI
        )
    except CalendarFileRefused as exc:
        for problem in exc.problems:
            where = "file" if problem.row == 0 else f"row {problem.row}, column {problem.column}"
            print(f"{file.name}: {where}: {problem.reason}")
        fail(f"calendar load: {file.name}: nothing was loaded; {len(exc.problems)} problems")
    except DomainError as exc:
        fail(f"calendar load: {exc}")
    for key in ("added", "removed", "changed", "amended"):
        for day in getattr(result, key):
            print(f"{key}\t{day.isoformat()}")
    print(
        f"{result.year}: {'replaced' if result.replaced else 'added'}, {result.holidays} days off, "
        f"{result.makeup_workdays} make-up workdays"
    )


@calendar_app.command("hours")
def hours_command(
    periods: Annotated[
        str | None,
        typer.Argument(help="New office periods, such as 08:30-12:00,14:00-17:30"),
    ] = None,
    zone: Annotated[str | None, typer.Option(help="New time zone (IANA name)")] = None,
) -> None:
    """Print the office hours and time zone; with PERIODS or --zone, change them first."""
    container = container_or_fail()
    try:
        if periods is None and zone is None:
            view = work_calendar.calendar_settings(container.deps, SYSTEM)
        else:
            view = work_calendar.update_settings(
                container.deps, SYSTEM, office_hours=periods, time_zone=zone, info=CLI
            )
    except DomainError as exc:
        fail(f"calendar hours: {exc}")
    print(
        f"office hours {view.office_hours} ({view.day_hours} h a day), time zone {view.time_zone}"
    )
