"""A small world for the case loop's tests: one actor per post, clocks, and walks to each status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.cases import (
    TRANSITIONS,
    Accept,
    AnswerVerification,
    ApproveExtension,
    ApproveSendBack,
    ApproveSuspension,
    ApproveVoid,
    CaseAction,
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
    Report,
    RequestCheck,
    Resume,
    Rework,
    SelfHandle,
    SendBack,
    Step,
    StepTimer,
    Suspend,
    Urge,
    Verdict,
    Verify,
    Void,
    decide,
    starting_step,
)
from gridcity.domain.catalog import TimeUnit

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZONE)  # a Monday morning
GRID = "110101001001001"
DEPARTMENT = 10
OTHER_DEPARTMENT = 20
LIMIT_HOURS = 4
POLICY = Policy()


def _staff(user_id: int, role: Role, scope: Scope = Scope()) -> Actor:
    return Actor(user_id=user_id, username=role.value, roles=frozenset({role}), scope=scope)


SUPERVISOR = _staff(1, Role.SUPERVISOR, Scope(divisions=frozenset({"110101001"})))
OTHER_SUPERVISOR = _staff(11, Role.SUPERVISOR, Scope(divisions=frozenset({"110102"})))
OPERATOR = _staff(2, Role.OPERATOR)
DUTY_CHIEF = _staff(3, Role.DUTY_CHIEF)
DISPATCHER = _staff(4, Role.DISPATCHER)
HANDLER = _staff(5, Role.HANDLER, Scope(departments=frozenset({DEPARTMENT})))
OTHER_HANDLER = _staff(15, Role.HANDLER, Scope(departments=frozenset({OTHER_DEPARTMENT})))
LEADER = _staff(7, Role.LEADER)
ADMIN = _staff(8, Role.ADMIN, Scope(everything=True))
PUBLIC = Actor.anonymous()
EVERYONE = (
    SUPERVISOR,
    OTHER_SUPERVISOR,
    OPERATOR,
    DUTY_CHIEF,
    DISPATCHER,
    HANDLER,
    OTHER_HANDLER,
    LEADER,
    ADMIN,
    PUBLIC,
)


def timer_for(step: Step, now: datetime, hours: int = LIMIT_HOURS) -> StepTimer:
    """A clock as the service would hand it in (natural hours keep the arithmetic obvious)."""
    return StepTimer(
        step, now, Decimal(hours), TimeUnit.NATURAL_HOURS, now + timedelta(hours=hours)
    )


def act(
    state: CaseState | None,
    actor: Actor,
    command: Command,
    *,
    now: datetime = T0,
    policy: Policy = POLICY,
) -> Decision | Refusal:
    """decide(), with the clock a service would compute for a step that starts."""
    status = None if state is None else state.status
    timer = None
    if status is None or (status, command.action) in TRANSITIONS:
        step = starting_step(status, command.action)
        timer = None if step is None else timer_for(step, now)
    return decide(state, actor, command, policy, now, timer=timer)


def accepted(result: Decision | Refusal) -> CaseState:
    """The new state of a decision; fails the test on a refusal."""
    assert isinstance(result, Decision), f"refused: {result}"
    return result.state


def refused(result: Decision | Refusal) -> Refusal:
    """The refusal; fails the test when the action was allowed."""
    assert isinstance(result, Refusal), f"allowed: {result}"
    return result


def report(source: CaseSource = CaseSource.SUPERVISOR, number: str = "C1") -> CaseState:
    """A new case reported by the actor of its source."""
    who = {
        CaseSource.SUPERVISOR: SUPERVISOR,
        CaseSource.PUBLIC: PUBLIC,
        CaseSource.HOTLINE: OPERATOR,
        CaseSource.EXTERNAL: OPERATOR,
        CaseSource.LEADER: LEADER,
    }[source]
    return accepted(act(None, who, Report(number, source, GRID, photos=("p1",))))


Step_ = tuple[Actor, Callable[[CaseState], Command]]
# The happy path, one step per status: how to leave each status towards closing.
_FORWARD: dict[CaseStatus, Step_] = {
    CaseStatus.REPORTED: (OPERATOR, lambda s: Accept()),
    CaseStatus.ACCEPTED: (DUTY_CHIEF, lambda s: Register()),
    CaseStatus.REGISTERED: (DISPATCHER, lambda s: Dispatch(DEPARTMENT)),
    CaseStatus.DISPATCHED: (HANDLER, lambda s: Handle(photos=("after",))),
    CaseStatus.HANDLED: (OPERATOR, lambda s: RequestCheck()),
    CaseStatus.TO_CHECK: (SUPERVISOR, lambda s: Check()),
    CaseStatus.CHECKED: (DUTY_CHIEF, lambda s: Close(CloseKind.NORMAL)),
}
_HAPPY = [
    CaseStatus.REPORTED,
    CaseStatus.ACCEPTED,
    CaseStatus.REGISTERED,
    CaseStatus.DISPATCHED,
    CaseStatus.HANDLED,
    CaseStatus.TO_CHECK,
    CaseStatus.CHECKED,
    CaseStatus.CLOSED,
]
# Statuses off the happy path: (status to start from, the steps that lead there).
_DETOURS: dict[CaseStatus, tuple[CaseStatus, list[Step_]]] = {
    CaseStatus.TO_VERIFY: (CaseStatus.ACCEPTED, [(OPERATOR, lambda s: Verify())]),
    CaseStatus.VERIFIED: (
        CaseStatus.ACCEPTED,
        [
            (OPERATOR, lambda s: Verify()),
            (SUPERVISOR, lambda s: AnswerVerification(Verdict.CONFIRMED)),
        ],
    ),
    CaseStatus.SENT_BACK: (
        CaseStatus.DISPATCHED,
        [(HANDLER, lambda s: SendBack("not ours")), (DISPATCHER, lambda s: ApproveSendBack())],
    ),
    CaseStatus.SUSPENDED: (
        CaseStatus.DISPATCHED,
        [
            (HANDLER, lambda s: Suspend("needs funding")),
            (DISPATCHER, lambda s: ApproveSuspension()),
        ],
    ),
    CaseStatus.REJECTED: (CaseStatus.REPORTED, [(OPERATOR, lambda s: Reject("duplicate"))]),
    CaseStatus.DECLINED: (CaseStatus.ACCEPTED, [(DUTY_CHIEF, lambda s: Decline("no criterion"))]),
    CaseStatus.VOIDED: (
        CaseStatus.REGISTERED,
        [(OPERATOR, lambda s: Void("wrong class")), (DUTY_CHIEF, lambda s: ApproveVoid())],
    ),
    CaseStatus.MERGED: (
        CaseStatus.REPORTED,
        [(OPERATOR, lambda s: Merge(MergeTarget("C0", CaseStatus.DISPATCHED)))],
    ),
}


def walk(status: CaseStatus, source: CaseSource = CaseSource.SUPERVISOR) -> CaseState:
    """A case brought to ``status`` through allowed actions (a supervisor's report by default)."""
    if status is CaseStatus.SELF_HANDLED:
        return accepted(act(None, SUPERVISOR, self_handle()))
    start, steps = _DETOURS.get(status, (status, []))
    state = report(source)
    for here in _HAPPY[: _HAPPY.index(start)]:
        actor, make = _FORWARD[here]
        state = accepted(act(state, actor, make(state)))
    for actor, make in steps:
        state = accepted(act(state, actor, make(state)))
    assert state.status is status
    return state


def self_handle(*, handleable: bool = True, after: tuple[str, ...] = ("after",)) -> SelfHandle:
    """A supervisor's 自行处置 record."""
    return SelfHandle("S1", "0101", handleable, GRID, before_photos=("before",), after_photos=after)


def later(state: CaseState, hours: int = 1) -> datetime:
    """A deadline ``hours`` after the one in force (after T0 when no clock runs)."""
    return (state.deadline or T0) + timedelta(hours=hours)


# A command (and its actor) that every guard allows, for each action of the table.
GOOD: dict[CaseAction, Step_] = {
    CaseAction.ACCEPT: (OPERATOR, lambda s: Accept()),
    CaseAction.REJECT: (OPERATOR, lambda s: Reject("out of scope")),
    CaseAction.VERIFY: (OPERATOR, lambda s: Verify()),
    CaseAction.ANSWER_VERIFICATION: (SUPERVISOR, lambda s: AnswerVerification(Verdict.CONFIRMED)),
    CaseAction.REGISTER: (DUTY_CHIEF, lambda s: Register()),
    CaseAction.DECLINE: (DUTY_CHIEF, lambda s: Decline("no filing criterion met")),
    CaseAction.VOID: (OPERATOR, lambda s: Void("registered by mistake")),
    CaseAction.APPROVE_VOID: (DUTY_CHIEF, lambda s: ApproveVoid()),
    CaseAction.DENY_VOID: (DUTY_CHIEF, lambda s: DenyVoid()),
    CaseAction.MERGE: (OPERATOR, lambda s: Merge(MergeTarget("C0", CaseStatus.REGISTERED))),
    CaseAction.DISPATCH: (DISPATCHER, lambda s: Dispatch(OTHER_DEPARTMENT)),
    CaseAction.SEND_BACK: (HANDLER, lambda s: SendBack("not ours")),
    CaseAction.APPROVE_SEND_BACK: (DISPATCHER, lambda s: ApproveSendBack()),
    CaseAction.DENY_SEND_BACK: (DISPATCHER, lambda s: DenySendBack()),
    CaseAction.HANDLE: (HANDLER, lambda s: Handle(photos=("after",))),
    CaseAction.EXTEND: (HANDLER, lambda s: Extend(later(s, 8), "materials late")),
    CaseAction.APPROVE_EXTENSION: (DISPATCHER, lambda s: ApproveExtension()),
    CaseAction.DENY_EXTENSION: (DISPATCHER, lambda s: DenyExtension()),
    CaseAction.SUSPEND: (HANDLER, lambda s: Suspend("needs a budget")),
    CaseAction.APPROVE_SUSPENSION: (DISPATCHER, lambda s: ApproveSuspension()),
    CaseAction.DENY_SUSPENSION: (DISPATCHER, lambda s: DenySuspension()),
    CaseAction.RESUME: (DISPATCHER, lambda s: Resume(later(s, 2))),
    CaseAction.URGE: (DISPATCHER, lambda s: Urge("hurry")),
    CaseAction.REQUEST_CHECK: (OPERATOR, lambda s: RequestCheck()),
    CaseAction.CHECK: (SUPERVISOR, lambda s: Check()),
    CaseAction.REWORK: (SUPERVISOR, lambda s: Rework("still broken")),
    CaseAction.CLOSE: (
        DUTY_CHIEF,
        lambda s: (
            Close(CloseKind.NORMAL)
            if s.status in (CaseStatus.CHECKED, CaseStatus.SELF_HANDLED)
            else Close(CloseKind.SPECIAL, "cannot be solved")
        ),
    ),
    CaseAction.INSTRUCT: (LEADER, lambda s: Instruct("solve it this week")),
}
