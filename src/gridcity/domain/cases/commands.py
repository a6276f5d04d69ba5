"""The payload of each action, one frozen class per action (``Command`` is their union).

Fields marked "from the catalog" or "computed by the service" are not the user's input: the
service fills them from the catalog or the working calendar before it calls ``decide``.
Photos are attachment ids of files the service has already stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from gridcity.domain.cases.vocabulary import (
    CaseAction,
    CaseSource,
    CaseStatus,
    CloseKind,
    Verdict,
)


@dataclass(frozen=True)
class Report:
    """上报: opens a case (the service allocates the number and locates the grid)."""

    action: ClassVar[CaseAction] = CaseAction.REPORT
    case_number: str
    source: CaseSource
    grid_code: str | None = None
    photos: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class SelfHandle:
    """自行处置: a supervisor fixed a minor problem on the spot and opens the case as handled."""

    action: ClassVar[CaseAction] = CaseAction.SELF_HANDLE
    case_number: str
    category: str  # class code, for the message
    self_handleable: bool  # from the catalog: the class allows 自行处置
    grid_code: str | None = None
    before_photos: tuple[str, ...] = ()
    after_photos: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Accept:
    """受理."""

    action: ClassVar[CaseAction] = CaseAction.ACCEPT
    comment: str = ""


@dataclass(frozen=True)
class Reject:
    """不予受理 (duplicate, out of scope, invalid), with a reason."""

    action: ClassVar[CaseAction] = CaseAction.REJECT
    reason: str = ""


@dataclass(frozen=True)
class Verify:
    """Send a 核实 task to the grid's supervisor."""

    action: ClassVar[CaseAction] = CaseAction.VERIFY
    comment: str = ""


@dataclass(frozen=True)
class AnswerVerification:
    """The supervisor's 核实 answer, with its verdict."""

    action: ClassVar[CaseAction] = CaseAction.ANSWER_VERIFICATION
    verdict: Verdict | None = None
    photos: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Register:
    """立案 against one of the class's filing criteria."""

    action: ClassVar[CaseAction] = CaseAction.REGISTER
    criterion: str | None = None  # the 立案条件 code the duty chief found met
    filing_criteria: tuple[str, ...] = ()  # from the catalog: the class's criterion codes
    comment: str = ""


@dataclass(frozen=True)
class Decline:
    """不予立案, with a reason."""

    action: ClassVar[CaseAction] = CaseAction.DECLINE
    reason: str = ""


@dataclass(frozen=True)
class Void:
    """Ask for 作废, with a reason."""

    action: ClassVar[CaseAction] = CaseAction.VOID
    reason: str = ""


@dataclass(frozen=True)
class ApproveVoid:
    """作废 approved by the duty chief."""

    action: ClassVar[CaseAction] = CaseAction.APPROVE_VOID
    comment: str = ""


@dataclass(frozen=True)
class DenyVoid:
    """作废 denied."""

    action: ClassVar[CaseAction] = CaseAction.DENY_VOID
    comment: str = ""


@dataclass(frozen=True)
class MergeTarget:
    """The case a duplicate merges into, as the service loaded it."""

    case_number: str
    status: CaseStatus


@dataclass(frozen=True)
class Merge:
    """合并 a duplicate into another open case."""

    action: ClassVar[CaseAction] = CaseAction.MERGE
    target: MergeTarget
    comment: str = ""


@dataclass(frozen=True)
class Dispatch:
    """派遣 (or redispatch) to a department."""

    action: ClassVar[CaseAction] = CaseAction.DISPATCH
    department_id: int
    comment: str = ""


@dataclass(frozen=True)
class SendBack:
    """Ask for 回退: the case is not the department's."""

    action: ClassVar[CaseAction] = CaseAction.SEND_BACK
    reason: str = ""


@dataclass(frozen=True)
class ApproveSendBack:
    """回退 approved: the case goes back to the dispatcher for redispatch."""

    action: ClassVar[CaseAction] = CaseAction.APPROVE_SEND_BACK
    comment: str = ""


@dataclass(frozen=True)
class DenySendBack:
    """回退 denied: the department keeps the case."""

    action: ClassVar[CaseAction] = CaseAction.DENY_SEND_BACK
    comment: str = ""


@dataclass(frozen=True)
class Handle:
    """处置 reported, with result photos."""

    action: ClassVar[CaseAction] = CaseAction.HANDLE
    photos: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Extend:
    """Ask for 延期 to ``deadline`` (computed by the service from the time asked for)."""

    action: ClassVar[CaseAction] = CaseAction.EXTEND
    deadline: datetime
    reason: str = ""


@dataclass(frozen=True)
class ApproveExtension:
    """延期 approved; ``deadline`` None grants the one asked for."""

    action: ClassVar[CaseAction] = CaseAction.APPROVE_EXTENSION
    deadline: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class DenyExtension:
    """延期 denied: the deadline in force stays."""

    action: ClassVar[CaseAction] = CaseAction.DENY_EXTENSION
    comment: str = ""


@dataclass(frozen=True)
class Suspend:
    """Ask for 挂账, explained in writing."""

    action: ClassVar[CaseAction] = CaseAction.SUSPEND
    reason: str = ""


@dataclass(frozen=True)
class ApproveSuspension:
    """挂账 approved: the handling clock pauses."""

    action: ClassVar[CaseAction] = CaseAction.APPROVE_SUSPENSION
    comment: str = ""


@dataclass(frozen=True)
class DenySuspension:
    """挂账 denied."""

    action: ClassVar[CaseAction] = CaseAction.DENY_SUSPENSION
    comment: str = ""


@dataclass(frozen=True)
class Resume:
    """挂账恢复; ``deadline`` is computed by the service over ``timer.resumed_at(now).pauses``."""

    action: ClassVar[CaseAction] = CaseAction.RESUME
    deadline: datetime
    comment: str = ""


@dataclass(frozen=True)
class Urge:
    """督办."""

    action: ClassVar[CaseAction] = CaseAction.URGE
    comment: str = ""


@dataclass(frozen=True)
class RequestCheck:
    """Send a 核查 task to the grid's supervisor."""

    action: ClassVar[CaseAction] = CaseAction.REQUEST_CHECK
    comment: str = ""


@dataclass(frozen=True)
class Check:
    """核查 passed on site."""

    action: ClassVar[CaseAction] = CaseAction.CHECK
    photos: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Rework:
    """核查 failed: 返工 to the same department, with the reason."""

    action: ClassVar[CaseAction] = CaseAction.REWORK
    reason: str = ""
    photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Close:
    """结案 of a kind; a special close needs a reason."""

    action: ClassVar[CaseAction] = CaseAction.CLOSE
    kind: CloseKind = CloseKind.NORMAL
    reason: str = ""


@dataclass(frozen=True)
class Instruct:
    """批示: a leader's instruction on a case."""

    action: ClassVar[CaseAction] = CaseAction.INSTRUCT
    text: str = ""


Opening = Report | SelfHandle
Command = (
    Report
    | SelfHandle
    | Accept
    | Reject
    | Verify
    | AnswerVerification
    | Register
    | Decline
    | Void
    | ApproveVoid
    | DenyVoid
    | Merge
    | Dispatch
    | SendBack
    | ApproveSendBack
    | DenySendBack
    | Handle
    | Extend
    | ApproveExtension
    | DenyExtension
    | Suspend
    | ApproveSuspension
    | DenySuspension
    | Resume
    | Urge
    | RequestCheck
    | Check
    | Rework
    | Close
    | Instruct
)
