"""The working calendar (工作日历) as data, and the deadline arithmetic (时限) on it, pure and exact.

A calendar knows which years it covers, the dates that differ from the weekly rule (a public
holiday, or a 调休 make-up workday on a Saturday or Sunday), the office periods of a working day
(办公时间, default 08:30–12:00 and 14:00–17:30) and the city's time zone (default
Asia/Shanghai). Monday to Friday are working days and weekends are not, unless a date says
otherwise. Nothing here reads a clock, a file or a database: the service hands the calendar in.

Semantics (docs/work-calendar.md has worked examples):

- ``working_hours`` count only time inside office periods on working days. A start outside
  office hours counts from the next office period; a deadline that falls exactly at the end of
  a period is that end, not the start of the next one (the deadline is the first instant at
  which the limit has been used up).
- ``working_days``: N × the office time of one day (7 h by default), counted the same way, so
  one working day from Monday 10:00 ends on Tuesday 10:00.
- ``natural_hours`` / ``natural_days``: wall-clock time (24 h a day), holidays included; they
  need no calendar year.
- Pauses (挂账, suspensions) stop the clock: time inside a pause is not counted. A pause without
  an end is still running.
- A computation that needs a date of a year the calendar does not cover is refused with
  ``calendar_not_covered`` naming the year, never guessed.

Time is counted in whole microseconds (a limit is rounded to the nearest one), so
``elapsed(start, deadline(start, limit))`` gives the limit back exactly. Every instant must be
timezone-aware; results are in the city's time zone. Arithmetic runs in UTC, so a zone with
daylight saving time counts the real length of a period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import Conflict, DomainError, InvalidInput
from gridcity.domain.imports import N_

DEFAULT_ZONE = "Asia/Shanghai"
HOUR_US = 3_600_000_000  # microseconds in an hour
LIMIT_MAX = Decimal(10_000)  # the catalog's largest time limit (1–10000 units)
MAX_PERIODS = 6
NAME_MAX = 60
RANGE_MAX_DAYS = 731  # the longest list of days asked at once (two years)
_FAR = datetime(9999, 12, 31, tzinfo=UTC)  # the end of natural time and of a running pause
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_PERIOD_SPLIT = re.compile(r"\s*[-–~]\s*")

Amount = Decimal | int | float | str


class Light(StrEnum):
    """The traffic light of a time limit (亮灯): share of the limit used so far."""

    GREEN = "green"  # below 80 %
    YELLOW = "yellow"  # 80 % up to and including 100 %
    RED = "red"  # above 100 %: overdue


class DayKind(StrEnum):
    """What a date is in the calendar."""

    WORKDAY = "workday"  # Monday to Friday, no holiday
    WEEKEND = "weekend"  # Saturday or Sunday, no make-up workday
    HOLIDAY = "holiday"  # a public holiday or a day off of its period (放假)
    MAKEUP_WORKDAY = "makeup_workday"  # a Saturday or Sunday worked instead (调休上班)


class CalendarNotCovered(DomainError):
    """A computation needs a year the calendar does not cover; it is refused, not guessed."""

    status = 422

    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar_not_covered",
            N_(
                "The working calendar does not cover %(year)s; an administrator loads that "
                "year's holidays and make-up workdays from the State Council notice first"
            ),
            year=year,
        )
        self.year = year


# --- office hours -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficePeriod:
    """One office period of a working day, local time, inside one day (08:30–12:00)."""

    start: time
    end: time

    @property
    def length(self) -> timedelta:
        """Its nominal length."""
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    @property
    def text(self) -> str:
        """As ``HH:MM-HH:MM``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class OfficeHours:
    """The office periods of every working day: ordered, apart from each other, inside a day."""

    periods: tuple[OfficePeriod, ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise InvalidInput("office_hours_empty", "Office hours need at least one period")
        if len(self.periods) > MAX_PERIODS:
            raise InvalidInput(
                "office_hours_too_many",
                "Office hours have at most %(max)s periods, got %(count)s",
                max=MAX_PERIODS,
                count=len(self.periods),
            )
        for period in self.periods:
            if period.end <= period.start:
                raise InvalidInput(
                    "office_period_order",
                    "An office period ends after it starts, inside one day: %(period)s",
                    period=period.text,
                )
            if period.start.second or period.end.second or period.start.microsecond:
                raise InvalidInput(
                    "office_period_minutes",
                    "Office periods are given in whole minutes: %(period)s",
                    period=period.text,
                )
        for before, after in zip(self.periods, self.periods[1:], strict=False):
            if after.start <= before.end:
                raise InvalidInput(
                    "office_periods_overlap",
                    "Office periods are in order and apart: %(after)s does not start after "
                    "%(before)s ends",
                    before=before.text,
                    after=after.text,
                )

    @property
    def day_length(self) -> timedelta:
        """Office time of one working day (7 h by default): one working day of a limit."""
        return sum((p.length for p in self.periods), timedelta())

    @property
    def text(self) -> str:
        """As ``08:30-12:00,14:00-17:30``."""
        return ",".join(p.text for p in self.periods)


DEFAULT_OFFICE_HOURS = OfficeHours(
    (OfficePeriod(time(8, 30), time(12, 0)), OfficePeriod(time(14, 0), time(17, 30)))
)


def _clock(value: str, period: str) -> time:
    """``HH:MM`` as a time, or a refusal naming the period."""
    found = _CLOCK.fullmatch(value)
    if found is None:
        raise InvalidInput(
            "office_period_format",
            "An office period is HH:MM-HH:MM (08:30-12:00), got %(period)s",
            period=period,
        )
    return time(int(found.group(1)), int(found.group(2)))


def parse_office_hours(value: str | Sequence[str]) -> OfficeHours:
    """Office hours from ``08:30-12:00,14:00-17:30`` (or a list of such periods), checked."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    periods: list[OfficePeriod] = []
    for raw in parts:
        text = raw.strip()
        if not text:
            continue
        bounds = _PERIOD_SPLIT.split(text)
        if len(bounds) != 2:
            raise InvalidInput(
                "office_period_format",
                "An office period is HH:MM-HH:MM (08:30-12:00), got %(period)s",
                period=text,
            )
        periods.append(OfficePeriod(_clock(bounds[0], text), _clock(bounds[1], text)))
    return OfficeHours(tuple(periods))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone (Asia/Shanghai), or a refusal."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "unknown_time_zone",
            "Unknown time zone %(zone)s; give an IANA name such as Asia/Shanghai",
            zone=name,
        ) from None


# --- the calendar -------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    """A date that differs from the weekly rule: a day off, or a make-up workday, with its name."""

    day: date
    is_workday: bool
    name: str


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one date."""

    day: date
    kind: DayKind
    name: str = ""

    @property
    def is_workday(self) -> bool:
        """True on a working day."""
        return self.kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


@dataclass(frozen=True)
class WorkCalendar:
    """Covered years, the dates that differ from Monday–Friday, office hours and time zone."""

    years: frozenset[int]
    days: Mapping[date, CalendarDay] = field(default_factory=dict)
    office_hours: OfficeHours = DEFAULT_OFFICE_HOURS
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))

    def covers(self, year: int) -> bool:
        """True when the calendar holds that year's holidays and make-up workdays."""
        return year in self.years

    def describe(self, day: date) -> DayInfo:
        """The kind of a date (and its holiday's name); refused for a year not covered."""
        if day.year not in self.years:
            raise CalendarNotCovered(day.year)
        special = self.days.get(day)
        if special is not None:
            kind = DayKind.MAKEUP_WORKDAY if special.is_workday else DayKind.HOLIDAY
            if special.is_workday and day.isoweekday() <= 5:
                kind = DayKind.WORKDAY  # a weekday is worked anyway
            return DayInfo(day, kind, special.name)
        return DayInfo(day, DayKind.WEEKEND if day.isoweekday() >= 6 else DayKind.WORKDAY)

    def is_workday(self, day: date) -> bool:
        """True on a working day; refused for a year not covered."""
        if day.year not in self.years:
            raise CalendarNotCovered(day.year)
        special = self.days.get(day)
        if special is not None:
            return special.is_workday
        return day.isoweekday() <= 5

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office periods of a date as UTC instants (whether or not it is a working day)."""
        zone = self.zone
        return [
            (
                datetime.combine(day, p.start, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, p.end, tzinfo=zone).astimezone(UTC),
            )
            for p in self.office_hours.periods
        ]


def days_between(calendar: WorkCalendar, first: date, last: date) -> list[DayInfo]:
    """Every date from ``first`` to ``last`` (inclusive) described; at most two years at once."""
    if last < first:
        raise InvalidInput(
            "day_range_order",
            "The range ends (%(last)s) before it starts (%(first)s)",
            first=first.isoformat(),
            last=last.isoformat(),
        )
    count = (last - first).days + 1
    if count > RANGE_MAX_DAYS:
        raise InvalidInput(
            "day_range_too_long",
            "Ask for at most %(max)s days at once, not %(count)s",
            max=RANGE_MAX_DAYS,
            count=count,
        )
    return [calendar.describe(first + timedelta(days=n)) for n in range(count)]


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """A time the clock stood still (挂账, suspension); ``end`` None: still paused."""

    start: datetime
    end: datetime | None = None


def aware(value: datetime) -> datetime:
    """The instant itself, or a refusal when it has no UTC offset (it would be ambiguous)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            "naive_datetime",
            "A time without a UTC offset is ambiguous: %(value)s; give it as "
            "2026-02-13T16:00+08:00",
            value=value.isoformat(),
        )
    return value


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date and time; one without an offset is local time of ``zone``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "invalid_instant",
            "Not a date and time (ISO 8601, such as 2026-02-13T16:00 or "
            "2026-02-13T16:00+08:00): %(value)s",
            value=text,
        ) from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def parse_unit(value: str) -> TimeUnit:
    """A time unit by name, or a refusal listing the units."""
    try:
        return TimeUnit(value)
    except ValueError:
        raise InvalidInput(
            "invalid_time_unit",
            "Unknown time unit %(unit)s; known: %(known)s",
            unit=value,
            known=", ".join(u.value for u in TimeUnit),
        ) from None


