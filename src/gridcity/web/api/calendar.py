"""The working calendar over the API: covered years, days of a range, a deadline; an
administrator uploads a year (all-or-nothing) and changes the office hours.

``POST /calendar/years`` answers 201 with what changed, or 422 ``calendar_file_refused`` with
every problem (row, column, code, message).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from gridcity.domain.access import Permission, require
from gridcity.domain.catalog import TimeUnit
from gridcity.domain.errors import InvalidInput
from gridcity.domain.work_calendar import DayInfo, parse_instant
from gridcity.domain.work_calendar_file import CalendarFileRefused
from gridcity.services import work_calendar
from gridcity.web.api.schemas import ERRORS
from gridcity.web.deps import ApiActor, Deps, Info
from gridcity.web.errors import refusal_body
from gridcity.web.ui.uploads import UploadTooLarge, shown_name

router = APIRouter(prefix="/calendar", tags=["calendar"], responses=ERRORS)
MAX_FILE_BYTES = 1024 * 1024  # a year of holidays is a few kilobytes


class YearOut(BaseModel):
    """A covered year."""

    year: int
    source: str
    loaded_at: datetime
    loaded_by: str
    holidays: int
    makeup_workdays: int


class DayOut(BaseModel):
    """One date: ``workday``, ``weekend``, ``holiday`` or ``makeup_workday`` (调休上班)."""

    date: date
    kind: str
    is_workday: bool
    name: str


class DeadlineOut(BaseModel):
    """A deadline (ISO 8601 with the city's offset) and what it was computed from."""

    start: datetime
    limit: Decimal
    unit: TimeUnit
    deadline: datetime


class SettingsOut(BaseModel):
    """Office periods, office hours of one working day, and the city's time zone."""

    office_hours: str = Field(examples=["08:30-12:00,14:00-17:30"])
    day_hours: Decimal
    time_zone: str = Field(examples=["Asia/Shanghai"])
    updated_at: datetime


class SettingsIn(BaseModel):
    """New office periods and/or time zone; a field left out stays as it is."""

    office_hours: str | None = Field(
        default=None, max_length=100, examples=["08:30-12:00,14:00-17:30"]
    )
    time_zone: str | None = Field(default=None, max_length=64, examples=["Asia/Shanghai"])


def _day(info: DayInfo) -> DayOut:
    return DayOut(date=info.day, kind=info.kind.value, is_workday=info.is_workday, name=info.name)


@router.get("/years", response_model=list[YearOut], summary="Years the calendar covers")
def list_years(actor: ApiActor, deps: Deps) -> list[YearOut]:
    """Every covered year with its counts of days off and make-up workdays."""
    return [YearOut(**v.__dict__) for v in work_calendar.covered_years(deps, actor)]


@router.get("/days", response_model=list[DayOut], summary="The days of a range")
def list_days(
    actor: ApiActor,
    deps: Deps,
    first: Annotated[date, Query(alias="from", description="First date (inclusive)")],
    last: Annotated[date, Query(alias="to", description="Last date (inclusive)")],
) -> list[DayOut]:
    """Each date from ``from`` to ``to`` (at most 731), refused for a year not covered."""
    return [_day(d) for d in work_calendar.list_days(deps, actor, first, last)]


@router.get("/deadline", response_model=DeadlineOut, summary="The deadline of a time limit")
def get_deadline(
    actor: ApiActor,
    deps: Deps,
    start: Annotated[
        str, Query(max_length=40, description="ISO 8601; without an offset: city time")
    ],
    limit: Annotated[str, Query(max_length=20, description="A number above 0 (0.5 allowed)")],
    unit: Annotated[TimeUnit, Query()],
) -> DeadlineOut:
    """When ``limit`` of ``unit`` from ``start`` runs out (422 ``calendar_not_covered``)."""
    calendar = work_calendar.calendar_for(deps, actor)
    begins = parse_instant(start, calendar.zone)
    when = work_calendar.compute_deadline(deps, actor, begins, limit, unit)
    return DeadlineOut(
        start=begins.astimezone(calendar.zone), limit=Decimal(limit), unit=unit, deadline=when
    )


@router.post(
    "/years",
    status_code=201,
    summary="Add or replace a year from a file (CSV or JSON: date, is_workday, name)",
    responses={422: {"description": "calendar_file_refused: the problems, by row and column"}},
)
async def upload_year(
    actor: ApiActor,
    deps: Deps,
    info: Info,
    file: Annotated[UploadFile | None, File()] = None,
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Administrators; all-or-nothing."""
    require(actor, Permission.CALENDAR_WRITE)
    if file is None or not file.filename:
        raise InvalidInput("upload_missing", "Choose a file to upload")
    name = shown_name(file.filename)
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UploadTooLarge(
            "upload_too_large", "%(name)s is larger than %(mb)s MB", name=name, mb="1"
        )
    try:
        result = work_calendar.load_year_file(
            deps, actor, data, name=name, source=source, info=info
        )
    except CalendarFileRefused as exc:
        return JSONResponse(refusal_body(exc), status_code=422)
    return JSONResponse(result.as_dict(), status_code=201)


@router.get("/settings", response_model=SettingsOut, summary="Office hours and time zone")
def get_settings(actor: ApiActor, deps: Deps) -> SettingsOut:
    """The office periods of a working day and the city's time zone."""
    return SettingsOut(**work_calendar.calendar_settings(deps, actor).__dict__)


@router.put("/settings", response_model=SettingsOut, summary="Change office hours or time zone")
def put_settings(body: SettingsIn, actor: ApiActor, deps: Deps, info: Info) -> SettingsOut:
    """Administrators; periods ordered, apart from each other, inside one day."""
    view = work_calendar.update_settings(
        deps, actor, office_hours=body.office_hours, time_zone=body.time_zone, info=info
    )
    return SettingsOut(**view.__dict__)
