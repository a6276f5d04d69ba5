"""Named shifts as data and rotas (weekdays): when an assignment holds, and when two overlap —
an overnight shift belongs to the day it started on."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcity.domain.errors import InvalidInput
from gridcity.domain.responsibility import (
    ALL_WEEKDAYS,
    SEED_SHIFTS,
    Duty,
    NamedShift,
    Shift,
    check_named_shift,
    duties_overlap,
    in_force,
    parse_shift,
    parse_weekdays,
    weekdays_of,
    weekdays_text,
)

BEIJING = ZoneInfo("Asia/Shanghai")
MON = date(2026, 3, 2)  # a Monday
WORKDAYS = frozenset({1, 2, 3, 4, 5})
WEEKEND = frozenset({6, 7})


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Beijing moment."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


def day(n: int) -> date:
    """The n-th day after Monday 2 March 2026."""
    return MON + timedelta(days=n)


# --- named shifts are data ------------------------------------------------------------------


def test_a_city_s_own_named_shift_is_read_from_the_data_given() -> None:
    early = NamedShift("early", time(6), time(14), "早班", "early shift")

    assert parse_shift("early", {"early": early}) == Shift("early", time(6), time(14))
    with pytest.raises(InvalidInput) as caught:
        parse_shift("day", {"early": early})
    assert caught.value.code == "shift_format"


def test_a_retired_shift_still_reads_but_takes_no_new_assignment() -> None:
    retired = {"night": NamedShift("night", time(20), time(8), "夜班", "night", retired=True)}

    assert parse_shift("night", retired).overnight
    with pytest.raises(InvalidInput) as caught:
        parse_shift("night", retired, for_new=True)
    assert caught.value.code == "shift_retired"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("Early", "06:00", "14:00", "早班", "early"), "shift_name_format"),
        (("06-14", "06:00", "14:00", "早班", "early"), "shift_name_format"),
        (("e" * 17, "06:00", "14:00", "早班", "early"), "shift_name_format"),
        (("early", "6:00", "14:00", "早班", "early"), "shift_time_format"),
        (("early", "06:00", "24:00", "早班", "early"), "shift_time_format"),
        (("early", "06:00", "06:00", "早班", "early"), "shift_empty"),
        (("early", "06:00", "14:00", "", "early"), "shift_display_name"),
        (("early", "06:00", "14:00", "早班", "e" * 51), "shift_display_name"),
    ],
)
def test_a_named_shift_that_breaks_a_rule_is_refused(args: tuple[str, ...], reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_named_shift(*args)
    assert caught.value.code == reason


def test_a_named_shift_is_tidied() -> None:
    shift = check_named_shift(" early ", "06:00", "14:00", " 早班 ", "early shift")
    assert (shift.name, shift.hours, shift.name_zh) == ("early", "06:00-14:00", "早班")


# --- weekdays ---------------------------------------------------------------------------------


def test_weekdays_are_iso_numbers_and_none_is_every_day() -> None:
    assert parse_weekdays(None) == ALL_WEEKDAYS
    assert parse_weekdays(["1", 2, 3, 4, 5, 5]) == WORKDAYS
    assert weekdays_text(WORKDAYS) == "12345"
    assert weekdays_of("67") == WEEKEND
    assert weekdays_of("") == ALL_WEEKDAYS  # rows stored before rotas


@pytest.mark.parametrize(("values", "reason"), [([], "weekdays_empty"), ([0], "weekday_invalid"), ([8], "weekday_invalid"), (["mon"], "weekday_invalid")])  # fmt: skip
def test_bad_weekdays_are_refused(values: list[object], reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_weekdays(values)  # type: ignore[arg-type]
    assert caught.value.code == reason


def test_a_workday_rota_holds_monday_to_friday_only() -> None:
    shift = parse_shift("day", SEED_SHIFTS)

    assert in_force(MON, None, shift, at(day(4), 12), WORKDAYS)  # Friday noon
    assert not in_force(MON, None, shift, at(day(5), 12), WORKDAYS)  # Saturday noon
    assert in_force(MON, None, shift, at(day(5), 12), WEEKEND)


def test_an_overnight_shift_belongs_to_the_weekday_it_started_on() -> None:
    night = parse_shift("night", SEED_SHIFTS)

    assert in_force(MON, None, night, at(day(5), 3), WORKDAYS)  # Friday's night, Saturday 03:00
    assert not in_force(MON, None, night, at(day(7), 3), WORKDAYS)  # Sunday's night, Monday 03:00
    assert in_force(MON, None, night, at(day(7), 3), WEEKEND)
    assert not in_force(MON, None, night, at(day(5), 22), WORKDAYS)  # Saturday's night


# --- overlaps ---------------------------------------------------------------------------------


def test_day_and_night_or_workdays_and_weekend_do_not_overlap() -> None:
    day_shift, night = parse_shift("day", SEED_SHIFTS), parse_shift("night", SEED_SHIFTS)

    assert not duties_overlap(Duty(MON, None, day_shift), Duty(MON, None, night))
    assert not duties_overlap(Duty(MON, None, day_shift, WORKDAYS), Duty(MON, None, day_shift, WEEKEND))  # fmt: skip
    assert duties_overlap(Duty(MON, None, day_shift, WORKDAYS), Duty(MON, None, day_shift, frozenset({5, 6})))  # fmt: skip


def test_a_friday_night_meets_a_saturday_morning_shift() -> None:
    night = parse_shift("night", SEED_SHIFTS)
    morning = parse_shift("06:00-10:00", SEED_SHIFTS)

    assert duties_overlap(Duty(MON, None, night, WORKDAYS), Duty(MON, None, morning, WEEKEND))
    assert not duties_overlap(Duty(MON, None, night, frozenset({1, 2, 3, 4})), Duty(MON, None, morning, WEEKEND))  # fmt: skip


def test_a_last_night_reaches_into_the_first_morning_of_the_next_assignment() -> None:
    night = parse_shift("night", SEED_SHIFTS)
    morning = parse_shift("06:00-10:00", SEED_SHIFTS)

    assert duties_overlap(Duty(MON, MON, night), Duty(day(1), None, morning))
    assert not duties_overlap(Duty(MON, MON, night), Duty(day(2), None, morning))


HOURS = st.integers(0, 23)
SHIFTS = st.one_of(
    st.just(Shift("")),
    st.tuples(HOURS, HOURS)
    .filter(lambda t: t[0] != t[1])
    .map(lambda t: Shift(f"{t[0]:02d}:00-{t[1]:02d}:00", time(t[0]), time(t[1]))),
)
DUTIES = st.builds(
    lambda start, length, shift, days: Duty(
        day(start), day(start + length) if length is not None else None, shift, frozenset(days)
    ),
    st.integers(0, 10),
    st.one_of(st.none(), st.integers(0, 8)),
    SHIFTS,
    st.sets(st.integers(1, 7), min_size=1),
)


def _holds(duty: Duty, moment: datetime) -> bool:
    return in_force(duty.starts_on, duty.ends_on, duty.shift, moment, duty.weekdays)


@settings(max_examples=150, deadline=None)
@given(DUTIES, DUTIES)
def test_two_duties_overlap_exactly_when_some_hour_has_both_in_force(a: Duty, b: Duty) -> None:
    # Shifts start and end on the hour, so looking at every hour is exhaustive; open-ended
    # duties repeat weekly after their start, which the 4 weeks looked at cover.
    hours = [at(day(-1), 0) + timedelta(hours=h) for h in range(24 * 28)]
    both = any(_holds(a, h) and _holds(b, h) for h in hours)

    assert duties_overlap(a, b) == both
    assert duties_overlap(b, a) == both


@settings(max_examples=150, deadline=None)
@given(DUTIES, st.integers(0, 24 * 21 - 1))
def test_in_force_means_inside_a_shift_that_started_on_a_working_day(duty: Duty, hour: int) -> None:
    # The definition the rota follows: a shift starts at its start time on each working day
    # and runs for its length, past midnight if it ends before it starts.
    moment = at(day(-1), 0) + timedelta(hours=hour)
    (start, end) = duty.intervals()[0]
    inside = any(
        duty.works_on(first) and start <= (moment - at(first, 0)).total_seconds() / 60 < end
        for first in (moment.date() - timedelta(days=1), moment.date())
    )

    assert _holds(duty, moment) == inside
