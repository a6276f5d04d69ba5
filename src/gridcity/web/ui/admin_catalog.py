"""Admin pages of the standard catalog (``/admin/catalog``): the classes of a code set with
search and the pairs made by hand between sets, one class with its rules and (for
administrators) a structured edit form, a form for local extension classes, pairing two classes
by hand, and the classes of a set without a counterpart in another (``/admin/catalog/unmapped``).
Every staff member may read; only administrators write (checked again in the services)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS
from gridcity.domain.catalog_mapping import ClassRef, MappingBasis, counterpart_kind
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import catalog, catalog_admin, catalog_mappings, departments
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_, current_locale
from gridcity.web.ui import catalog_form
from gridcity.web.ui.common import flashes, query_string, raise_if_forbidden, redirect

router = APIRouter()
KIND_LABELS = {"component": N_("Component"), "event": N_("Event"), "matter": N_("Matter")}
LIST_LIMIT = 300


@router.get("/admin/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The classes of a code set (the active one by default), searched by code, name, initials."""
    return render_list(request, actor, deps)


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
        return render_list(request, actor, deps, error=exc, values=values)
    return redirect(f"/admin/catalog/{added.code_set}/{added.kind}/{added.code}", done="created")


@router.get("/admin/catalog/{code_set}/{kind}/{code}", response_class=HTMLResponse)
def class_page(
    request: Request, actor: PageActor, deps: Deps, code_set: str, kind: str, code: str
) -> Response:
    """One class: its source and confidence, criteria, time limits, department, form fields."""
    return _render_class(request, actor, deps, code_set, kind, code)


Rows = Annotated[list[str] | None, Form()]


