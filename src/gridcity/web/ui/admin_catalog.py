"""Admin pages of the standard catalog (``/admin/catalog``): the classes of a code set with
search, one class with its rules and (for administrators) an edit form, and a form for local
extension classes. Every staff member may read; only administrators write (checked again in the
services)."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import catalog, catalog_admin, departments
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.ui.common import flashes, raise_if_forbidden, redirect

router = APIRouter()
KIND_LABELS = {"component": N_("Component"), "event": N_("Event"), "matter": N_("Matter")}
LIST_LIMIT = 300


@router.get("/admin/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The classes of a code set (the active one by default), searched by code, name, initials."""
    return _render_list(request, actor, deps)


@router.post("/admin/catalog/classes", response_class=HTMLResponse)
def add_extension(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code_set: Annotated[str, Form(max_length=32)],
    kind: Annotated[str, Form(max_length=16)],
    level: Annotated[str, Form(max_length=8)],
    code: Annotated[str, Form(max_length=8)],
    name_zh: Annotated[str, Form(max_length=60)],
    name_en: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Add a local extension class, or show the page again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    values = {"code_set": code_set, "kind": kind, "level": level, "code": code,
              "name_zh": name_zh, "name_en": name_en}  # fmt: skip
    try:
        new = NewExtensionClass(code_set, kind, level, code.strip(), name_zh, name_en)
        added = catalog_admin.add_extension_class(deps, actor, new, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_list(request, actor, deps, error=exc, values=values)
    return redirect(f"/admin/catalog/{added.code_set}/{added.kind}/{added.code}", done="created")


@router.get("/admin/catalog/{code_set}/{kind}/{code}", response_class=HTMLResponse)
def class_page(
    request: Request, actor: PageActor, deps: Deps, code_set: str, kind: str, code: str
) -> Response:
    """One class: its source and confidence, criteria, time limits, department, form fields."""
    return _render_class(request, actor, deps, code_set, kind, code)


@router.post("/admin/catalog/{code_set}/{kind}/{code}", response_class=HTMLResponse)
def edit_class(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code_set: str,
    kind: str,
    code: str,
    # A field missing from the POST is None and keeps the stored value. 20000 only bounds the
    # request; the service refuses closing criteria over 500 characters with its own reason.
    closing_criteria: Annotated[str | None, Form(max_length=20_000)] = None,
    filing_criteria: Annotated[str | None, Form(max_length=20_000)] = None,
    time_limits: Annotated[str | None, Form(max_length=20_000)] = None,
    form_fields: Annotated[str | None, Form(max_length=20_000)] = None,
    department_id: Annotated[str | None, Form(max_length=12)] = None,
    name_en: Annotated[str | None, Form(max_length=60)] = None,
    name_zh: Annotated[str | None, Form(max_length=60)] = None,
) -> Response:
    """Save the edit form of a class, or show it again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    typed = {"closing_criteria": closing_criteria, "filing_criteria": filing_criteria,
             "time_limits": time_limits, "form_fields": form_fields}  # fmt: skip
    values = {k: v for k, v in typed.items() if v is not None}
    try:
        class_id = catalog.class_id_of(deps, actor, code_set, kind, code)
        edit = ClassEdit(
            name_zh=name_zh,
            name_en=name_en,
            department_id=_department_id(department_id),
            clear_department=department_id is not None and not department_id.strip(),
            filing_criteria=_json_list(filing_criteria, JSON_FIELDS["filing_criteria"]),
            closing_criteria=closing_criteria,
            time_limits=_json_list(time_limits, JSON_FIELDS["time_limits"]),
            form_fields=_json_list(form_fields, JSON_FIELDS["form_fields"]),
        )
        catalog_admin.update_class(deps, actor, class_id, edit, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_class(request, actor, deps, code_set, kind, code, error=exc, values=values)
    return redirect(f"/admin/catalog/{code_set}/{kind}/{code}", done="updated")


JSON_FIELDS = {
    "filing_criteria": N_("Filing criteria"),
    "time_limits": N_("Time limits"),
    "form_fields": N_("Form fields"),
}


def _department_id(text: str | None) -> int | None:
    """The chosen department's id; None when the field is missing or empty (no change/clear)."""
    if text is None or not text.strip():
        return None
    if not text.strip().isascii() or not text.strip().isdigit():
        raise InvalidInput(
            "invalid_department_id",
            "Choose a department from the list (got %(value)s)",
            value=text.strip(),
        )
    return int(text.strip())


def _json_list(text: str | None, label: str) -> list[dict[str, Any]] | None:
    """A list of objects typed into a text area as JSON; None when the field was not sent."""
    if text is None:
        return None
    field = gettext_(label)
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "invalid_json",
            "%(field)s is not valid JSON: %(problem)s at line %(line)s, column %(column)s",
            field=field,
            problem=exc.msg,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except (RecursionError, ValueError):
        # json.loads recurses once per bracket: "[" * 15000 exhausts the stack.
        raise InvalidInput(
            "invalid_json",
            "%(field)s is nested too deeply or is not valid JSON",
            field=field,
        ) from None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidInput(
            "invalid_json_list", "%(field)s must be a JSON list of objects", field=field
        )
    return value


def _render_list(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The list page; a refused extension is shown on its form with its own status."""
    params = request.query_params
    chosen = params.get("set") or None
    kind = params.get("kind") or None
    q = params.get("q", "")
    status = error.status if error else 200
    given = error
    try:
        classes = catalog.list_classes(
            deps, actor, code_set=chosen, kind=kind, q=q, limit=LIST_LIMIT
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        classes, error, status = [], error or exc, exc.status
    sets = catalog.list_code_sets(deps, actor)
    active = next((s.key for s in sets if s.active), None)
    if active is None:
        # A setting row naming a set this version does not know: say so instead of a 500.
        error = given or InvalidInput(
            "unknown_active_code_set",
            "The active code set is not one this version knows; switch to a known set",
        )
        status = error.status
    context = {
        "classes": classes,
        "sets": sets,
        "current": chosen or active or "",
        "kinds": [k.value for k in CODE_SETS[chosen or active].kinds]
        if (chosen or active) in CODE_SETS
        else [],
        "kind": kind or "",
        "q": q,
        "limit": LIST_LIMIT,
        "kind_labels": KIND_LABELS,
        "can_write": actor.can(Permission.SETTINGS_WRITE),
        "values": values or {},
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/catalog.html", context, status_code=status
    )


def _render_class(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    code_set: str,
    kind: str,
    code: str,
    *,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    """The class page; a refused edit keeps what was typed."""
    view = catalog.get_class(deps, actor, catalog.class_id_of(deps, actor, code_set, kind, code))
    can_write = actor.can(Permission.SETTINGS_WRITE)
    choices = (
        list(departments.list_departments(deps, actor, per_page=500, active_only=True).items)
        if can_write
        else []
    )
    if (
        can_write
        and view.department_id is not None
        and all(d.id != view.department_id for d in choices)
    ):
        # The class's own department stays selectable even when deactivated: otherwise saving
        # the form would silently clear it.
        with contextlib.suppress(DomainError):
            choices.insert(0, departments.get_department(deps, actor, view.department_id))
    typed = values or {}
    context = {
        "c": view,
        "kind_labels": KIND_LABELS,
        "chinese": current_locale.get() == "zh_CN",
        "can_write": can_write,
        "departments": choices,
        "filing_json": typed.get("filing_criteria") or _pretty(view.filing_criteria),
        "limits_json": typed.get("time_limits") or _pretty(view.time_limits),
        "fields_json": typed.get("form_fields") or _pretty(view.form_fields),
        "closing": typed.get("closing_criteria", view.closing_criteria),
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/catalog_class.html", context, status_code=error.status if error else 200
    )


def _pretty(value: list[dict[str, Any]]) -> str:
    """JSON for a text area, Chinese kept readable."""
    return json.dumps(value, ensure_ascii=False, indent=1)
