"""Deadlines on the working calendar: exact cases across holidays, 调休 days, lunch breaks and
nights, refusals, lights, and properties that hold for any start and limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import Conflict, DomainError, InvalidInput
from gridcity.domain.work_calendar import (
    DEFAULT_OFFICE_HOURS,
    CalendarNotCovered,
    DayKind,
    Light,
    OfficeHours,
    OfficePeriod,
    Pause,
    WorkCalendar,
    days_between,
    deadline,
    elapsed,
    elapsed_time,
    light,
    light_at,
    limit_duration,
    parse_amount,
    parse_instant,
    parse_office_hours,
    parse_unit,
    parse_zone,
)
from tests.calendar_files import seed_calendar

SH = ZoneInfo("Asia/Shanghai")
WH, WD, NH, ND = (
    TimeUnit.WORKING_HOURS,
    TimeUnit.WORKING_DAYS,
    TimeUnit.NATURAL_HOURS,
    TimeUnit.NATURAL_DAYS,
)
CAL = seed_calendar()


def at(text: str) -> datetime:
    """Beijing time from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def refusal(error: pytest.ExceptionInfo[DomainError]) -> tuple[str, dict[str, object]]:
    return error.value.code, dict(error.value.params)


# --- the seeded calendar is chinesecalendar's ----------------------------------------------


def test_spring_festival_2026_as_the_seed_and_chinesecalendar_both_have_it() -> None:
    days_off = [date(2026, 2, d) for d in range(15, 24)]
    for day in days_off:
        assert not chinese_calendar.is_workday(day)
        assert CAL.describe(day).kind is DayKind.HOLIDAY
        assert CAL.describe(day).name == "春节"
    for saturday in (date(2026, 2, 14), date(2026, 2, 28)):
        assert saturday.isoweekday() == 6 and chinese_calendar.is_workday(saturday)
        assert CAL.describe(saturday).kind is DayKind.MAKEUP_WORKDAY
    assert CAL.describe(date(2026, 2, 24)).kind is DayKind.WORKDAY
    assert CAL.describe(date(2026, 2, 21)).kind is DayKind.HOLIDAY  # a Saturday of the holiday
    assert CAL.describe(date(2026, 3, 7)).kind is DayKind.WEEKEND


def test_national_day_2026_runs_from_1_to_7_october_with_make_up_days_around_it() -> None:
    october = days_between(CAL, date(2026, 9, 28), date(2026, 10, 11))  # after 中秋 (25–27)
    off = [d.day for d in october if d.kind is DayKind.HOLIDAY]
    makeup = [d.day for d in october if d.kind is DayKind.MAKEUP_WORKDAY]
    assert off == [date(2026, 10, d) for d in range(1, 8)]
    assert makeup == [date(2026, 10, 10)]
    assert CAL.describe(date(2026, 9, 20)).kind is DayKind.MAKEUP_WORKDAY  # a Sunday
    assert all(chinese_calendar.is_workday(d) for d in makeup)


def test_the_seed_agrees_with_chinesecalendar_on_every_day_from_2004_to_2026() -> None:
    day, differ = date(2004, 1, 1), []
    while day <= date(2026, 12, 31):
        if CAL.is_workday(day) != chinese_calendar.is_workday(day):
            differ.append(day)
        day += timedelta(days=1)
    assert differ == []


# --- exact deadlines ----------------------------------------------------------------------


def test_the_issues_example_friday_afternoon_before_spring_festival() -> None:
    # Fri 2026-02-13 16:00 + 4 working hours: 16:00–17:30 on Friday is 1.5 h; Saturday 02-14
    # is a make-up workday (调休上班), so the other 2.5 h are 08:30–11:00 on Saturday.
    assert deadline(CAL, at("2026-02-13 16:00"), 4, WH) == at("2026-02-14 11:00")


def test_two_working_days_jump_the_whole_spring_festival() -> None:
    # 14 h: Fri 16:00–17:30 1.5 h, Sat 02-14 7 h (8.5), 02-15..23 off, Tue 02-24 08:30–12:00
    # 3.5 h (12) and 14:00–16:00 2 h.
    assert deadline(CAL, at("2026-02-13 16:00"), 2, WD) == at("2026-02-24 16:00")


def test_a_start_inside_the_holiday_counts_from_the_first_working_morning() -> None:
    assert deadline(CAL, at("2026-02-18 10:00"), 1, WH) == at("2026-02-24 09:30")