def parse_amount(value: Amount) -> Decimal:
    """A time limit's amount: a number above 0 and at most 10,000 (0.5 is half a unit)."""
    if isinstance(value, bool):
        raise _bad_amount(value)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _bad_amount(value) from None
    if not amount.is_finite() or amount <= 0:
        raise _bad_amount(value)
    if amount > LIMIT_MAX:
        raise InvalidInput(
            "limit_too_large",
            "A time limit is at most %(max)s units, got %(value)s",
            max=int(LIMIT_MAX),
            value=str(value),
        )
    return amount


def _bad_amount(value: object) -> InvalidInput:
    return InvalidInput(
        "invalid_limit",
        "A time limit is a number above 0 (such as 4 or 0.5): %(value)s",
        value=value,
    )


def _unit_us(calendar: WorkCalendar, unit: TimeUnit) -> int:
    """Microseconds of one unit of a limit."""
    if unit is TimeUnit.WORKING_DAYS:
        return calendar.office_hours.day_length // timedelta(microseconds=1)
    if unit is TimeUnit.NATURAL_DAYS:
        return 24 * HOUR_US
    return HOUR_US


def limit_duration(calendar: WorkCalendar, limit: Amount, unit: TimeUnit) -> timedelta:
    """The clock time a limit allows (``working_days``: N × one day's office time)."""
    amount = parse_amount(limit)
    with localcontext() as context:
        context.prec = 60
        micro = (amount * _unit_us(calendar, unit)).to_integral_value(ROUND_HALF_UP)
    if micro <= 0:
        raise InvalidInput(
            "limit_too_small",
            "A time limit of %(value)s is shorter than a microsecond",
            value=str(limit),
        )
    return timedelta(microseconds=int(micro))


