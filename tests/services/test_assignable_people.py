"""The roster's list of people: those who may assign grid posts (admins, duty chiefs) list the
active staff whose data scope meets theirs, with names and roles only; others are refused."""

from __future__ import annotations

from dataclasses import fields

import pytest

from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.errors import Forbidden
from gridcity.services import users
from tests.factories import COMM_B1, DISTRICT, SUB_A, SUB_B, SYSTEM, TEST_INFO, SmallCity, make_user


def chief(*divisions: str) -> Actor:
    """A duty chief whose data scope is these divisions."""
    return Actor(
        user_id=None,
        username="chief",
        roles=frozenset({Role.DUTY_CHIEF}),
        scope=Scope(divisions=frozenset(divisions)),
    )


def names(people: list[users.AssignablePerson]) -> list[str]:
    """Usernames, in the order listed."""
    return [p.username for p in people]


def test_a_district_duty_chief_lists_everyone_with_a_division_scope(
    container: Container, city: SmallCity
) -> None:
    people = users.assignable_people(container.deps, chief(DISTRICT))
    # The handler's scope is its department: no grid could be put in it, so it is not listed.
    assert names(people) == [
        "admin",
        "dispatcher",
        "duty-chief",
        "leader",
        "operator",
        "supervisor",
    ]
    supervisor = people[-1]
    assert supervisor.display_name == "Supervisor" and supervisor.roles == (Role.SUPERVISOR,)
    assert [f.name for f in fields(supervisor)] == ["id", "username", "display_name", "roles"]


def test_a_subdistrict_duty_chief_lists_only_people_whose_scope_meets_its_own(
    container: Container, city: SmallCity
) -> None:
    make_user(container, "sup-b1", {Role.SUPERVISOR}, scope_divisions=frozenset({COMM_B1}))
    of_b = names(users.assignable_people(container.deps, chief(SUB_B)))
    assert "sup-b1" in of_b and "leader" in of_b and "admin" in of_b  # community, district, all
    assert "supervisor" not in of_b  # subdistrict A only
    of_a = names(users.assignable_people(container.deps, chief(SUB_A)))
    assert "supervisor" in of_a and "sup-b1" not in of_a
    assert users.assignable_people(container.deps, chief()) == []  # an empty scope meets none


def test_administrators_list_every_assignable_account_but_not_disabled_ones(
    container: Container, city: SmallCity
) -> None:
    view = users.get_user(container.deps, SYSTEM, city.user_ids["operator"])
    data = users.UserInput(
        display_name=view.display_name,
        roles=frozenset(view.roles),
        scope_divisions=frozenset(view.scope_divisions),
        center_id=view.center_id,
        is_active=False,
    )
    users.update_user(container.deps, SYSTEM, view.id, data, info=TEST_INFO)
    listed = names(users.assignable_people(container.deps, SYSTEM))
    assert "operator" not in listed and "supervisor" in listed and "handler" not in listed


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.LEADER, Role.OPERATOR, Role.HANDLER])
def test_people_who_may_not_assign_posts_may_not_list_them(
    container: Container, city: SmallCity, role: Role
) -> None:
    actor = Actor(
        user_id=None,
        username="x",
        roles=frozenset({role}),
        scope=Scope(divisions=frozenset({DISTRICT})),
    )
    with pytest.raises(Forbidden):
        users.assignable_people(container.deps, actor)
