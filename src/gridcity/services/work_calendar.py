"""The working calendar (工作日历) from the database, and an administrator's edits of it.

Each process keeps the calendar it last read, tagged with the ``work_calendar`` counter of
``spatial_state``; every edit bumps the counter in its own transaction, so every process (and
host) reads the calendar again on its next use after an edit, and never before. Reading costs
one primary-key lookup per use.

Edits (administrators, each audited): a year from a file, all-or-nothing (a covered year may be
replaced by a new file; the audit row lists the dates that changed), and the office hours and
time zone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import Database, lock_rows
from gridcity.adapters.db.tables import CalendarDayRow, CalendarSetting, CalendarYear, SpatialState
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import InvalidInput
from gridcity.domain.work_calendar import (
    Amount,
    CalendarDay,
    DayInfo,
    OfficeHours,
    Pause,
    WorkCalendar,
    days_between,
    deadline,
    elapsed,
    parse_office_hours,
    parse_zone,
)
from gridcity.domain.work_calendar_file import CalendarYearFile, read_calendar_file
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps

CALENDAR_STATE = "work_calendar"  # the counter every edit bumps
SOURCE_MAX = 200
YEAR_TABLE = cast(sa.Table, CalendarYear.__table__)
SETTING_TABLE = cast(sa.Table, CalendarSetting.__table__)

_cache: WeakKeyDictionary[Database, tuple[int, WorkCalendar]] = WeakKeyDictionary()
_cache_lock = threading.Lock()


# --- reading ----------------------------------------------------------------------------


def _counter(session: Session) -> int:
    """The calendar's change counter (0 before the first edit)."""
    found = session.scalar(
        sa.select(SpatialState.version).where(SpatialState.name == CALENDAR_STATE)
    )
    return int(found or 0)


def _read(session: Session) -> WorkCalendar:
    """The calendar as stored."""
    setting = session.get(CalendarSetting, 1)
    if setting is None:
        raise RuntimeError("calendar_setting has no row: run `gridcity migrate`")
    years = frozenset(int(y) for y in session.scalars(sa.select(CalendarYear.year)))
    days = {
        row.day: CalendarDay(row.day, bool(row.is_workday), row.name)
        for row in session.scalars(sa.select(CalendarDayRow))
    }
    return WorkCalendar(
        years=years,
        days=days,
        office_hours=parse_office_hours(setting.office_hours),
        zone=parse_zone(setting.time_zone),
    )


def load_calendar(deps: ServiceDeps) -> WorkCalendar:
    """The calendar in force, from this process's cache unless an edit happened since."""
    with deps.db.read() as session:
        # The counter is read first: an edit committed between the two reads leaves a calendar
        # newer than its tag, which is read again next time, never an older one kept.
        version = _counter(session)
        with _cache_lock:
            cached = _cache.get(deps.db)
        if cached is not None and cached[0] == version:
            return cached[1]
        calendar = _read(session)
    with _cache_lock:
        _cache[deps.db] = (version, calendar)
    return calendar


def calendar_for(deps: ServiceDeps, actor: Actor) -> WorkCalendar:
    """The calendar, for any staff member."""
    require(actor, Permission.CALENDAR_READ)
    return load_calendar(deps)


@dataclass(frozen=True)
class YearView:
    """A covered year: where its days came from, when, who loaded them, and how many."""

    year: int
    source: str
    loaded_at: datetime
    loaded_by: str
    holidays: int
    makeup_workdays: int


def covered_years(deps: ServiceDeps, actor: Actor) -> list[YearView]:
    """Every covered year, oldest first."""
    require(actor, Permission.CALENDAR_READ)
    with deps.db.read() as session:
        counts: dict[tuple[int, bool], int] = {
            (int(year), bool(workday)): int(n)
            for year, workday, n in session.execute(
                sa.select(CalendarDayRow.year, CalendarDayRow.is_workday, sa.func.count()).group_by(
                    CalendarDayRow.year, CalendarDayRow.is_workday
                )
            )
        }
        rows = session.scalars(sa.select(CalendarYear).order_by(CalendarYear.year)).all()
    return [
        YearView(
            year=row.year,
            source=row.source,
            loaded_at=row.loaded_at,
            loaded_by=row.loaded_by,
            holidays=counts.get((row.year, False), 0),
            makeup_workdays=counts.get((row.year, True), 0),
        )
        for row in rows
    ]


