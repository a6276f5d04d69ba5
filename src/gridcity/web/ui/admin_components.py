"""Admin pages of the component registry (``/admin/components``): the list with filters, search
and a bulk state change, and one component with its facts, a small map, its history and (for
administrators) the edit and state forms. Every staff member may read within their data scope;
only administrators write (checked again in the services)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from gridcity.adapters.geo import from_geojson
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.components import DATA_SOURCES, ComponentState, check_reason
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import catalog, component_photos, components, divisions
from gridcity.services.components import ComponentEdit, ComponentView, HistoryEntry
from gridcity.services.deps import ServiceDeps
from gridcity.services.pagination import MAX_PER_PAGE
from gridcity.web.api.components import Upload, photo_urls, storage_of
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.i18n import N_, gettext_
from gridcity.web.ui.admin_org import all_departments, every_page, render
from gridcity.web.ui.admin_users import DEPTH
from gridcity.web.ui.common import flashes, is_htmx, query_string, raise_if_forbidden, redirect
from gridcity.web.ui.map_page import basemap_config, display_shapes

router = APIRouter()
PER_PAGE = 50
STATE_LABELS = {
    ComponentState.INTACT.value: N_("Intact"),
    ComponentState.DAMAGED.value: N_("Damaged"),
    ComponentState.LOST.value: N_("Lost"),
    ComponentState.OCCUPIED.value: N_("Occupied"),
    ComponentState.ABANDONED.value: N_("Abandoned"),
    ComponentState.REMOVED.value: N_("Removed"),
}
ACTION_LABELS = {
    "created": N_("Created"),
    "updated": N_("Edited"),
    "state_changed": N_("State changed"),
    "photo_added": N_("Photo added"),
    "photo_removed": N_("Photo removed"),
}
FIELD_LABELS = {
    "name": N_("Name"),
    "geometry": N_("Position"),
    "grid_code": N_("Unit grid"),
    "community_code": N_("Community"),
    "competent_department": N_("Competent department"),
    "owner_department": N_("Owner"),
    "maintainer_department": N_("Maintainer"),
    "state": N_("State"),
    "census_date": N_("Census date"),
    "changed_on": N_("Change date"),
    "data_source": N_("Data source"),
    "accuracy": N_("Position accuracy"),
    "position_text": N_("Position description"),
    "note": N_("Note"),
    "photos": N_("Photos"),
}
FILTERS = ("q", "class_code", "state", "department_id", "community_code", "include_removed")


async def posted(request: Request) -> FormData:
    """The posted form (its fields vary with the class's extension attributes)."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted)]


# --- the list -------------------------------------------------------------------------------


@router.get("/admin/components", response_class=HTMLResponse)
def components_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    q: str = Query("", max_length=100),
    class_code: str = Query("", max_length=8),
    state: str = Query("", max_length=20),
    department_id: str = Query("", max_length=12),
    community_code: str = Query("", max_length=12),
    include_removed: str = Query("", max_length=5),
    page: int = Query(1, ge=1),
) -> Response:
    """Searchable, filtered, paginated list; htmx asks for the table only."""
    filters = {"q": q, "class_code": class_code, "state": state, "department_id": department_id,
               "community_code": community_code, "include_removed": include_removed}  # fmt: skip
    return _render_list(request, actor, deps, filters, page)


