"""Switching the city's active code set from a page (``/admin/catalog/switch``).

The administrator picks the target set and reads the dry-run report: which classes map to
which, how many components move to which class, and what blocks the switch (classes in use
without a counterpart, linked to the unmapped list where they can be paired). The switch is
confirmed by typing the target set's name and giving a reason; the page then shows what was
re-coded and links the audit log. Administrators only, as for ``POST /api/v1/catalog/switch``
(``settings.write``; re-coding components also needs ``component.write``, checked again in the
service).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import CODE_SETS, parse_code_set
from gridcity.domain.catalog_mapping import ClassRef, SwitchReport
from gridcity.domain.components import check_reason
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.services import catalog, catalog_switch
from gridcity.services.catalog_switch import SwitchResult
from gridcity.services.deps import ServiceDeps
from gridcity.web.deps import Deps, Info, PageActor
from gridcity.web.ui.admin_catalog import KIND_LABELS
from gridcity.web.ui.common import flashes, raise_if_forbidden

router = APIRouter()
_Short = Annotated[str, Form(max_length=32)]


@router.get("/admin/catalog/switch", response_class=HTMLResponse)
def switch_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    to_set: str = Query("", max_length=32),
) -> Response:
    """The choice of a target set and, once chosen, the dry-run report of switching to it."""
    require(actor, Permission.SETTINGS_WRITE)
    return _render(request, actor, deps, info, to_set)


@router.post("/admin/catalog/switch", response_class=HTMLResponse)
def perform_switch(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    to_set: _Short,
    from_set: _Short,
    confirmation: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Switch after the typed confirmation; a refusal shows the report again with the reason."""
    require(actor, Permission.SETTINGS_WRITE)
    typed = {"confirmation": confirmation, "reason": reason}
    try:
        target = parse_code_set(to_set)
        if _normal(confirmation) != _normal(target.name_zh):
            raise InvalidInput(
                "switch_not_confirmed",
                "Type the name of the target code set, %(name)s, to confirm the switch",
                name=target.name_zh,
            )
        why = check_reason(reason, required=True)
        result = catalog_switch.switch_code_set(
            deps, actor, to_set, dry_run=False, info=info, reason=why, expected_from=from_set
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _render(request, actor, deps, info, to_set, error=exc, typed=typed)
    return _render(request, actor, deps, info, to_set, done=result)


def _normal(text: str) -> str:
    """A name as compared for the confirmation: spaces collapsed, case ignored."""
    return " ".join(text.split()).casefold()


def _render(
    request: Request,
    actor: Actor,
    deps: ServiceDeps,
    info: Any,
    to_set: str,
    *,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    done: SwitchResult | None = None,
) -> Response:
    """The page: the target choice, then the report (fresh from a dry run) or the result."""
    sets = catalog.list_code_sets(deps, actor)
    active = next((s for s in sets if s.active), None)
    report: SwitchReport | None = done.report if done else None
    status = error.status if error else 200
    if to_set and done is None:
        try:
            report = catalog_switch.switch_code_set(
                deps, actor, to_set, dry_run=True, info=info
            ).report
        except DomainError as exc:
            raise_if_forbidden(exc)
            if error is None:
                error, status = exc, exc.status
    target = CODE_SETS.get(report.to_set) if report else None
    context = {
        "sets": sets,
        "active": active,
        "to_set": to_set,
        "report": report,
        "target": target,
        "names": _names(deps, actor, report),
        "lost": _lost(report),
        "moves": sorted(
            (m for m in report.moves if m.target is not None),
            key=lambda m: (-m.components, m.source.code),
        )
        if report
        else [],
        "mapped_count": len(report.mapped) if report else 0,
        "unmapped_free": [r for r in report.unmapped if r not in set(report.lost)]
        if report
        else [],
        "done": done,
        "typed": typed or {},
        "kind_labels": KIND_LABELS,
        "set_names": {s.key: s.name_zh for s in sets},
        "flashes": flashes(request, error),
    }
    return request.app.state.templates.render(
        request, "admin/catalog_switch.html", context, status_code=status
    )


def _lost(report: SwitchReport | None) -> list[tuple[ClassRef, int]]:
    """The classes in use that block the switch, each with the components that use it."""
    if report is None:
        return []
    counts = {m.source: m.components for m in report.moves if m.target is None}
    return [(ref, counts.get(ref, 0)) for ref in report.lost]


def _names(deps: ServiceDeps, actor: Actor, report: SwitchReport | None) -> dict[ClassRef, str]:
    """The Chinese name of every minor class of the sets a report names."""
    if report is None:
        return {}
    wanted = {report.from_set, report.to_set} | {m.source.code_set for m in report.moves}
    names: dict[ClassRef, str] = {}
    for code_set in sorted(wanted & set(CODE_SETS)):
        for c in catalog.list_classes(deps, actor, code_set=code_set, level="minor", limit=2000):
            names[ClassRef(c.code_set, c.kind, c.code)] = c.name_zh
    return names
