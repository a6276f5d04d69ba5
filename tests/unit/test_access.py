"""Roles, permissions and data scope: deny by default."""

from __future__ import annotations

import pytest

from gridcity.domain.access import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    Scope,
    parse_roles,
    require,
)
from gridcity.domain.errors import Forbidden


def _actor(*roles: Role, scope: Scope | None = None) -> Actor:
    return Actor(user_id=1, username="u", roles=frozenset(roles), scope=scope or Scope())


def test_the_public_holds_no_permission() -> None:
    public = Actor.anonymous()
    assert not public.is_authenticated
    assert public.permissions == frozenset()
    for permission in Permission:
        with pytest.raises(Forbidden):
            require(public, permission)


def test_every_role_has_an_explicit_permission_set() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_only_administrators_may_change_organisation_and_accounts() -> None:
    writers = {r for r, perms in ROLE_PERMISSIONS.items() if Permission.USER_WRITE in perms}
    assert writers == {Role.ADMIN}
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.ORG_WRITE in p} == {Role.ADMIN}


def test_several_roles_add_up_and_the_landing_page_follows_the_senior_role() -> None:
    actor = _actor(Role.SUPERVISOR, Role.LEADER)
    assert actor.can(Permission.AUDIT_READ)
    assert actor.landing_role is Role.LEADER


def test_a_division_prefix_covers_its_children_but_not_its_siblings() -> None:
    scope = Scope(divisions=frozenset({"110101001"}))
    assert scope.covers_division("110101001")
    assert scope.covers_division("110101001002")
    assert not scope.covers_division("110101002")
    assert not scope.covers_division("110101")


def test_an_empty_scope_sees_nothing_and_everything_sees_all() -> None:
    assert not Scope().covers_division("110101")
    assert not Scope().covers_department(3)
    assert Scope(everything=True).covers_division("110101001001")


def test_unknown_or_public_role_names_grant_nothing() -> None:
    assert parse_roles(["admin", "root", "public", ""]) == frozenset({Role.ADMIN})