def test_three_working_days_across_national_day_end_on_the_make_up_saturday() -> None:
    # 21 h: 09-30 16:00–17:30 1.5 h; 10-01..07 off; Thu 10-08 7 h (8.5); Fri 10-09 7 h (15.5);
    # Sat 10-10 (调休) 08:30–12:00 3.5 h (19) and 14:00–16:00 2 h.
    assert deadline(CAL, at("2026-09-30 16:00"), 3, WD) == at("2026-10-10 16:00")


def test_the_lunch_break_is_not_counted() -> None:
    assert deadline(CAL, at("2026-03-02 11:00"), 2, WH) == at("2026-03-02 15:00")


def test_the_night_is_not_counted() -> None:
    assert deadline(CAL, at("2026-03-02 17:00"), 1, WH) == at("2026-03-03 09:00")
    assert deadline(CAL, at("2026-03-03 02:00"), 1, WH) == at("2026-03-03 09:30")


def test_a_start_at_noon_exactly_begins_at_two() -> None:
    assert deadline(CAL, at("2026-03-02 12:00"), 1, WH) == at("2026-03-02 15:00")
    assert deadline(CAL, at("2026-03-02 17:30"), 1, WH) == at("2026-03-03 09:30")


def test_a_deadline_exactly_at_the_end_of_a_period_is_that_end() -> None:
    assert deadline(CAL, at("2026-03-02 14:00"), Decimal("3.5"), WH) == at("2026-03-02 17:30")
    assert deadline(CAL, at("2026-03-02 08:30"), Decimal("3.5"), WH) == at("2026-03-02 12:00")
    assert deadline(CAL, at("2026-03-02 08:30"), 1, WD) == at("2026-03-02 17:30")


def test_one_working_day_from_mid_morning_ends_mid_morning_next_day() -> None:
    assert deadline(CAL, at("2026-03-02 10:00"), 1, WD) == at("2026-03-03 10:00")


def test_a_start_on_a_make_up_saturday_counts_from_then() -> None:
    assert deadline(CAL, at("2026-02-28 10:00"), 1, WH) == at("2026-02-28 11:00")
    assert deadline(CAL, at("2026-02-27 17:00"), 1, WH) == at("2026-02-28 09:00")


def test_an_ordinary_saturday_waits_for_monday() -> None:
    assert deadline(CAL, at("2026-03-07 10:00"), 1, WH) == at("2026-03-09 09:30")


def test_fractional_limits() -> None:
    assert deadline(CAL, at("2026-03-02 11:45"), Decimal("0.5"), WH) == at("2026-03-02 14:15")
    assert deadline(CAL, at("2026-03-02 08:30"), "0.5", WD) == at("2026-03-02 12:00")
    assert deadline(CAL, at("2026-03-02 08:30"), 0.25, NH) == at("2026-03-02 08:45")


def test_natural_hours_run_through_holidays_and_nights_at_plus_eight() -> None:
    end = deadline(CAL, at("2026-02-13 16:00"), 30, NH)
    assert end == at("2026-02-14 22:00")
    assert end.utcoffset() == timedelta(hours=8)
    assert deadline(CAL, at("2026-02-13 16:00"), 10, ND) == at("2026-02-23 16:00")


def test_natural_time_needs_no_covered_year() -> None:
    assert deadline(CAL, at("2026-12-31 20:00"), 10, NH) == at("2027-01-01 06:00")
    assert elapsed(CAL, at("2027-03-01 00:00"), at("2027-03-02 12:00"), NH) == 36


def test_natural_hours_count_real_time_across_a_daylight_saving_change() -> None:
    berlin = WorkCalendar(years=frozenset({2026}), zone=ZoneInfo("Europe/Berlin"))
    start = datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # clocks jump at 2:00
    end = deadline(berlin, start, 3, NH)
    assert (end.hour, end.utcoffset()) == (4, timedelta(hours=2))


def test_the_result_is_in_city_time_whatever_zone_the_start_had() -> None:
    end = deadline(CAL, datetime(2026, 2, 13, 8, 0, tzinfo=UTC), 4, WH)
    assert end.tzinfo == SH
    assert end.isoformat() == "2026-02-14T11:00:00+08:00"


