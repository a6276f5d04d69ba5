"""Staff accounts (administrators)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gridcity.domain.access import Role
from gridcity.services import users
from gridcity.services.users import UserInput, UserView
from gridcity.web.api.schemas import ERRORS, PageOut, page_out
from gridcity.web.deps import ApiActor, Deps, Info

router = APIRouter(prefix="/users", tags=["accounts"], responses=ERRORS)

StaffRole = Role  # the API documents every role; "public" is refused by the service


class UserOut(BaseModel):
    """An account (never its password)."""

    id: int
    username: str
    display_name: str
    roles: list[Role]
    phone: str
    department_id: int | None
    center_id: int | None
    scope_divisions: list[str]
    scope_departments: list[int]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    locale: str


class UserFields(BaseModel):
    """Editable fields of an account."""

    display_name: str = Field(min_length=1, max_length=100)
    roles: list[StaffRole] = Field(min_length=1)
    phone: str = Field(default="", max_length=30)
    department_id: int | None = None
    center_id: int | None = None
    scope_divisions: list[str] = Field(default_factory=list)
    scope_departments: list[int] = Field(default_factory=list)
    is_active: bool = True
    locale: str = Field(default="zh_CN", pattern="^(zh_CN|en)$")

    def to_input(self) -> UserInput:
        """Service input."""
        data = self.model_dump(include=set(UserFields.model_fields))
        data["roles"] = frozenset(self.roles)
        data["scope_divisions"] = frozenset(self.scope_divisions)
        data["scope_departments"] = frozenset(self.scope_departments)
        return UserInput(**data)


class UserCreate(UserFields):
    """A new account with its first password."""

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordIn(BaseModel):
    """A new password (and the current one when changing your own)."""

    new_password: str = Field(min_length=1, max_length=256)
    current_password: str | None = Field(default=None, max_length=256)


def _out(view: UserView) -> UserOut:
    return UserOut(
        **{
            **view.__dict__,
            "roles": list(view.roles),
            "scope_divisions": list(view.scope_divisions),
            "scope_departments": list(view.scope_departments),
        }
    )


@router.get("", response_model=PageOut[UserOut], summary="List accounts")
def list_users(
    actor: ApiActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    role: Role | None = None,
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=200),
) -> dict[str, object]:
    """Administrators and leaders."""
    result = users.list_users(deps, actor, q=q, role=role, page=page, per_page=per_page)
    return page_out(result, _out)


@router.get("/{user_id}", response_model=UserOut)
def get_user(user_id: int, actor: ApiActor, deps: Deps) -> UserOut:
    """One account; everyone may read their own."""
    return _out(users.get_user(deps, actor, user_id))


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, actor: ApiActor, deps: Deps, info: Info) -> UserOut:
    """Administrators only; the password must meet the policy."""
    view = users.create_user(
        deps, actor, username=body.username, password=body.password, data=body.to_input(), info=info
    )
    return _out(view)


@router.put("/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserFields, actor: ApiActor, deps: Deps, info: Info) -> UserOut:
    """Administrators only; role and scope changes are audited as permission changes."""
    return _out(users.update_user(deps, actor, user_id, body.to_input(), info=info))


@router.post("/{user_id}/password", status_code=204)
def set_password(user_id: int, body: PasswordIn, actor: ApiActor, deps: Deps, info: Info) -> None:
    """An administrator for anyone; a user for themself with the current password."""
    users.set_password(
        deps, actor, user_id, body.new_password, current_password=body.current_password, info=info
    )


@router.post("/{user_id}/unlock", response_model=UserOut)
def unlock(user_id: int, actor: ApiActor, deps: Deps, info: Info) -> UserOut:
    """Administrators only: lift a lockout."""
    return _out(users.unlock_user(deps, actor, user_id, info=info))
