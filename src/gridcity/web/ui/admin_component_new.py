"""The "new component" page (``/admin/components/new``): one component added by hand.

The class is chosen from the active code set (the list narrows by code, Chinese name or pinyin
initials, as on the map); the position is a click on a small map or typed coordinates
(CGCS2000 lon/lat); then its name, departments, state, dates, data source, accuracy class,
notes and the class's own extension fields, which the page swaps in when the class changes.
The form goes through ``components.create_component``, the census write path as a batch of
one: a refusal shows the form again with what was typed and each reason next to its field.
Administrators only (``component.write``, checked again in the service).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import Point
from starlette.datastructures import FormData

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.census import CensusProblem
from gridcity.domain.components import DATA_SOURCES, ComponentState
from gridcity.domain.errors import DomainError
from gridcity.services import catalog, components
from gridcity.services.catalog import ClassView
from gridcity.services.components import ComponentRefused, NewComponent
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.errors import human_message, translated
from gridcity.web.i18n import N_, current_locale, gettext_
from gridcity.web.ui.admin_components import STATE_LABELS
from gridcity.web.ui.admin_org import all_departments, render
from gridcity.web.ui.common import raise_if_forbidden, redirect
from gridcity.web.ui.map_page import API_SOURCE, SHIFTED_SOURCE, basemap_config, needs_gcj02_shift

router = APIRouter()
CLASS_LIMIT = 2000
# The write path names the column at fault; the form shows the reason next to that field.
COLUMN_FIELDS = {
    "class_code": "class_code",
    "identifier": "class_code",
    "geometry": "position",
    "name": "name",
    "competent": "competent_department_id",
    "owner": "owner_department_id",
    "maintainer": "maintainer_department_id",
    "state": "state",
    "census_date": "census_date",
    "changed_on": "changed_on",
    "data_source": "data_source",
    "accuracy": "accuracy",
    "position_text": "position_text",
    "note": "note",
}
TEXT_FIELDS = (
    "class_code", "lon", "lat", "name", "competent_department_id", "owner_department_id",
    "maintainer_department_id", "state", "census_date", "data_source", "accuracy",
    "position_text", "note", "reason",
)  # fmt: skip
# Words the map script shows (translated here, so the script needs no catalog).
SCRIPT_TEXT = {
    "hint": N_("Click on the map to place the component"),
    "placed": N_("Position set: %(lon)s, %(lat)s"),
    "failed": N_("The position could not be converted; type the coordinates instead"),
}


async def posted(request: Request) -> FormData:
    """The posted form (its fields vary with the class's extension attributes)."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted)]


class FormErrors:
    """Reasons by form field (``_form`` for those that belong to no field)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        """One reason for a field."""
        self.by_field.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


@router.get("/admin/components/new", response_class=HTMLResponse)
def new_component_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    class_code: str = Query("", max_length=8),
) -> Response:
    """The empty form (a class may be chosen already, e.g. from a link)."""
    require(actor, Permission.COMPONENT_WRITE)
    values = {"class_code": class_code.strip(), "state": ComponentState.INTACT.value}
    return _render(request, actor, deps, values, FormErrors())


@router.get("/admin/components/new/fields", response_class=HTMLResponse)
def class_fields(
    request: Request,
    actor: PageActor,
    deps: Deps,
    class_code: str = Query("", max_length=8),
) -> Response:
    """The extension fields of a class (htmx swaps them in when the class changes)."""
    require(actor, Permission.COMPONENT_WRITE)
    chosen = _class_of(_classes(deps, actor), class_code.strip())
    context = {"fields": _fields(chosen), "values": {}, "errors": {}, "chosen": chosen}
    return render(request, "admin/component_new_fields.html", context)


@router.post("/admin/components/new", response_class=HTMLResponse)
def create_component(
    request: Request, actor: PageActor, deps: Deps, info: Info, form: Posted
) -> Response:
    """Add the component and go to its page, or show the form again with the reasons."""
    require(actor, Permission.COMPONENT_WRITE)
    values = {name: _text(form, name) for name in TEXT_FIELDS}
    values.update({k: str(v) for k, v in form.multi_items() if k.startswith("attr.")})
    if _text(form, "allow_duplicate"):
        values["allow_duplicate"] = "1"
    errors = FormErrors()
    data = _new_component(form, errors)
    if data is None:
        return _render(request, actor, deps, values, errors, status=422)
    try:
        view = components.create_component(
            deps, actor, data, info=info, allow_duplicate=bool(values.get("allow_duplicate"))
        )
    except ComponentRefused as exc:
        for problem in exc.problems:
            errors.add(_field_of(problem), translated(problem.message, problem.params))
        duplicate = any(p.code == "likely_duplicate" for p in exc.problems)
        return _render(request, actor, deps, values, errors, status=exc.status, duplicate=duplicate)
    except DomainError as exc:
        raise_if_forbidden(exc)
        field = "competent_department_id" if exc.code == "unknown_department" else "_form"
        errors.add(field, human_message(exc))
        return _render(request, actor, deps, values, errors, status=exc.status)
    return redirect(f"/admin/components/{view.identifier}", done="created")


def _field_of(problem: CensusProblem) -> str:
    """The form field a problem of the write path belongs to."""
    if problem.column == "attributes":
        name = problem.params.get("name")
        return f"attr.{name}" if name else "attributes"
    return COLUMN_FIELDS.get(problem.column, "_form")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, name: str, errors: FormErrors, low: float, high: float) -> float | None:
    """A coordinate as typed (a comma as decimal mark is taken too), or a reason."""
    text = _text(form, name).replace("，", ",").replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        errors.add(
            "position",
            gettext_("%(value)s is not a number between %(low)s and %(high)s")
            % {"value": text, "low": low, "high": high},
        )
        return None
    return value


def _day(form: FormData, name: str, errors: FormErrors) -> date | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(name, gettext_("%(value)s is not a date (YYYY-MM-DD)") % {"value": text})
        return None


def _department(form: FormData, name: str, errors: FormErrors) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        errors.add(name, gettext_("Choose a department from the list (got %(value)s)") % {
            "value": text})  # fmt: skip
        return None
    return int(text)


def _new_component(form: FormData, errors: FormErrors) -> NewComponent | None:
    """What the form asks for, or None (with the reasons) when a value cannot even be read."""
    lon = _number(form, "lon", errors, -180.0, 180.0)
    lat = _number(form, "lat", errors, -90.0, 90.0)
    if (lon is None) != (lat is None) and "position" not in errors.by_field:
        errors.add("position", gettext_("Give both the longitude and the latitude"))
    departments = {
        name: _department(form, name, errors)
        for name in ("competent_department_id", "owner_department_id", "maintainer_department_id")
    }
    census_date = _day(form, "census_date", errors)
    if errors:
        return None
    attributes = {
        key.removeprefix("attr."): str(value).strip()
        for key, value in form.multi_items()
        if key.startswith("attr.") and str(value).strip()
    }
    return NewComponent(
        class_code=_text(form, "class_code"),
        geometry=Point(lon, lat) if lon is not None and lat is not None else None,
        name=_text(form, "name"),
        competent_department_id=departments["competent_department_id"],
        owner_department_id=departments["owner_department_id"],
        maintainer_department_id=departments["maintainer_department_id"],
        state=_text(form, "state"),
        census_date=census_date,
        data_source=_text(form, "data_source"),
        accuracy=_text(form, "accuracy"),
        position_text=_text(form, "position_text"),
        note=_text(form, "note"),
        attributes=attributes,
        reason=_text(form, "reason"),
    )


def _classes(deps: ServiceDeps, actor: Actor) -> list[ClassView]:
    """The minor component classes of the active code set."""
    return catalog.list_classes(deps, actor, kind="component", level="minor", limit=CLASS_LIMIT)


def _class_of(classes: list[ClassView], code: str) -> ClassView | None:
    return next((c for c in classes if c.code == code), None) if code else None


def _fields(chosen: ClassView | None) -> list[dict[str, Any]]:
    """The class's extension fields with their label in the request's language."""
    if chosen is None:
        return []
    chinese = current_locale.get() == "zh_CN"
    shown = []
    for spec in chosen.form_fields:
        label = spec.get("label_zh") if chinese else spec.get("label_en") or spec.get("label_zh")
        shown.append({**spec, "label": label or spec["name"]})
    return shown


def _render(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    values: dict[str, str],
    errors: FormErrors,
    *,
    status: int = 200,
    duplicate: bool = False,
) -> Response:
    """The form with what was typed and the reasons next to the fields."""
    settings = request.app.state.container.settings
    classes = _classes(deps, actor)
    chosen = _class_of(classes, values.get("class_code", ""))
    shift = needs_gcj02_shift(settings)
    fields = _fields(chosen)
    shown = {*COLUMN_FIELDS.values(), *(f"attr.{f['name']}" for f in fields)}
    by_field: dict[str, list[str]] = {}
    for field, messages in errors.by_field.items():
        # A reason for a field the form does not show (an attribute the class lacks) goes on top.
        by_field.setdefault(field if field in shown else "_form", []).extend(messages)
    context = {
        "classes": classes,
        "chosen": chosen,
        "fields": fields,
        "values": values,
        "errors": by_field,
        "problem_count": sum(len(v) for v in by_field.values()),
        "duplicate": duplicate or bool(values.get("allow_duplicate")),
        "departments": [d for d in all_departments(deps, actor) if d.is_active],
        "state_labels": STATE_LABELS,
        "data_sources": DATA_SOURCES,
        "map_config": {
            "basemap": basemap_config(settings),
            "shift": shift,
            "boundaries": (SHIFTED_SOURCE + "&level=district")
            if shift
            else (API_SOURCE + "?level=district"),
            "components_crs": "GCJ02" if shift else "WGS84",
            "text": {key: gettext_(msgid) for key, msgid in SCRIPT_TEXT.items()},
        },
        "flashes": [],
    }
    return render(request, "admin/component_new.html", context, status_code=status)