def test_other_office_hours_change_the_working_day() -> None:
    eight_hours = WorkCalendar(
        years=CAL.years,
        days=CAL.days,
        office_hours=parse_office_hours("08:00-12:00,14:00-18:00"),
    )
    assert limit_duration(eight_hours, 1, WD) == timedelta(hours=8)
    assert deadline(eight_hours, at("2026-03-02 08:00"), 1, WD) == at("2026-03-02 18:00")
    assert deadline(eight_hours, at("2026-03-02 17:30"), 1, WH) == at("2026-03-03 08:30")


# --- refusals -------------------------------------------------------------------------------


def test_a_deadline_that_needs_2027_is_refused_naming_the_year() -> None:
    with pytest.raises(CalendarNotCovered) as error:
        deadline(CAL, at("2026-12-31 16:00"), 4, WH)
    assert refusal(error) == ("calendar_not_covered", {"year": 2027})
    assert error.value.status == 422


def test_a_start_in_an_uncovered_year_is_refused() -> None:
    with pytest.raises(CalendarNotCovered) as after:
        deadline(CAL, at("2027-03-01 09:00"), 1, WD)
    with pytest.raises(CalendarNotCovered) as before:
        elapsed(CAL, at("2003-12-30 09:00"), at("2004-01-05 09:00"), WH)
    assert (after.value.year, before.value.year) == (2027, 2003)


def test_the_last_afternoon_of_a_covered_year_needs_nothing_of_the_next() -> None:
    assert deadline(CAL, at("2026-12-31 14:00"), Decimal("3.5"), WH) == at("2026-12-31 17:30")
    spent = elapsed(CAL, at("2026-12-31 09:00"), at("2026-12-31 23:59"), WH)
    assert spent == Decimal("6.5")


@pytest.mark.parametrize("limit", [0, -1, "abc", "NaN", "Infinity", True, ""])
def test_a_limit_must_be_a_number_above_zero(limit: object) -> None:
    with pytest.raises(InvalidInput) as error:
        deadline(CAL, at("2026-03-02 09:00"), limit, WH)  # type: ignore[arg-type]
    assert error.value.code == "invalid_limit"


def test_a_limit_beyond_ten_thousand_units_and_one_below_a_microsecond_are_refused() -> None:
    with pytest.raises(InvalidInput) as large:
        parse_amount("10000.5")
    with pytest.raises(InvalidInput) as small:
        limit_duration(CAL, "0.0000000001", WH)
    assert (large.value.code, small.value.code) == ("limit_too_large", "limit_too_small")


def test_times_without_an_offset_are_refused() -> None:
    naive = datetime(2026, 3, 2, 9, 0)
    for call in (
        lambda: deadline(CAL, naive, 1, WH),
        lambda: elapsed(CAL, at("2026-03-02 09:00"), naive, WH),
        lambda: deadline(CAL, at("2026-03-02 09:00"), 1, WH, [Pause(naive, None)]),
    ):
        with pytest.raises(InvalidInput) as error:
            call()
        assert error.value.code == "naive_datetime"


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        elapsed(CAL, at("2026-03-02 10:00"), at("2026-03-02 09:00"), WH)
    assert error.value.code == "elapsed_order"


def test_text_inputs_are_parsed_or_refused() -> None:
    assert parse_instant("2026-02-13T16:00", SH) == at("2026-02-13 16:00")
    assert parse_instant("2026-02-13T08:00Z", SH) == at("2026-02-13 16:00")
    assert parse_unit("working_days") is WD
    assert parse_zone("Asia/Shanghai") == SH
    for call, code in (
        (lambda: parse_instant("13/02/2026 16:00", SH), "invalid_instant"),
        (lambda: parse_unit("fortnights"), "invalid_time_unit"),
        (lambda: parse_zone("Mars/Olympus"), "unknown_time_zone"),
        (lambda: parse_zone("../etc/passwd"), "unknown_time_zone"),
    ):
        with pytest.raises(InvalidInput) as error:
            call()
        assert error.value.code == code


# --- office hours ---------------------------------------------------------------------------


