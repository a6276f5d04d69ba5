"""Responsibility (定人定岗定责, 逐级分包): who holds which post for which grid or division, when.

An assignment puts one person on one post for a grid cell (supervisor, grid worker) or for a
division (leader), over a range of local calendar days, optionally on some weekdays only (a
rota) and in a daily shift. A shift is a named one (data a city edits: ``NamedShift``; seeded
``day`` and ``night``) or ``HH:MM-HH:MM``; one that ends before it starts runs overnight and
belongs to the day it started on, so a night shift of the last day of an assignment still holds
at 03:00 the next morning, and a Friday night shift of a Monday–Friday rota holds at 03:00 on
Saturday but not at 03:00 on Monday.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from gridcity.domain.access import Permission
from gridcity.domain.errors import InvalidInput

MINUTES_PER_DAY = 24 * 60
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_SHIFT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
SHIFT_NAME_MAX = 16
DISPLAY_NAME_MAX = 50
ALL_WEEKDAYS: frozenset[int] = frozenset(range(1, 8))  # ISO weekdays: 1 Monday … 7 Sunday


class Post(StrEnum):
    """The posts of the responsibility system."""

    SUPERVISOR = "supervisor"  # 监督员: patrols a grid for the supervision center
    GRID_WORKER = "grid_worker"  # 网格员: the grid's own worker (community, social service)
    LEADER = "leader"  # 包片领导: a leader answering for a subdistrict or community


# Posts held on a grid cell and posts held on a division; a grid is covered by the first kind.
CELL_POSTS = frozenset({Post.SUPERVISOR, Post.GRID_WORKER})
DIVISION_POSTS = frozenset({Post.LEADER})


@dataclass(frozen=True)
class NamedShift:
    """A shift a city names (``day``: 08:00–20:00); a retired one keeps its assignments only."""

    name: str
    start: time
    end: time
    name_zh: str
    name_en: str
    retired: bool = False

    @property
    def hours(self) -> str:
        """The window as ``HH:MM-HH:MM``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# The named shifts migration 0004 stores; from then on they are data (table ``named_shift``).
SEED_SHIFTS: dict[str, NamedShift] = {
    "day": NamedShift("day", time(8, 0), time(20, 0), "白班", "day shift"),
    "night": NamedShift("night", time(20, 0), time(8, 0), "夜班", "night shift"),
}


def parse_post(value: str) -> Post:
    """A post by name, or a refusal listing the posts."""
    try:
        return Post(value)
    except ValueError:
        raise InvalidInput(
            "post_unknown",
            "Unknown post %(post)s; known: %(known)s",
            post=value,
            known=", ".join(p.value for p in Post),
        ) from None


def required_permission(post: Post) -> Permission:
    """Posts on grids are scheduled by the supervision center; leaders' posts by administrators."""
    return Permission.ORG_WRITE if post in DIVISION_POSTS else Permission.RESPONSIBILITY_WRITE


def check_target(post: Post, *, on_division: bool) -> None:
    """A leader answers for a division; supervisors and grid workers for a grid cell."""
    if post in DIVISION_POSTS and not on_division:
        raise InvalidInput(
            "post_needs_division",
            "A leader is assigned to a division (subdistrict or community), not to a grid",
        )
    if post in CELL_POSTS and on_division:
        raise InvalidInput(
            "post_needs_grid",
            "Supervisors and grid workers are assigned to a grid, not to a division",
        )


def check_period(starts_on: date, ends_on: date | None) -> None:
    """An assignment ends on or after the day it starts."""
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            "assignment_period",
            "An assignment cannot end (%(end)s) before it starts (%(start)s)",
            start=starts_on.isoformat(),
            end=ends_on.isoformat(),
        )


def periods_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    """True when two day ranges (inclusive; None: open-ended) share a day."""
    return (b_end is None or a_start <= b_end) and (a_end is None or b_start <= a_end)