def list_days(deps: ServiceDeps, actor: Actor, first: date, last: date) -> list[DayInfo]:
    """Every date of a range with its kind (workday, weekend, holiday, make-up workday)."""
    return days_between(calendar_for(deps, actor), first, last)


def month_days(deps: ServiceDeps, actor: Actor, year: int, month: int) -> list[DayInfo]:
    """Every date of a month with its kind."""
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        shown = f"{year:04d}-{month:02d}"
        raise InvalidInput("invalid_month", "Not a month (such as 2026-10): %(value)s", value=shown)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return list_days(deps, actor, first, following - timedelta(days=1))


def compute_deadline(
    deps: ServiceDeps,
    actor: Actor,
    start: datetime,
    limit: Amount,
    unit: TimeUnit,
    pauses: Iterable[Pause] = (),
) -> datetime:
    """The deadline of a limit from ``start`` (city time)."""
    return deadline(calendar_for(deps, actor), start, limit, unit, pauses)


def compute_elapsed(
    deps: ServiceDeps,
    actor: Actor,
    start: datetime,
    end: datetime,
    unit: TimeUnit,
    pauses: Iterable[Pause] = (),
) -> Decimal:
    """The time counted from ``start`` to ``end`` in ``unit``."""
    return elapsed(calendar_for(deps, actor), start, end, unit, pauses)


@dataclass(frozen=True)
class SettingsView:
    """Office periods, the office time of one working day, and the city's time zone."""

    office_hours: str
    day_hours: Decimal
    time_zone: str
    updated_at: datetime


def calendar_settings(deps: ServiceDeps, actor: Actor) -> SettingsView:
    """The office hours and time zone in force."""
    require(actor, Permission.CALENDAR_READ)
    with deps.db.read() as session:
        row = session.get(CalendarSetting, 1)
    if row is None:
        raise RuntimeError("calendar_setting has no row: run `gridcity migrate`")
    return _settings_view(row)


