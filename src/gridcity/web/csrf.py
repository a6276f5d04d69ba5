"""CSRF protection for every cookie-authenticated or form request.

The token is an HMAC of the session token (or, before login, of an anonymous nonce cookie)
under the secret key, so it needs no server-side storage and dies with the session.
Requests that carry a bearer token and no cookie are exempt: they hold no ambient authority.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridcity.web.i18n import N_, pick_locale, translations

SESSION_COOKIE = "gridcity_session"
ANON_COOKIE = "gridcity_anon"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_FORM_BYTES = 25 * 1024 * 1024


def csrf_token_for(secret: str, cookie_value: str) -> str:
    """The token that forms must echo for this session (or anonymous nonce)."""
    return hmac.new(secret.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                continue
    return {k: m.value for k, m in jar.items()}


def _header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return ""


class CSRFMiddleware:
    """Checks the token on unsafe methods and sets the anonymous nonce cookie when needed."""

    def __init__(self, app: ASGIApp, *, secret: str, secure_cookies: bool = False) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        session = cookies.get(SESSION_COOKIE, "")
        anon = cookies.get(ANON_COOKIE, "")
        new_anon = ""
        if not session and not anon:
            anon = new_anon = secrets.token_urlsafe(24)
        basis = session or anon
        expected = csrf_token_for(self.secret, basis)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csrf_token"] = expected

        method = scope["method"]
        content_type = _header(scope, b"content-type").lower()
        is_form = content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        )
        bearer_only = _header(scope, b"authorization").lower().startswith("bearer ") and not session
        needs_check = method not in SAFE_METHODS and not bearer_only and (bool(session) or is_form)

        if needs_check:
            given = _header(scope, CSRF_HEADER.encode())
            replay: list[Message] = []
            if not given and is_form:
                body, too_big = await _read_body(receive)
                if too_big:
                    await _refuse(
                        scope,
                        send,
                        413,
                        "payload_too_large",
                        N_("The request is too large"),
                        cookies,
                    )
                    return
                given = await _form_token(scope, body, content_type)
                replay = [{"type": "http.request", "body": body, "more_body": False}]
            if not given or not hmac.compare_digest(given, expected):
                await _refuse(
                    scope,
                    send,
                    403,
                    "csrf_failed",
                    N_(
                        "The form has expired or did not come from this site; reload the page and try again"
                    ),
                    cookies,
                )
                return
            if replay:
                receive = _replaying(replay, receive)

        if not new_anon:
            await self.app(scope, receive, send)
            return
        cookie = f"{ANON_COOKIE}={new_anon}; Path=/; HttpOnly; SameSite=Lax"
        if self.secure:
            cookie += "; Secure"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


async def _form_token(scope: Scope, body: bytes, content_type: str) -> str:
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])
        return values[0]
    sent = False

    async def once() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except Exception:
        return ""
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _refuse(
    scope: Scope, send: Send, status: int, code: str, message: str, cookies: dict[str, str]
) -> None:
    # Runs outside the locale middleware, so the language is read from the cookie here.
    locale = pick_locale(cookies.get("gridcity_lang"), None, "zh_CN")
    message = translations(locale).gettext(message)
    response: Response
    if scope["path"].startswith("/api/"):
        response = JSONResponse({"code": code, "message": message}, status_code=status)
    else:
        response = HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>{status}</title>"
            f"<h1>{status}</h1><p>{message}</p><p><a href='/login'>/login</a></p>",
            status_code=status,
        )

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