@dataclass(frozen=True)
class Shift:
    """A daily time window (local time); ``text`` '' is all day."""

    text: str
    start: time | None = None
    end: time | None = None

    @property
    def all_day(self) -> bool:
        """True without a time window."""
        return self.start is None or self.end is None

    @property
    def overnight(self) -> bool:
        """True when the window passes midnight."""
        return (
            not self.all_day
            and self.end is not None
            and self.start is not None
            and self.end < self.start
        )

    def covers(self, moment: time) -> bool:
        """True when a local time of day falls in the window (start included, end not)."""
        if self.start is None or self.end is None:
            return True
        if self.overnight:
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    def day_of(self, local: datetime) -> date:
        """The calendar day of the shift holding a local moment (the day before, after midnight)."""
        if self.overnight and self.end is not None and local.time() < self.end:
            return local.date() - timedelta(days=1)
        return local.date()

    def minutes(self) -> list[tuple[int, int]]:
        """The window as minute ranges [start, end) within one day."""
        if self.start is None or self.end is None:
            return [(0, MINUTES_PER_DAY)]
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        return [(start, MINUTES_PER_DAY), (0, end)] if end < start else [(start, end)]

    def overlaps(self, other: Shift) -> bool:
        """True when the two windows share a minute of the day."""
        return any(a < d and c < b for a, b in self.minutes() for c, d in other.minutes())


def parse_shift(
    text: str | None, named: Mapping[str, NamedShift], *, for_new: bool = False
) -> Shift:
    """A shift from '' (all day), a named shift (``named``: the city's), or ``HH:MM-HH:MM``.

    ``for_new`` refuses a retired named shift: it keeps its assignments but takes no new ones.
    """
    value = (text or "").strip().replace("–", "-").replace(" ", "")
    if not value:
        return Shift("")
    if value in named:
        found = named[value]
        if for_new and found.retired:
            raise InvalidInput(
                "shift_retired",
                "Shift %(shift)s is retired and takes no new assignments",
                shift=value,
            )
        return Shift(value, found.start, found.end)
    match = _CLOCK.match(value)
    if match is None:
        raise InvalidInput(
            "shift_format",
            "A shift is %(named)s or HH:MM-HH:MM, got %(shift)s",
            named=", ".join(n for n, s in named.items() if not s.retired) or "''",
            shift=value,
        )
    start = time(int(match[1]), int(match[2]))
    end = time(int(match[3]), int(match[4]))
    _check_not_empty(start, end, value)
    return Shift(value, start, end)


def _check_not_empty(start: time, end: time, shift: str) -> None:
    """A shift must last: it cannot start and end at the same minute."""
    if start == end:
        raise InvalidInput(
            "shift_empty",
            "A shift must not start and end at the same time (%(shift)s)",
            shift=shift,
        )


def check_named_shift(
    name: str, start: str, end: str, name_zh: str, name_en: str, *, retired: bool = False
) -> NamedShift:
    """A named shift as an administrator enters it: a short lower-case name and two clock times."""
    cleaned = name.strip()
    if not _SHIFT_NAME.match(cleaned):
        raise InvalidInput(
            "shift_name_format",
            "A shift name has 1 to %(max)s lower-case letters, digits or _, starting with a letter",
            max=SHIFT_NAME_MAX,
        )
    begins, ends = _clock(start), _clock(end)
    _check_not_empty(begins, ends, f"{start}-{end}")
    for label in (name_zh, name_en):
        if not 1 <= len(label.strip()) <= DISPLAY_NAME_MAX:
            raise InvalidInput(
                "shift_display_name",
                "A display name needs 1 to %(max)s characters",
                max=DISPLAY_NAME_MAX,
            )
    return NamedShift(cleaned, begins, ends, name_zh.strip(), name_en.strip(), retired)


def _clock(value: str) -> time:
    """A local time of day from ``HH:MM``."""
    match = _TIME.match(value.strip())
    if match is None:
        raise InvalidInput(
            "shift_time_format", "A time of day is HH:MM, got %(value)s", value=value
        )
    return time(int(match[1]), int(match[2]))


