"""Responsibility (定人定岗定责, 逐级分包): who holds which post for which grid or division, when.

An assignment puts one person on one post for a grid cell (supervisor, grid worker) or for a
division (leader), over a range of local calendar days and, optionally, a daily shift. A shift
is a named one (``day``, ``night``: see ``NAMED_SHIFTS``) or ``HH:MM-HH:MM``; one that ends
before it starts runs overnight and belongs to the day it started on, so a night shift of the
last day of an assignment still holds at 03:00 the next morning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from gridcity.domain.access import Permission
from gridcity.domain.errors import InvalidInput

MINUTES_PER_DAY = 24 * 60
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")


class Post(StrEnum):
    """The posts of the responsibility system."""

    SUPERVISOR = "supervisor"  # 监督员: patrols a grid for the supervision center
    GRID_WORKER = "grid_worker"  # 网格员: the grid's own worker (community, social service)
    LEADER = "leader"  # 包片领导: a leader answering for a subdistrict or community


# Posts held on a grid cell and posts held on a division; a grid is covered by the first kind.
CELL_POSTS = frozenset({Post.SUPERVISOR, Post.GRID_WORKER})
DIVISION_POSTS = frozenset({Post.LEADER})
# Seed values of the named shifts; a city's own hours go in as HH:MM-HH:MM.
NAMED_SHIFTS: dict[str, tuple[time, time]] = {
    "day": (time(8, 0), time(20, 0)),
    "night": (time(20, 0), time(8, 0)),
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


def parse_shift(text: str | None) -> Shift:
    """A shift from '' (all day), a named shift, or ``HH:MM-HH:MM``."""
    value = (text or "").strip().replace("–", "-").replace(" ", "")
    if not value:
        return Shift("")
    if value in NAMED_SHIFTS:
        start, end = NAMED_SHIFTS[value]
        return Shift(value, start, end)
    match = _CLOCK.match(value)
    if match is None:
        raise InvalidInput(
            "shift_format",
            "A shift is %(named)s or HH:MM-HH:MM, got %(shift)s",
            named=", ".join(NAMED_SHIFTS),
            shift=value,
        )
    start = time(int(match[1]), int(match[2]))
    end = time(int(match[3]), int(match[4]))
    if start == end:
        raise InvalidInput(
            "shift_empty",
            "A shift must not start and end at the same time (%(shift)s)",
            shift=value,
        )
    return Shift(value, start, end)


def in_force(starts_on: date, ends_on: date | None, shift: Shift, local: datetime) -> bool:
    """True when an assignment holds at a local moment: within its shift and its days."""
    if not shift.covers(local.time()):
        return False
    day = shift.day_of(local)
    return starts_on <= day and (ends_on is None or day <= ends_on)
