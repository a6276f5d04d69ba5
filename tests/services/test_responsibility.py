"""Responsibility: people on posts for grids and divisions; who answers for a grid at a moment,
and which unit grids nobody covers, with shifts, date ranges, history and data scope."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridcity.services import assignments, layers, responsibility, users
from gridcity.services.responsibility import AssignmentView
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SUB_B,
    SYSTEM,
    TEST_INFO,
    SmallCity,
)
from tests.services.test_layers import SUPERVISOR_OF_A, grid, gridded, patrol_areas

BEIJING = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=BEIJING)
NIGHT = datetime(2026, 3, 2, 23, 0, tzinfo=BEIJING)
FIRST = date(2026, 1, 1)
AREA_A = "ZR11010100101"  # A1 and the south half of A2
AREA_A_NORTH = "ZR11010100102"  # the north half of A2
CHIEF = Actor(
    user_id=None,
    username="chief",
    roles=frozenset({Role.DUTY_CHIEF}),
    scope=Scope(divisions=frozenset({DISTRICT})),
)


def assign(
    container: Container, actor: Actor = SYSTEM, *, starts_on: date = FIRST, **target: object
) -> AssignmentView:
    """Make an assignment through the service."""
    return assignments.create_assignment(
        container.deps,
        actor,
        starts_on=starts_on,
        info=TEST_INFO,
        **target,  # type: ignore[arg-type]
    )


def who(
    container: Container, code: str, at: datetime, actor: Actor = SYSTEM
) -> list[tuple[str, str, str]]:
    """(via, post, username) of everyone answering for a unit grid."""
    found = responsibility.responsible_for(container.deps, actor, code, at=at)
    return [(p.via, p.assignment.post, p.assignment.username) for p in found.people]


def uncovered(container: Container, at: datetime, actor: Actor = SYSTEM) -> list[str]:
    """Codes of the uncovered unit grids."""
    return responsibility.uncovered_grids(container.deps, actor, at=at)


@pytest.fixture
def staffed(container: Container, city: SmallCity) -> SmallCity:
    """Quarter grids, three patrol areas; a day supervisor on area A, a night grid worker on
    grid A1-001, the leader on community A1 and subdistricts A and B."""
    gridded(container)
    patrol_areas(container)
    ids = city.user_ids
    assign(
        container,
        user_id=ids["supervisor"],
        post="supervisor",
        layer="patrol",
        cell=AREA_A,
        shift="day",
    )
    assign(
        container, user_id=ids["operator"], post="grid_worker", cell=grid(COMM_A1, 1), shift="night"
    )
    for division in (COMM_A1, SUB_A, SUB_B):
        assign(container, user_id=ids["leader"], post="leader", division=division)
    return city  # fmt: skip


# --- the two questions ----------------------------------------------------------------------


def test_who_is_responsible_names_the_grid_its_patrol_area_and_its_leaders_in_force(
    container: Container, staffed: SmallCity
) -> None:
    code = grid(COMM_A1, 1)

    assert who(container, code, NOON) == [
        ("responsibility", "supervisor", "supervisor"),
        ("community", "leader", "leader"),
        ("subdistrict", "leader", "leader"),
    ]
    assert who(container, code, NIGHT) == [
        ("grid", "grid_worker", "operator"),
        ("community", "leader", "leader"),
        ("subdistrict", "leader", "leader"),
    ]
    assert who(container, grid(COMM_B1, 1), NOON) == [("subdistrict", "leader", "leader")]


def test_uncovered_grids_have_no_supervisor_or_grid_worker_in_force(
    container: Container, staffed: SmallCity
) -> None:
    north_of_a2 = [grid(COMM_A2, 1), grid(COMM_A2, 2)]
    b1 = [grid(COMM_B1, n) for n in (1, 2, 3, 4)]

    assert uncovered(container, NOON) == north_of_a2 + b1
    at_night = uncovered(container, NIGHT)
    assert len(at_night) == 11 and grid(COMM_A1, 1) not in at_night
    assert uncovered(container, NOON, actor=SUPERVISOR_OF_A) == north_of_a2
    shapes = responsibility.uncovered_geojson(container.deps, SYSTEM, at=NOON, parent=SUB_A)
    assert [f["id"] for f in shapes["features"]] == north_of_a2
    assert shapes["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_a_grid_worker_on_a_patrol_area_covers_all_its_grids(
    container: Container, staffed: SmallCity
) -> None:
    assign(container, user_id=staffed.user_ids["dispatcher"], post="grid_worker", layer="patrol", cell=AREA_A_NORTH)  # fmt: skip

    assert uncovered(container, NOON) == [grid(COMM_B1, n) for n in (1, 2, 3, 4)]


def test_an_ended_assignment_stops_covering_but_still_answers_for_the_past(
    container: Container, staffed: SmallCity
) -> None:
    mine = responsibility.list_assignments(
        container.deps, SYSTEM, user_id=staffed.user_ids["supervisor"]
    )
    assignments.end_assignment(
        container.deps, SYSTEM, mine[0].id, ends_on=date(2026, 3, 1), info=TEST_INFO
    )

    assert grid(COMM_A1, 2) in uncovered(container, NOON)
    february = datetime(2026, 2, 16, 9, 0, tzinfo=BEIJING)
    assert ("responsibility", "supervisor", "supervisor") in who(
        container, grid(COMM_A1, 2), february
    )
    with container.db.read() as session:
        actions = session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.target_type == "assignment")
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["responsibility.assigned"] * 5 + ["responsibility.ended"]  # fmt: skip


def test_a_switched_off_patrol_layer_covers_nothing(
    container: Container, staffed: SmallCity
) -> None:
    layers.update_layer(container.deps, SYSTEM, "patrol", is_active=False, info=TEST_INFO)

    assert len(uncovered(container, NOON)) == 12
    assert [v for v, _post, _name in who(container, grid(COMM_A1, 2), NOON)] == [
        "community",
        "subdistrict",
    ]


def test_a_deleted_assignment_is_gone_and_the_audit_log_keeps_it(
    container: Container, staffed: SmallCity
) -> None:
    worker = responsibility.list_assignments(container.deps, SYSTEM, cell=grid(COMM_A1, 1))[0]

    assignments.delete_assignment(container.deps, SYSTEM, worker.id, info=TEST_INFO)

    assert grid(COMM_A1, 1) in uncovered(container, NIGHT)
    with container.db.read() as session:
        detail = session.scalar(
            sa.select(AuditLog.detail).where(AuditLog.action == "responsibility.deleted")
        )
    assert detail is not None
    assert (detail["user"], detail["cell"], detail["shift"]) == (
        "operator",
        grid(COMM_A1, 1),
        "night",
    )


def test_assignments_in_force_are_listed_within_the_readers_scope(
    container: Container, staffed: SmallCity
) -> None:
    at_noon = responsibility.list_assignments(container.deps, SYSTEM, at=NOON)
    assert sorted((a.post, a.cell or a.division) for a in at_noon) == [
        ("leader", SUB_A),
        ("leader", COMM_A1),
        ("leader", SUB_B),
        ("supervisor", AREA_A),
    ]
    seen_by_a = responsibility.list_assignments(container.deps, SUPERVISOR_OF_A)
    assert SUB_B not in {a.division for a in seen_by_a} and len(seen_by_a) == 4


def test_a_grid_outside_the_readers_scope_or_unknown_is_not_found(
    container: Container, staffed: SmallCity
) -> None:
    for code in (grid(COMM_B1, 1), grid(COMM_A1, 9)):
        with pytest.raises(NotFound) as caught:
            responsibility.responsible_for(container.deps, SUPERVISOR_OF_A, code, at=NOON)
        assert caught.value.code == "grid_not_found"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who_", "target", "reason"),
    [
        ("operator", {"post": "supervisor", "cell": "110101001001001"}, "assignment_needs_supervisor_role"),
        ("leader", {"post": "leader", "cell": "110101001001001"}, "post_needs_division"),
        ("operator", {"post": "grid_worker", "division": SUB_A}, "post_needs_grid"),
        ("operator", {"post": "grid_worker", "cell": "110101001001001", "division": SUB_A}, "assignment_target"),
        ("supervisor", {"post": "supervisor", "cell": "110101002001001"}, "assignment_outside_user_scope"),
        ("operator", {"post": "grid_worker", "cell": "110101001001001", "shift": "evening"}, "shift_format"),
        ("operator", {"post": "grid_worker", "cell": "110101001001001", "ends_on": date(2025, 1, 1)}, "assignment_period"),
    ],
)  # fmt: skip
def test_an_assignment_breaking_a_rule_is_refused_with_its_reason(
    container: Container, staffed: SmallCity, who_: str, target: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        assign(container, user_id=staffed.user_ids[who_], **target)
    assert caught.value.code == reason


def test_one_person_holds_one_post_on_one_grid_once_though_shifts_may_split_the_day(
    container: Container, staffed: SmallCity
) -> None:
    operator = staffed.user_ids["operator"]
    with pytest.raises(Conflict) as caught:
        assign(container, user_id=operator, post="grid_worker", cell=grid(COMM_A1, 1), shift="22:00-23:00", starts_on=date(2026, 6, 1))  # fmt: skip
    assert caught.value.code == "assignment_overlap"

    day = assign(container, user_id=operator, post="grid_worker", cell=grid(COMM_A1, 1), shift="day")  # fmt: skip

    assert day.shift == "day"


def test_unknown_targets_and_disabled_accounts_are_refused(
    container: Container, staffed: SmallCity
) -> None:
    operator = staffed.user_ids["operator"]
    with pytest.raises(NotFound) as caught:
        assign(
            container, user_id=operator, post="grid_worker", layer="patrol", cell="ZR11010100109"
        )
    assert caught.value.code == "layer_cell_not_found"
    with pytest.raises(NotFound):
        assign(container, user_id=staffed.user_ids["leader"], post="leader", division="110101009")
    view = users.get_user(container.deps, SYSTEM, operator)
    users.update_user(
        container.deps,
        SYSTEM,
        operator,
        data=users.UserInput(
            display_name=view.display_name,
            roles=frozenset(view.roles),
            center_id=view.center_id,
            scope_divisions=frozenset(view.scope_divisions),
            is_active=False,
        ),
        info=TEST_INFO,
    )
    with pytest.raises(InvalidInput) as caught:
        assign(container, user_id=operator, post="grid_worker", cell=grid(COMM_B1, 1))
    assert caught.value.code == "assignment_user_inactive"


def test_duty_chiefs_put_people_on_grids_and_only_administrators_place_leaders(
    container: Container, staffed: SmallCity
) -> None:
    ids = staffed.user_ids
    made = assign(container, CHIEF, user_id=ids["dispatcher"], post="grid_worker", cell=grid(COMM_B1, 1))  # fmt: skip
    assert made.cell == grid(COMM_B1, 1)
    with pytest.raises(Forbidden):
        assign(container, CHIEF, user_id=ids["leader"], post="leader", division=COMM_B1)
    with pytest.raises(Forbidden):
        assign(container, SUPERVISOR_OF_A, user_id=ids["supervisor"], post="supervisor", cell=grid(COMM_A1, 2))  # fmt: skip
    leaders = responsibility.list_assignments(container.deps, SYSTEM, division=SUB_A)
    with pytest.raises(Forbidden):
        assignments.end_assignment(container.deps, CHIEF, leaders[0].id, ends_on=FIRST, info=TEST_INFO)  # fmt: skip
