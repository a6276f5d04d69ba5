"""Why the domain refuses an action: a stable machine code and an English message template.

A guard returns a ``Refusal`` (never raises it), so services can show it, log it, or turn it into
the HTTP error of its kind with ``Refusal.error()``. Messages are msgids translated at the edge
(locale/zh_CN/cases.po).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gridcity.domain.errors import Conflict, DomainError, Forbidden, InvalidInput
from gridcity.domain.imports import N_


class RefusalCode(StrEnum):
    """Every reason the case loop refuses an action (each has a test)."""

    WRONG_STATUS = "wrong_status"
    WRONG_ROLE = "wrong_role"
    WRONG_AXIS = "wrong_axis"
    WRONG_SOURCE = "wrong_source"
    NOT_YOUR_DEPARTMENT = "not_your_department"
    NOT_YOUR_GRID = "not_your_grid"
    APPROVAL_PENDING = "approval_pending"
    NO_PENDING_REQUEST = "no_pending_request"
    REASON_REQUIRED = "reason_required"
    TEXT_REQUIRED = "text_required"
    PHOTOS_REQUIRED = "photos_required"
    VERDICT_REQUIRED = "verdict_required"
    VERIFICATION_REQUIRED = "verification_required"
    NOT_CONFIRMED = "not_confirmed"
    CRITERIA_NOT_MET = "criteria_not_met"
    NOT_SELF_HANDLEABLE = "not_self_handleable"
    MERGE_INTO_SELF = "merge_into_self"
    ALREADY_MERGED = "already_merged"
    TARGET_NOT_OPEN = "target_not_open"
    SAME_DEPARTMENT = "same_department"
    REWORK_LIMIT = "rework_limit"
    DEADLINE_NOT_LATER = "deadline_not_later"
    DEADLINE_EARLIER = "deadline_earlier"
    CLOSE_KIND_NOT_ALLOWED = "close_kind_not_allowed"
    CLOSE_KIND_MISMATCH = "close_kind_mismatch"


MESSAGES: Mapping[RefusalCode, str] = {
    RefusalCode.WRONG_STATUS: N_("A case that is %(status)s cannot take the action %(action)s"),
    RefusalCode.WRONG_ROLE: N_("The action %(action)s is for the role(s) %(roles)s"),
    RefusalCode.WRONG_AXIS: N_(
        "The action %(action)s belongs to the %(axis)s; the supervision center and the command "
        "center never do each other's work"
    ),
    RefusalCode.WRONG_SOURCE: N_("Your role cannot report a case from the source %(source)s"),
    RefusalCode.NOT_YOUR_DEPARTMENT: N_("Case %(case)s is not dispatched to your department"),
    RefusalCode.NOT_YOUR_GRID: N_("Case %(case)s lies outside the grids you patrol"),
    RefusalCode.APPROVAL_PENDING: N_(
        "Case %(case)s waits for the answer to a %(request)s request; answer it first"
    ),
    RefusalCode.NO_PENDING_REQUEST: N_("Case %(case)s has no %(request)s request to answer"),
    RefusalCode.REASON_REQUIRED: N_("The action %(action)s needs a written reason"),
    RefusalCode.TEXT_REQUIRED: N_("An instruction needs its text"),
    RefusalCode.PHOTOS_REQUIRED: N_(
        "The action %(action)s needs at least %(count)s photo(s) in %(field)s"
    ),
    RefusalCode.VERDICT_REQUIRED: N_(
        "A verification answer needs a verdict: confirmed or not_confirmed"
    ),
    RefusalCode.VERIFICATION_REQUIRED: N_(
        "A report from the source %(source)s is verified on site before it is registered"
    ),
    RefusalCode.NOT_CONFIRMED: N_(
        "The verification did not confirm the problem; decline the case instead"
    ),
    RefusalCode.CRITERIA_NOT_MET: N_(
        "Registration names one of the class's filing criteria (%(criteria)s), got %(given)s"
    ),
    RefusalCode.NOT_SELF_HANDLEABLE: N_(
        "The class %(category)s is not one a supervisor may handle on the spot"
    ),
    RefusalCode.MERGE_INTO_SELF: N_("A case cannot be merged into itself"),
    RefusalCode.ALREADY_MERGED: N_(
        "Case %(target)s is itself merged into another case; merge into that one"
    ),
    RefusalCode.TARGET_NOT_OPEN: N_("Case %(target)s is %(status)s; merge only into an open case"),
    RefusalCode.SAME_DEPARTMENT: N_(
        "Department %(department)s sent this case back; redispatch it to another department"
    ),
    RefusalCode.REWORK_LIMIT: N_(
        "Case %(case)s has been reworked %(count)s times, the most the policy allows; "
        "the duty chief decides (special close)"
    ),
    RefusalCode.DEADLINE_NOT_LATER: N_(
        "An extension moves the deadline later than the one in force (%(current)s), "
        "got %(deadline)s"
    ),
    RefusalCode.DEADLINE_EARLIER: N_(
        "The deadline never moves backwards: %(deadline)s is earlier than the one in force "
        "(%(current)s)"
    ),
    RefusalCode.CLOSE_KIND_NOT_ALLOWED: N_(
        "A case that is %(status)s can only be closed as %(allowed)s, not %(kind)s"
    ),
    RefusalCode.CLOSE_KIND_MISMATCH: N_(
        "The handling time decides the kind: close this case as %(expected)s, not %(kind)s"
    ),
}

# The HTTP family of each refusal: who may act (403), the case's state (409), the input (422).
_FORBIDDEN = frozenset(
    {
        RefusalCode.WRONG_ROLE,
        RefusalCode.WRONG_AXIS,
        RefusalCode.WRONG_SOURCE,
        RefusalCode.NOT_YOUR_DEPARTMENT,
        RefusalCode.NOT_YOUR_GRID,
    }
)
_CONFLICT = frozenset(
    {
        RefusalCode.WRONG_STATUS,
        RefusalCode.APPROVAL_PENDING,
        RefusalCode.NO_PENDING_REQUEST,
        RefusalCode.ALREADY_MERGED,
        RefusalCode.TARGET_NOT_OPEN,
        RefusalCode.REWORK_LIMIT,
        RefusalCode.NOT_CONFIRMED,
        RefusalCode.VERIFICATION_REQUIRED,
    }
)


@dataclass(frozen=True)
class Refusal:
    """A typed refusal: ``code`` for machines, ``message`` (msgid) % ``params`` for people."""

    code: RefusalCode
    params: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, code: RefusalCode, **params: object) -> Refusal:
        """A refusal with its message parameters."""
        return cls(code, params)

    @property
    def message(self) -> str:
        """The English message template (a msgid)."""
        return MESSAGES[self.code]

    @property
    def text(self) -> str:
        """The English message with its parameters filled in."""
        return self.message % dict(self.params)

    def error(self) -> DomainError:
        """The domain error a service raises for it (403, 409 or 422)."""
        kind: type[DomainError] = InvalidInput
        if self.code in _FORBIDDEN:
            kind = Forbidden
        elif self.code in _CONFLICT:
            kind = Conflict
        return kind(self.code.value, self.message, **self.params)
