"""Every refusal becomes ``{"code", "message"}`` for the API, or an error page for people."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridcity.adapters.feature_io import Reason
from gridcity.domain.errors import DomainError
from gridcity.domain.imports import FileRefused
from gridcity.web.deps import LoginRequired
from gridcity.web.i18n import gettext_


def human_message(exc: DomainError) -> str:
    """The refusal in the request's language, with its parameters filled in."""
    text = gettext_(exc.message)
    try:
        return text % exc.params if exc.params else text
    except (KeyError, TypeError, ValueError):
        return exc.message % exc.params if exc.params else exc.message


def translated(message: str, params: Any) -> str:
    """A problem's message in the request's language (a Reason parameter translated too)."""
    shown = {
        k: translated(v.msgid, v.params) if isinstance(v, Reason) else v
        for k, v in dict(params or {}).items()
    }
    text = gettext_(message)
    try:
        return text % shown if shown else text
    except (KeyError, TypeError, ValueError):
        return message % shown if shown else message


def refusal_body(exc: FileRefused) -> dict[str, Any]:
    """The 422 body of a file refused by row and column: every problem kept, and their total."""
    return {
        "code": exc.code,
        "message": human_message(exc),
        "problems": [
            {
                "row": p.row,
                "column": p.column,
                "code": p.code,
                "message": translated(p.message, p.params),
            }
            for p in exc.problems
        ],
        "total": exc.total,
    }


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _error_page(request: Request, status: int, code: str, message: str) -> Response:
    templates = request.app.state.templates
    return templates.render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        message = human_message(exc)
        if _wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse(
                {"code": exc.code, "message": message}, status_code=exc.status, headers=headers
            )
        if exc.status == 401:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _error_page(request, exc.status, exc.code, message)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors: list[dict[str, Any]] = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "problem": ""}
        message = gettext_("Invalid input in %(field)s: %(problem)s") % first
        if _wants_json(request):
            return JSONResponse(
                {"code": "invalid_request", "message": message, "errors": errors},
                status_code=422,
            )
        return _error_page(request, 422, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        message = gettext_(str(exc.detail)) if isinstance(exc.detail, str) else str(exc.detail)
        if _wants_json(request):
            return JSONResponse({"code": code, "message": message}, status_code=exc.status_code)
        return _error_page(request, exc.status_code, code, message)