# --- rotas: weekdays ----------------------------------------------------------------------------


def parse_weekdays(values: Iterable[int | str] | None) -> frozenset[int]:
    """ISO weekdays (1 Monday … 7 Sunday) of a rota; None is every day, an empty set is refused."""
    if values is None:
        return ALL_WEEKDAYS
    days: set[int] = set()
    for value in values:
        text = str(value).strip()
        if not (text.isdigit() and 1 <= int(text) <= 7):
            raise InvalidInput(
                "weekday_invalid",
                "A weekday is a number from 1 (Monday) to 7 (Sunday), got %(value)s",
                value=text,
            )
        days.add(int(text))
    if not days:
        raise InvalidInput("weekdays_empty", "Choose at least one weekday")
    return frozenset(days)


def weekdays_text(days: Iterable[int]) -> str:
    """The stored form of a rota's weekdays: their digits in order (``12345`` = Monday–Friday)."""
    return "".join(str(d) for d in sorted(set(days)))


def weekdays_of(text: str) -> frozenset[int]:
    """Weekdays from their stored form ('' is every day, as for rows stored before rotas)."""
    return frozenset(int(c) for c in text if c.isdigit()) or ALL_WEEKDAYS


def in_force(
    starts_on: date,
    ends_on: date | None,
    shift: Shift,
    local: datetime,
    weekdays: frozenset[int] = ALL_WEEKDAYS,
) -> bool:
    """True when an assignment holds at a local moment: within its shift, its days and weekdays.

    An overnight shift belongs to the day it started on, for its first and last day and for
    its weekday alike.
    """
    if not shift.covers(local.time()):
        return False
    day = shift.day_of(local)
    return starts_on <= day and (ends_on is None or day <= ends_on) and day.isoweekday() in weekdays


@dataclass(frozen=True)
class Duty:
    """When an assignment holds: its days, its weekdays and its daily shift."""

    starts_on: date
    ends_on: date | None
    shift: Shift
    weekdays: frozenset[int] = ALL_WEEKDAYS

    def works_on(self, day: date) -> bool:
        """True when a shift of this duty starts on ``day``."""
        return (
            self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
            and day.isoweekday() in self.weekdays
        )

    def intervals(self) -> list[tuple[int, int]]:
        """Minutes [start, end) from the midnight of the day a shift starts (end may pass 1440)."""
        if self.shift.start is None or self.shift.end is None:
            return [(0, MINUTES_PER_DAY)]
        start = self.shift.start.hour * 60 + self.shift.start.minute
        end = self.shift.end.hour * 60 + self.shift.end.minute
        return [(start, end + MINUTES_PER_DAY if end < start else end)]


def duties_overlap(a: Duty, b: Duty) -> bool:
    """True when two duties hold at one moment: on a day both work, or across midnight."""
    for offset in (-1, 0, 1):  # b's shift starting the day before, the same day, the day after
        shifted = offset * MINUTES_PER_DAY
        clash = any(
            s1 < e2 + shifted and s2 + shifted < e1
            for s1, e1 in a.intervals()
            for s2, e2 in b.intervals()
        )
        if clash and _shared_day(a, b, offset):
            return True
    return False


def _shared_day(a: Duty, b: Duty, offset: int) -> bool:
    """True when some day d has a shift of ``a`` and ``b`` has one on d + ``offset``."""
    first = max(a.starts_on, b.starts_on - timedelta(days=offset))
    last_a = a.ends_on
    last_b = b.ends_on - timedelta(days=offset) if b.ends_on is not None else None
    lasts = [d for d in (last_a, last_b) if d is not None]
    last = min(lasts) if lasts else None
    if last is not None and last < first:
        return False
    span = 7 if last is None else min((last - first).days + 1, 7)  # a week repeats the pattern
    return any(
        a.works_on(first + timedelta(days=n)) and b.works_on(first + timedelta(days=n + offset))
        for n in range(span)
    )
