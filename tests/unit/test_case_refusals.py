"""Every refusal reason of the case loop, each from a situation that produces it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gridcity.domain.access import Actor
from gridcity.domain.cases import (
    MESSAGES,
    Accept,
    AnswerVerification,
    ApproveExtension,
    ApproveVoid,
    CaseSource,
    CaseStatus,
    Check,
    Close,
    CloseKind,
    Command,
    Decline,
    Dispatch,
    Extend,
    Handle,
    Instruct,
    Merge,
    MergeTarget,
    Policy,
    Refusal,
    RefusalCode,
    Register,
    Reject,
    Report,
    RequestCheck,
    Resume,
    Rework,
    SendBack,
    Suspend,
    Urge,
    Verdict,
    Void,
)
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput
from tests.unit.case_world import (
    ADMIN,
    DEPARTMENT,
    DISPATCHER,
    DUTY_CHIEF,
    GRID,
    HANDLER,
    LEADER,
    OPERATOR,
    OTHER_HANDLER,
    OTHER_SUPERVISOR,
    PUBLIC,
    SUPERVISOR,
    T0,
    accepted,
    act,
    refused,
    self_handle,
    walk,
)

R = RefusalCode
S = CaseStatus


def _wrong_status() -> Refusal:
    return refused(act(walk(S.DISPATCHED), OPERATOR, Accept()))


def _wrong_role() -> Refusal:
    return refused(act(walk(S.REPORTED), PUBLIC, Reject("spam")))


def _wrong_axis() -> Refusal:
    return refused(act(walk(S.REGISTERED), SUPERVISOR, Dispatch(DEPARTMENT)))


def _wrong_source() -> Refusal:
    return refused(act(None, PUBLIC, Report("C9", CaseSource.SUPERVISOR, GRID, ("p",))))


def _not_your_department() -> Refusal:
    return refused(act(walk(S.DISPATCHED), OTHER_HANDLER, Handle(("after",))))


def _not_your_grid() -> Refusal:
    return refused(act(walk(S.TO_CHECK), OTHER_SUPERVISOR, Check()))


def _approval_pending() -> Refusal:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, Suspend("needs a budget")))
    return refused(act(state, HANDLER, Handle(("after",))))


def _no_pending_request() -> Refusal:
    return refused(act(walk(S.DISPATCHED), DISPATCHER, ApproveExtension()))


def _reason_required() -> Refusal:
    return refused(act(walk(S.REPORTED), OPERATOR, Reject("  ")))


def _text_required() -> Refusal:
    return refused(act(walk(S.DISPATCHED), LEADER, Instruct("")))


def _photos_required() -> Refusal:
    return refused(act(walk(S.DISPATCHED), HANDLER, Handle()))


def _verdict_required() -> Refusal:
    return refused(act(walk(S.TO_VERIFY), SUPERVISOR, AnswerVerification()))


def _verification_required() -> Refusal:
    state = walk(S.ACCEPTED, CaseSource.PUBLIC)
    return refused(act(state, DUTY_CHIEF, Register()))


def _not_confirmed() -> Refusal:
    state = accepted(act(walk(S.TO_VERIFY), SUPERVISOR, AnswerVerification(Verdict.NOT_CONFIRMED)))
    return refused(act(state, DUTY_CHIEF, Register()))


def _criteria_not_met() -> Refusal:
    command = Register(criterion="9", filing_criteria=("1", "2"))
    return refused(act(walk(S.ACCEPTED), DUTY_CHIEF, command))


def _not_self_handleable() -> Refusal:
    return refused(act(None, SUPERVISOR, self_handle(handleable=False)))


def _merge_into_self() -> Refusal:
    return refused(act(walk(S.REPORTED), OPERATOR, Merge(MergeTarget("C1", S.ACCEPTED))))


def _already_merged() -> Refusal:
    return refused(act(walk(S.REPORTED), OPERATOR, Merge(MergeTarget("C0", S.MERGED))))


def _target_not_open() -> Refusal:
    return refused(act(walk(S.REPORTED), OPERATOR, Merge(MergeTarget("C0", S.CLOSED))))


def _same_department() -> Refusal:
    return refused(act(walk(S.SENT_BACK), DISPATCHER, Dispatch(DEPARTMENT)))


def _rework_limit() -> Refusal:
    policy = Policy(rework_limit=1)
    state = accepted(act(walk(S.TO_CHECK), SUPERVISOR, Rework("still broken"), policy=policy))
    state = accepted(act(state, HANDLER, Handle(("after",))))
    state = accepted(act(state, OPERATOR, RequestCheck()))
    return refused(act(state, SUPERVISOR, Rework("still broken"), policy=policy))


def _deadline_not_later() -> Refusal:
    state = walk(S.DISPATCHED)
    assert state.deadline is not None
    return refused(act(state, HANDLER, Extend(state.deadline - timedelta(hours=1), "late")))


def _deadline_earlier() -> Refusal:
    state = walk(S.SUSPENDED)
    assert state.deadline is not None
    return refused(act(state, DISPATCHER, Resume(state.deadline - timedelta(minutes=1))))


def _close_kind_not_allowed() -> Refusal:
    return refused(act(walk(S.DISPATCHED), DUTY_CHIEF, Close(CloseKind.NORMAL)))


def _close_kind_mismatch() -> Refusal:
    return refused(act(walk(S.CHECKED), DUTY_CHIEF, Close(CloseKind.OVERDUE)))


SITUATIONS: dict[RefusalCode, Callable[[], Refusal]] = {
    R.WRONG_STATUS: _wrong_status,
    R.WRONG_ROLE: _wrong_role,
    R.WRONG_AXIS: _wrong_axis,
    R.WRONG_SOURCE: _wrong_source,
    R.NOT_YOUR_DEPARTMENT: _not_your_department,
    R.NOT_YOUR_GRID: _not_your_grid,
    R.APPROVAL_PENDING: _approval_pending,
    R.NO_PENDING_REQUEST: _no_pending_request,
    R.REASON_REQUIRED: _reason_required,
    R.TEXT_REQUIRED: _text_required,
    R.PHOTOS_REQUIRED: _photos_required,
    R.VERDICT_REQUIRED: _verdict_required,
    R.VERIFICATION_REQUIRED: _verification_required,
    R.NOT_CONFIRMED: _not_confirmed,
    R.CRITERIA_NOT_MET: _criteria_not_met,
    R.NOT_SELF_HANDLEABLE: _not_self_handleable,
    R.MERGE_INTO_SELF: _merge_into_self,
    R.ALREADY_MERGED: _already_merged,
    R.TARGET_NOT_OPEN: _target_not_open,
    R.SAME_DEPARTMENT: _same_department,
    R.REWORK_LIMIT: _rework_limit,
    R.DEADLINE_NOT_LATER: _deadline_not_later,
    R.DEADLINE_EARLIER: _deadline_earlier,
    R.CLOSE_KIND_NOT_ALLOWED: _close_kind_not_allowed,
    R.CLOSE_KIND_MISMATCH: _close_kind_mismatch,
}


def test_every_refusal_code_has_a_situation_and_a_message() -> None:
    assert set(SITUATIONS) == set(RefusalCode)
    assert set(MESSAGES) == set(RefusalCode)


@pytest.mark.parametrize("code", list(RefusalCode))
def test_each_refusal_comes_with_its_code_and_a_complete_message(code: RefusalCode) -> None:
    refusal = SITUATIONS[code]()
    assert refusal.code is code
    assert "%(" not in refusal.text  # every placeholder is filled
    error = refusal.error()
    assert (error.code, error.message, error.params) == (
        code.value,
        refusal.message,
        refusal.params,
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (R.WRONG_ROLE, Forbidden),
        (R.NOT_YOUR_DEPARTMENT, Forbidden),
        (R.WRONG_STATUS, Conflict),
        (R.APPROVAL_PENDING, Conflict),
        (R.REASON_REQUIRED, InvalidInput),
        (R.DEADLINE_EARLIER, InvalidInput),
    ],
)
def test_a_refusal_becomes_the_http_error_of_its_kind(code: RefusalCode, kind: type) -> None:
    assert isinstance(SITUATIONS[code]().error(), kind)


# --- more sentences for the rules behind the codes -------------------------------------------


@pytest.mark.parametrize(
    ("status", "actor", "command"),
    [
        (S.REPORTED, OPERATOR, Reject("")),
        (S.ACCEPTED, DUTY_CHIEF, Decline("")),
        (S.REGISTERED, OPERATOR, Void("")),
        (S.DISPATCHED, HANDLER, SendBack("")),
        (S.DISPATCHED, HANDLER, Suspend("")),
        (S.TO_CHECK, SUPERVISOR, Rework("")),
        (S.DISPATCHED, DUTY_CHIEF, Close(CloseKind.SPECIAL, "")),
    ],
)
def test_reject_decline_void_send_back_suspend_rework_and_special_close_need_a_reason(
    status: CaseStatus, actor: Actor, command: Command
) -> None:
    assert refused(act(walk(status), actor, command)).code is R.REASON_REQUIRED


def test_an_extension_request_needs_a_reason() -> None:
    state = walk(S.DISPATCHED)
    assert state.deadline is not None
    extend = Extend(state.deadline + timedelta(hours=2), "")
    assert refused(act(state, HANDLER, extend)).code is R.REASON_REQUIRED


def test_the_command_center_never_registers_or_closes() -> None:
    assert refused(act(walk(S.ACCEPTED), DISPATCHER, Register())).code is R.WRONG_AXIS
    assert refused(act(walk(S.CHECKED), HANDLER, Close())).code is R.WRONG_AXIS


def test_the_supervision_center_never_handles() -> None:
    assert refused(act(walk(S.DISPATCHED), OPERATOR, Handle(("a",)))).code is R.WRONG_AXIS


def test_an_administrator_or_a_leader_has_no_case_work_unless_the_table_says_so() -> None:
    assert refused(act(walk(S.REGISTERED), ADMIN, Dispatch(DEPARTMENT))).code is R.WRONG_ROLE
    assert refused(act(walk(S.REGISTERED), LEADER, Dispatch(DEPARTMENT))).code is R.WRONG_ROLE
    assert refused(act(walk(S.REPORTED), ADMIN, Accept())).code is R.WRONG_ROLE


def test_a_hotline_report_comes_from_an_operator_and_a_public_one_from_the_public() -> None:
    assert (
        accepted(act(None, OPERATOR, Report("C2", CaseSource.HOTLINE, GRID))).source
        is CaseSource.HOTLINE
    )
    assert (
        refused(act(None, OPERATOR, Report("C3", CaseSource.PUBLIC, GRID))).code is R.WRONG_SOURCE
    )
    assert (
        refused(act(None, DISPATCHER, Report("C4", CaseSource.HOTLINE, GRID))).code is R.WRONG_ROLE
    )


def test_a_supervisor_report_needs_its_photo_a_public_one_does_not() -> None:
    bare = Report("C5", CaseSource.SUPERVISOR, GRID)
    assert refused(act(None, SUPERVISOR, bare)).code is R.PHOTOS_REQUIRED
    assert accepted(act(None, SUPERVISOR, bare, policy=Policy(supervisor_report_photos=0)))
    assert accepted(act(None, PUBLIC, Report("C6", CaseSource.PUBLIC, GRID)))


def test_self_handling_needs_photos_after_as_well_as_before() -> None:
    refusal = refused(act(None, SUPERVISOR, self_handle(after=())))
    assert (refusal.code, refusal.params["field"]) == (R.PHOTOS_REQUIRED, "after_photos")


def test_self_handling_happens_in_the_supervisors_own_grids() -> None:
    assert refused(act(None, OTHER_SUPERVISOR, self_handle())).code is R.NOT_YOUR_GRID


def test_verification_can_be_switched_off_by_policy() -> None:
    state = walk(S.ACCEPTED, CaseSource.PUBLIC)
    policy = Policy(verify_non_supervisor_reports=False)
    assert accepted(act(state, DUTY_CHIEF, Register(), policy=policy)).status is S.REGISTERED


def test_registration_against_a_met_criterion_is_allowed() -> None:
    command = Register(criterion="2", filing_criteria=("1", "2"))
    assert accepted(act(walk(S.ACCEPTED), DUTY_CHIEF, command)).status is S.REGISTERED


def test_an_answer_of_another_kind_finds_no_pending_request() -> None:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, Suspend("needs a budget")))
    refusal = refused(act(state, DUTY_CHIEF, ApproveVoid()))
    assert (refusal.code, refusal.params["request"]) == (R.NO_PENDING_REQUEST, "void")


def test_urge_and_instruct_still_work_while_a_request_waits() -> None:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, Suspend("needs a budget")))
    state = accepted(act(state, LEADER, Instruct("settle the budget")))
    assert accepted(act(state, DISPATCHER, Urge("today"))).urge_count == 1
    assert refused(act(state, OPERATOR, Void("mistake"))).code is R.APPROVAL_PENDING


def test_an_approved_extension_is_never_earlier_than_the_deadline_in_force() -> None:
    state = walk(S.DISPATCHED)
    assert state.deadline is not None
    state = accepted(act(state, HANDLER, Extend(state.deadline + timedelta(hours=8), "late")))
    assert state.deadline is not None
    early = state.deadline - timedelta(minutes=1)
    assert refused(act(state, DISPATCHER, ApproveExtension(early))).code is R.DEADLINE_NOT_LATER


def test_a_late_handling_cannot_be_closed_as_normal() -> None:
    state = walk(S.DISPATCHED)
    assert state.deadline is not None
    late = state.deadline + timedelta(minutes=1)
    state = accepted(act(state, HANDLER, Handle(("after",)), now=late))
    assert state.handled_on_time is False
    state = accepted(act(state, OPERATOR, RequestCheck(), now=late))
    state = accepted(act(state, SUPERVISOR, Check(), now=late))
    assert refused(act(state, DUTY_CHIEF, Close(CloseKind.NORMAL))).code is R.CLOSE_KIND_MISMATCH
    assert (
        accepted(act(state, DUTY_CHIEF, Close(CloseKind.OVERDUE))).close_kind is CloseKind.OVERDUE
    )


def test_a_naive_time_is_refused_as_ambiguous() -> None:
    with pytest.raises(InvalidInput):
        act(walk(S.REPORTED), OPERATOR, Accept(), now=T0.replace(tzinfo=None))
