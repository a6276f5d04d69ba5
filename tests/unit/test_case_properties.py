"""Properties of the case loop under random sequences of actions by random actors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcity.domain.access import Actor
from gridcity.domain.cases import (
    ACTION_ROLES,
    OPENING,
    REQUESTS,
    TERMINAL,
    TRANSITIONS,
    Accept,
    AnswerVerification,
    ApproveExtension,
    ApproveSendBack,
    ApproveSuspension,
    ApproveVoid,
    CaseSource,
    CaseState,
    CaseStatus,
    Check,
    Close,
    CloseKind,
    Command,
    Decision,
    Decline,
    DenyExtension,
    DenySendBack,
    DenySuspension,
    DenyVoid,
    Dispatch,
    Extend,
    Handle,
    Instruct,
    Merge,
    MergeTarget,
    Policy,
    Refusal,
    Register,
    Reject,
    RequestCheck,
    Resume,
    Rework,
    SendBack,
    Suspend,
    Urge,
    Verdict,
    Verify,
    Void,
    allowed_actions,
)
from tests.unit.case_world import DEPARTMENT, EVERYONE, OTHER_DEPARTMENT, T0, act, walk

Make = Callable[[CaseState, int], Command]


def _deadline(state: CaseState, shift: int) -> datetime:
    """A deadline ``shift`` hours from the one in force: sometimes earlier, sometimes later."""
    return (state.deadline or T0) + timedelta(hours=shift)


# Good and bad variants of every action; ``shift`` is a drawn number of hours (-6..6).
COMMANDS: list[Make] = [
    lambda s, n: Accept(),
    lambda s, n: Reject("duplicate" if n > 0 else ""),
    lambda s, n: Verify(),
    lambda s, n: AnswerVerification(
        None if n == 0 else Verdict.CONFIRMED if n > 0 else Verdict.NOT_CONFIRMED
    ),
    lambda s, n: Register("1" if n >= 0 else "9", ("1", "2")),
    lambda s, n: Decline("no criterion" if n else ""),
    lambda s, n: Void("mistake" if n else ""),
    lambda s, n: ApproveVoid(),
    lambda s, n: DenyVoid(),
    lambda s, n: Merge(MergeTarget("C0" if n else s.case_number, list(CaseStatus)[abs(n)])),
    lambda s, n: Dispatch(DEPARTMENT if n % 2 else OTHER_DEPARTMENT),
    lambda s, n: SendBack("not ours" if n else ""),
    lambda s, n: ApproveSendBack(),
    lambda s, n: DenySendBack(),
    lambda s, n: Handle(("after",) if n else ()),
    lambda s, n: Extend(_deadline(s, n), "parts"),
    lambda s, n: ApproveExtension(_deadline(s, n) if n % 3 else None),
    lambda s, n: DenyExtension(),
    lambda s, n: Suspend("budget" if n else ""),
    lambda s, n: ApproveSuspension(),
    lambda s, n: DenySuspension(),
    lambda s, n: Resume(_deadline(s, n)),
    lambda s, n: Urge(),
    lambda s, n: RequestCheck(),
    lambda s, n: Check(),
    lambda s, n: Rework("still broken" if n else ""),
    lambda s, n: Close(list(CloseKind)[abs(n) % 3], "hopeless" if n % 2 else ""),
    lambda s, n: Instruct("act now" if n else ""),
]

steps = st.lists(
    st.tuples(
        st.integers(0, 99),  # the actor, among everyone or among those whose role fits
        st.integers(0, 99),  # the command, among all or among those the status allows
        st.integers(-6, 6),  # hours a requested deadline lies from the one in force
        st.integers(0, 600),  # minutes until the next action
        st.integers(0, 9).map(lambda n: n > 0),  # aim (9 in 10): an allowed action, a fit role
    ),
    min_size=5,
    max_size=40,
)
# A walk starts from a case brought to any status (so deep statuses are explored), or a new report.
starts = st.one_of(
    st.sampled_from(list(CaseStatus)).map(walk),
    st.sampled_from(list(CaseSource)).map(lambda source: walk(CaseStatus.REPORTED, source)),
)
policies = st.builds(
    Policy,
    verify_non_supervisor_reports=st.booleans(),
    rework_limit=st.one_of(st.none(), st.integers(1, 3)),
)
Drawn = list[tuple[int, int, int, int, bool]]


def _pick(state: CaseState, who: int, what: int, shift: int, aim: bool) -> tuple[Actor, Command]:
    """A random actor and command; when aiming, one the table and the role table allow."""
    makes = COMMANDS
    if aim:
        allowed = allowed_actions(state.status)
        makes = [m for m in COMMANDS if m(state, shift).action in allowed] or COMMANDS
    command = makes[what % len(makes)](state, shift)
    actors: list[Actor] = list(EVERYONE)
    if aim:
        fit = [a for a in EVERYONE if a.roles & ACTION_ROLES[command.action]]
        actors = fit or actors
    return actors[who % len(actors)], command


def _run(
    start: CaseState, policy: Policy, drawn: Drawn
) -> list[tuple[CaseState, Command, Decision | Refusal]]:
    """Apply the drawn actions in order; each accepted decision becomes the next state."""
    state, now = start, T0
    seen: list[tuple[CaseState, Command, Decision | Refusal]] = []
    for who, what, shift, minutes, aim in drawn:
        now += timedelta(minutes=minutes)
        actor, command = _pick(state, who, what, shift, aim)
        result = act(state, actor, command, now=now, policy=policy)
        seen.append((state, command, result))
        if isinstance(result, Decision):
            state = result.state
        if before_end(state, seen):
            break
    return seen


def before_end(state: CaseState, seen: list[tuple[CaseState, Command, Decision | Refusal]]) -> bool:
    """A few tries on an ended case are enough to show it takes nothing more."""
    return state.status in TERMINAL and sum(1 for s, _, _ in seen if s.status in TERMINAL) >= 3


@settings(max_examples=300, deadline=None)
@given(starts, policies, steps)
def test_random_actions_only_ever_take_rows_of_the_table(
    start: CaseState, policy: Policy, drawn: Drawn
) -> None:
    for before, command, result in _run(start, policy, drawn):
        if isinstance(result, Decision):
            assert (before.status, command.action) in TRANSITIONS
            assert result.state.status is TRANSITIONS[(before.status, command.action)]
            assert command.action not in OPENING


@settings(max_examples=300, deadline=None)
@given(starts, policies, steps)
def test_each_accepted_decision_appends_exactly_one_timeline_row(
    start: CaseState, policy: Policy, drawn: Drawn
) -> None:
    rows = start.version  # the rows so far
    for before, command, result in _run(start, policy, drawn):
        if isinstance(result, Decision):
            rows += 1
            event = result.event
            assert event.version == result.state.version == before.version + 1 == rows
            assert (event.action, event.from_status, event.to_status) == (
                command.action,
                before.status,
                result.state.status,
            )
            assert event.deadline == result.state.deadline


@settings(max_examples=300, deadline=None)
@given(starts, policies, steps)
def test_the_deadline_of_a_running_clock_never_moves_backwards(
    start: CaseState, policy: Policy, drawn: Drawn
) -> None:
    for before, _command, result in _run(start, policy, drawn):
        if not isinstance(result, Decision) or before.timer is None or result.state.timer is None:
            continue
        old, new = before.timer, result.state.timer
        if (old.step, old.started_at) == (new.step, new.started_at):  # the same clock
            assert new.deadline >= old.deadline
            assert len(new.pauses) >= len(old.pauses)


@settings(max_examples=300, deadline=None)
@given(starts, policies, steps)
def test_closed_voided_merged_rejected_and_declined_cases_take_no_action(
    start: CaseState, policy: Policy, drawn: Drawn
) -> None:
    for before, _command, result in _run(start, policy, drawn):
        if before.status in TERMINAL:
            assert isinstance(result, Refusal)
            assert result.code == "wrong_status"


@settings(max_examples=200, deadline=None)
@given(starts, policies, steps)
def test_a_pending_request_only_exists_where_its_answer_is_in_the_table(
    start: CaseState, policy: Policy, drawn: Drawn
) -> None:
    for _before, _command, result in _run(start, policy, drawn):
        if isinstance(result, Decision) and result.state.pending is not None:
            answers = REQUESTS[result.state.pending.kind]
            status = result.state.status
            assert (status, answers.approve) in TRANSITIONS
            assert (status, answers.deny) in TRANSITIONS