def in_units(calendar: WorkCalendar, spent: timedelta, unit: TimeUnit) -> Decimal:
    """Counted time as an amount of ``unit`` (hours or days)."""
    micro = spent // timedelta(microseconds=1)
    with localcontext() as context:
        context.prec = 40
        return Decimal(micro) / Decimal(_unit_us(calendar, unit))


# --- the clock ------------------------------------------------------------------------------


def _is_natural(unit: TimeUnit) -> bool:
    return unit in (TimeUnit.NATURAL_HOURS, TimeUnit.NATURAL_DAYS)


def _office_time(
    calendar: WorkCalendar, since: datetime, until: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    """The office time of working days from ``since`` (before ``until``), as UTC intervals.

    A date is looked up in the calendar only when one of its periods lies in the window, so a
    count that ends on 31 December needs nothing of the next year.
    """
    day = since.astimezone(calendar.zone).date()
    while True:
        periods = calendar.periods_on(day)
        if until is not None and periods[0][0] >= until:
            return
        inside = [(max(a, since), b) for a, b in periods if b > since]
        if inside and calendar.is_workday(day):
            yield from inside
        day += timedelta(days=1)


def _merged(pauses: Iterable[Pause]) -> list[tuple[datetime, datetime]]:
    """Pauses as sorted, disjoint UTC intervals (a running pause ends at the end of time)."""
    spans: list[tuple[datetime, datetime]] = []
    for pause in pauses:
        start = aware(pause.start).astimezone(UTC)
        end = _FAR if pause.end is None else aware(pause.end).astimezone(UTC)
        if end < start:
            raise InvalidInput(
                "pause_order",
                "A pause ends (%(end)s) before it starts (%(start)s)",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        spans.append((start, end))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _without(
    intervals: Iterable[tuple[datetime, datetime]], pauses: Sequence[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    """The intervals minus the (sorted, disjoint) pauses."""
    first = 0
    for a, b in intervals:
        while first < len(pauses) and pauses[first][1] <= a:
            first += 1
        cursor = a
        index = first
        while index < len(pauses) and pauses[index][0] < b:
            if pauses[index][0] > cursor:
                yield cursor, pauses[index][0]
            cursor = max(cursor, pauses[index][1])
            if cursor >= b:
                break
            index += 1
        if cursor < b:
            yield cursor, b


def _counted(
    calendar: WorkCalendar,
    since: datetime,
    until: datetime | None,
    unit: TimeUnit,
    pauses: Sequence[tuple[datetime, datetime]],
) -> Iterator[tuple[datetime, datetime]]:
    """The time the clock runs from ``since``: office time or all time, minus pauses."""
    if _is_natural(unit):
        base: Iterable[tuple[datetime, datetime]] = [(since, until or _FAR)]
    else:
        base = _office_time(calendar, since, until)
    return _without(base, pauses)


def deadline(
    calendar: WorkCalendar,
    start: datetime,
    limit: Amount,
    unit: TimeUnit,
    pauses: Iterable[Pause] = (),
) -> datetime:
    """The first instant by which ``limit`` of ``unit`` has run from ``start``, in city time.

    Refused with ``calendar_not_covered`` when a needed date lies in a year not covered, and
    with ``clock_paused`` when a pause that is still running stops the clock first.
    """
    since = aware(start).astimezone(UTC)
    remaining = limit_duration(calendar, limit, unit)
    spans = _merged(pauses)
    running = spans[-1][0] if spans and spans[-1][1] == _FAR else None
    for a, b in _counted(calendar, since, running, unit, spans):
        if remaining <= b - a:
            return (a + remaining).astimezone(calendar.zone)
        remaining -= b - a
    assert running is not None  # only a running pause ends the clock's time
    raise Conflict(
        "clock_paused",
        "The clock is paused since %(since)s; the deadline is known again once it resumes",
        since=running.astimezone(calendar.zone).isoformat(),
    )


def elapsed_time(
    calendar: WorkCalendar,
    start: datetime,
    end: datetime,
    unit: TimeUnit,
    pauses: Iterable[Pause] = (),
) -> timedelta:
    """The time the clock of ``unit`` ran from ``start`` to ``end`` (office time, or all)."""
    since = aware(start).astimezone(UTC)
    until = aware(end).astimezone(UTC)
    if until < since:
        raise InvalidInput(
            "elapsed_order",
            "The end (%(end)s) lies before the start (%(start)s)",
            start=since.isoformat(),
            end=until.isoformat(),
        )
    spent = timedelta()
    for a, b in _counted(calendar, since, until, unit, _merged(pauses)):
        if a >= until:
            break
        spent += min(b, until) - a
    return spent


def elapsed(
    calendar: WorkCalendar,
    start: datetime,
    end: datetime,
    unit: TimeUnit,
    pauses: Iterable[Pause] = (),
) -> Decimal:
    """The time counted from ``start`` to ``end`` in ``unit`` (hours, or days of office time)."""
    return in_units(calendar, elapsed_time(calendar, start, end, unit, pauses), unit)


def light(used: Decimal | int | timedelta, limit: Decimal | int | timedelta) -> Light:
    """Green below 80 % of the limit used, yellow from 80 % to 100 % inclusive, red above 100 %."""
    spent, allowed = _number(used), _number(limit)
    if allowed <= 0:
        raise InvalidInput(
            "invalid_limit",
            "A time limit is a number above 0 (such as 4 or 0.5): %(value)s",
            value=str(limit),
        )
    if spent < 0:
        raise InvalidInput(
            "negative_elapsed", "Time used cannot be negative: %(value)s", value=str(used)
        )
    if spent * 5 < allowed * 4:
        return Light.GREEN
    if spent <= allowed:
        return Light.YELLOW
    return Light.RED


def light_at(
    calendar: WorkCalendar,
    start: datetime,
    limit: Amount,
    unit: TimeUnit,
    now: datetime,
    pauses: Iterable[Pause] = (),
) -> Light:
    """The light of a clock that started at ``start`` with ``limit``, seen at ``now``."""
    return light(
        elapsed_time(calendar, start, now, unit, pauses), limit_duration(calendar, limit, unit)
    )


def _number(value: Decimal | int | timedelta) -> Decimal:
    if isinstance(value, timedelta):
        return Decimal(value // timedelta(microseconds=1))
    return Decimal(value)
