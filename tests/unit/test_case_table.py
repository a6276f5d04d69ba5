"""Every row of the transition table is reachable and does what it says; every other pair is refused."""

from __future__ import annotations

import pytest

from gridcity.domain.access import Role
from gridcity.domain.cases import (
    ACTION_ROLES,
    OPEN,
    OPENING,
    REQUESTS,
    STATUS_STEP,
    TERMINAL,
    TRANSITIONS,
    Axis,
    CaseAction,
    CaseStatus,
    ClockEffect,
    RefusalCode,
    allowed_actions,
    clock_effect,
    starting_step,
)
from gridcity.domain.cases.table import ANSWER_OF, action_axis
from tests.unit.case_world import GOOD, accepted, act, refused, walk

ROWS = sorted(TRANSITIONS.items())
PAIRS_OUTSIDE = sorted(
    (s, a) for s in CaseStatus for a in CaseAction if (s, a) not in TRANSITIONS and a not in OPENING
)


@pytest.mark.parametrize(("row", "target"), ROWS, ids=[f"{s}-{a}" for (s, a), _ in ROWS])
def test_each_row_of_the_table_moves_the_case_to_its_target(
    row: tuple[CaseStatus, CaseAction], target: CaseStatus
) -> None:
    status, action = row
    state = walk(status)
    kind = ANSWER_OF.get(action)
    if kind is not None:  # an answer needs its request first
        asker, make = GOOD[REQUESTS[kind].request]
        state = accepted(act(state, asker, make(state)))
    actor, make = GOOD[action]
    result = act(state, actor, make(state))
    new = accepted(result)
    assert new.status is target
    assert new.version == state.version + 1
    event = result.event  # type: ignore[union-attr]
    assert (event.action, event.from_status, event.to_status) == (action, status, target)
    assert event.role in ACTION_ROLES[action]


@pytest.mark.parametrize(("status", "action"), PAIRS_OUTSIDE)
def test_a_pair_outside_the_table_is_refused_whoever_asks(
    status: CaseStatus, action: CaseAction
) -> None:
    state = walk(status)
    actor, make = GOOD[action]
    assert refused(act(state, actor, make(state))).code is RefusalCode.WRONG_STATUS


def test_terminal_statuses_allow_nothing_and_open_ones_allow_something() -> None:
    assert all(not allowed_actions(s) for s in TERMINAL)
    assert all(allowed_actions(s) for s in OPEN)
    assert set(TERMINAL) == {
        CaseStatus.CLOSED,
        CaseStatus.REJECTED,
        CaseStatus.DECLINED,
        CaseStatus.VOIDED,
        CaseStatus.MERGED,
    }


def test_every_status_is_reachable_from_an_opening_action() -> None:
    reached = set(OPENING.values())
    frontier = list(reached)
    while frontier:
        here = frontier.pop()
        for (s, _a), target in TRANSITIONS.items():
            if s == here and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CaseStatus)


def test_every_action_has_roles_and_admins_have_none() -> None:
    assert set(ACTION_ROLES) == set(CaseAction)
    assert all(ACTION_ROLES.values())
    assert not any(Role.ADMIN in roles for roles in ACTION_ROLES.values())
    assert {a for a, roles in ACTION_ROLES.items() if Role.PUBLIC in roles} == {CaseAction.REPORT}


def test_the_supervision_center_never_dispatches_or_handles_and_the_command_center_never_registers_or_closes() -> (
    None
):
    supervision = {Role.SUPERVISOR, Role.OPERATOR, Role.DUTY_CHIEF}
    command = {Role.DISPATCHER, Role.HANDLER}
    for action in (CaseAction.DISPATCH, CaseAction.HANDLE):
        assert not ACTION_ROLES[action] & supervision
    for action in (CaseAction.REGISTER, CaseAction.CLOSE):
        assert not ACTION_ROLES[action] & command
    assert action_axis(CaseAction.DISPATCH) is Axis.COMMAND
    assert action_axis(CaseAction.REGISTER) is Axis.SUPERVISION
    assert action_axis(CaseAction.URGE) is None  # dispatchers and leaders


def test_every_application_has_its_request_approval_and_denial_in_the_table() -> None:
    for actions in REQUESTS.values():
        froms = {s for (s, a) in TRANSITIONS if a == actions.request}
        assert froms
        for answer in (actions.approve, actions.deny):
            assert froms == {s for (s, a) in TRANSITIONS if a == answer}
        assert all(TRANSITIONS[(s, actions.request)] == s for s in froms)
        assert all(TRANSITIONS[(s, actions.deny)] == s for s in froms)


def test_each_open_status_runs_a_step_clock_and_a_new_status_starts_it() -> None:
    assert set(STATUS_STEP) == set(OPEN)
    assert starting_step(None, CaseAction.REPORT) is STATUS_STEP[CaseStatus.REPORTED]
    assert clock_effect(CaseStatus.DISPATCHED, CaseAction.APPROVE_SUSPENSION) is ClockEffect.PAUSE
    assert clock_effect(CaseStatus.SUSPENDED, CaseAction.RESUME) is ClockEffect.RESUME
    assert clock_effect(CaseStatus.TO_CHECK, CaseAction.REWORK) is ClockEffect.START
    assert clock_effect(CaseStatus.CHECKED, CaseAction.CLOSE) is ClockEffect.STOP
    assert clock_effect(CaseStatus.DISPATCHED, CaseAction.URGE) is ClockEffect.KEEP
