"""Guards: pure functions that say why an action is refused (a ``Refusal``) or allow it (None).

They run in this order in ``decide``: status (the table), role and axis, data scope, pending
applications, then the action's own payload. None of them changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from gridcity.domain.access import Actor, Role
from gridcity.domain.cases.commands import (
    AnswerVerification,
    ApproveExtension,
    Close,
    Command,
    Dispatch,
    Extend,
    Handle,
    Instruct,
    Merge,
    Register,
    Report,
    Resume,
    Rework,
    SelfHandle,
)
from gridcity.domain.cases.model import CaseState, Policy
from gridcity.domain.cases.refusals import Refusal, RefusalCode
from gridcity.domain.cases.table import (
    ACTION_ROLES,
    ALLOWED_WHILE_PENDING,
    ANSWER_OF,
    REASON_REQUIRED,
    ROLE_AXIS,
    TRANSITIONS,
    action_axis,
)
from gridcity.domain.cases.vocabulary import (
    TERMINAL,
    CaseAction,
    CaseSource,
    CaseStatus,
    CloseKind,
    Verdict,
)

R = RefusalCode
# The role a report's source needs: hotline and external reports come in through the intake desk.
SOURCE_ROLES: Mapping[CaseSource, Role] = {
    CaseSource.SUPERVISOR: Role.SUPERVISOR,
    CaseSource.PUBLIC: Role.PUBLIC,
    CaseSource.HOTLINE: Role.OPERATOR,
    CaseSource.EXTERNAL: Role.OPERATOR,
    CaseSource.LEADER: Role.LEADER,
}
# Actions a department does, on its own cases only.
DEPARTMENT_ACTIONS = frozenset(
    {CaseAction.HANDLE, CaseAction.SEND_BACK, CaseAction.EXTEND, CaseAction.SUSPEND}
)
# Actions a supervisor does on site, in the grids of their scope only.
GRID_ACTIONS = frozenset(
    {CaseAction.ANSWER_VERIFICATION, CaseAction.CHECK, CaseAction.REWORK, CaseAction.SELF_HANDLE}
)
# 结案 kinds allowed per status: normal and overdue need a passed check (or 自行处置).
CLOSE_KINDS: Mapping[CaseStatus, frozenset[CloseKind]] = {
    CaseStatus.CHECKED: frozenset(CloseKind),
    CaseStatus.SELF_HANDLED: frozenset({CloseKind.NORMAL, CloseKind.SPECIAL}),
}


def status_refusal(status: CaseStatus, action: CaseAction) -> Refusal | None:
    """Deny by default: only the pairs of the transition table are allowed."""
    if (status, action) in TRANSITIONS:
        return None
    return Refusal.of(R.WRONG_STATUS, status=status.value, action=action.value)


def acting_role(actor: Actor, command: Command) -> Role | Refusal:
    """The role the actor acts in, or why none of theirs may take the action."""
    action = command.action
    allowed = ACTION_ROLES[action]
    held = [role for role in Role if role in actor.roles and role in allowed]
    if isinstance(command, Report) and held:
        needed = SOURCE_ROLES[command.source]
        return needed if needed in held else Refusal.of(R.WRONG_SOURCE, source=command.source)
    if held:
        return held[0]
    axis = action_axis(action)
    own_axes = {ROLE_AXIS[role] for role in actor.roles if role in ROLE_AXIS}
    if axis is not None and own_axes and axis not in own_axes:
        return Refusal.of(R.WRONG_AXIS, action=action.value, axis=axis.value)
    roles = ", ".join(role.value for role in Role if role in allowed)
    return Refusal.of(R.WRONG_ROLE, action=action.value, roles=roles)


def scope_refusal(
    actor: Actor,
    action: CaseAction,
    case_number: str,
    grid_code: str | None,
    department: int | None,
) -> Refusal | None:
    """A department acts on its own cases; a supervisor in the grids of their scope."""
    if action in DEPARTMENT_ACTIONS and (
        department is None or not actor.scope.covers_department(department)
    ):
        return Refusal.of(R.NOT_YOUR_DEPARTMENT, case=case_number)
    if action in GRID_ACTIONS and (grid_code is None or not actor.scope.covers_division(grid_code)):
        return Refusal.of(R.NOT_YOUR_GRID, case=case_number)
    return None


def pending_refusal(state: CaseState, action: CaseAction) -> Refusal | None:
    """One application at a time: while it waits, only its answer, 督办 and 批示 are allowed."""
    pending = state.pending
    kind = ANSWER_OF.get(action)
    if kind is not None:
        if pending is None or pending.kind is not kind:
            return Refusal.of(R.NO_PENDING_REQUEST, case=state.case_number, request=kind.value)
        return None
    if pending is not None and action not in ALLOWED_WHILE_PENDING:
        return Refusal.of(R.APPROVAL_PENDING, case=state.case_number, request=pending.kind.value)
    return None


def reason_of(command: Command) -> str:
    """The written reason, comment or instruction a command carries."""
    for name in ("reason", "comment", "text"):
        value = getattr(command, name, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _too_few(photos: tuple[str, ...], needed: int, action: CaseAction, name: str) -> Refusal | None:
    """Refuse fewer than ``needed`` photos in the field ``name``."""
    if len([p for p in photos if p]) >= needed:
        return None
    return Refusal.of(R.PHOTOS_REQUIRED, action=action.value, count=needed, field=name)


def opening_refusal(command: Report | SelfHandle, policy: Policy) -> Refusal | None:
    """What a new report or 自行处置 record must carry."""
    if isinstance(command, Report):
        if command.source is CaseSource.SUPERVISOR:
            return _too_few(
                command.photos, policy.supervisor_report_photos, command.action, "photos"
            )
        return None
    if not command.self_handleable:
        return Refusal.of(R.NOT_SELF_HANDLEABLE, category=command.category)
    needed = policy.self_handle_photos
    return _too_few(command.before_photos, needed, command.action, "before_photos") or _too_few(
        command.after_photos, needed, command.action, "after_photos"
    )


def payload_refusal(state: CaseState, command: Command, policy: Policy) -> Refusal | None:
    """The action's own rules: reasons, photos, verdicts, criteria, merge targets, deadlines."""
    action = command.action
    if action in REASON_REQUIRED and not getattr(command, "reason", "").strip():
        return Refusal.of(R.REASON_REQUIRED, action=action.value)
    current = state.deadline
    match command:
        case AnswerVerification(verdict=None):
            return Refusal.of(R.VERDICT_REQUIRED)
        case Register():
            return _register_refusal(state, command, policy)
        case Merge(target=target):
            if target.case_number == state.case_number:
                return Refusal.of(R.MERGE_INTO_SELF)
            if target.status is CaseStatus.MERGED:
                return Refusal.of(R.ALREADY_MERGED, target=target.case_number)
            if target.status in TERMINAL:
                return Refusal.of(
                    R.TARGET_NOT_OPEN, target=target.case_number, status=target.status.value
                )
        case Dispatch(department_id=department):
            if state.status is CaseStatus.SENT_BACK and department == state.sent_back_by:
                return Refusal.of(R.SAME_DEPARTMENT, department=department)
        case Handle(photos=photos):
            return _too_few(photos, policy.handle_photos, action, "photos")
        case Extend(deadline=wanted) | ApproveExtension(deadline=wanted):
            wanted = wanted or (state.pending.deadline if state.pending else None)
            if current is not None and (wanted is None or wanted <= current):
                return Refusal.of(
                    R.DEADLINE_NOT_LATER, current=current.isoformat(), deadline=_iso(wanted)
                )
        case Resume(deadline=wanted):
            if current is not None and wanted < current:
                return Refusal.of(
                    R.DEADLINE_EARLIER, current=current.isoformat(), deadline=wanted.isoformat()
                )
        case Rework():
            limit = policy.rework_limit
            if limit is not None and state.rework_count >= limit:
                return Refusal.of(R.REWORK_LIMIT, case=state.case_number, count=state.rework_count)
        case Close():
            return _close_refusal(state, command)
        case Instruct(text=text) if not text.strip():
            return Refusal.of(R.TEXT_REQUIRED)
    return None


