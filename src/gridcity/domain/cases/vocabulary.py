"""The words of the case loop (案卷闭环): statuses, actions, sources, verdicts, steps, axes.

Every identifier is the glossary's (docs/glossary.md); the values are what tables, API paths,
events and tests store and show.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a case stands; pending approvals are a slot on the case, not statuses (ADR 0013)."""

    REPORTED = "reported"  # 上报: waits for the operator's intake decision (受理)
    ACCEPTED = "accepted"  # 受理: waits for 立案 (or for a 核实 task to be sent)
    TO_VERIFY = "to_verify"  # 核实 task with the grid's supervisor
    VERIFIED = "verified"  # 核实 answered (confirmed or not); waits for 立案 / 不予立案
    REGISTERED = "registered"  # 立案: waits for 派遣
    SENT_BACK = "sent_back"  # 回退 approved: waits for the dispatcher to redispatch
    DISPATCHED = "dispatched"  # 派遣: the department is handling it (处置)
    SUSPENDED = "suspended"  # 挂账: parked, the handling clock paused
    HANDLED = "handled"  # 处置 reported with result photos; waits for a 核查 task
    TO_CHECK = "to_check"  # 核查 task with the grid's supervisor
    CHECKED = "checked"  # 核查 passed; waits for 结案
    SELF_HANDLED = "self_handled"  # 自行处置 by a supervisor; waits for 结案
    CLOSED = "closed"  # 结案
    REJECTED = "rejected"  # 不予受理
    DECLINED = "declined"  # 不予立案
    VOIDED = "voided"  # 作废 (approved)
    MERGED = "merged"  # 合并 into another case (a duplicate)


TERMINAL: frozenset[CaseStatus] = frozenset(
    {
        CaseStatus.CLOSED,
        CaseStatus.REJECTED,
        CaseStatus.DECLINED,
        CaseStatus.VOIDED,
        CaseStatus.MERGED,
    }
)
OPEN: frozenset[CaseStatus] = frozenset(CaseStatus) - TERMINAL


class CaseAction(StrEnum):
    """What a person does to a case; each is one timeline row."""

    REPORT = "report"  # 上报 (opens a case)
    SELF_HANDLE = "self_handle"  # 自行处置 (opens a case already fixed)
    ACCEPT = "accept"  # 受理
    REJECT = "reject"  # 不予受理
    VERIFY = "verify"  # send a 核实 task to the grid's supervisor
    ANSWER_VERIFICATION = "answer_verification"  # the supervisor's 核实 verdict
    REGISTER = "register"  # 立案
    DECLINE = "decline"  # 不予立案
    VOID = "void"  # ask for 作废
    APPROVE_VOID = "approve_void"
    DENY_VOID = "deny_void"
    MERGE = "merge"  # 合并 a duplicate into another open case
    DISPATCH = "dispatch"  # 派遣 (also redispatch after 回退)
    SEND_BACK = "send_back"  # ask for 回退
    APPROVE_SEND_BACK = "approve_send_back"
    DENY_SEND_BACK = "deny_send_back"
    HANDLE = "handle"  # 处置 with result photos
    EXTEND = "extend"  # ask for 延期
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    SUSPEND = "suspend"  # ask for 挂账
    APPROVE_SUSPENSION = "approve_suspension"
    DENY_SUSPENSION = "deny_suspension"
    RESUME = "resume"  # 挂账恢复
    URGE = "urge"  # 督办
    REQUEST_CHECK = "request_check"  # send a 核查 task to the grid's supervisor
    CHECK = "check"  # 核查 passed
    REWORK = "rework"  # 核查 failed: 返工 to the same department
    CLOSE = "close"  # 结案 (normal, overdue, special)
    INSTRUCT = "instruct"  # 批示


class RequestKind(StrEnum):
    """An application that waits for an approver (回退 / 延期 / 挂账 / 作废)."""

    SEND_BACK = "send_back"
    EXTENSION = "extension"
    SUSPENSION = "suspension"
    VOID = "void"


class CaseSource(StrEnum):
    """Where a report comes from (问题来源)."""

    SUPERVISOR = "supervisor"  # 监督员上报 (城管通)
    PUBLIC = "public"  # 公众举报 (web, app)
    HOTLINE = "hotline"  # 热线, entered by an operator
    LEADER = "leader"  # 领导批示
    EXTERNAL = "external"  # another system (12345 platform, video, IoT), through an intake account


class Verdict(StrEnum):
    """The supervisor's answer to a 核实 task."""

    CONFIRMED = "confirmed"  # the problem is there as reported
    NOT_CONFIRMED = "not_confirmed"  # not found, or not as reported


class CloseKind(StrEnum):
    """结案 types (standards.md §4.3): 正常 / 超时 / 特殊."""

    NORMAL = "normal"  # handled within the deadline in force
    OVERDUE = "overdue"  # handled after the deadline in force
    SPECIAL = "special"  # closed without a passed check, with a reason (hopeless, moved, …)


class Step(StrEnum):
    """A step of the loop that has its own clock (时限); the service sets each limit."""

    ACCEPT = "accept"  # 受理 of a report
    VERIFY = "verify"  # 核实 on site
    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣 (and redispatch)
    HANDLE = "handle"  # 处置: the class's time limit
    REQUEST_CHECK = "request_check"  # 发核查
    CHECK = "check"  # 核查 on site
    CLOSE = "close"  # 结案


class Axis(StrEnum):
    """The two axes (两个轴心): supervision and command never do each other's work."""

    SUPERVISION = "supervision_center"
    COMMAND = "command_center"