def test_the_default_office_hours_are_seven_hours_a_day() -> None:
    assert DEFAULT_OFFICE_HOURS.text == "08:30-12:00,14:00-17:30"
    assert DEFAULT_OFFICE_HOURS.day_length == timedelta(hours=7)
    assert parse_office_hours(" 08:30 – 12:00 , 14:00~17:30 ") == DEFAULT_OFFICE_HOURS
    assert parse_office_hours(["08:30-12:00", "14:00-17:30"]) == DEFAULT_OFFICE_HOURS


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "office_hours_empty"),
        ("8:30-12:00", "office_period_format"),
        ("08:30", "office_period_format"),
        ("08:30-24:00", "office_period_format"),
        ("12:00-08:30", "office_period_order"),
        ("08:30-08:30", "office_period_order"),
        ("14:00-17:30,08:30-12:00", "office_periods_overlap"),
        ("08:30-12:00,11:00-17:30", "office_periods_overlap"),
        ("08:30-12:00,12:00-17:30", "office_periods_overlap"),
        (",".join(f"{h:02d}:00-{h:02d}:30" for h in range(7)), "office_hours_too_many"),
    ],
)
def test_office_hours_are_ordered_apart_and_inside_a_day(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_office_hours(text)
    assert error.value.code == code


def test_office_periods_are_whole_minutes() -> None:
    with pytest.raises(InvalidInput) as error:
        OfficeHours((OfficePeriod(time(8, 30, 15), time(12, 0)),))
    assert error.value.code == "office_period_minutes"


# --- pauses -----------------------------------------------------------------------------------


def test_a_pause_stops_the_clock() -> None:
    pause = Pause(at("2026-03-02 09:30"), at("2026-03-02 10:00"))
    assert deadline(CAL, at("2026-03-02 09:00"), 2, WH, [pause]) == at("2026-03-02 11:30")
    spent = elapsed(CAL, at("2026-03-02 09:00"), at("2026-03-02 11:30"), WH, [pause])
    assert spent == 2


def test_pauses_that_overlap_count_once_and_a_pause_over_lunch_costs_only_office_time() -> None:
    pauses = [
        Pause(at("2026-03-02 11:00"), at("2026-03-02 14:30")),
        Pause(at("2026-03-02 11:30"), at("2026-03-02 12:30")),
    ]
    # 09:00–11:00 2 h, paused until 14:30, then one more hour.
    assert deadline(CAL, at("2026-03-02 09:00"), 3, WH, pauses) == at("2026-03-02 15:30")
    assert deadline(CAL, at("2026-03-02 09:00"), 3, NH, pauses) == at("2026-03-02 15:30")


def test_a_pause_before_the_start_changes_nothing() -> None:
    pause = Pause(at("2026-03-01 09:00"), at("2026-03-02 09:00"))
    assert deadline(CAL, at("2026-03-02 09:00"), 1, WH, [pause]) == at("2026-03-02 10:00")


def test_a_running_pause_leaves_the_deadline_unknown_unless_the_clock_ran_out_first() -> None:
    running = Pause(at("2026-03-02 10:00"))
    with pytest.raises(Conflict) as error:
        deadline(CAL, at("2026-03-02 09:00"), 2, WH, [running])
    assert refusal(error) == ("clock_paused", {"since": "2026-03-02T10:00:00+08:00"})
    assert deadline(CAL, at("2026-03-02 09:00"), 1, WH, [running]) == at("2026-03-02 10:00")
    # seen at noon, the clock ran one hour and then stood still
    assert elapsed(CAL, at("2026-03-02 09:00"), at("2026-03-02 12:00"), WH, [running]) == 1


def test_a_pause_ending_before_it_starts_is_refused() -> None:
    backwards = Pause(at("2026-03-02 10:00"), at("2026-03-02 09:00"))
    with pytest.raises(InvalidInput) as error:
        deadline(CAL, at("2026-03-02 09:00"), 1, WH, [backwards])
    assert error.value.code == "pause_order"


# --- lights -----------------------------------------------------------------------------------


def test_the_light_is_green_below_80_yellow_up_to_100_and_red_above() -> None:
    assert light(Decimal("7.999999"), 10) is Light.GREEN
    assert light(8, 10) is Light.YELLOW
    assert light(10, 10) is Light.YELLOW
    assert light(Decimal("10.000001"), 10) is Light.RED
    assert light(timedelta(0), timedelta(hours=1)) is Light.GREEN
    assert light(timedelta(minutes=48), timedelta(hours=1)) is Light.YELLOW
    assert light(timedelta(hours=1, microseconds=1), timedelta(hours=1)) is Light.RED


def test_a_light_needs_a_positive_limit_and_no_negative_use() -> None:
    with pytest.raises(InvalidInput) as zero:
        light(1, 0)
    with pytest.raises(InvalidInput) as negative:
        light(-1, 4)
    assert (zero.value.code, negative.value.code) == ("invalid_limit", "negative_elapsed")


def test_the_light_of_a_running_clock_on_working_time() -> None:
    start = at("2026-02-13 16:00")  # 4 working hours: due Saturday 11:00
    assert light_at(CAL, start, 4, WH, at("2026-02-14 09:30")) is Light.GREEN  # 2.5 h of 4
    assert light_at(CAL, start, 4, WH, at("2026-02-14 10:42")) is Light.YELLOW  # 3.7 h: 92.5 %
    assert light_at(CAL, start, 4, WH, at("2026-02-14 11:00")) is Light.YELLOW  # exactly due
    assert light_at(CAL, start, 4, WH, at("2026-02-14 11:01")) is Light.RED
    # overdue since Saturday: the holiday stops the clock, never turns the light back
    assert light_at(CAL, start, 4, WH, at("2026-02-20 11:01")) is Light.RED


def test_days_of_a_range_are_limited_and_ordered() -> None:
    assert len(days_between(CAL, date(2025, 1, 1), date(2026, 12, 31))) == 730
    for first, last, code in (
        (date(2026, 1, 2), date(2026, 1, 1), "day_range_order"),
        (date(2024, 1, 1), date(2026, 1, 2), "day_range_too_long"),
    ):
        with pytest.raises(InvalidInput) as error:
            days_between(CAL, first, last)
        assert error.value.code == code


# --- properties -------------------------------------------------------------------------------

UNITS = st.sampled_from([WH, WD, NH, ND])
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(SH)
).map(lambda d: d.replace(microsecond=0))
LIMITS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(15), places=3)
PAUSES = st.lists(
    st.tuples(st.integers(-600, 20_000), st.integers(1, 4_000)), max_size=3
)  # minutes from the start, minutes long


