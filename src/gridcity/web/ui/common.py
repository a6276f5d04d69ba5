"""Small helpers shared by the page modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gridcity.domain.errors import DomainError, Forbidden, InvalidInput
from gridcity.domain.responsibility import NamedShift
from gridcity.services.shifts import ShiftView
from gridcity.web.errors import human_message
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.templating import CHINA_TZ

# Messages shown after a redirect (?done=<key>), so a reload never re-posts a form.
DONE_MESSAGES = {
    "created": N_("Saved: created"),
    "updated": N_("Saved: updated"),
    "password": N_("The password has been changed"),
    "unlocked": N_("The account has been unlocked"),
}


def flashes(request: Request, error: DomainError | None = None) -> list[tuple[str, str]]:
    """Flash messages for a page: the ``done`` query key and an optional refusal."""
    out: list[tuple[str, str]] = []
    done = request.query_params.get("done", "")
    if done in DONE_MESSAGES:
        out.append(("success", gettext_(DONE_MESSAGES[done])))
    if error is not None:
        out.append(("error", human_message(error)))
    return out


def raise_if_forbidden(exc: DomainError) -> None:
    """Forms show refusals in place, except permission refusals: those stay a 403 page."""
    if isinstance(exc, Forbidden):
        raise exc


def redirect(url: str, done: str | None = None) -> RedirectResponse:
    """303 See Other, the right answer to a successful form post."""
    if done:
        url += ("&" if "?" in url else "?") + urlencode({"done": done})
    return RedirectResponse(url, status_code=303)


def query_string(**params: object) -> str:
    """Query string of the non-empty filters (for pager links)."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def is_htmx(request: Request) -> bool:
    """True for a request made by htmx (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def start_of_day(value: str) -> datetime | None:
    """The chosen day at 00:00 China time, or None (now) when no day was chosen."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            "date_invalid", "%(value)s is not a date (YYYY-MM-DD)", value=value
        ) from None
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ)


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


__all__ = ["HTMLResponse", "flashes", "is_htmx", "query_string", "redirect", "safe_next"]


def shift_labels(named: Iterable[NamedShift | ShiftView]) -> dict[str, str]:
    """Display name of each named shift in the request's language (the city's own names)."""
    chinese = current_locale.get() == "zh_CN"
    return {s.name: s.name_zh if chinese else s.name_en for s in named}
