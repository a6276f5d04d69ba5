"""Login, logout, language choice and the own-password page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridcity.domain.errors import DomainError, Unauthenticated
from gridcity.services import auth, users
from gridcity.web.asgi import LANG_COOKIE, SESSION_COOKIE
from gridcity.web.deps import AnyActor, Deps, Info, PageActor
from gridcity.web.errors import human_message
from gridcity.web.i18n import LOCALES
from gridcity.web.ui.common import flashes, redirect, safe_next

router = APIRouter()


@router.get("/", response_class=RedirectResponse)
def root(actor: AnyActor) -> RedirectResponse:
    """Staff go to their home page; everyone else to the login page."""
    return RedirectResponse("/home" if actor.is_authenticated else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, actor: AnyActor, next: str = "") -> Response:
    """The sign-in form."""
    if actor.is_authenticated:
        return redirect(safe_next(next))
    return request.app.state.templates.render(request, "login.html", {"next": next})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    deps: Deps,
    info: Info,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the password, open a session and go to the role's home page."""
    try:
        result = auth.login(deps, username, password, info=info)
    except Unauthenticated as exc:
        return request.app.state.templates.render(
            request,
            "login.html",
            {"error": human_message(exc), "username": username, "next": next},
            status_code=401,
        )
    settings = request.app.state.container.settings
    response = redirect(safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    if LANG_COOKIE not in request.cookies:
        response.set_cookie(LANG_COOKIE, result.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, deps: Deps, info: Info) -> Response:
    """End the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(deps, token, info=info)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang")
def choose_language(
    locale: Annotated[str, Form()], next: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    """Switch the interface language (zh_CN / en)."""
    response = redirect(safe_next(next))
    if locale in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, actor: PageActor) -> Response:
    """Change your own password."""
    return request.app.state.templates.render(
        request, "account_password.html", {"flashes": flashes(request)}
    )


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Check the current password and the policy, then sign in again."""
    assert actor.user_id is not None
    try:
        users.set_password(
            deps, actor, actor.user_id, new_password, current_password=current_password, info=info
        )
    except DomainError as exc:
        return request.app.state.templates.render(
            request, "account_password.html", {"flashes": flashes(request, exc)}, status_code=422
        )
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response