@router.post("/admin/catalog/{code_set}/{kind}/{code}", response_class=HTMLResponse)
def edit_class(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    code_set: str,
    kind: str,
    code: str,
    # A field missing from the POST is None and keeps the stored value; a list section counts
    # as sent when its marker is (an emptied list is then stored empty). 20000 only bounds the
    # request; the service refuses closing criteria over 500 characters with its own reason.
    closing_criteria: Annotated[str | None, Form(max_length=20_000)] = None,
    department_id: Annotated[str | None, Form(max_length=12)] = None,
    name_en: Annotated[str | None, Form(max_length=60)] = None,
    name_zh: Annotated[str | None, Form(max_length=60)] = None,
    filing_criteria_sent: Annotated[str | None, Form(max_length=1)] = None,
    fc_code: Rows = None,
    fc_text: Rows = None,
    time_limits_sent: Annotated[str | None, Form(max_length=1)] = None,
    tl_cell: Rows = None,
    tl_amount: Rows = None,
    tl_unit: Rows = None,
    tl_note: Rows = None,
    form_fields_sent: Annotated[str | None, Form(max_length=1)] = None,
    ff_name: Rows = None,
    ff_label_zh: Rows = None,
    ff_label_en: Rows = None,
    ff_type: Rows = None,
    ff_required: Rows = None,
    ff_choices: Rows = None,
) -> Response:
    """Save the edit form of a class, or show it again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    typed: dict[str, Any] = {}
    if closing_criteria is not None:
        typed["closing_criteria"] = closing_criteria
    try:
        if filing_criteria_sent:
            typed["filing_criteria"] = catalog_form.filing_rows(fc_code, fc_text)
        if time_limits_sent:
            typed["time_limits"] = catalog_form.limit_rows(tl_cell, tl_amount, tl_unit, tl_note)
        if form_fields_sent:
            typed["form_fields"] = catalog_form.field_rows(
                ff_name, ff_label_zh, ff_label_en, ff_type, ff_required, ff_choices
            )
        class_id = catalog.class_id_of(deps, actor, code_set, kind, code)
        edit = ClassEdit(
            name_zh=name_zh,
            name_en=name_en,
            department_id=_department_id(department_id),
            clear_department=department_id is not None and not department_id.strip(),
            filing_criteria=typed.get("filing_criteria"),
            closing_criteria=closing_criteria,
            time_limits=typed.get("time_limits"),
            form_fields=typed.get("form_fields"),
        )
        catalog_admin.update_class(deps, actor, class_id, edit, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_class(request, actor, deps, code_set, kind, code, error=exc, values=typed)
    return redirect(f"/admin/catalog/{code_set}/{kind}/{code}", done="updated")


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


def render_list(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    *,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
    pair: dict[str, str] | None = None,
) -> Response:
    """The list page with the pairs made by hand; a refused extension or pair is shown on its
    form with its own status."""
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
        "pair": pair or {},
        "manual": catalog_mappings.list_mappings(deps, actor, basis=MappingBasis.MANUAL.value),
        "active": active or "",
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
    filing = typed.get("filing_criteria", view.filing_criteria)
    fields = typed.get("form_fields", view.form_fields)
    context = {
        "c": view,
        "kind_labels": KIND_LABELS,
        "chinese": current_locale.get() == "zh_CN",
        "can_write": can_write,
        "departments": choices,
        "closing": typed.get("closing_criteria", view.closing_criteria),
        "form_state": catalog_form.form_state(filing, fields),
        "limit_table": catalog_form.limit_table(typed.get("time_limits", view.time_limits)),
        "unit_labels": catalog_form.UNIT_LABELS,
        "urgency_labels": catalog_form.URGENCY_LABELS,
        "area_labels": catalog_form.AREA_LABELS,
        "areas": catalog_form.AREAS,
        "type_labels": catalog_form.TYPE_LABELS,
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/catalog_class.html", context, status_code=error.status if error else 200
    )


# --- the mapping between code sets ----------------------------------------------------------

_Short = Annotated[str, Form(max_length=32)]


@router.post("/admin/catalog/mapping", response_class=HTMLResponse)
def add_pair(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    source_set: _Short,
    source_kind: _Short,
    source_code: _Short,
    target_set: _Short,
    target_kind: _Short,
    target_code: _Short,
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Pair two classes by hand, or show the form again with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    pair = {"source_set": source_set, "source_kind": source_kind, "source_code": source_code,
            "target_set": target_set, "target_kind": target_kind, "target_code": target_code,
            "note": note}  # fmt: skip
    try:
        catalog_mappings.add_manual_mapping(
            deps,
            actor,
            ClassRef(source_set, source_kind, source_code.strip()),
            ClassRef(target_set, target_kind, target_code.strip()),
            note=note,
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        if back == "unmapped":
            return _render_unmapped(request, actor, deps, source_set, target_set, exc, pair)
        return render_list(request, actor, deps, error=exc, pair=pair)
    return _back(back, source_set, target_set)


@router.post("/admin/catalog/mapping/delete", response_class=HTMLResponse)
def delete_pair(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    mapping_id: Annotated[int, Form()],
) -> Response:
    """Delete a pair made by hand, or show the list with the reason it was refused."""
    require(actor, Permission.SETTINGS_WRITE)
    try:
        catalog_mappings.delete_manual_mapping(deps, actor, mapping_id, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return render_list(request, actor, deps, error=exc)
    return redirect("/admin/catalog", done="updated")


@router.get("/admin/catalog/unmapped", response_class=HTMLResponse)
def unmapped_page(request: Request, actor: PageActor, deps: Deps) -> Response:
    """The classes of a set (the active one by default) without a counterpart in another set."""
    params = request.query_params
    return _render_unmapped(
        request, actor, deps, params.get("set", ""), params.get("to_set", ""), None, None
    )


def _back(back: str, source_set: str, target_set: str) -> Response:
    """Where a saved pair returns: the unmapped list it came from, or the catalog page."""
    if back == "unmapped":
        query = query_string(set=source_set, to_set=target_set)
        return redirect(f"/admin/catalog/unmapped?{query}", done="created")
    return redirect("/admin/catalog", done="created")


def _render_unmapped(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    code_set: str,
    to_set: str,
    error: DomainError | None,
    pair: dict[str, str] | None,
) -> Response:
    """The unmapped list; without a target set, only the form to choose one."""
    sets = catalog.list_code_sets(deps, actor)
    source = code_set or next((s.key for s in sets if s.active), "")
    found: list[catalog_mappings.UnmappedClass] = []
    status = error.status if error else 200
    if to_set:
        try:
            found = catalog_mappings.unmapped_classes(deps, actor, to_set, code_set=source)
        except DomainError as exc:
            raise_if_forbidden(exc)
            error, status = error or exc, exc.status
    context = {
        "sets": sets,
        "source": source,
        "to_set": to_set,
        "found": found,
        "counterpart": {
            kind: counterpart_kind(kind, to_set)
            for kind in ("component", "event", "matter")
            if to_set in CODE_SETS
        },
        "kind_labels": KIND_LABELS,
        "can_write": actor.can(Permission.SETTINGS_WRITE),
        "pair": pair or {},
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/catalog_unmapped.html", context, status_code=status
    )
