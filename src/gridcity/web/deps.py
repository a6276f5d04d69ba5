"""FastAPI dependencies: the container, who is asking, and where the request came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gridcity.bootstrap import Container
from gridcity.domain.access import Actor
from gridcity.domain.errors import Unauthenticated
from gridcity.services import auth
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.web.asgi import SESSION_COOKIE


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler redirects to the login page."""


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in the
# thread pool, and each such hop costs more than the dependency itself (bench/locate.py's HTTP
# p99). ``get_actor`` reads the database, so it stays a ``def`` and keeps the event loop free.


def container_of(request: Request) -> Container:
    """The container the app was built with."""
    container: Container = request.app.state.container
    return container


async def get_deps(request: Request) -> ServiceDeps:
    """The services' dependencies."""
    return container_of(request).deps


async def get_info(request: Request) -> RequestInfo:
    """Client address, request id and user agent, for the audit log."""
    return RequestInfo(
        ip=request.client.host if request.client else "",
        request_id=getattr(request.state, "request_id", ""),
        user_agent=request.headers.get("user-agent", "")[:300],
    )


def get_actor(request: Request) -> Actor:
    """The signed-in user (bearer token or session cookie), else the anonymous public."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    deps = container_of(request).deps
    actor: Actor | None = None
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = auth.actor_for_token(deps, header[7:].strip())
        if actor is None:
            raise Unauthenticated("token_invalid", "The bearer token is invalid or expired")
    elif SESSION_COOKIE in request.cookies:
        actor = auth.actor_for_session(deps, request.cookies[SESSION_COOKIE])
    actor = actor or Actor.anonymous()
    request.state.actor = actor
    return actor


async def api_actor(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
    """A signed-in user for the API; anonymous callers get 401."""
    if not actor.is_authenticated:
        raise Unauthenticated("login_required", "Sign in or send a bearer token")
    return actor


async def page_actor(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
    """A signed-in user for a page; anonymous visitors are sent to the login page."""
    if not actor.is_authenticated:
        raise LoginRequired
    return actor


Deps = Annotated[ServiceDeps, Depends(get_deps)]
Info = Annotated[RequestInfo, Depends(get_info)]
AnyActor = Annotated[Actor, Depends(get_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]
