"""Admin pages: districts, subdistricts and communities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.geo import from_geojson
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import divisions
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.ui.common import flashes, is_htmx, query_string, raise_if_forbidden, redirect

router = APIRouter(prefix="/admin/divisions")
MAX_BOUNDARY_BYTES = 5 * 1024 * 1024


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    level: Annotated[str, Query(max_length=16)] = "",
    page: int = Query(1, ge=1),
) -> Response:
    """Searchable, paginated list; htmx asks for the table only."""
    chosen = _level_filter(level)
    result = divisions.list_divisions(deps, actor, q=q, level=chosen, page=page, per_page=20)
    context = {
        "page": result,
        "q": q,
        "level": chosen.value if chosen else "",
        "levels": list(DivisionLevel),
        "base_query": query_string(q=q, level=chosen.value if chosen else ""),
        "can_write": actor.can(Permission.ORG_WRITE),
        "flashes": flashes(request),
    }
    template = "admin/divisions_table.html" if is_htmx(request) else "admin/divisions.html"
    return request.app.state.templates.render(request, template, context)


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, actor: PageActor, parent: str = "") -> Response:
    """Form for a new division."""
    _require_write(actor)
    return _form(request, None, {"code": parent, "level": _level_below(parent)})


@router.post("/new", response_class=HTMLResponse)
async def create(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: Annotated[str, Form(max_length=12)],
    name: Annotated[str, Form(max_length=100)],
    level: Annotated[DivisionLevel, Form()],
    boundary_text: Annotated[str, Form(max_length=MAX_BOUNDARY_BYTES)] = "",
    boundary_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Create, or show the form again with the reason it was refused."""
    _require_write(actor)
    values = {"code": code, "name": name, "level": level.value, "boundary_text": boundary_text}
    try:
        geom = await _boundary(boundary_text, boundary_file)
        view = divisions.create_division(
            deps, actor, code=code, name=name, level=level, boundary=geom, info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _form(request, None, values, error=exc)
    return redirect(f"/admin/divisions/{view.code}", done="created")


@router.get("/{code}", response_class=HTMLResponse)
def edit_page(request: Request, actor: PageActor, deps: Deps, code: str) -> Response:
    """A division's details, its children, and (for administrators) the edit form."""
    view = divisions.get_division(deps, actor, code)
    return _form(
        request, view, {"name": view.name, "is_active": view.is_active}, deps=deps, actor=actor
    )


@router.post("/{code}", response_class=HTMLResponse)
async def update(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code: str,
    name: Annotated[str, Form(max_length=100)],
    is_active: Annotated[bool, Form()] = False,
    boundary_text: Annotated[str, Form(max_length=MAX_BOUNDARY_BYTES)] = "",
    boundary_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Save changes, or show the form again with the reason."""
    _require_write(actor)
    view = divisions.get_division(deps, actor, code)
    values = {"name": name, "is_active": is_active, "boundary_text": boundary_text}
    try:
        geom = await _boundary(boundary_text, boundary_file)
        divisions.update_division(
            deps, actor, code, name=name, boundary=geom, is_active=is_active, info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _form(request, view, values, error=exc, deps=deps, actor=actor)
    return redirect(f"/admin/divisions/{code}", done="updated")


def _level_filter(value: str) -> DivisionLevel | None:
    """The level chosen in the filter; blank means all levels."""
    if not value:
        return None
    try:
        return DivisionLevel(value)
    except ValueError:
        raise InvalidInput(
            "level_unknown", "Unknown division level %(level)s", level=value
        ) from None


def _require_write(actor: Actor) -> None:
    require(actor, Permission.ORG_WRITE)


def _level_below(parent: str) -> str:
    return {6: DivisionLevel.SUBDISTRICT.value, 9: DivisionLevel.COMMUNITY.value}.get(
        len(parent), DivisionLevel.DISTRICT.value
    )


async def _boundary(text: str, upload: UploadFile | None) -> BaseGeometry | None:
    """A boundary from an uploaded GeoJSON file, else from the text box, else none."""
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_BOUNDARY_BYTES + 1)
        if len(raw) > MAX_BOUNDARY_BYTES:
            raise InvalidInput("boundary_too_large", "The boundary file is larger than 5 MB")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(
                "boundary_encoding", "The boundary file must be UTF-8 GeoJSON"
            ) from None
    return from_geojson(text) if text.strip() else None


def _form(
    request: Request,
    view: divisions.DivisionView | None,
    values: dict[str, object],
    *,
    error: DomainError | None = None,
    deps: Deps | None = None,
    actor: PageActor | None = None,
) -> Response:
    children = None
    if (
        view is not None
        and deps is not None
        and actor is not None
        and view.level is not DivisionLevel.COMMUNITY
    ):
        children = divisions.list_divisions(
            deps, actor, parent=view.code, level=divisions.child_level(view.level), per_page=200
        )
    context = {
        "division": view,
        "values": values,
        "levels": list(DivisionLevel),
        "children": children,
        "can_write": (actor or request.state.actor).can(Permission.ORG_WRITE),
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/division_form.html", context, status_code=422 if error else 200
    )
