"""CSRF protection for every cookie-authenticated or form request.

The token is an HMAC of the session token (or, before login, of an anonymous nonce cookie)
under the secret key, so it needs no server-side storage and dies with the session.
Requests that carry a bearer token and no cookie are exempt: they hold no ambient authority.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridcity.web.asgi import ANON_COOKIE, SESSION_COOKIE, cookies_of, header_of, refuse
from gridcity.web.i18n import N_

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _Unreadable(Exception):
    """A multipart form that cannot be parsed (e.g. a text field over the part limit)."""


def csrf_token_for(secret: str, cookie_value: str) -> str:
    """The token that forms must echo for this session (or anonymous nonce)."""
    return hmac.new(secret.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


class CSRFMiddleware:
    """Checks the token on unsafe methods and sets the anonymous nonce cookie when needed."""

    def __init__(
        self, app: ASGIApp, *, secret: str, secure_cookies: bool = False, max_part_size: int
    ) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure_cookies
        self.max_part_size = max_part_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = cookies_of(scope)
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
        content_type = header_of(scope, b"content-type").lower()
        is_form = content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        )
        bearer_only = (
            header_of(scope, b"authorization").lower().startswith("bearer ") and not session
        )
        needs_check = method not in SAFE_METHODS and not bearer_only and (bool(session) or is_form)

        if needs_check:
            given = header_of(scope, CSRF_HEADER.encode())
            replay: list[Message] = []
            if not given and is_form:
                body = await _read_body(receive)
                try:
                    given = await _form_token(scope, body, content_type, self.max_part_size)
                except _Unreadable:
                    await refuse(
                        scope,
                        send,
                        400,
                        "form_unreadable",
                        N_(
                            "The form could not be read: a text field is larger than %(mb)s MB; "
                            "upload large content as a file"
                        ),
                        mb=f"{self.max_part_size / 1024 / 1024:g}",
                    )
                    return
                replay = [{"type": "http.request", "body": body, "more_body": False}]
            if not given or not hmac.compare_digest(given, expected):
                await refuse(
                    scope,
                    send,
                    403,
                    "csrf_failed",
                    N_(
                        "The form has expired or did not come from this site; "
                        "reload the page and try again"
                    ),
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


async def _read_body(receive: Receive) -> bytes:
    """The whole body (its size is capped by the body-limit middleware outside)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _form_token(scope: Scope, body: bytes, content_type: str, max_part_size: int) -> str:
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
        form = await Request(scope, once).form(max_part_size=max_part_size)
    except MultiPartException as exc:
        raise _Unreadable from exc
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
