"""The key paths of the case loop, told as sentences: report to close, and every detour."""

from __future__ import annotations

from datetime import timedelta

from gridcity.domain.access import Role
from gridcity.domain.cases import (
    Accept,
    AnswerVerification,
    ApproveExtension,
    ApproveSendBack,
    ApproveSuspension,
    ApproveVoid,
    CaseAction,
    CaseSource,
    CaseStatus,
    Check,
    Close,
    CloseKind,
    Decision,
    Decline,
    DenyExtension,
    DenySendBack,
    DenyVoid,
    Dispatch,
    Extend,
    Handle,
    Instruct,
    Merge,
    MergeTarget,
    Register,
    Reject,
    RequestCheck,
    RequestKind,
    Resume,
    Rework,
    SendBack,
    Step,
    Suspend,
    Urge,
    Verdict,
    Verify,
    Void,
    decide,
)
from gridcity.domain.work_calendar import Pause
from tests.unit.case_world import (
    DEPARTMENT,
    DISPATCHER,
    DUTY_CHIEF,
    HANDLER,
    LEADER,
    OPERATOR,
    OTHER_DEPARTMENT,
    OTHER_HANDLER,
    POLICY,
    SUPERVISOR,
    T0,
    accepted,
    act,
    refused,
    report,
    self_handle,
    timer_for,
    walk,
)

S = CaseStatus


def test_a_public_report_is_verified_registered_dispatched_handled_checked_and_closed() -> None:
    state = report(CaseSource.PUBLIC)
    assert (state.status, state.version, state.timer and state.timer.step) == (
        S.REPORTED,
        1,
        Step.ACCEPT,
    )
    steps = [
        (OPERATOR, Accept(), S.ACCEPTED),
        (OPERATOR, Verify(), S.TO_VERIFY),
        (SUPERVISOR, AnswerVerification(Verdict.CONFIRMED, ("seen",)), S.VERIFIED),
        (DUTY_CHIEF, Register("1", ("1",)), S.REGISTERED),
        (DISPATCHER, Dispatch(DEPARTMENT), S.DISPATCHED),
        (HANDLER, Handle(("after",)), S.HANDLED),
        (OPERATOR, RequestCheck(), S.TO_CHECK),
        (SUPERVISOR, Check(("ok",)), S.CHECKED),
        (DUTY_CHIEF, Close(CloseKind.NORMAL), S.CLOSED),
    ]
    for number, (actor, command, status) in enumerate(steps, start=2):
        result = act(state, actor, command, now=T0 + timedelta(minutes=number))
        assert isinstance(result, Decision)
        assert (result.event.from_status, result.event.to_status) == (state.status, status)
        assert result.event.version == result.state.version == number
        state = result.state
    assert (state.close_kind, state.timer, state.handled_on_time) == (CloseKind.NORMAL, None, True)


def test_each_step_of_the_loop_runs_its_own_clock() -> None:
    assert walk(S.TO_VERIFY).timer.step is Step.VERIFY  # type: ignore[union-attr]
    assert walk(S.REGISTERED).timer.step is Step.DISPATCH  # type: ignore[union-attr]
    assert walk(S.DISPATCHED).timer.step is Step.HANDLE  # type: ignore[union-attr]
    assert walk(S.TO_CHECK).timer.step is Step.CHECK  # type: ignore[union-attr]
    assert walk(S.CHECKED).timer.step is Step.CLOSE  # type: ignore[union-attr]


def test_the_timeline_row_records_who_in_which_role_and_the_deadline_in_force() -> None:
    state = walk(S.REGISTERED)
    result = act(state, DISPATCHER, Dispatch(DEPARTMENT, "water leak"), now=T0)
    assert isinstance(result, Decision)
    event = result.event
    assert (event.actor_id, event.role, event.at, event.comment) == (
        4,
        Role.DISPATCHER,
        T0,
        "water leak",
    )
    assert event.deadline == result.state.deadline == T0 + timedelta(hours=4)
    assert event.details == {"department_id": str(DEPARTMENT)}


