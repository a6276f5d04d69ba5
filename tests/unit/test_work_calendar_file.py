"""A year's calendar file (CSV or JSON: date, is_workday, name) is read whole or refused with
every problem named by row and column."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gridcity.domain.work_calendar_file import (
    CalendarFileRefused,
    CalendarYearFile,
    read_calendar_file,
)
from tests.calendar_files import HYPOTHETICAL_2027, csv_of, migration_0007, seed_rows, weekday


def problems(data: bytes, name: str = "2027.csv") -> list[tuple[int, str, str]]:
    """(row, column, code) of every problem of a refused file."""
    with pytest.raises(CalendarFileRefused) as error:
        read_calendar_file(data, name)
    assert error.value.code == "calendar_file_refused"
    return [(p.row, p.column, p.code) for p in error.value.problems]


def without(day: str) -> list[tuple[str, bool, str]]:
    return [row for row in HYPOTHETICAL_2027 if row[0] != day]


def test_a_complete_year_is_read_with_its_counts() -> None:
    assert all(weekday(d) >= 6 for d, workday, _n in HYPOTHETICAL_2027 if workday)
    year = read_calendar_file(csv_of(HYPOTHETICAL_2027), "2027.csv")
    assert (year.year, year.holidays, year.makeup_workdays) == (2027, 29, 5)
    assert year.days[0].day == date(2027, 1, 1)
    assert [d.day for d in year.days] == sorted(d.day for d in year.days)


def test_every_seeded_year_passes_the_same_checks() -> None:
    for year in migration_0007().SEED_YEARS:
        checked = read_calendar_file(csv_of(seed_rows(year)), f"{year}.csv")
        assert checked.year == year


def test_json_as_a_list_or_under_days_reads_the_same_as_csv() -> None:
    items = [{"date": d, "is_workday": w, "name": n} for d, w, n in HYPOTHETICAL_2027]
    as_csv = read_calendar_file(csv_of(HYPOTHETICAL_2027), "2027.csv")
    as_list = read_calendar_file(json.dumps(items, ensure_ascii=False).encode(), "2027.json")
    as_object = read_calendar_file(json.dumps({"days": items}).encode(), "upload")
    assert as_csv == as_list == as_object


def test_a_spreadsheet_saved_as_gb18030_with_chinese_headers_and_words() -> None:
    lines = ["日期,是否上班,名称"] + [
        f"{d.replace('-', '/')},{'是' if w else '否'},{n}" for d, w, n in HYPOTHETICAL_2027
    ]
    data = "\r\n".join(lines).encode("gb18030")
    assert read_calendar_file(data, "2027.csv") == read_calendar_file(
        csv_of(HYPOTHETICAL_2027), "2027.csv"
    )


def test_the_last_days_of_december_may_belong_to_the_next_years_notice() -> None:
    # the notice for 2019 made Saturday 2018-12-29 a workday and Monday 2018-12-31 a day off
    year = read_calendar_file(csv_of(seed_rows(2019)), "2019.csv")
    assert year.year == 2019
    by_day = {d.day: d for d in year.days}
    assert by_day[date(2018, 12, 29)].is_workday
    assert not by_day[date(2018, 12, 31)].is_workday


def test_bad_cells_are_each_named_by_row_and_column() -> None:
    bad = "2027-13-01,false,元旦\n2027-11-06,maybe,假日\n2027-11-07,false,\n2027-11-08,false,"
    found = problems(csv_of(HYPOTHETICAL_2027) + (bad + "节" * 61 + "\n").encode())
    first = len(HYPOTHETICAL_2027) + 2  # the header is row 1
    assert found == [
        (first, "date", "invalid_date"),
        (first + 1, "is_workday", "invalid_workday"),
        (first + 2, "name", "name_missing"),
        (first + 3, "name", "name_too_long"),
    ]


def test_dates_outside_the_year_repeated_or_make_up_days_on_weekdays_are_refused() -> None:
    rows = [
        *HYPOTHETICAL_2027,
        ("2026-06-01", False, "儿童节"),
        ("2027-05-01", False, "劳动节"),
        ("2027-03-03", True, "植树节"),
    ]
    first = len(HYPOTHETICAL_2027) + 2
    assert problems(csv_of(rows)) == [
        (first, "date", "date_outside_year"),
        (first + 1, "date", "date_repeated"),
        (first + 2, "is_workday", "makeup_on_weekday"),
    ]


@pytest.mark.parametrize("day", ["2027-01-01", "2027-05-01", "2027-10-01", "2027-10-03"])
def test_a_year_without_a_fixed_public_holiday_is_incomplete(day: str) -> None:
    assert problems(csv_of(without(day))) == [(0, "", "holiday_missing")]


@pytest.mark.parametrize(
    ("day", "festival"),
    [("2027-04-0", "清明节"), ("2027-06-09", "端午节"), ("2027-09-15", "中秋节")],
)
def test_a_year_without_a_lunar_festival_is_incomplete(day: str, festival: str) -> None:
    rows = [row for row in HYPOTHETICAL_2027 if not row[0].startswith(day)]
    with pytest.raises(CalendarFileRefused) as error:
        read_calendar_file(csv_of(rows), "2027.csv")
    assert [(p.code, p.params["festival"]) for p in error.value.problems] == [
        ("festival_missing", festival)
    ]


def test_mid_autumn_may_sit_inside_an_eight_day_national_day_holiday() -> None:
    rows = [r for r in HYPOTHETICAL_2027 if r[2] != "中秋节"] + [("2027-10-08", False, "国庆节")]
    assert isinstance(read_calendar_file(csv_of(rows), "2027.csv"), CalendarYearFile)


def test_before_2008_only_the_fixed_holidays_and_spring_festival_are_asked_for() -> None:
    assert read_calendar_file(csv_of(seed_rows(2007)), "2007.csv").year == 2007


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "x.csv", "calendar_file_empty"),
        (b"date,is_workday,name\n", "x.csv", "calendar_file_empty"),
        (b"day,off\n2027-01-01,true\n", "x.csv", "calendar_file_columns"),
        (b"[{", "x.json", "calendar_file_unreadable"),
        (b'{"year": 2027}', "x.json", "calendar_file_shape"),
        (b"\xff\xfe\x00d\x00a", "x.csv", "calendar_file_encoding"),
        (csv_of([("2027-01-01", False, "元旦")] * 401), "x.csv", "calendar_file_too_long"),
    ],
)
def test_unreadable_or_empty_files_are_refused_as_a_whole(
    data: bytes, name: str, code: str
) -> None:
    assert problems(data, name) == [(0, "", code)]


def test_the_refusal_message_names_the_file_and_the_first_problems() -> None:
    rows = [*HYPOTHETICAL_2027, *(("2027-13-01", False, "x"),) * 7]
    with pytest.raises(CalendarFileRefused) as error:
        read_calendar_file(csv_of(rows), "通知2027.csv")
    text = str(error.value)
    first = len(HYPOTHETICAL_2027) + 2
    assert text.startswith(
        f"通知2027.csv: nothing was loaded; 7 problems: row {first}, column date:"
    )
    assert text.count("Not a date") == 5
    assert text.endswith("; and 2 more")
