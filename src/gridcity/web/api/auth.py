"""Bearer tokens for the API and the field app, and who am I."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gridcity.services import auth, users
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


class TokenIn(BaseModel):
    """Credentials for a token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_name: str = Field(default="", max_length=100)


class TokenOut(BaseModel):
    """A bearer token; keep it secret, send it as ``Authorization: Bearer <token>``."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    roles: list[str]


class MeOut(BaseModel):
    """The signed-in user."""

    id: int
    username: str
    display_name: str
    roles: list[str]
    landing_role: str
    permissions: list[str]
    scope_divisions: list[str]
    scope_departments: list[int]
    scope_everything: bool
    locale: str


@router.post(
    "/token", response_model=TokenOut, summary="Exchange username and password for a bearer token"
)
def create_token(body: TokenIn, deps: Deps, info: Info) -> TokenOut:
    """Five wrong passwords in a row lock the account (configurable)."""
    result = auth.issue_token(deps, body.username, body.password, info=info, name=body.device_name)
    return TokenOut(
        access_token=result.token,
        expires_at=result.expires_at,
        username=result.actor.username,
        roles=sorted(r.value for r in result.actor.roles),
    )


@router.delete("/token", status_code=204, summary="Revoke the bearer token of this request")
def delete_token(request: Request, actor: ApiActor, deps: Deps, info: Info) -> None:
    """Log the field app out."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        auth.revoke_token(deps, header[7:].strip(), info=info)


@router.get("/me", response_model=MeOut, summary="The signed-in user, roles and data scope")
def me(actor: ApiActor, deps: Deps) -> MeOut:
    """Who the token or session belongs to."""
    assert actor.user_id is not None
    user = users.get_user(deps, actor, actor.user_id)
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=[r.value for r in user.roles],
        landing_role=actor.landing_role.value,
        permissions=sorted(p.value for p in actor.permissions),
        scope_divisions=list(user.scope_divisions),
        scope_departments=list(user.scope_departments),
        scope_everything=actor.scope.everything,
        locale=user.locale,
    )
