"""Named shifts as data, rotas on assignments, and the overlap check that holds under races:
who answers and which grids are uncovered follow the city's shift hours and weekdays."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import Assignment, AuditLog
from gridcity.bootstrap import Container
from gridcity.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from gridcity.services import assignments, shifts
from gridcity.services.shifts import ShiftView
from tests.factories import COMM_A1, SYSTEM, TEST_INFO, SmallCity
from tests.services.test_layers import grid, gridded, patrol_areas
from tests.services.test_responsibility import AREA_A, BEIJING, CHIEF, FIRST, assign, uncovered, who

FRIDAY_NOON = datetime(2026, 3, 6, 12, 0, tzinfo=BEIJING)
SATURDAY_NOON = datetime(2026, 3, 7, 12, 0, tzinfo=BEIJING)
SATURDAY_3AM = datetime(2026, 3, 7, 3, 0, tzinfo=BEIJING)
MONDAY_3AM = datetime(2026, 3, 9, 3, 0, tzinfo=BEIJING)
WORKDAYS = [1, 2, 3, 4, 5]


def add_shift(container: Container, name: str, start: str, end: str) -> ShiftView:
    """A named shift added through the service."""
    return shifts.create_shift(
        container.deps,
        SYSTEM,
        name=name,
        starts_at=start,
        ends_at=end,
        name_zh=f"{name}班",
        name_en=f"{name} shift",
        info=TEST_INFO,
    )


def change(container: Container, name: str, **fields: Any) -> ShiftView:
    """Change a named shift through the service."""
    return shifts.update_shift(container.deps, SYSTEM, name, info=TEST_INFO, **fields)


@pytest.fixture
def grids(container: Container, city: SmallCity) -> SmallCity:
    """Quarter grids and the three patrol areas."""
    gridded(container)
    patrol_areas(container)
    return city


# --- named shifts ------------------------------------------------------------------------------


def test_the_seeded_shifts_are_listed_with_their_hours(container: Container) -> None:
    found = {s.name: s for s in shifts.list_shifts(container.deps, CHIEF)}

    assert (found["day"].starts_at, found["day"].ends_at) == ("08:00", "20:00")
    assert found["night"].overnight and found["night"].name_zh == "夜班"


def test_a_city_s_own_shift_is_used_by_assignments_and_audited(
    container: Container, grids: SmallCity
) -> None:
    add_shift(container, "early", "06:00", "14:00")
    assign(container, user_id=grids.user_ids["supervisor"], post="supervisor", layer="patrol", cell=AREA_A, shift="early")  # fmt: skip

    at_7 = datetime(2026, 3, 2, 7, 0, tzinfo=BEIJING)
    assert ("responsibility", "supervisor", "supervisor") in who(container, grid(COMM_A1, 1), at_7)
    assert grid(COMM_A1, 1) in uncovered(container, datetime(2026, 3, 2, 15, 0, tzinfo=BEIJING))
    with container.db.read() as session:
        actions = session.scalars(sa.select(AuditLog.action)).all()
    assert "shift.created" in actions


def test_new_hours_apply_to_the_assignments_that_name_the_shift(
    container: Container, grids: SmallCity
) -> None:
    assign(container, user_id=grids.user_ids["supervisor"], post="supervisor", layer="patrol", cell=AREA_A, shift="day")  # fmt: skip

    change(container, "day", starts_at="07:00", ends_at="19:00")

    at_7 = datetime(2026, 3, 2, 7, 30, tzinfo=BEIJING)
    assert ("responsibility", "supervisor", "supervisor") in who(container, grid(COMM_A1, 1), at_7)


def test_new_hours_that_make_two_assignments_overlap_are_refused(
    container: Container, grids: SmallCity
) -> None:
    ids = grids.user_ids
    for shift in ("day", "night"):
        assign(container, user_id=ids["supervisor"], post="supervisor", layer="patrol", cell=AREA_A, shift=shift)  # fmt: skip

    with pytest.raises(Conflict) as caught:
        change(container, "day", ends_at="21:00")

    assert caught.value.code == "shift_change_overlap"
    found = {s.name: s for s in shifts.list_shifts(container.deps, SYSTEM)}
    assert found["day"].ends_at == "20:00"


def test_a_shift_in_use_is_retired_not_deleted_and_takes_no_new_assignments(
    container: Container, grids: SmallCity
) -> None:
    ids = grids.user_ids
    assign(container, user_id=ids["supervisor"], post="supervisor", layer="patrol", cell=AREA_A, shift="night")  # fmt: skip

    with pytest.raises(Conflict) as caught:
        shifts.delete_shift(container.deps, SYSTEM, "night", info=TEST_INFO)
    assert caught.value.code == "shift_in_use"

    assert change(container, "night", retired=True).retired
    with pytest.raises(InvalidInput) as refused:
        assign(container, user_id=ids["operator"], post="grid_worker", cell=grid(COMM_A1, 1), shift="night")  # fmt: skip
    assert refused.value.code == "shift_retired"
    night = datetime(2026, 3, 2, 23, 0, tzinfo=BEIJING)
    assert ("responsibility", "supervisor", "supervisor") in who(container, grid(COMM_A1, 1), night)


def test_an_unused_shift_is_deleted(container: Container) -> None:
    add_shift(container, "spare", "10:00", "16:00")

    shifts.delete_shift(container.deps, SYSTEM, "spare", info=TEST_INFO)

    assert "spare" not in {s.name for s in shifts.list_shifts(container.deps, SYSTEM)}
    with pytest.raises(NotFound):
        shifts.delete_shift(container.deps, SYSTEM, "spare", info=TEST_INFO)
    with pytest.raises(NotFound):
        change(container, "spare", name_zh="备用")


def test_shift_names_are_unique_and_rules_are_kept(container: Container) -> None:
    with pytest.raises(Conflict) as taken:
        add_shift(container, "day", "07:00", "19:00")
    with pytest.raises(InvalidInput) as empty:
        change(container, "day", starts_at="20:00")
    assert (taken.value.code, empty.value.code) == ("shift_name_taken", "shift_empty")


def test_only_administrators_edit_shifts(container: Container) -> None:
    for call in (
        lambda: shifts.create_shift(
            container.deps,
            CHIEF,
            name="x",
            starts_at="01:00",
            ends_at="02:00",
            name_zh="x",
            name_en="x",
            info=TEST_INFO,
        ),  # fmt: skip
        lambda: shifts.update_shift(container.deps, CHIEF, "day", name_zh="x", info=TEST_INFO),
        lambda: shifts.delete_shift(container.deps, CHIEF, "day", info=TEST_INFO),
    ):
        with pytest.raises(Forbidden):
            call()


# --- rotas ---------------------------------------------------------------------------------------


def test_a_workday_rota_answers_on_friday_and_leaves_the_grid_uncovered_on_saturday(
    container: Container, grids: SmallCity
) -> None:
    made = assign(container, user_id=grids.user_ids["supervisor"], post="supervisor", layer="patrol", cell=AREA_A, shift="day", weekdays=WORKDAYS)  # fmt: skip

    assert made.weekdays == (1, 2, 3, 4, 5)
    assert who(container, grid(COMM_A1, 1), FRIDAY_NOON) == [("responsibility", "supervisor", "supervisor")]  # fmt: skip
    assert who(container, grid(COMM_A1, 1), SATURDAY_NOON) == []
    assert grid(COMM_A1, 1) not in uncovered(container, FRIDAY_NOON)
    assert grid(COMM_A1, 1) in uncovered(container, SATURDAY_NOON)


def test_a_friday_night_shift_of_a_workday_rota_still_holds_early_on_saturday(
    container: Container, grids: SmallCity
) -> None:
    assign(container, user_id=grids.user_ids["operator"], post="grid_worker", cell=grid(COMM_A1, 1), shift="night", weekdays=WORKDAYS)  # fmt: skip

    assert who(container, grid(COMM_A1, 1), SATURDAY_3AM) == [("grid", "grid_worker", "operator")]
    assert who(container, grid(COMM_A1, 1), MONDAY_3AM) == []  # Sunday's night is off


def test_workdays_and_weekends_split_a_post_but_a_shared_day_is_refused(
    container: Container, grids: SmallCity
) -> None:
    ids = grids.user_ids
    target = {"user_id": ids["operator"], "post": "grid_worker", "cell": grid(COMM_A1, 1)}
    assign(container, **target, weekdays=WORKDAYS)
    assign(container, **target, weekdays=[6, 7])

    with pytest.raises(Conflict) as caught:
        assign(container, **target, weekdays=[5], starts_on=date(2026, 3, 6))

    assert caught.value.code == "assignment_overlap"


def test_weekdays_are_checked(container: Container, grids: SmallCity) -> None:
    target = {"user_id": grids.user_ids["operator"], "post": "grid_worker", "cell": grid(COMM_A1, 1)}  # fmt: skip
    for weekdays, reason in (([], "weekdays_empty"), ([9], "weekday_invalid")):
        with pytest.raises(InvalidInput) as caught:
            assign(container, **target, weekdays=weekdays)
        assert caught.value.code == reason


def test_a_later_last_day_that_meets_another_assignment_is_refused(
    container: Container, grids: SmallCity
) -> None:
    target = {"user_id": grids.user_ids["operator"], "post": "grid_worker", "cell": grid(COMM_A1, 1)}  # fmt: skip
    first = assignments.create_assignment(container.deps, SYSTEM, starts_on=FIRST, ends_on=date(2026, 1, 31), info=TEST_INFO, **target)  # fmt: skip
    assign(container, **target, starts_on=date(2026, 2, 1))

    with pytest.raises(Conflict) as caught:
        assignments.end_assignment(container.deps, SYSTEM, first.id, ends_on=date(2026, 2, 10), info=TEST_INFO)  # fmt: skip

    assert caught.value.code == "assignment_overlap"


# --- the race ------------------------------------------------------------------------------------


def test_two_concurrent_identical_assignments_give_one_row_and_one_clear_refusal(
    container: Container, grids: SmallCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests are held after their overlap check until the other has checked too (or
    1.5 s passed): without the lock on the person's row both checks pass and both rows land."""
    checked = threading.Barrier(2)
    original = assignments._refuse_overlap

    def held(*args: Any) -> None:
        original(*args)
        # Broken after 1.5 s when the other request waits for our lock, as it should.
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=1.5)

    monkeypatch.setattr(assignments, "_refuse_overlap", held)
    outcomes: list[object] = []
    target = {"user_id": grids.user_ids["operator"], "post": "grid_worker", "cell": grid(COMM_A1, 1)}  # fmt: skip

    def request() -> None:
        try:
            outcomes.append(assign(container, **target))
        except DomainError as exc:
            outcomes.append(exc)

    workers = [threading.Thread(target=request) for _ in range(2)]
    for worker in workers:
        worker.start()
        time.sleep(0.05)
    for worker in workers:
        worker.join(20)

    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert isinstance(refusals[0], Conflict) and refusals[0].code == "assignment_overlap"
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1


