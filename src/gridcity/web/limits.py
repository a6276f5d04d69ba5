"""Request size limits, applied before anything reads the body (CSRF, forms, JSON, uploads)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridcity.web.asgi import header_of, refuse
from gridcity.web.i18n import N_, gettext_

MB = 1024 * 1024


TOO_LARGE = N_("The request is too large (at most %(mb)s MB)")


class _TooLarge(HTTPException):
    """The body grew past the limit while being read. An HTTPException, so that FastAPI's body
    parsing passes it on (as 413) instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, gettext_(TOO_LARGE) % {"mb": _mb(limit)})


def _mb(limit: int) -> str:
    return f"{limit / MB:g}"


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` (``max_upload_bytes`` for multipart uploads) with 413.

    A declared Content-Length over the limit is refused before reading; a chunked body is
    counted as it streams in and refused the moment it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        multipart = header_of(scope, b"content-type").lower().startswith("multipart/form-data")
        limit = self.max_upload_bytes if multipart else self.max_bytes
        declared = header_of(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        await refuse(scope, send, 413, "payload_too_large", TOO_LARGE, mb=_mb(limit))
