"""``gridcity calendar …`` run as an operator runs it: deadlines, covered years, a month, loading
a year from a file and the office hours; refusals exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

from tests.calendar_files import HYPOTHETICAL_2027, csv_of
from tests.integration.test_cli import Gridcity, assert_one_error_line, gridcity  # noqa: F401


def test_the_issues_deadline_and_the_refusal_beyond_the_calendar(
    gridcity: Gridcity,  # noqa: F811
    database_url: str,
) -> None:
    url = {"GRIDCITY_DATABASE_URL": database_url}
    # Friday 16:00–17:30 is 1.5 h; Saturday 2026-02-14 is a make-up workday: 08:30–11:00.
    found = gridcity(
        "calendar", "deadline", "--start", "2026-02-13T16:00", "--limit", "4",
        "--unit", "working_hours", **url,
    )  # fmt: skip
    assert (found.code, found.out, found.err) == (0, "2026-02-14T11:00:00+08:00\n", "")

    paused = gridcity(
        "calendar", "deadline", "--start", "2026-02-13T08:00Z", "--limit", "4",
        "--unit", "working_hours", "--pause", "2026-02-13T16:30/2026-02-13T17:00", **url,
    )  # fmt: skip
    assert paused.out == "2026-02-14T11:30:00+08:00\n"

    beyond = gridcity(
        "calendar", "deadline", "--start", "2026-12-31T16:00", "--limit", "4",
        "--unit", "working_hours", **url,
    )  # fmt: skip
    line = assert_one_error_line(beyond, "gridcity: error: calendar deadline: ")
    assert "does not cover 2027" in line

    bad = gridcity(
        "calendar", "deadline", "--start", "tomorrow", "--limit", "4", "--unit", "working_hours",
        **url,
    )  # fmt: skip
    assert "Not a date and time" in assert_one_error_line(bad, "gridcity: error:")


def test_years_months_loading_and_office_hours(
    gridcity: Gridcity,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    url = {"GRIDCITY_DATABASE_URL": database_url}
    years = gridcity("calendar", "years", **url)
    assert years.code == 0, years
    lines = years.out.splitlines()
    assert len(lines) == 23 and lines[-1].startswith("2026\t33 days off\t6 make-up workdays\t")

    october = gridcity("calendar", "show", "2026-10", **url)
    assert "2026-10-01\t周四\t节假日\t国庆节" in october.out.splitlines()
    assert "2026-10-10\t周六\t调休上班\t国庆节" in october.out.splitlines()
    assert october.out.splitlines()[-1] == "2026-10: 18 working days, 13 days off"
    assert_one_error_line(gridcity("calendar", "show", "2027-01", **url), "gridcity: error:")

    broken = tmp_path / "2027-bad.csv"
    broken.write_bytes(csv_of([r for r in HYPOTHETICAL_2027 if r[0] != "2027-10-02"]))
    refused = gridcity("calendar", "load", str(broken), **url)
    assert refused.out == (
        "2027-bad.csv: file: 2027-10-02 (国庆节) is a day off every year, and the file does not "
        "list it; a year's file lists every holiday and make-up workday\n"
    )
    assert_one_error_line(refused, "gridcity: error: calendar load: 2027-bad.csv: nothing")

    good = tmp_path / "2027.csv"
    good.write_bytes(csv_of(HYPOTHETICAL_2027))
    loaded = gridcity("calendar", "load", str(good), "--source", "国办发明电 (test)", **url)
    assert loaded.code == 0, loaded
    assert loaded.out.splitlines()[-1] == "2027: added, 29 days off, 5 make-up workdays"
    across = gridcity(
        "calendar", "deadline", "--start", "2026-12-31T16:00", "--limit", "4",
        "--unit", "working_hours", **url,
    )  # fmt: skip
    assert across.out == "2027-01-04T11:00:00+08:00\n"

    hours = gridcity("calendar", "hours", "08:00-12:00,14:00-18:00", **url)
    assert (
        hours.out == "office hours 08:00-12:00,14:00-18:00 (8 h a day), time zone Asia/Shanghai\n"
    )
    wrong = gridcity("calendar", "hours", "18:00-08:00", **url)
    assert "ends after it starts" in assert_one_error_line(wrong, "gridcity: error:")