def test_an_operator_rejects_a_report_with_a_reason() -> None:
    state = accepted(act(report(), OPERATOR, Reject("duplicate of C0")))
    assert (state.status, state.timer) == (S.REJECTED, None)


def test_the_duty_chief_declines_a_report_that_meets_no_filing_criterion() -> None:
    state = accepted(act(walk(S.VERIFIED), DUTY_CHIEF, Decline("no criterion met")))
    assert state.status is S.DECLINED


def test_a_verification_that_does_not_confirm_leads_to_decline_not_registration() -> None:
    state = walk(S.TO_VERIFY, CaseSource.PUBLIC)
    state = accepted(act(state, SUPERVISOR, AnswerVerification(Verdict.NOT_CONFIRMED)))
    assert state.verdict is Verdict.NOT_CONFIRMED
    assert refused(act(state, DUTY_CHIEF, Register())).code == "not_confirmed"
    assert accepted(act(state, DUTY_CHIEF, Decline("not found on site"))).status is S.DECLINED


def test_a_void_is_asked_by_the_operator_and_approved_by_the_duty_chief() -> None:
    state = accepted(act(walk(S.DISPATCHED), OPERATOR, Void("registered twice")))
    assert (state.status, state.pending and state.pending.kind) == (S.DISPATCHED, RequestKind.VOID)
    assert accepted(act(state, DUTY_CHIEF, ApproveVoid())).status is S.VOIDED


def test_a_denied_void_leaves_the_case_where_it_was() -> None:
    state = accepted(act(walk(S.REGISTERED), OPERATOR, Void("registered twice")))
    state = accepted(act(state, DUTY_CHIEF, DenyVoid("it is a different problem")))
    assert (state.status, state.pending) == (S.REGISTERED, None)


def test_a_duplicate_merges_into_an_open_case() -> None:
    state = accepted(act(report(), OPERATOR, Merge(MergeTarget("C0", S.DISPATCHED))))
    assert (state.status, state.merged_into) == (S.MERGED, "C0")


def test_a_department_sends_a_case_back_and_the_dispatcher_redispatches_it() -> None:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, SendBack("the road belongs to the county")))
    assert refused(act(state, HANDLER, Handle(("after",)))).code == "approval_pending"
    state = accepted(act(state, DISPATCHER, ApproveSendBack()))
    assert (state.status, state.department_id, state.sent_back_by) == (
        S.SENT_BACK,
        None,
        DEPARTMENT,
    )
    assert state.timer.step is Step.DISPATCH  # type: ignore[union-attr]
    state = accepted(act(state, DISPATCHER, Dispatch(OTHER_DEPARTMENT)))
    assert (state.status, state.department_id) == (S.DISPATCHED, OTHER_DEPARTMENT)
    assert refused(act(state, HANDLER, Handle(("after",)))).code == "not_your_department"
    assert accepted(act(state, OTHER_HANDLER, Handle(("after",)))).status is S.HANDLED


def test_a_denied_send_back_keeps_the_case_with_the_department() -> None:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, SendBack("not ours")))
    state = accepted(act(state, DISPATCHER, DenySendBack("it is yours: see the owner record")))
    assert (state.status, state.department_id, state.pending) == (S.DISPATCHED, DEPARTMENT, None)


def test_a_granted_extension_moves_the_deadline_later() -> None:
    state = walk(S.DISPATCHED)
    before = state.deadline
    assert before is not None
    asked = before + timedelta(days=2)
    state = accepted(act(state, HANDLER, Extend(asked, "parts on order")))
    assert state.deadline == before  # asking changes nothing yet
    result = act(state, DISPATCHER, ApproveExtension())
    assert isinstance(result, Decision)
    assert (result.state.deadline, result.state.extension_count) == (asked, 1)
    assert result.state.timer.extensions == 1  # type: ignore[union-attr]
    assert result.event.deadline == asked


