"""The one entry point services call: ``decide(state, actor, command, policy, now)``.

It returns either a ``Refusal`` (nothing changed) or a ``Decision``: the new ``CaseState``
(``version`` + 1) and exactly one ``TimelineEvent``. The service stores both in one transaction
with a conditional update on the old version, then publishes the event.

Clocks: when a transition starts a step (``starting_step`` tells which), the service hands in that
step's ``StepTimer`` with the deadline it computed on the working calendar; otherwise it hands in
none. Handing in the wrong clock is a programming error (``ValueError``), not a refusal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gridcity.domain.access import Actor, Role
from gridcity.domain.cases.commands import (
    AnswerVerification,
    ApproveExtension,
    ApproveSendBack,
    Close,
    Command,
    Dispatch,
    Extend,
    Merge,
    Report,
    Resume,
    Rework,
    SelfHandle,
    Urge,
)
from gridcity.domain.cases.guards import (
    acting_role,
    opening_refusal,
    payload_refusal,
    pending_refusal,
    reason_of,
    scope_refusal,
    status_refusal,
)
from gridcity.domain.cases.model import (
    CaseState,
    Decision,
    PendingRequest,
    Policy,
    StepTimer,
    TimelineEvent,
)
from gridcity.domain.cases.refusals import Refusal
from gridcity.domain.cases.table import (
    ANSWER_OF,
    OPENING,
    REQUEST_OF,
    TRANSITIONS,
    ClockEffect,
    clock_effect,
    starting_step,
)
from gridcity.domain.cases.vocabulary import CaseSource, CaseStatus
from gridcity.domain.work_calendar import aware


def decide(
    state: CaseState | None,
    actor: Actor,
    command: Command,
    policy: Policy,
    now: datetime,
    *,
    timer: StepTimer | None = None,
) -> Decision | Refusal:
    """Apply one action to a case (``state`` None: a report or 自行处置 that opens one)."""
    aware(now)
    if state is None:
        if not isinstance(command, Report | SelfHandle):
            raise ValueError(f"{command.action} acts on an existing case; pass its state")
        return _open(actor, command, policy, now, timer)
    role = screen(state, actor, command, policy)
    if isinstance(role, Refusal):
        return role
    _expect_timer(state.status, command, timer)
    new = _apply(state, actor, command, now, timer)
    return Decision(new, _event(state.status, new, actor, role, command, now))


def screen(state: CaseState, actor: Actor, command: Command, policy: Policy) -> Role | Refusal:
    """Every guard in order: the role the actor would act in, or the first refusal."""
    refusal = status_refusal(state.status, command.action)
    if refusal is not None:
        return refusal
    role = acting_role(actor, command)
    if isinstance(role, Refusal):
        return role
    refusal = (
        scope_refusal(
            actor, command.action, state.case_number, state.grid_code, state.department_id
        )
        or pending_refusal(state, command.action)
        or payload_refusal(state, command, policy)
    )
    return role if refusal is None else refusal


def _open(
    actor: Actor,
    command: Report | SelfHandle,
    policy: Policy,
    now: datetime,
    timer: StepTimer | None,
) -> Decision | Refusal:
    """A new case from a report or a 自行处置 record."""
    role = acting_role(actor, command)
    if isinstance(role, Refusal):
        return role
    refusal = scope_refusal(
        actor, command.action, command.case_number, command.grid_code, None
    ) or opening_refusal(command, policy)
    if refusal is not None:
        return refusal
    _expect_timer(None, command, timer)
    state = CaseState(
        case_number=command.case_number,
        status=OPENING[command.action],
        source=command.source if isinstance(command, Report) else CaseSource.SUPERVISOR,
        reporter_id=actor.user_id,
        grid_code=command.grid_code,
        timer=timer,
        handled_on_time=True if isinstance(command, SelfHandle) else None,
    )
    return Decision(state, _event(None, state, actor, role, command, now))


def _expect_timer(status: CaseStatus | None, command: Command, timer: StepTimer | None) -> None:
    """The service hands in a clock exactly when a step starts, and for that step."""
    step = starting_step(status, command.action)
    if step is None and timer is not None:
        raise ValueError(f"{command.action} from {status} starts no step; hand in no timer")
    if step is not None and (timer is None or timer.step is not step):
        raise ValueError(f"{command.action} from {status} starts the {step} clock; hand it in")
    if timer is not None:
        aware(timer.started_at)
        aware(timer.deadline)


def _clock(
    state: CaseState, command: Command, now: datetime, timer: StepTimer | None
) -> StepTimer | None:
    """The clock after the transition."""
    effect = clock_effect(state.status, command.action)
    current = state.timer
    if effect is ClockEffect.START:
        return timer
    if effect is ClockEffect.STOP:
        return None
    if current is None:
        raise ValueError(f"case {state.case_number} is {state.status} but has no clock")
    if effect is ClockEffect.PAUSE:
        return current.paused_at(now)
    if isinstance(command, Resume):
        return replace(current.resumed_at(now), deadline=aware(command.deadline))
    if isinstance(command, ApproveExtension):
        granted = command.deadline or (state.pending.deadline if state.pending else None)
        assert granted is not None  # payload_refusal refuses an extension without a deadline
        return replace(current, deadline=aware(granted), extensions=current.extensions + 1)
    return current


def _apply(
    state: CaseState, actor: Actor, command: Command, now: datetime, timer: StepTimer | None
) -> CaseState:
    """The new state of an allowed action."""
    action = command.action
    new = replace(
        state,
        status=TRANSITIONS[(state.status, action)],
        version=state.version + 1,
        timer=_clock(state, command, now, timer),
    )
    if action in REQUEST_OF:
        wanted = aware(command.deadline) if isinstance(command, Extend) else None
        pending = PendingRequest(REQUEST_OF[action], actor.user_id, now, reason_of(command), wanted)
        return replace(new, pending=pending)
    if action in ANSWER_OF:
        new = replace(new, pending=None)
    match command:
        case AnswerVerification(verdict=verdict):
            return replace(new, verdict=verdict)
        case Merge(target=target):
            return replace(new, merged_into=target.case_number)
        case Dispatch(department_id=department):
            return replace(new, department_id=department, handled_on_time=None)
        case ApproveSendBack():
            return replace(new, department_id=None, sent_back_by=state.department_id)
        case ApproveExtension():
            return replace(new, extension_count=state.extension_count + 1)
        case Rework():
            return replace(new, rework_count=state.rework_count + 1, handled_on_time=None)
        case Urge():
            return replace(new, urge_count=state.urge_count + 1)
        case Close(kind=kind):
            return replace(new, close_kind=kind)
    if state.status is CaseStatus.DISPATCHED and new.status is CaseStatus.HANDLED:
        deadline = state.deadline
        return replace(new, handled_on_time=deadline is None or now <= deadline)
    return new


def _details(state: CaseState, command: Command) -> dict[str, str]:
    """Facts of the action that the timeline row keeps besides its comment."""
    found: dict[str, str] = {}
    for name in ("verdict", "criterion", "department_id", "kind", "source", "category"):
        value = getattr(command, name, None)
        if value is not None:
            found[name] = str(value)
    if isinstance(command, Merge):
        found["merged_into"] = command.target.case_number
    if isinstance(command, Extend) and state.pending is not None and state.pending.deadline:
        found["requested_deadline"] = state.pending.deadline.isoformat()
    if isinstance(command, Rework):
        found["rework_count"] = str(state.rework_count)
    return found


def _photos(command: Command) -> tuple[str, ...]:
    """Every photo the command carries, in order."""
    if isinstance(command, SelfHandle):
        return command.before_photos + command.after_photos
    photos = getattr(command, "photos", ())
    return tuple(photos)


def _event(
    before: CaseStatus | None,
    new: CaseState,
    actor: Actor,
    role: Role,
    command: Command,
    now: datetime,
) -> TimelineEvent:
    """The one timeline row of an accepted action."""
    return TimelineEvent(
        case_number=new.case_number,
        version=new.version,
        action=command.action,
        actor_id=actor.user_id,
        role=role,
        at=now,
        from_status=before,
        to_status=new.status,
        comment=reason_of(command),
        photos=_photos(command),
        deadline=new.deadline,
        details=_details(new, command),
    )