def _pauses(start: datetime, spans: list[tuple[int, int]]) -> list[Pause]:
    return [Pause(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in spans]


@settings(max_examples=150, deadline=None)
@given(start=STARTS, limit=LIMITS, unit=UNITS)
def test_elapsed_up_to_the_deadline_gives_the_limit_back(
    start: datetime, limit: Decimal, unit: TimeUnit
) -> None:
    end = deadline(CAL, start, limit, unit)
    assert end > start
    assert elapsed(CAL, start, end, unit) == limit
    assert elapsed_time(CAL, start, end, unit) == limit_duration(CAL, limit, unit)


@settings(max_examples=150, deadline=None)
@given(start=STARTS, a=LIMITS, b=LIMITS, unit=UNITS)
def test_the_deadline_grows_with_the_limit(
    start: datetime, a: Decimal, b: Decimal, unit: TimeUnit
) -> None:
    small, large = sorted((a, b))
    assert deadline(CAL, start, small, unit) <= deadline(CAL, start, large, unit)


@settings(max_examples=150, deadline=None)
@given(start=STARTS, later=st.integers(0, 10 * 24 * 60), limit=LIMITS, unit=UNITS)
def test_a_later_start_never_gives_an_earlier_deadline(
    start: datetime, later: int, limit: Decimal, unit: TimeUnit
) -> None:
    moved = start + timedelta(minutes=later)
    assert deadline(CAL, start, limit, unit) <= deadline(CAL, moved, limit, unit)


@settings(max_examples=150, deadline=None)
@given(start=STARTS, limit=LIMITS, unit=UNITS, spans=PAUSES)
def test_pauses_never_move_a_deadline_earlier_and_are_not_counted(
    start: datetime, limit: Decimal, unit: TimeUnit, spans: list[tuple[int, int]]
) -> None:
    pauses = _pauses(start, spans)
    plain = deadline(CAL, start, limit, unit)
    paused = deadline(CAL, start, limit, unit, pauses)
    assert paused >= plain
    assert elapsed(CAL, start, paused, unit, pauses) == limit


@settings(max_examples=100, deadline=None)
@given(start=STARTS, a=st.integers(0, 20_000), b=st.integers(0, 20_000), unit=UNITS)
def test_elapsed_time_adds_up_over_consecutive_stretches(
    start: datetime, a: int, b: int, unit: TimeUnit
) -> None:
    middle, end = sorted((start + timedelta(minutes=a), start + timedelta(minutes=b)))
    whole = elapsed_time(CAL, start, end, unit)
    assert whole == elapsed_time(CAL, start, middle, unit) + elapsed_time(CAL, middle, end, unit)
    assert whole <= end - start