def test_the_dispatcher_may_grant_a_shorter_extension_than_asked() -> None:
    state = walk(S.DISPATCHED)
    assert state.deadline is not None
    state = accepted(act(state, HANDLER, Extend(state.deadline + timedelta(days=5), "parts")))
    granted = state.deadline + timedelta(days=1)  # type: ignore[operator]
    assert accepted(act(state, DISPATCHER, ApproveExtension(granted))).deadline == granted


def test_a_denied_extension_keeps_the_deadline() -> None:
    state = walk(S.DISPATCHED)
    before = state.deadline
    state = accepted(act(state, HANDLER, Extend(before + timedelta(days=2), "parts")))  # type: ignore[operator]
    state = accepted(act(state, DISPATCHER, DenyExtension("the parts are in stock")))
    assert (state.deadline, state.pending, state.extension_count) == (before, None, 0)


def test_a_suspension_pauses_the_clock_and_resuming_restarts_it() -> None:
    state = accepted(act(walk(S.DISPATCHED), HANDLER, Suspend("needs next year's budget")))
    at = T0 + timedelta(hours=1)
    state = accepted(act(state, DISPATCHER, ApproveSuspension(), now=at))
    assert state.status is S.SUSPENDED
    assert state.timer.paused and state.timer.pauses == (Pause(at),)  # type: ignore[union-attr]
    back = T0 + timedelta(days=30)
    # the service computes the new deadline over the closed pause; the domain keeps it
    pushed = state.deadline + (back - at)  # type: ignore[operator]
    state = accepted(act(state, DISPATCHER, Resume(pushed), now=back))
    assert (state.status, state.deadline) == (S.DISPATCHED, pushed)
    assert state.timer.pauses == (Pause(at, back),) and not state.timer.paused  # type: ignore[union-attr]


def test_a_failed_check_sends_the_case_back_to_the_same_department_and_counts() -> None:
    state = walk(S.TO_CHECK)
    for round_ in (1, 2):
        state = accepted(act(state, SUPERVISOR, Rework("the hole is still there")))
        assert (state.status, state.department_id, state.rework_count) == (
            S.DISPATCHED,
            DEPARTMENT,
            round_,
        )
        assert state.timer.step is Step.HANDLE  # type: ignore[union-attr]
        state = accepted(act(state, HANDLER, Handle(("after",))))
        state = accepted(act(state, OPERATOR, RequestCheck()))
    assert accepted(act(state, SUPERVISOR, Check())).status is S.CHECKED


def test_a_supervisor_self_handles_a_minor_problem_and_the_duty_chief_closes_it() -> None:
    result = decide(None, SUPERVISOR, self_handle(), POLICY, T0, timer=timer_for(Step.CLOSE, T0))
    assert isinstance(result, Decision)
    assert (result.state.status, result.event.action) == (S.SELF_HANDLED, CaseAction.SELF_HANDLE)
    assert result.event.photos == ("before", "after")
    assert accepted(act(result.state, DUTY_CHIEF, Close(CloseKind.NORMAL))).status is S.CLOSED


def test_dispatchers_and_leaders_urge_and_the_count_is_kept() -> None:
    state = walk(S.DISPATCHED)
    state = accepted(act(state, DISPATCHER, Urge("three days left")))
    state = accepted(act(state, LEADER, Urge("today please")))
    assert (state.status, state.urge_count) == (S.DISPATCHED, 2)


def test_a_leader_instructs_on_any_open_case_and_the_status_stays() -> None:
    for status in (S.REPORTED, S.DISPATCHED, S.SUSPENDED, S.CHECKED):
        state = walk(status)
        result = act(state, LEADER, Instruct("coordinate with the water company"))
        assert isinstance(result, Decision)
        assert result.state.status is status
        assert result.event.comment == "coordinate with the water company"