def _settings_view(row: CalendarSetting) -> SettingsView:
    hours = parse_office_hours(row.office_hours)
    return SettingsView(
        office_hours=hours.text,
        day_hours=Decimal(hours.day_length // timedelta(minutes=1)) / 60,
        time_zone=row.time_zone,
        updated_at=row.updated_at,
    )


# --- editing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """What loading a year's file did."""

    year: int
    replaced: bool
    holidays: int
    makeup_workdays: int
    added: tuple[date, ...]  # dates the calendar did not set before
    removed: tuple[date, ...]  # dates of the replaced file that are ordinary days again
    changed: tuple[date, ...]  # dates whose kind or name changed
    amended: tuple[date, ...]  # December dates of the year before, set by this notice

    def as_dict(self) -> dict[str, Any]:
        """Plain data (dates as ISO text)."""
        return {
            "year": self.year,
            "replaced": self.replaced,
            "holidays": self.holidays,
            "makeup_workdays": self.makeup_workdays,
            **{
                key: [d.isoformat() for d in getattr(self, key)]
                for key in ("added", "removed", "changed", "amended")
            },
        }


def load_year_file(
    deps: ServiceDeps,
    actor: Actor,
    data: bytes,
    *,
    name: str,
    source: str = "",
    info: RequestInfo,
) -> LoadResult:
    """Add a year (or replace a covered one) from a CSV or JSON file, all-or-nothing."""
    require(actor, Permission.CALENDAR_WRITE)
    checked = read_calendar_file(data, name)
    return store_year(deps, actor, checked, source=source or f"file {name}", info=info)


def store_year(
    deps: ServiceDeps,
    actor: Actor,
    checked: CalendarYearFile,
    *,
    source: str,
    info: RequestInfo,
) -> LoadResult:
    """Write a checked year in one transaction (replacing the rows its earlier file set)."""
    require(actor, Permission.CALENDAR_WRITE)
    source = source.strip()
    if not source or len(source) > SOURCE_MAX:
        raise InvalidInput(
            "calendar_source",
            "Say where the days come from in 1 to %(max)s characters (such as the notice's number)",
            max=SOURCE_MAX,
        )
    now = deps.clock()
    year = checked.year
    new = {d.day: d for d in checked.days}
    with deps.db.transaction() as session:
        lock_rows(session, YEAR_TABLE, CalendarYear.year == year)
        existing = session.get(CalendarYear, year)
        replaced = existing is not None
        touched = sa.or_(CalendarDayRow.year == year, CalendarDayRow.day.in_(list(new)))
        # plain rows, not ORM objects: the new rows take the same keys after the delete
        old = {
            r.day: r
            for r in session.execute(
                sa.select(
                    CalendarDayRow.day,
                    CalendarDayRow.is_workday,
                    CalendarDayRow.name,
                    CalendarDayRow.year,
                ).where(touched)
            )
        }
        if existing is None:
            session.add(
                CalendarYear(year=year, source=source, loaded_at=now, loaded_by=actor.username)
            )
            session.flush()
        else:
            existing.source, existing.loaded_at, existing.loaded_by = source, now, actor.username
        session.execute(sa.delete(CalendarDayRow).where(touched))
        session.add_all(
            CalendarDayRow(
                day=d.day, is_workday=d.is_workday, name=d.name, source=source, year=year
            )
            for d in checked.days
        )
        result = LoadResult(
            year=year,
            replaced=replaced,
            holidays=checked.holidays,
            makeup_workdays=checked.makeup_workdays,
            added=tuple(sorted(set(new) - set(old))),
            removed=tuple(sorted(d for d, r in old.items() if d not in new and r.year == year)),
            changed=tuple(
                sorted(
                    d
                    for d, r in old.items()
                    if d in new and (bool(r.is_workday), r.name) != (new[d].is_workday, new[d].name)
                )
            ),
            amended=tuple(sorted(d for d in new if d.year != year)),
        )
        bump_version(session, CALENDAR_STATE, now)
        detail = result.as_dict() | {"source": source}
        if not replaced:
            # a new year: every date is "added"; the audit row keeps the counts only
            detail.pop("added")
        audit.append(
            session,
            at=now,
            actor=actor,
            action="calendar.year_replaced" if replaced else "calendar.year_added",
            target_type="calendar_year",
            target_id=year,
            detail=detail,
            info=info,
        )
    return result


def update_settings(
    deps: ServiceDeps,
    actor: Actor,
    *,
    office_hours: str | Sequence[str] | None = None,
    time_zone: str | None = None,
    info: RequestInfo,
) -> SettingsView:
    """Change the office periods (ordered, apart, inside a day) and/or the time zone."""
    require(actor, Permission.CALENDAR_WRITE)
    hours: OfficeHours | None = None if office_hours is None else parse_office_hours(office_hours)
    zone = None if time_zone is None else parse_zone(time_zone)
    now = deps.clock()
    with deps.db.transaction() as session:
        lock_rows(session, SETTING_TABLE, CalendarSetting.id == 1)
        row = session.get(CalendarSetting, 1)
        if row is None:
            raise RuntimeError("calendar_setting has no row: run `gridcity migrate`")
        changes: dict[str, list[str]] = {}
        if hours is not None and hours.text != row.office_hours:
            changes["office_hours"] = [row.office_hours, hours.text]
            row.office_hours = hours.text
        if zone is not None and zone.key != row.time_zone:
            changes["time_zone"] = [row.time_zone, zone.key]
            row.time_zone = zone.key
        if changes:
            row.updated_at = now
            bump_version(session, CALENDAR_STATE, now)
            audit.append(
                session,
                at=now,
                actor=actor,
                action="calendar.settings_updated",
                target_type="calendar_setting",
                target_id=1,
                detail=changes,
                info=info,
            )
        view = _settings_view(row)
    return view
