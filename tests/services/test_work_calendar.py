"""The working calendar in the database: the seed, loading and replacing a year, office hours,
the per-process cache, permissions and the audit trail — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog, CalendarDayRow, CalendarYear
from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import Actor, Role
from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import Forbidden, InvalidInput
from gridcity.domain.work_calendar import CalendarNotCovered, DayKind
from gridcity.domain.work_calendar_file import CalendarFileRefused
from gridcity.services import work_calendar
from tests.calendar_files import HYPOTHETICAL_2027, csv_of, seed_rows
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import SYSTEM, TEST_INFO

SH = ZoneInfo("Asia/Shanghai")
SUPERVISOR = Actor(user_id=7, username="supervisor", roles=frozenset({Role.SUPERVISOR}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def audit_rows(container: Container) -> list[AuditLog]:
    with container.db.read() as session:
        return list(session.scalars(sa.select(AuditLog).where(AuditLog.action.like("calendar.%"))))


def load_2027(container: Container, rows: object = HYPOTHETICAL_2027) -> work_calendar.LoadResult:
    return work_calendar.load_year_file(
        container.deps,
        SYSTEM,
        csv_of(rows),  # type: ignore[arg-type]
        name="2027.csv",
        source="国务院办公厅关于2027年部分节假日安排的通知 (made up for the tests)",
        info=TEST_INFO,
    )


def test_a_migrated_database_covers_2004_to_2026_from_chinesecalendar(container: Container) -> None:
    years = work_calendar.covered_years(container.deps, SUPERVISOR)
    assert [y.year for y in years] == list(range(2004, 2027))
    assert {y.source for y in years} == {f"chinesecalendar {version('chinesecalendar')}"}
    y2026 = years[-1]
    assert (y2026.holidays, y2026.makeup_workdays, y2026.loaded_by) == (33, 6, "migration 0007")


def test_the_stored_calendar_agrees_with_chinesecalendar_every_day(container: Container) -> None:
    calendar = work_calendar.load_calendar(container.deps)
    day, differ = date(2004, 1, 1), []
    while day <= date(2026, 12, 31):
        if calendar.is_workday(day) != chinese_calendar.is_workday(day):
            differ.append(day)
        day += timedelta(days=1)
    assert differ == []
    assert calendar.office_hours.text == "08:30-12:00,14:00-17:30"
    assert calendar.zone == SH


def test_2026_agrees_with_the_holidays_package_too(container: Container) -> None:
    cn = holidays.country_holidays("CN", years=2026)
    calendar = work_calendar.load_calendar(container.deps)
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert calendar.is_workday(day) == cn.is_working_day(day), day
        day += timedelta(days=1)


def test_the_issues_example_through_the_service(container: Container) -> None:
    when = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-02-13 16:00"), 4, TimeUnit.WORKING_HOURS
    )
    assert when.isoformat() == "2026-02-14T11:00:00+08:00"


def test_loading_2027_makes_deadlines_across_new_year_computable(container: Container) -> None:
    with pytest.raises(CalendarNotCovered):
        work_calendar.compute_deadline(
            container.deps, SUPERVISOR, at("2026-12-31 16:00"), 4, TimeUnit.WORKING_HOURS
        )

    result = load_2027(container)

    assert (result.year, result.replaced, result.holidays, result.makeup_workdays) == (
        2027,
        False,
        29,
        5,
    )
    # 12-31 16:00–17:30 1.5 h; 2027-01-01..03 off; Mon 01-04 08:30–11:00 the other 2.5 h
    when = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-12-31 16:00"), 4, TimeUnit.WORKING_HOURS
    )
    assert when == at("2027-01-04 11:00")
    (row,) = audit_rows(container)
    assert (row.action, row.target_id, row.actor_name) == (
        "calendar.year_added",
        "2027",
        SYSTEM.username,
    )
    assert row.detail["holidays"] == 29 and "国务院" in row.detail["source"]


def test_replacing_a_year_lists_what_changed_and_is_audited(container: Container) -> None:
    rows = seed_rows(2026)
    moved = [r for r in rows if r[0] != "2026-10-07"] + [("2026-10-08", False, "国庆节")]
    moved = [(d, w, "國慶節" if d == "2026-10-01" else n) for d, w, n in moved]

    result = work_calendar.load_year_file(
        container.deps, SYSTEM, csv_of(moved), name="2026.csv", source="", info=TEST_INFO
    )

    assert result.replaced
    assert (result.added, result.removed, result.changed) == (
        (date(2026, 10, 8),),
        (date(2026, 10, 7),),
        (date(2026, 10, 1),),
    )
    calendar = work_calendar.load_calendar(container.deps)
    assert calendar.describe(date(2026, 10, 7)).kind is DayKind.WORKDAY
    assert calendar.describe(date(2026, 10, 8)).kind is DayKind.HOLIDAY
    years = {y.year: y for y in work_calendar.covered_years(container.deps, SYSTEM)}
    assert years[2026].source == "file 2026.csv"
    (row,) = audit_rows(container)
    assert row.action == "calendar.year_replaced"
    assert row.detail["removed"] == ["2026-10-07"] and row.detail["added"] == ["2026-10-08"]


def test_a_notice_may_amend_the_last_days_of_the_year_before(container: Container) -> None:
    amended = [*HYPOTHETICAL_2027, ("2026-12-31", False, "元旦")]

    result = load_2027(container, amended)

    assert result.amended == (date(2026, 12, 31),)
    calendar = work_calendar.load_calendar(container.deps)
    assert calendar.describe(date(2026, 12, 31)).kind is DayKind.HOLIDAY
    assert calendar.describe(date(2026, 12, 30)).kind is DayKind.WORKDAY

    again = load_2027(container)  # the notice corrected: 12-31 is an ordinary Thursday again

    assert again.replaced and again.removed == (date(2026, 12, 31),)
    assert work_calendar.load_calendar(container.deps).is_workday(date(2026, 12, 31))


def test_a_refused_file_changes_nothing(container: Container) -> None:
    incomplete = [r for r in HYPOTHETICAL_2027 if r[2] != "春节"]
    with pytest.raises(CalendarFileRefused) as error:
        load_2027(container, incomplete)
    assert [p.code for p in error.value.problems] == ["festival_missing"]
    assert 2027 not in work_calendar.load_calendar(container.deps).years
    assert audit_rows(container) == []


def test_a_source_is_required_and_short(container: Container) -> None:
    checked = work_calendar.read_calendar_file(csv_of(HYPOTHETICAL_2027), "2027.csv")
    with pytest.raises(InvalidInput) as error:
        work_calendar.store_year(container.deps, SYSTEM, checked, source="x" * 201, info=TEST_INFO)
    assert error.value.code == "calendar_source"


def test_only_administrators_change_the_calendar_and_staff_read_it(container: Container) -> None:
    with pytest.raises(Forbidden):
        work_calendar.load_year_file(
            container.deps, SUPERVISOR, csv_of(HYPOTHETICAL_2027), name="x.csv", info=TEST_INFO
        )
    with pytest.raises(Forbidden):
        work_calendar.update_settings(
            container.deps, SUPERVISOR, office_hours="08:00-18:00", info=TEST_INFO
        )
    with pytest.raises(Forbidden):
        work_calendar.covered_years(container.deps, Actor.anonymous())
    assert work_calendar.month_days(container.deps, SUPERVISOR, 2026, 2)[13].kind is (
        DayKind.MAKEUP_WORKDAY
    )


def test_changing_office_hours_changes_deadlines_and_is_audited(container: Container) -> None:
    before = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-03-02 08:00"), 1, TimeUnit.WORKING_DAYS
    )

    view = work_calendar.update_settings(
        container.deps, SYSTEM, office_hours="08:00-12:00, 13:30-17:30", info=TEST_INFO
    )
    unchanged = work_calendar.update_settings(
        container.deps, SYSTEM, office_hours="08:00-12:00,13:30-17:30", info=TEST_INFO
    )

    assert (view.office_hours, view.day_hours, view.time_zone) == (
        "08:00-12:00,13:30-17:30",
        8,
        "Asia/Shanghai",
    )
    assert unchanged == view
    after = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-03-02 08:00"), 1, TimeUnit.WORKING_DAYS
    )
    assert (before, after) == (at("2026-03-02 17:30"), at("2026-03-02 17:30"))
    half = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-03-02 08:00"), 5, TimeUnit.WORKING_HOURS
    )
    assert half == at("2026-03-02 14:30")  # was 15:30 with a lunch break to 14:00
    (row,) = audit_rows(container)
    assert row.action == "calendar.settings_updated"
    assert row.detail == {"office_hours": ["08:30-12:00,14:00-17:30", "08:00-12:00,13:30-17:30"]}


def test_bad_office_hours_and_zones_are_refused(container: Container) -> None:
    for change, code in (
        ({"office_hours": "14:00-17:30,08:30-12:00"}, "office_periods_overlap"),
        ({"time_zone": "Asia/Beijing"}, "unknown_time_zone"),
    ):
        with pytest.raises(InvalidInput) as error:
            work_calendar.update_settings(container.deps, SYSTEM, info=TEST_INFO, **change)  # type: ignore[arg-type]
        assert error.value.code == code
    assert work_calendar.calendar_settings(container.deps, SYSTEM).office_hours == (
        "08:30-12:00,14:00-17:30"
    )


def test_a_time_zone_change_moves_city_time(container: Container) -> None:
    work_calendar.update_settings(container.deps, SYSTEM, time_zone="Asia/Urumqi", info=TEST_INFO)
    when = work_calendar.compute_deadline(
        container.deps, SUPERVISOR, at("2026-03-02 08:30"), 1, TimeUnit.WORKING_HOURS
    )
    # 08:30 Beijing is 06:30 in Urumqi (+06:00): office time begins at 08:30 there
    assert when.isoformat() == "2026-03-02T09:30:00+06:00"


def test_each_process_reads_the_calendar_again_after_an_edit_anywhere(
    container: Container,
) -> None:
    first = work_calendar.load_calendar(container.deps)
    assert work_calendar.load_calendar(container.deps) is first  # cached: nothing changed
    other = bootstrap(settings_for(container.settings.database_url), hasher=FAST_HASHER)
    try:
        assert work_calendar.load_calendar(other.deps) is not first  # another process's own
        load_2027(other)  # an edit made by the other process
    finally:
        other.db.engine.dispose()

    fresh = work_calendar.load_calendar(container.deps)

    assert fresh is not first and 2027 in fresh.years and 2027 not in first.years


def test_the_tables_keep_every_day_of_a_notice_with_it(container: Container) -> None:
    load_2027(container, [*HYPOTHETICAL_2027, ("2026-12-31", False, "元旦")])
    with container.db.read() as session:
        notice = session.execute(
            sa.select(CalendarDayRow.day).where(CalendarDayRow.year == 2027)
        ).scalars()
        days = sorted(notice)
        source = session.get(CalendarYear, 2027)
    assert days[0] == date(2026, 12, 31) and len(days) == len(HYPOTHETICAL_2027) + 1
    assert source is not None and source.loaded_by == SYSTEM.username