@router.post("/admin/components/state", response_class=HTMLResponse)
def bulk_state(
    request: Request, actor: PageActor, deps: Deps, info: Info, form: Posted
) -> Response:
    """Change the state of the ticked components, or show the list again with the reason."""
    require(actor, Permission.COMPONENT_WRITE)
    back = str(form.get("back", ""))[:500]
    chosen = [str(v) for v in form.getlist("identifier")]
    try:
        components.change_states(
            deps, actor, chosen, str(form.get("state", "")), reason=_text(form, "reason"), info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        filters = {k: v for k, v in parse_qsl(back) if k in FILTERS}
        page = int(dict(parse_qsl(back)).get("page", "1") or 1)
        return _render_list(request, actor, deps, filters, page, error=exc)
    return redirect(f"/admin/components?{back}" if back else "/admin/components", done="updated")


def _render_list(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    filters: Mapping[str, str],
    page: int,
    *,
    error: DomainError | None = None,
) -> Response:
    """The list page (or its table for htmx) for these filters."""
    department = filters.get("department_id", "")
    status = error.status if error else 200
    try:
        result = components.list_components(
            deps,
            actor,
            q=filters.get("q", ""),
            class_code=filters.get("class_code", ""),
            state=filters.get("state", ""),
            department_id=int(department) if department.isdigit() else None,
            community_code=filters.get("community_code", ""),
            include_removed=bool(filters.get("include_removed")),
            page=page,
            per_page=PER_PAGE,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        result, error, status = None, error or exc, exc.status
    context = {
        "page": result,
        "filters": filters,
        "base_query": query_string(**filters),
        "classes": catalog.list_classes(deps, actor, kind="component", level="minor", limit=2000),
        "departments": all_departments(deps, actor),
        "divisions": _divisions(deps, actor),
        "state_labels": STATE_LABELS,
        "can_write": actor.can(Permission.COMPONENT_WRITE),
        "flashes": flashes(request, error),
    }
    template = "admin/components_table.html" if is_htmx(request) else "admin/components.html"
    return render(request, template, context, status_code=status)


def _divisions(deps: ServiceDeps, actor: Actor) -> list[tuple[Any, int]]:
    """Divisions in scope for the filter, indented by level."""
    rows = every_page(
        lambda n: divisions.list_divisions(deps, actor, page=n, per_page=MAX_PER_PAGE)
    )
    return [(d, DEPTH[d.level]) for d in sorted(rows, key=lambda d: d.code)]


# --- one component --------------------------------------------------------------------------


@router.get("/admin/components/{identifier}", response_class=HTMLResponse)
def component_page(request: Request, actor: PageActor, deps: Deps, identifier: str) -> Response:
    """One component: facts, map, history, and the forms for administrators."""
    view = components.get_component(deps, actor, identifier)
    return _render_component(request, actor, deps, view)


@router.post("/admin/components/{identifier}", response_class=HTMLResponse)
def edit_component(
    request: Request, actor: PageActor, deps: Deps, info: Info, identifier: str, form: Posted
) -> Response:
    """Save the edit form (a reason is required), or show it again with the reason it failed."""
    require(actor, Permission.COMPONENT_WRITE)
    view = components.get_component(deps, actor, identifier)
    typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        reason = check_reason(_text(form, "reason"), required=True)
        components.update_component(
            deps,
            actor,
            identifier,
            _edit_of(form, view),
            expected_version=_version(form),
            reason=reason,
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_component(request, actor, deps, view, error=exc, typed=typed)
    return redirect(f"/admin/components/{identifier}", done="updated")


@router.post("/admin/components/{identifier}/photos", response_class=HTMLResponse)
def add_photo(
    request: Request, actor: PageActor, deps: Deps, info: Info, identifier: str, data: Upload
) -> Response:
    """Add the uploaded photo, or show the page again with the reason it was refused."""
    require(actor, Permission.COMPONENT_WRITE)
    view = components.get_component(deps, actor, identifier)
    storage = storage_of(request)
    try:
        component_photos.add_photo(deps, storage, actor, identifier, data, info=info)
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_component(request, actor, deps, view, error=exc)
    return redirect(f"/admin/components/{identifier}", done="updated")


@router.post("/admin/components/{identifier}/photos/{name}/delete", response_class=HTMLResponse)
def remove_photo(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    identifier: str,
    name: str,
    form: Posted,
) -> Response:
    """Take a photo off the component (with a reason), or show the page with why it was not."""
    require(actor, Permission.COMPONENT_WRITE)
    view = components.get_component(deps, actor, identifier)
    try:
        component_photos.remove_photo(
            deps, actor, identifier, name, reason=_text(form, "reason"), info=info
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_component(request, actor, deps, view, error=exc)
    return redirect(f"/admin/components/{identifier}", done="updated")


@router.post("/admin/components/{identifier}/state", response_class=HTMLResponse)
def change_state(
    request: Request, actor: PageActor, deps: Deps, info: Info, identifier: str, form: Posted
) -> Response:
    """Change this component's state (with a reason), or show why it was refused."""
    require(actor, Permission.COMPONENT_WRITE)
    view = components.get_component(deps, actor, identifier)
    try:
        components.update_component(
            deps,
            actor,
            identifier,
            ComponentEdit(state=str(form.get("state", ""))),
            expected_version=_version(form),
            reason=check_reason(_text(form, "reason"), required=True),
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render_component(request, actor, deps, view, error=exc)
    return redirect(f"/admin/components/{identifier}", done="updated")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _version(form: FormData) -> int:
    text = _text(form, "expected_version").strip()
    if not text.isdigit():
        raise InvalidInput("invalid_version", "The form lost its version; reload the page")
    return int(text)


def _department(form: FormData, name: str) -> int | None:
    text = _text(form, name).strip()
    return int(text) if text.isdigit() else None


def _day(form: FormData, name: str) -> date | None:
    text = _text(form, name).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "date_invalid", "%(value)s is not a date (YYYY-MM-DD)", value=text
        ) from None


def _edit_of(form: FormData, view: ComponentView) -> ComponentEdit:
    """The edit the form asks for: every field as posted (the service keeps what is equal)."""
    clear = {f for f in ("owner_department_id", "maintainer_department_id") if not _text(form, f)}
    if not _text(form, "changed_on").strip():
        clear.add("changed_on")
    shape = _text(form, "geometry").strip()
    attributes = {
        key.removeprefix("attr."): str(value)
        for key, value in form.multi_items()
        if key.startswith("attr.") and str(value).strip()
    }
    return ComponentEdit(
        name=_text(form, "name"),
        geometry=from_geojson(shape) if shape else None,
        competent_department_id=_department(form, "competent_department_id"),
        owner_department_id=_department(form, "owner_department_id"),
        maintainer_department_id=_department(form, "maintainer_department_id"),
        census_date=_day(form, "census_date"),
        changed_on=_day(form, "changed_on"),
        data_source=_text(form, "data_source"),
        accuracy=_text(form, "accuracy"),
        position_text=_text(form, "position_text"),
        note=_text(form, "note"),
        attributes=attributes if view.attribute_fields or attributes else None,
        clear=frozenset(clear),
    )


def _render_component(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    view: ComponentView,
    *,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The component page; a refused edit keeps what was typed."""
    settings = request.app.state.container.settings
    history = components.component_history(deps, actor, view.identifier)
    can_write = actor.can(Permission.COMPONENT_WRITE)
    context = {
        "c": view,
        "values": typed if typed is not None else _values_of(view),
        "history": [_shown(entry, view) for entry in reversed(history)],
        "map_config": {
            "geometry": display_shapes(settings, [from_geojson(view.geometry)])[0],
            "basemap": basemap_config(settings),
        },
        "state_labels": STATE_LABELS,
        "photo_urls": photo_urls(view),
        "departments": all_departments(deps, actor) if can_write else [],
        "data_sources": DATA_SOURCES,
        "can_write": can_write,
        "flashes": flashes(request, error),
    }
    status = error.status if error else 200
    return render(request, "admin/components_detail.html", context, status_code=status)


def _values_of(view: ComponentView) -> dict[str, str]:
    """Form values from the stored component."""
    values = {
        "name": view.name,
        "competent_department_id": str(view.competent_department.id),
        "owner_department_id": str(view.owner_department.id) if view.owner_department else "",
        "maintainer_department_id": (
            str(view.maintainer_department.id) if view.maintainer_department else ""
        ),
        "census_date": view.census_date.isoformat(),
        "changed_on": view.changed_on.isoformat() if view.changed_on else "",
        "data_source": view.data_source,
        "accuracy": view.accuracy,
        "position_text": view.position_text,
        "note": view.note,
        "geometry": "",
        "expected_version": str(view.version),
    }
    for key, value in view.attributes.items():
        values[f"attr.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def _plain(value: Any) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext_("Yes") if value else gettext_("No")
    return str(value)


def _shown(entry: HistoryEntry, view: ComponentView) -> dict[str, Any]:
    """A history entry with labels and readable old → new values."""
    labels = {f["name"]: f.get("label_zh") or f["name"] for f in view.attribute_fields}
    rows = []
    for key, (old, new) in entry.changes.items():
        if key.startswith("attributes."):
            label = labels.get(key.removeprefix("attributes."), key.removeprefix("attributes."))
        else:
            label = gettext_(FIELD_LABELS.get(key, key))
        rows.append((label, _value(key, old), _value(key, new)))
    return {"entry": entry, "action": gettext_(ACTION_LABELS.get(entry.action, entry.action)),
            "changes": rows}  # fmt: skip


def _value(key: str, value: Any) -> str:
    """One old or new value of a change, for the history table."""
    if key == "state" and isinstance(value, str) and value in STATE_LABELS:
        return gettext_(STATE_LABELS[value])
    if key == "photos" and isinstance(value, list):
        return gettext_("%(n)s photos") % {"n": len(value)}
    if key == "geometry" and isinstance(value, dict):
        points = json.dumps(value.get("coordinates"), separators=(",", ":"))
        return f"{value.get('type', '')} {points[:80]}{'…' if len(points) > 80 else ''}"
    return _plain(value)
