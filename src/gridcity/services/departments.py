"""Professional departments (专业部门) and the two centers (监督中心, 指挥中心)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import Center, Department, Division, User
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.departments import CenterKind, DepartmentKind, validate_uscc
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.pagination import Page, paginate


@dataclass(frozen=True)
class DepartmentView:
    """A department as shown to people."""

    id: int
    name: str
    short_name: str
    credit_code: str | None
    kind: DepartmentKind
    contact_person: str
    contact_phone: str
    address: str
    is_active: bool

    @classmethod
    def of(cls, row: Department) -> DepartmentView:
        """Read model from a row."""
        return cls(
            row.id,
            row.name,
            row.short_name,
            row.credit_code,
            DepartmentKind(row.kind),
            row.contact_person,
            row.contact_phone,
            row.address,
            row.is_active,
        )


@dataclass(frozen=True)
class DepartmentInput:
    """Editable fields of a department."""

    name: str
    kind: DepartmentKind
    short_name: str = ""
    credit_code: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    address: str = ""
    is_active: bool = True

    def cleaned(self) -> dict[str, Any]:
        """Validated column values."""
        name = self.name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidInput("name_length", "A name needs 1 to 100 characters")
        return {
            "name": name,
            "kind": self.kind.value,
            "short_name": self.short_name.strip()[:40],
            "credit_code": validate_uscc(self.credit_code) if self.credit_code.strip() else None,
            "contact_person": self.contact_person.strip()[:50],
            "contact_phone": self.contact_phone.strip()[:30],
            "address": self.address.strip()[:200],
            "is_active": self.is_active,
        }


def _check_unique(session: Session, values: dict[str, Any], own_id: int | None) -> None:
    clash = session.scalar(
        sa.select(Department).where(
            sa.or_(
                Department.name == values["name"],
                sa.and_(
                    Department.credit_code.is_not(None),
                    Department.credit_code == values["credit_code"],
                ),
            ),
            Department.id != (own_id or -1),
        )
    )
    if clash is not None and clash.name == values["name"]:
        raise Conflict("department_name_taken", "Another department already has this name")
    if clash is not None:
        raise Conflict(
            "department_credit_code_taken",
            "Another department already has this unified social credit code",
        )


def create_department(
    deps: ServiceDeps, actor: Actor, data: DepartmentInput, *, info: RequestInfo
) -> DepartmentView:
    """Register a department."""
    require(actor, Permission.ORG_WRITE)
    values = data.cleaned()
    now = deps.clock()
    with deps.db.transaction() as session:
        _check_unique(session, values, None)
        district = session.scalar(
            sa.select(Division.id)
            .where(Division.level == DivisionLevel.DISTRICT.value)
            .order_by(Division.id)
            .limit(1)
        )
        row = Department(**values, district_id=district, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="department.created",
            target_type="department",
            target_id=row.id,
            detail={"name": row.name, "credit_code": row.credit_code},
            info=info,
        )
        return DepartmentView.of(row)


def update_department(
    deps: ServiceDeps, actor: Actor, department_id: int, data: DepartmentInput, *, info: RequestInfo
) -> DepartmentView:
    """Change a department's fields; the change is audited field by field."""
    require(actor, Permission.ORG_WRITE)
    values = data.cleaned()
    now = deps.clock()
    with deps.db.transaction() as session:
        row = session.get(Department, department_id)
        if row is None:
            raise NotFound("department_not_found", "No department %(id)s", id=department_id)
        _check_unique(session, values, row.id)
        changes = {k: [getattr(row, k), v] for k, v in values.items() if getattr(row, k) != v}
        for key, value in values.items():
            setattr(row, key, value)
        if changes:
            row.updated_at = now
            audit.append(
                session,
                at=now,
                actor=actor,
                action="department.updated",
                target_type="department",
                target_id=row.id,
                detail=changes,
                info=info,
            )
        return DepartmentView.of(row)


def get_department(deps: ServiceDeps, actor: Actor, department_id: int) -> DepartmentView:
    """One department by id."""
    require(actor, Permission.ORG_READ)
    with deps.db.read() as session:
        row = session.get(Department, department_id)
        if row is None:
            raise NotFound("department_not_found", "No department %(id)s", id=department_id)
        return DepartmentView.of(row)


def list_departments(
    deps: ServiceDeps,
    actor: Actor,
    *,
    q: str = "",
    page: int = 1,
    per_page: int = 20,
    active_only: bool = False,
) -> Page[DepartmentView]:
    """Departments, searchable by name, short name or credit code."""
    require(actor, Permission.ORG_READ)
    query = sa.select(Department).order_by(Department.name)
    if q.strip():
        term = q.strip()
        query = query.where(
            sa.or_(
                Department.name.contains(term, autoescape=True),
                Department.short_name.contains(term, autoescape=True),
                Department.credit_code.startswith(term.upper(), autoescape=True),
            )
        )
    if active_only:
        query = query.where(Department.is_active.is_(True))
    with deps.db.read() as session:
        return paginate(session, query, page=page, per_page=per_page, convert=DepartmentView.of)


@dataclass(frozen=True)
class CenterView:
    """A supervision or command center."""

    id: int
    kind: CenterKind
    name: str
    district_code: str
    phone: str
    address: str
    staff_count: int


def save_center(
    deps: ServiceDeps,
    actor: Actor,
    *,
    district_code: str,
    kind: CenterKind,
    name: str,
    phone: str = "",
    address: str = "",
    info: RequestInfo,
) -> CenterView:
    """Create or edit the supervision / command center of a district (one of each)."""
    require(actor, Permission.ORG_WRITE)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("name_length", "A name needs 1 to 100 characters")
    now = deps.clock()
    with deps.db.transaction() as session:
        district = session.scalar(
            sa.select(Division).where(
                Division.code == district_code, Division.level == DivisionLevel.DISTRICT.value
            )
        )
        if district is None:
            raise NotFound(
                "division_not_found", "No division with code %(code)s", code=district_code
            )
        row = session.scalar(
            sa.select(Center).where(Center.district_id == district.id, Center.kind == kind.value)
        )
        action = "center.updated"
        if row is None:
            row = Center(kind=kind.value, district_id=district.id, created_at=now)
            session.add(row)
            action = "center.created"
        row.name, row.phone, row.address, row.updated_at = (
            name,
            phone.strip()[:30],
            address.strip()[:200],
            now,
        )
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action=action,
            target_type="center",
            target_id=row.id,
            detail={"name": name, "kind": kind.value},
            info=info,
        )
        return _center_view(session, row)


def list_centers(deps: ServiceDeps, actor: Actor) -> list[CenterView]:
    """Every center, supervision before command."""
    require(actor, Permission.ORG_READ)
    with deps.db.read() as session:
        rows = session.scalars(sa.select(Center).order_by(Center.district_id, Center.kind.desc()))
        return [_center_view(session, row) for row in rows]


def _center_view(session: Session, row: Center) -> CenterView:
    code = session.scalar(sa.select(Division.code).where(Division.id == row.district_id)) or ""
    staff = session.scalar(sa.select(sa.func.count()).where(User.center_id == row.id)) or 0
    return CenterView(
        row.id, CenterKind(row.kind), row.name, code, row.phone, row.address, int(staff)
    )


def department_count(deps: ServiceDeps, actor: Actor) -> int:
    """Number of active departments."""
    require(actor, Permission.ORG_READ)
    with deps.db.read() as session:
        return int(
            session.scalar(sa.select(sa.func.count()).where(Department.is_active.is_(True))) or 0
        )