def _iso(value: datetime | None) -> str:
    """An instant for a message."""
    return "-" if value is None else value.isoformat()


def _register_refusal(state: CaseState, command: Register, policy: Policy) -> Refusal | None:
    """立案 needs a verified report (unless a supervisor made it) and a met filing criterion."""
    if (
        state.status is CaseStatus.ACCEPTED
        and policy.verify_non_supervisor_reports
        and state.source is not CaseSource.SUPERVISOR
    ):
        return Refusal.of(R.VERIFICATION_REQUIRED, source=state.source.value)
    if state.status is CaseStatus.VERIFIED and state.verdict is not Verdict.CONFIRMED:
        return Refusal.of(R.NOT_CONFIRMED)
    if command.filing_criteria and command.criterion not in command.filing_criteria:
        return Refusal.of(
            R.CRITERIA_NOT_MET,
            criteria=", ".join(command.filing_criteria),
            given=command.criterion or "-",
        )
    return None


def _close_refusal(state: CaseState, command: Close) -> Refusal | None:
    """Kinds per status; normal/overdue follow the handling time; special needs a reason."""
    allowed = CLOSE_KINDS.get(state.status, frozenset({CloseKind.SPECIAL}))
    if command.kind not in allowed:
        return Refusal.of(
            R.CLOSE_KIND_NOT_ALLOWED,
            status=state.status.value,
            allowed=", ".join(k.value for k in CloseKind if k in allowed),
            kind=command.kind.value,
        )
    if command.kind is CloseKind.SPECIAL and not command.reason.strip():
        return Refusal.of(R.REASON_REQUIRED, action=command.action.value)
    on_time = state.handled_on_time
    if state.status is CaseStatus.CHECKED and command.kind is not CloseKind.SPECIAL:
        expected = CloseKind.OVERDUE if on_time is False else CloseKind.NORMAL
        if command.kind is not expected:
            return Refusal.of(
                R.CLOSE_KIND_MISMATCH, expected=expected.value, kind=command.kind.value
            )
    return None
