"""The audit log (read only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gridcity.services import audit
from gridcity.services.audit import AuditEntry
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps

router = APIRouter(prefix="/audit", tags=["accounts"], responses=ERRORS)


class AuditOut(BaseModel):
    """One audit entry."""

    id: int
    occurred_at: datetime
    actor_name: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]
    ip: str


def _out(entry: AuditEntry) -> AuditOut:
    return AuditOut(**entry.__dict__)


@router.get("", response_model=PageOut[AuditOut], summary="Audit log, newest first")
def list_entries(
    actor: ApiActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    action: str = Query("", max_length=64),
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
) -> dict[str, object]:
    """Administrators and leaders."""
    return page_out(
        audit.list_entries(deps, actor, q=q, action=action, page=page, per_page=per_page), _out
    )
