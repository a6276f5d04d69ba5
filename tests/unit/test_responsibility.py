"""Posts and shifts: who may hold which post where, and when an assignment is in force."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gridcity.domain.access import ROLE_PERMISSIONS, Permission, Role
from gridcity.domain.errors import InvalidInput
from gridcity.domain.responsibility import SEED_SHIFTS as NAMED
from gridcity.domain.responsibility import (
    Post,
    check_period,
    check_target,
    in_force,
    parse_post,
    parse_shift,
    periods_overlap,
    required_permission,
)

BEIJING = ZoneInfo("Asia/Shanghai")
MAR_1, MAR_31 = date(2026, 3, 1), date(2026, 3, 31)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing moment in March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BEIJING)


def test_named_and_clock_shifts_are_read_and_bad_ones_refused() -> None:
    assert parse_shift("", NAMED).all_day
    assert parse_shift("day", NAMED).start == time(8, 0)
    assert parse_shift(" 08:30 – 17:30 ", NAMED).text == "08:30-17:30"
    for bad, reason in (("8-17", "shift_format"), ("25:00-08:00", "shift_format")):
        with pytest.raises(InvalidInput) as caught:
            parse_shift(bad, NAMED)
        assert caught.value.code == reason
    with pytest.raises(InvalidInput) as caught:
        parse_shift("08:00-08:00", NAMED)
    assert caught.value.code == "shift_empty"


def test_a_day_shift_holds_from_its_start_up_to_its_end() -> None:
    day = parse_shift("day", NAMED)
    assert in_force(MAR_1, None, day, at(2, 8, 0))
    assert in_force(MAR_1, None, day, at(2, 19, 59))
    assert not in_force(MAR_1, None, day, at(2, 20, 0))
    assert not in_force(MAR_1, None, day, at(2, 7, 59))


def test_an_overnight_shift_belongs_to_the_day_it_started() -> None:
    night = parse_shift("night", NAMED)
    # The last day is 31 March: its night runs into 1 April, the next night is not covered.
    assert in_force(MAR_1, MAR_31, night, datetime(2026, 4, 1, 3, 0, tzinfo=BEIJING))
    assert not in_force(MAR_1, MAR_31, night, datetime(2026, 4, 1, 21, 0, tzinfo=BEIJING))
    # The first day is 1 March: the small hours of 1 March belong to the night of 28 February.
    assert not in_force(MAR_1, MAR_31, night, at(1, 3))
    assert in_force(MAR_1, MAR_31, night, at(1, 22))
    assert not in_force(MAR_1, MAR_31, night, at(15, 12))


def test_an_all_day_assignment_holds_on_every_day_of_its_range_only() -> None:
    always = parse_shift("", NAMED)
    assert in_force(MAR_1, MAR_31, always, at(1, 0))
    assert in_force(MAR_1, MAR_31, always, at(31, 23, 59))
    assert not in_force(MAR_1, MAR_31, always, datetime(2026, 4, 1, 0, 0, tzinfo=BEIJING))


def test_shifts_overlap_when_they_share_a_minute_of_the_day() -> None:
    day, night = parse_shift("day", NAMED), parse_shift("night", NAMED)
    assert not day.overlaps(night)
    assert parse_shift("07:00-09:00", NAMED).overlaps(night)
    assert parse_shift("", NAMED).overlaps(night)
    assert not parse_shift("12:00-13:00", NAMED).overlaps(parse_shift("13:00-14:00", NAMED))


def test_day_ranges_overlap_when_they_share_a_day() -> None:
    assert periods_overlap(MAR_1, MAR_31, MAR_31, None)
    assert not periods_overlap(MAR_1, date(2026, 3, 30), MAR_31, None)
    assert periods_overlap(MAR_1, None, date(2025, 1, 1), None)
    with pytest.raises(InvalidInput) as caught:
        check_period(MAR_31, MAR_1)
    assert caught.value.code == "assignment_period"


def test_leaders_answer_for_divisions_and_the_others_for_grids() -> None:
    check_target(Post.LEADER, on_division=True)
    check_target(Post.SUPERVISOR, on_division=False)
    check_target(Post.GRID_WORKER, on_division=False)
    for post, on_division, reason in (
        (Post.LEADER, False, "post_needs_division"),
        (Post.SUPERVISOR, True, "post_needs_grid"),
    ):
        with pytest.raises(InvalidInput) as caught:
            check_target(post, on_division=on_division)
        assert caught.value.code == reason
    with pytest.raises(InvalidInput) as caught:
        parse_post("captain")
    assert caught.value.code == "post_unknown"


def test_duty_chiefs_schedule_grid_posts_and_only_administrators_place_leaders() -> None:
    schedulers = {
        role
        for role, granted in ROLE_PERMISSIONS.items()
        if required_permission(Post.SUPERVISOR) in granted
    }
    assert schedulers == {Role.ADMIN, Role.DUTY_CHIEF}
    assert required_permission(Post.LEADER) is Permission.ORG_WRITE
