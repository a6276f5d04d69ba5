"""Admin page: generate a community's unit grids, preview them on a map, then save them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gridcity.config import BasemapCrs, Settings
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import DomainError, InvalidInput
from gridcity.domain.gridgen import DEFAULT_TARGET_AREA_M2
from gridcity.services import divisions, grid_generation, layer_staleness
from gridcity.services.deps import ServiceDeps
from gridcity.services.layer_staleness import StaleCell
from gridcity.web.deps import ApiActor, Deps, Info, PageActor
from gridcity.web.i18n import N_, gettext_
from gridcity.web.templating import Templates
from gridcity.web.ui.common import flashes, raise_if_forbidden, redirect, start_of_day
from gridcity.web.ui.map_page import basemap_config, display_shapes, needs_gcj02_shift

router = APIRouter(prefix="/admin/grids/generate")
COMMUNITY = r"^[0-9]{12}$"
MIN_TARGET_M2, MAX_TARGET_M2 = 100.0, 1_000_000.0
SAVED = N_("Saved: the community's unit grids were replaced; the earlier ones stay as history")
SCRIPT_TEXT = {"failed": N_("The preview could not be made")}


@router.get("", response_class=HTMLResponse)
def generate_page(
    request: Request,
    actor: PageActor,
    deps: Deps,
    community: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """The form: community, target area and start date; Preview draws, Save writes."""
    require(actor, Permission.GRID_WRITE)
    saved = request.query_params.get("done") == "redivided"
    done = [("success", gettext_(SAVED))] if saved else []
    # The re-division does not re-draw the cells built on the old grids: name them here.
    stale = (
        layer_staleness.stale_cells(deps, actor, parent=community) if saved and community else []
    )
    values = {"community": community, "target_area": DEFAULT_TARGET_AREA_M2, "valid_from": ""}
    return _form(request, deps, actor, values, done, stale=stale)


@router.post("", response_class=HTMLResponse)
def save(
    request: Request,
    actor: PageActor,
    deps: Deps,
    info: Info,
    community: Annotated[str, Form(max_length=12)],
    target_area: Annotated[float, Form()],
    fingerprint: Annotated[str, Form(max_length=64)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Replace the community's grids with the previewed ones, or show the form with the reason."""
    require(actor, Permission.GRID_WRITE)
    values = {"community": community, "target_area": target_area, "valid_from": valid_from}
    try:
        _check_target(target_area)
        grid_generation.save_proposal(
            deps,
            actor,
            community,
            target_area_m2=target_area,
            fingerprint=fingerprint,
            valid_from=start_of_day(valid_from),
            info=info,
        )
    except DomainError as exc:
        raise_if_forbidden(exc)
        return _form(request, deps, actor, values, flashes(request, exc), status_code=422)
    return redirect(f"/admin/grids/generate?community={community}", done="redivided")


@router.get("/preview.geojson")
def preview_geojson(
    request: Request,
    actor: ApiActor,
    deps: Deps,
    community: Annotated[str, Query(pattern=COMMUNITY)],
    target_area: Annotated[float, Query()] = DEFAULT_TARGET_AREA_M2,
) -> dict[str, Any]:
    """The proposed grids as GeoJSON with a summary; nothing is written."""
    _check_target(target_area)
    proposal = grid_generation.propose_grids(deps, actor, community, target_area_m2=target_area)
    settings: Settings = request.app.state.container.settings
    shapes = display_shapes(settings, [c.geometry for c in proposal.cells])
    features = [
        {
            "type": "Feature",
            "id": cell.code,
            "geometry": shape,
            "properties": {"code": cell.code, "area_m2": cell.area_m2},
        }
        for cell, shape in zip(proposal.cells, shapes, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "community": proposal.community_code,
            "community_name": proposal.community_name,
            "target_area_m2": proposal.target_area_m2,
            "count": len(proposal.cells),
            "min_area_m2": round(proposal.min_area_m2),
            "max_area_m2": round(proposal.max_area_m2),
            "mean_area_m2": round(proposal.mean_area_m2),
            "current_count": proposal.current_count,
            "fingerprint": proposal.fingerprint,
        },
    }


def _check_target(value: float) -> None:
    """A target area the screen accepts (the domain takes any positive number)."""
    if not MIN_TARGET_M2 <= value <= MAX_TARGET_M2:
        low, high = (f"{bound:,.0f}" for bound in (MIN_TARGET_M2, MAX_TARGET_M2))
        raise InvalidInput(
            "grid_target_range",
            "The target area must be between %(min)s and %(max)s m²",
            min=low,
            max=high,
        )


def _communities(deps: ServiceDeps, actor: Actor) -> list[tuple[str, list[Any]]]:
    """Communities in scope grouped under their subdistricts, for the picker."""
    subdistricts = divisions.list_divisions(
        deps, actor, level=DivisionLevel.SUBDISTRICT, per_page=200
    ).items
    names = {s.code: s.name for s in subdistricts}
    groups: dict[str, list[Any]] = {}
    page = 1
    while True:
        batch = divisions.list_divisions(
            deps, actor, level=DivisionLevel.COMMUNITY, page=page, per_page=200
        )
        for view in batch.items:
            groups.setdefault(view.code[:9], []).append(view)
        if page >= batch.pages:
            break
        page += 1
    return [(f"{names.get(code, '')} {code}".strip(), groups[code]) for code in sorted(groups)]


def _form(
    request: Request,
    deps: ServiceDeps,
    actor: Actor,
    values: dict[str, Any],
    messages: list[tuple[str, str]],
    *,
    status_code: int = 200,
    stale: list[StaleCell] | None = None,
) -> Response:
    settings: Settings = request.app.state.container.settings
    crs = BasemapCrs.GCJ02.value if needs_gcj02_shift(settings) else BasemapCrs.WGS84.value
    config = {
        "preview": "/admin/grids/generate/preview.geojson",
        "current": f"/grids/cells.geojson?crs={crs}",
        "basemap": basemap_config(settings),
        "text": {key: gettext_(msgid) for key, msgid in SCRIPT_TEXT.items()},
    }
    context = {
        "groups": _communities(deps, actor),
        "values": values,
        "config": config,
        "limits": (MIN_TARGET_M2, MAX_TARGET_M2),
        "stale": stale or [],
        "flashes": messages,
    }
    templates: Templates = request.app.state.templates
    return templates.render(request, "admin/grid_generate.html", context, status_code=status_code)
