"""The case aggregate as plain frozen values: its state, its step clock, its policy, its events.

The domain never reads a clock or a calendar: the service computes every deadline with
``gridcity.domain.work_calendar`` and hands it in; here deadlines are only compared and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from gridcity.domain.access import Role
from gridcity.domain.cases.vocabulary import (
    CaseAction,
    CaseSource,
    CaseStatus,
    CloseKind,
    RequestKind,
    Step,
    Verdict,
)
from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import InvalidInput
from gridcity.domain.work_calendar import Pause


@dataclass(frozen=True)
class StepTimer:
    """The clock of the running step: filled by the service from the working calendar.

    ``deadline`` is the deadline in force: the calendar's deadline for ``limit`` ``unit`` from
    ``started_at`` with ``pauses``, or a later one an approved extension set. While the last
    pause has no end the clock stands still and ``deadline`` is the one before the pause.
    """

    step: Step
    started_at: datetime
    limit: Decimal
    unit: TimeUnit
    deadline: datetime
    pauses: tuple[Pause, ...] = ()
    extensions: int = 0

    @property
    def paused(self) -> bool:
        """True while a 挂账 pause is running."""
        return bool(self.pauses) and self.pauses[-1].end is None

    def paused_at(self, now: datetime) -> StepTimer:
        """The clock with a pause starting at ``now``."""
        return replace(self, pauses=(*self.pauses, Pause(now)))

    def resumed_at(self, now: datetime) -> StepTimer:
        """The clock with its running pause ended at ``now`` (the service then computes the deadline)."""
        if not self.paused:
            return self
        return replace(self, pauses=(*self.pauses[:-1], Pause(self.pauses[-1].start, now)))


@dataclass(frozen=True)
class PendingRequest:
    """An application waiting for its approver (回退 / 延期 / 挂账 / 作废); one at a time."""

    kind: RequestKind
    requested_by: int | None
    requested_at: datetime
    reason: str
    deadline: datetime | None = None  # the deadline an extension asks for


@dataclass(frozen=True)
class CaseState:
    """What the rules of the loop need to know about one case; ``version`` guards concurrent writes."""

    case_number: str
    status: CaseStatus
    source: CaseSource
    version: int = 1
    reporter_id: int | None = None
    grid_code: str | None = None
    department_id: int | None = None  # the department the case is dispatched to
    sent_back_by: int | None = None  # the department whose 回退 was approved last
    verdict: Verdict | None = None  # the last 核实 answer
    pending: PendingRequest | None = None
    timer: StepTimer | None = None
    handled_on_time: bool | None = None  # at the last 处置, against the deadline in force
    rework_count: int = 0
    extension_count: int = 0
    urge_count: int = 0
    merged_into: str | None = None
    close_kind: CloseKind | None = None

    @property
    def deadline(self) -> datetime | None:
        """The deadline in force of the running step, if any."""
        return None if self.timer is None else self.timer.deadline


@dataclass(frozen=True)
class Policy:
    """The rules a city may change (data, edited by administrators later); defaults are 🟡 seeds."""

    verify_non_supervisor_reports: bool = True  # 公众/热线 reports are 核实 before 立案
    supervisor_report_photos: int = 1  # 城管通 reports carry a photo
    handle_photos: int = 1  # 处置 needs result photos
    self_handle_photos: int = 1  # before and after, each
    rework_limit: int | None = None  # None: no limit

    def __post_init__(self) -> None:
        for name in ("supervisor_report_photos", "handle_photos", "self_handle_photos"):
            value = getattr(self, name)
            if not 0 <= value <= 20:
                raise InvalidInput(
                    "invalid_case_policy",
                    "Case policy %(name)s is 0–20 photos, got %(value)s",
                    name=name,
                    value=value,
                )
        if self.rework_limit is not None and not 1 <= self.rework_limit <= 100:
            raise InvalidInput(
                "invalid_case_policy",
                "Case policy rework_limit is 1–100 or empty, got %(value)s",
                value=self.rework_limit,
            )


@dataclass(frozen=True)
class TimelineEvent:
    """One row of the case's timeline (who, role, when, from → to, comment, photos, deadline)."""

    case_number: str
    version: int  # the case's version after this action: rows are numbered 1, 2, 3, …
    action: CaseAction
    actor_id: int | None
    role: Role
    at: datetime
    from_status: CaseStatus | None  # None: the action opened the case
    to_status: CaseStatus
    comment: str = ""
    photos: tuple[str, ...] = ()
    deadline: datetime | None = None  # the deadline in force after the action
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """An accepted action: the case's new state and the one timeline row that records it."""

    state: CaseState
    event: TimelineEvent