def test_a_change_of_hours_and_a_concurrent_assignment_cannot_pass_each_other(
    container: Container, grids: SmallCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A night assignment is checked against the day shift's hours while those hours are being
    lengthened: both are held after their check until the other has checked (or 1.5 s passed).
    Without all shift rows held by the assignment both pass and day and night overlap."""
    ids = grids.user_ids
    target = {"user_id": ids["supervisor"], "post": "supervisor", "layer": "patrol", "cell": AREA_A}
    assign(container, **target, shift="day")
    checked = threading.Barrier(2)

    def holding(original: Any) -> Any:
        def held(*args: Any) -> None:
            original(*args)
            with contextlib.suppress(threading.BrokenBarrierError):
                checked.wait(timeout=1.5)

        return held

    monkeypatch.setattr(assignments, "_refuse_overlap", holding(assignments._refuse_overlap))
    monkeypatch.setattr(shifts, "_refuse_new_overlaps", holding(shifts._refuse_new_overlaps))
    outcomes: list[object] = []

    def run(command: Any) -> None:
        try:
            outcomes.append(command())
        except DomainError as exc:
            outcomes.append(exc)

    workers = [
        threading.Thread(target=run, args=(lambda: assign(container, **target, shift="night"),)),
        threading.Thread(target=run, args=(lambda: change(container, "day", ends_at="21:00"),)),
    ]
    for worker in workers:
        worker.start()
        time.sleep(0.05)
    for worker in workers:
        worker.join(20)

    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert isinstance(refusals[0], Conflict)
    assert refusals[0].code in ("assignment_overlap", "shift_change_overlap")
    day = {s.name: s for s in shifts.list_shifts(container.deps, SYSTEM)}["day"]
    with container.db.read() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(Assignment))
    assert (day.ends_at, count) in {("20:00", 2), ("21:00", 1)}


# Row lock strengths are PostgreSQL's; SQLite has one writer at a time, so this runs there only.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_assignment_being_made_does_not_hold_up_a_login_of_its_assignee(
    container: Container, grids: SmallCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assignee's row is held FOR NO KEY UPDATE, which lets a new session row reference it
    (its FOR KEY SHARE); FOR UPDATE would make the login wait until the assignment commits."""
    assert container.db.engine.dialect.name == "postgresql"
    from gridcity.adapters.db.tables import UserSession

    user_id = grids.user_ids["operator"]
    locked, release = threading.Event(), threading.Event()
    original = assignments._refuse_overlap

    def held(*args: Any) -> None:
        original(*args)
        locked.set()
        release.wait(10)

    monkeypatch.setattr(assignments, "_refuse_overlap", held)
    worker = threading.Thread(
        target=assign,
        args=(container,),
        kwargs={"user_id": user_id, "post": "grid_worker", "cell": grid(COMM_A1, 1)},  # fmt: skip
    )
    worker.start()
    try:
        assert locked.wait(10)
        now = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)
        with container.db.transaction() as session:
            session.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
            session.add(
                UserSession(
                    token_hash="t" * 64,
                    user_id=user_id,
                    created_at=now,
                    expires_at=now,
                    ip="",
                    user_agent="",
                )
            )
    finally:
        release.set()
        worker.join(20)
