"""The case loop as data: the transition table, who may do what, and which clock each step runs.

Deny by default: a (status, action) pair that is not in ``TRANSITIONS`` is refused, and so is an
action by a role that ``ACTION_ROLES`` does not name. Actions that keep the status (requests,
denials, 督办, 批示) map to the same status, explicitly. docs/workflow.md is rendered from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from gridcity.domain.access import Role
from gridcity.domain.cases.vocabulary import (
    TERMINAL,
    Axis,
    CaseAction,
    CaseStatus,
    RequestKind,
    Step,
)

A = CaseAction
S = CaseStatus

# Actions that open a case: there is no case before them.
OPENING: Mapping[CaseAction, CaseStatus] = MappingProxyType(
    {A.REPORT: S.REPORTED, A.SELF_HANDLE: S.SELF_HANDLED}
)

# 作废 may be asked while the case is registered and not yet handled.
_VOIDABLE = (S.REGISTERED, S.SENT_BACK, S.DISPATCHED, S.SUSPENDED)
# 特殊结案 closes a registered case from any open status (normal/overdue only once checked).
_CLOSABLE = (
    S.REGISTERED,
    S.SENT_BACK,
    S.DISPATCHED,
    S.SUSPENDED,
    S.HANDLED,
    S.TO_CHECK,
    S.CHECKED,
    S.SELF_HANDLED,
)
# 督办 presses the command center's side of the loop.
_URGEABLE = (S.REGISTERED, S.SENT_BACK, S.DISPATCHED)
# 合并 of a duplicate before it is registered.
_MERGEABLE = (S.REPORTED, S.ACCEPTED, S.TO_VERIFY, S.VERIFIED)


def _same(statuses: Iterable[CaseStatus], *actions: CaseAction) -> dict[tuple[S, A], S]:
    """Rows that keep the status."""
    return {(s, a): s for s in statuses for a in actions}


def _to(
    statuses: Iterable[CaseStatus], action: CaseAction, target: CaseStatus
) -> dict[tuple[S, A], S]:
    """Rows from several statuses to one."""
    return {(s, action): target for s in statuses}


TRANSITIONS: Mapping[tuple[CaseStatus, CaseAction], CaseStatus] = MappingProxyType(
    {
        # intake (受理) and verification (核实)
        (S.REPORTED, A.ACCEPT): S.ACCEPTED,
        (S.REPORTED, A.REJECT): S.REJECTED,
        (S.ACCEPTED, A.VERIFY): S.TO_VERIFY,
        (S.TO_VERIFY, A.ANSWER_VERIFICATION): S.VERIFIED,
        **_to(_MERGEABLE, A.MERGE, S.MERGED),
        # registration (立案)
        (S.ACCEPTED, A.REGISTER): S.REGISTERED,
        (S.VERIFIED, A.REGISTER): S.REGISTERED,
        (S.ACCEPTED, A.DECLINE): S.DECLINED,
        (S.VERIFIED, A.DECLINE): S.DECLINED,
        # 作废: asked by the operator, approved or denied by the duty chief
        **_same(_VOIDABLE, A.VOID, A.DENY_VOID),
        **_to(_VOIDABLE, A.APPROVE_VOID, S.VOIDED),
        # dispatch (派遣) and redispatch after 回退
        (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
        (S.SENT_BACK, A.DISPATCH): S.DISPATCHED,
        (S.DISPATCHED, A.SEND_BACK): S.DISPATCHED,
        (S.DISPATCHED, A.APPROVE_SEND_BACK): S.SENT_BACK,
        (S.DISPATCHED, A.DENY_SEND_BACK): S.DISPATCHED,
        # handling (处置), 延期 and 挂账
        (S.DISPATCHED, A.HANDLE): S.HANDLED,
        **_same((S.DISPATCHED,), A.EXTEND, A.APPROVE_EXTENSION, A.DENY_EXTENSION, A.SUSPEND),
        (S.DISPATCHED, A.APPROVE_SUSPENSION): S.SUSPENDED,
        (S.DISPATCHED, A.DENY_SUSPENSION): S.DISPATCHED,
        (S.SUSPENDED, A.RESUME): S.DISPATCHED,
        # check (核查) and 返工
        (S.HANDLED, A.REQUEST_CHECK): S.TO_CHECK,
        (S.TO_CHECK, A.CHECK): S.CHECKED,
        (S.TO_CHECK, A.REWORK): S.DISPATCHED,
        # closing (结案); 自行处置 cases may also be refused at intake
        **_to(_CLOSABLE, A.CLOSE, S.CLOSED),
        (S.SELF_HANDLED, A.REJECT): S.REJECTED,
        # pressure and instructions keep the status
        **_same(_URGEABLE, A.URGE),
        **_same(sorted(frozenset(CaseStatus) - TERMINAL), A.INSTRUCT),
    }
)

ACTION_ROLES: Mapping[CaseAction, frozenset[Role]] = MappingProxyType(
    {
        # public, hotline (operator) and external sources report only; a leader's 批示 can open one
        A.REPORT: frozenset({Role.SUPERVISOR, Role.PUBLIC, Role.OPERATOR, Role.LEADER}),
        A.SELF_HANDLE: frozenset({Role.SUPERVISOR}),
        A.ACCEPT: frozenset({Role.OPERATOR}),
        A.REJECT: frozenset({Role.OPERATOR}),
        A.VERIFY: frozenset({Role.OPERATOR}),
        A.ANSWER_VERIFICATION: frozenset({Role.SUPERVISOR}),
        A.MERGE: frozenset({Role.OPERATOR}),
        A.REGISTER: frozenset({Role.DUTY_CHIEF}),
        A.DECLINE: frozenset({Role.DUTY_CHIEF}),
        A.VOID: frozenset({Role.OPERATOR}),
        A.APPROVE_VOID: frozenset({Role.DUTY_CHIEF}),
        A.DENY_VOID: frozenset({Role.DUTY_CHIEF}),
        A.DISPATCH: frozenset({Role.DISPATCHER}),
        A.SEND_BACK: frozenset({Role.HANDLER}),
        A.APPROVE_SEND_BACK: frozenset({Role.DISPATCHER}),
        A.DENY_SEND_BACK: frozenset({Role.DISPATCHER}),
        A.HANDLE: frozenset({Role.HANDLER}),
        A.EXTEND: frozenset({Role.HANDLER}),
        A.APPROVE_EXTENSION: frozenset({Role.DISPATCHER}),
        A.DENY_EXTENSION: frozenset({Role.DISPATCHER}),
        A.SUSPEND: frozenset({Role.HANDLER}),
        A.APPROVE_SUSPENSION: frozenset({Role.DISPATCHER}),
        A.DENY_SUSPENSION: frozenset({Role.DISPATCHER}),
        A.RESUME: frozenset({Role.DISPATCHER}),
        A.URGE: frozenset({Role.DISPATCHER, Role.LEADER}),
        A.REQUEST_CHECK: frozenset({Role.OPERATOR}),
        A.CHECK: frozenset({Role.SUPERVISOR}),
        A.REWORK: frozenset({Role.SUPERVISOR}),
        A.CLOSE: frozenset({Role.DUTY_CHIEF}),
        A.INSTRUCT: frozenset({Role.LEADER}),
    }
)

# The axis each staff role works on; leaders, administrators and the public are on neither.
ROLE_AXIS: Mapping[Role, Axis] = MappingProxyType(
    {
        Role.SUPERVISOR: Axis.SUPERVISION,
        Role.OPERATOR: Axis.SUPERVISION,
        Role.DUTY_CHIEF: Axis.SUPERVISION,
        Role.DISPATCHER: Axis.COMMAND,
        Role.HANDLER: Axis.COMMAND,
    }
)


def action_axis(action: CaseAction) -> Axis | None:
    """The axis an action belongs to: the one of its roles, or None when it spans both or neither."""
    axes = {ROLE_AXIS.get(role) for role in ACTION_ROLES[action]}
    return axes.pop() if len(axes) == 1 else None


@dataclass(frozen=True)
class RequestActions:
    """The three actions of one application: ask, approve, deny."""

    request: CaseAction
    approve: CaseAction
    deny: CaseAction


REQUESTS: Mapping[RequestKind, RequestActions] = MappingProxyType(
    {
        RequestKind.SEND_BACK: RequestActions(A.SEND_BACK, A.APPROVE_SEND_BACK, A.DENY_SEND_BACK),
        RequestKind.EXTENSION: RequestActions(A.EXTEND, A.APPROVE_EXTENSION, A.DENY_EXTENSION),
        RequestKind.SUSPENSION: RequestActions(A.SUSPEND, A.APPROVE_SUSPENSION, A.DENY_SUSPENSION),
        RequestKind.VOID: RequestActions(A.VOID, A.APPROVE_VOID, A.DENY_VOID),
    }
)
REQUEST_OF: Mapping[CaseAction, RequestKind] = MappingProxyType(
    {r.request: k for k, r in REQUESTS.items()}
)
ANSWER_OF: Mapping[CaseAction, RequestKind] = MappingProxyType(
    {a: k for k, r in REQUESTS.items() for a in (r.approve, r.deny)}
)
# While an application waits, only its answer and these actions are allowed.
ALLOWED_WHILE_PENDING: frozenset[CaseAction] = frozenset({A.URGE, A.INSTRUCT})

# Actions that need a written reason (reject, decline, void, send back, rework, 延期, 挂账).
REASON_REQUIRED: frozenset[CaseAction] = frozenset(
    {A.REJECT, A.DECLINE, A.VOID, A.SEND_BACK, A.REWORK, A.EXTEND, A.SUSPEND}
)

# The step whose clock runs while a case is in an open status.
STATUS_STEP: Mapping[CaseStatus, Step] = MappingProxyType(
    {
        S.REPORTED: Step.ACCEPT,
        S.ACCEPTED: Step.REGISTER,
        S.TO_VERIFY: Step.VERIFY,
        S.VERIFIED: Step.REGISTER,
        S.REGISTERED: Step.DISPATCH,
        S.SENT_BACK: Step.DISPATCH,
        S.DISPATCHED: Step.HANDLE,
        S.SUSPENDED: Step.HANDLE,  # paused
        S.HANDLED: Step.REQUEST_CHECK,
        S.TO_CHECK: Step.CHECK,
        S.CHECKED: Step.CLOSE,
        S.SELF_HANDLED: Step.CLOSE,
    }
)


class ClockEffect(StrEnum):
    """What a transition does to the step clock."""

    START = "start"  # a new step begins: the service hands in its StepTimer
    KEEP = "keep"  # the same clock runs on
    PAUSE = "pause"  # 挂账 approved
    RESUME = "resume"  # 挂账恢复: the service hands in the deadline after the pause
    STOP = "stop"  # the case has ended


def clock_effect(status: CaseStatus | None, action: CaseAction) -> ClockEffect:
    """The effect on the clock of an allowed transition (``status`` None: an opening action)."""
    target = OPENING[action] if status is None else TRANSITIONS[(status, action)]
    if target in TERMINAL:
        return ClockEffect.STOP
    if (status, action) == (S.DISPATCHED, A.APPROVE_SUSPENSION):
        return ClockEffect.PAUSE
    if (status, action) == (S.SUSPENDED, A.RESUME):
        return ClockEffect.RESUME
    if target == status:
        return ClockEffect.KEEP
    return ClockEffect.START


def starting_step(status: CaseStatus | None, action: CaseAction) -> Step | None:
    """The step whose clock an allowed transition starts, so the service can compute its deadline."""
    if clock_effect(status, action) is not ClockEffect.START:
        return None
    target = OPENING[action] if status is None else TRANSITIONS[(status, action)]
    return STATUS_STEP[target]


def allowed_actions(status: CaseStatus) -> frozenset[CaseAction]:
    """The actions the table allows from a status (roles and guards still apply)."""
    return frozenset(a for (s, a) in TRANSITIONS if s == status)
