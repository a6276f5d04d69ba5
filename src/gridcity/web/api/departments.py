"""Professional departments and the two centers."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcity.domain.departments import CenterKind, DepartmentKind
from gridcity.services import departments
from gridcity.services.departments import DepartmentInput, DepartmentView
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps, Info

router = APIRouter(tags=["organisation"], responses=ERRORS)


class DepartmentOut(BaseModel):
    """A professional department (专业部门)."""

    id: int
    name: str
    short_name: str
    credit_code: str | None
    kind: DepartmentKind
    contact_person: str
    contact_phone: str
    address: str
    is_active: bool


class DepartmentIn(BaseModel):
    """Fields of a department; ``credit_code`` is the 18-character unified social credit code."""

    name: str = Field(min_length=1, max_length=100)
    kind: DepartmentKind
    short_name: str = Field(default="", max_length=40)
    credit_code: str = Field(default="", max_length=18)
    contact_person: str = Field(default="", max_length=50)
    contact_phone: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)
    is_active: bool = True


class CenterOut(BaseModel):
    """A supervision center (监督中心) or command center (指挥中心)."""

    id: int
    kind: CenterKind
    name: str
    district_code: str
    phone: str
    address: str
    staff_count: int


def _out(view: DepartmentView) -> DepartmentOut:
    return DepartmentOut(**view.__dict__)


@router.get("/departments", response_model=PageOut[DepartmentOut], summary="List departments")
def list_departments(
    actor: ApiActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> dict[str, object]:
    """Searchable by name, short name or credit code."""
    result = departments.list_departments(deps, actor, q=q, page=page, per_page=per_page)
    return page_out(result, _out)


@router.get("/departments/{department_id}", response_model=DepartmentOut)
def get_department(department_id: int, actor: ApiActor, deps: Deps) -> DepartmentOut:
    """One department."""
    return _out(departments.get_department(deps, actor, department_id))


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def create_department(body: DepartmentIn, actor: ApiActor, deps: Deps, info: Info) -> DepartmentOut:
    """Administrators only."""
    view = departments.create_department(
        deps, actor, DepartmentInput(**body.model_dump()), info=info
    )
    return _out(view)


@router.put("/departments/{department_id}", response_model=DepartmentOut)
def update_department(
    department_id: int, body: DepartmentIn, actor: ApiActor, deps: Deps, info: Info
) -> DepartmentOut:
    """Administrators only; changes are audited field by field."""
    view = departments.update_department(
        deps, actor, department_id, DepartmentInput(**body.model_dump()), info=info
    )
    return _out(view)


@router.get(
    "/centers", response_model=list[CenterOut], summary="The supervision and command centers"
)
def list_centers(actor: ApiActor, deps: Deps) -> list[CenterOut]:
    """With their staff counts."""
    return [CenterOut(**c.__dict__) for c in departments.list_centers(deps, actor)]
