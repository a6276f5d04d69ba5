"""Plain ASGI helpers for our middlewares: cookies, headers, and refusals in our error format."""

from __future__ import annotations

import html
from http.cookies import CookieError, SimpleCookie

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Scope, Send

from gridcity.web.i18n import pick_locale, translations

SESSION_COOKIE = "gridcity_session"
ANON_COOKIE = "gridcity_anon"
LANG_COOKIE = "gridcity_lang"


def cookies_of(scope: Scope) -> dict[str, str]:
    """The request's cookies; a malformed cookie header is ignored, not fatal."""
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                continue
    return {key: morsel.value for key, morsel in jar.items()}


def header_of(scope: Scope, wanted: bytes) -> str:
    """The first value of a request header (lower-case name), or ''."""
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return ""


async def refuse(
    scope: Scope, send: Send, status: int, code: str, message: str, **params: object
) -> None:
    """Answer ``{"code","message"}`` for the API, a small page otherwise, in the user's language.

    Middlewares run outside the locale middleware, so the language comes from the cookie here.
    """
    locale = pick_locale(cookies_of(scope).get(LANG_COOKIE), None, "zh_CN")
    text = translations(locale).gettext(message)
    text = text % params if params else text
    response: Response
    if scope["path"].startswith("/api/"):
        response = JSONResponse({"code": code, "message": text}, status_code=status)
    else:
        response = HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>{status}</title>"
            f"<h1>{status}</h1><p>{html.escape(text)}</p><p><a href='/'>/</a></p>",
            status_code=status,
        )

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
