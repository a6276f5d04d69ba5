"""Admin pages: grid settings a city edits — the code formats of the layer schemes
(``/admin/layer-schemes``) and the named shifts (``/admin/shifts``). Every staff member may read
them; only administrators change them (checked again in the services)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.layer_schemes import FIRE_LEVELS
from gridcity.domain.layers import CellShape, LayerKind
from gridcity.services import layer_schemes, shifts
from gridcity.services.deps import ServiceDeps
from gridcity.services.layer_schemes import SchemeEdit
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.templating import LEVEL_LABELS
from gridcity.web.ui.common import flashes, raise_if_forbidden, redirect

router = APIRouter()
DONE_HERE = {"deleted": N_("The shift has been deleted")}
KIND_LABELS = {
    LayerKind.UNIT: N_("Unit grids"),
    LayerKind.RESPONSIBILITY: N_("Responsibility"),
    LayerKind.SOCIAL: N_("Social service"),
    LayerKind.ENFORCEMENT: N_("Enforcement"),
    LayerKind.SANITATION: N_("Sanitation"),
    LayerKind.FIRE: N_("Fire safety"),
}
SHAPE_LABELS = {
    CellShape.POLYGON: N_("drawn polygons"),
    CellShape.UNIT_GRIDS: N_("whole unit grids"),
    CellShape.DIVISION: N_("the whole division"),
}


# --- layer schemes ------------------------------------------------------------------------------


@router.get("/admin/layer-schemes", response_class=HTMLResponse)
def schemes_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The schemes with their code formats; an edit form each for administrators."""
    return _render_schemes(request, actor, deps)


@router.post("/admin/layer-schemes/fire-marker", response_class=HTMLResponse)
def fire_marker(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    marker: Annotated[str, Form(max_length=8)],
) -> Response:
    """One marker for the three fire schemes, changed together."""
    require(actor, Permission.SETTINGS_WRITE)
    edits = {scheme.value: SchemeEdit(marker=marker.strip()) for scheme in FIRE_LEVELS}
    try:
        layer_schemes.update_layer_schemes(deps, actor, edits, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_schemes(request, actor, deps, error=exc, failed="fire")
    return redirect("/admin/layer-schemes", done="updated")


@router.post("/admin/layer-schemes/{scheme}", response_class=HTMLResponse)
def edit_scheme(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    scheme: str,
    name_zh: Annotated[str, Form(max_length=60)],
    name_en: Annotated[str, Form(max_length=60)],
    marker: Annotated[str | None, Form(max_length=8)] = None,
    division_level: Annotated[str | None, Form(max_length=16)] = None,
    sequence_digits: Annotated[str | None, Form(max_length=2)] = None,
) -> Response:
    """Change one scheme, or show the page again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    values = {
        "marker": marker,
        "division_level": division_level,
        "sequence_digits": sequence_digits,
        "name_zh": name_zh,
        "name_en": name_en,
    }
    try:
        edit = SchemeEdit(
            marker=marker,
            level=division_level,
            sequence_digits=_digits(sequence_digits),
            name_zh=name_zh,
            name_en=name_en,
        )
        layer_schemes.update_layer_scheme(deps, actor, scheme, edit, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_schemes(request, actor, deps, error=exc, failed=scheme, values=values)
    return redirect("/admin/layer-schemes", done="updated")


def _digits(text: str | None) -> int | None:
    """Sequence digits from a form field (None: unchanged)."""
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise InvalidInput("layer_scheme_digits_number", "Sequence digits must be a whole number")
    return int(text.strip())


def _render_schemes(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    error: DomainError | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
) -> Response:
    """The schemes page; a refusal is shown with its own status, on the form that caused it."""
    context = {
        "schemes": layer_schemes.list_layer_schemes(deps, actor),
        "fire_schemes": [s.value for s in FIRE_LEVELS],
        "kind_labels": {k.value: v for k, v in KIND_LABELS.items()},
        "shape_labels": {k.value: v for k, v in SHAPE_LABELS.items()},
        "level_labels": {k.value: v for k, v in LEVEL_LABELS.items()},
        "chinese": current_locale.get() == "zh_CN",
        "can_write": actor.can(Permission.SETTINGS_WRITE),
        "failed": failed,
        "values": values or {},
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/layer_schemes.html", context, status_code=error.status if error else 200
    )


# --- named shifts -------------------------------------------------------------------------------


@router.get("/admin/shifts", response_class=HTMLResponse)
def shifts_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The named shifts; forms to add, change, retire and delete them for administrators."""
    return _render_shifts(request, actor, deps)


@router.post("/admin/shifts", response_class=HTMLResponse)
def add_shift(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    name: Annotated[str, Form(max_length=20)],
    starts_at: Annotated[str, Form(max_length=5)],
    ends_at: Annotated[str, Form(max_length=5)],
    name_zh: Annotated[str, Form(max_length=60)],
    name_en: Annotated[str, Form(max_length=60)],
) -> Response:
    """Add a named shift, or show the page again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    values = {
        "name": name,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "name_zh": name_zh,
        "name_en": name_en,
    }
    try:
        shifts.create_shift(
            deps,
            actor,
            name=name,
            starts_at=starts_at,
            ends_at=ends_at,
            name_zh=name_zh,
            name_en=name_en,
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_shifts(request, actor, deps, error=exc, failed="new", values=values)
    return redirect("/admin/shifts", done="created")


@router.post("/admin/shifts/{name}", response_class=HTMLResponse)
def edit_shift(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    name: str,
    starts_at: Annotated[str, Form(max_length=5)],
    ends_at: Annotated[str, Form(max_length=5)],
    name_zh: Annotated[str, Form(max_length=60)],
    name_en: Annotated[str, Form(max_length=60)],
    retired: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Change a shift's hours or names, or retire it (an unticked box brings it back)."""
    require(actor, Permission.SETTINGS_WRITE)
    try:
        shifts.update_shift(
            deps,
            actor,
            name,
            starts_at=starts_at,
            ends_at=ends_at,
            name_zh=name_zh,
            name_en=name_en,
            retired=retired in ("1", "true", "on"),
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_shifts(request, actor, deps, error=exc, failed=name)
    return redirect("/admin/shifts", done="updated")


@router.post("/admin/shifts/{name}/delete", response_class=HTMLResponse)
def remove_shift(request: Request, actor: PageActor, deps: Deps, info: Info, name: str) -> Response:
    """Delete a shift no assignment names."""
    require(actor, Permission.SETTINGS_WRITE)
    try:
        shifts.delete_shift(deps, actor, name, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_shifts(request, actor, deps, error=exc, failed=name)
    return redirect("/admin/shifts", done="deleted")


def _render_shifts(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    error: DomainError | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
) -> Response:
    """The shifts page; a refusal is shown with its own status (422, 404, 409), on its form."""
    messages = flashes(request, error)
    done = request.query_params.get("done", "")
    if done in DONE_HERE:
        messages.insert(0, ("success", gettext_(DONE_HERE[done])))
    context = {
        "shifts": shifts.list_shifts(deps, actor),
        "chinese": current_locale.get() == "zh_CN",
        "can_write": actor.can(Permission.SETTINGS_WRITE),
        "failed": failed,
        "values": values or {},
        "flashes": messages,
    }
    return request.app.state.templates.render(
        request, "admin/shifts.html", context, status_code=error.status if error else 200
    )
