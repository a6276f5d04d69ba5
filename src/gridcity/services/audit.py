"""The audit trail: appended inside the caller's transaction, never committed on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import AuditLog
from gridcity.domain.access import Actor, Permission, require
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.pagination import Page, paginate


def append(
    session: Session,
    *,
    at: datetime,
    actor: Actor | None,
    action: str,
    target_type: str = "",
    target_id: object = "",
    detail: dict[str, Any] | None = None,
    info: RequestInfo | None = None,
    actor_name: str | None = None,
) -> None:
    """Add one audit row to the session (the caller commits)."""
    info = info or RequestInfo()
    session.add(
        AuditLog(
            occurred_at=at,
            actor_id=actor.user_id if actor else None,
            actor_name=actor_name or (actor.username if actor else "system"),
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail or {},
            ip=info.ip,
            request_id=info.request_id,
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    occurred_at: datetime
    actor_name: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]
    ip: str

    @classmethod
    def of(cls, row: AuditLog) -> AuditEntry:
        """Read model from a row."""
        return cls(
            row.id,
            row.occurred_at,
            row.actor_name,
            row.action,
            row.target_type,
            row.target_id,
            dict(row.detail or {}),
            row.ip,
        )


def list_entries(
    deps: ServiceDeps,
    actor: Actor,
    *,
    q: str = "",
    action: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEntry]:
    """Newest audit entries first, filtered by actor name / target (``q``) and action."""
    require(actor, Permission.AUDIT_READ)
    query = sa.select(AuditLog).order_by(AuditLog.id.desc())
    if q:
        query = query.where(
            sa.or_(
                AuditLog.actor_name.icontains(q, autoescape=True),
                AuditLog.target_id.icontains(q, autoescape=True),
            )
        )
    if action:
        query = query.where(AuditLog.action == action)
    with deps.db.read() as session:
        return paginate(session, query, page=page, per_page=per_page, convert=AuditEntry.of)


def list_actions(deps: ServiceDeps, actor: Actor) -> list[str]:
    """The distinct actions present in the log, for the action filter."""
    require(actor, Permission.AUDIT_READ)
    with deps.db.read() as session:
        return list(
            session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action))
        )
