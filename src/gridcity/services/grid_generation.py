"""Unit grid generation from the admin screen: propose a community's grids (nothing written),
then save exactly what was proposed as the community's new division."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.crs import to_projected, to_stored
from gridcity.adapters.db.tables import Division, GridCell, GridLayer
from gridcity.adapters.geo import area_m2
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.divisions import DivisionLevel, validate_code
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.domain.gridgen import checked_target, generate_grids
from gridcity.services import grids
from gridcity.services.deps import RequestInfo, ServiceDeps


@dataclass(frozen=True)
class ProposedCell:
    """One proposed grid: code, stored lon/lat geometry and the geodesic area it will store."""

    code: str
    geometry: BaseGeometry
    area_m2: float


@dataclass(frozen=True)
class Proposal:
    """The grids a generation would give a community, and how many it has now."""

    community_code: str
    community_name: str
    target_area_m2: float
    cells: tuple[ProposedCell, ...]
    current_count: int
    fingerprint: str  # names this exact proposal; saving checks it is still the same

    @property
    def min_area_m2(self) -> float:
        """Smallest proposed grid, m²."""
        return min(c.area_m2 for c in self.cells)

    @property
    def max_area_m2(self) -> float:
        """Largest proposed grid, m²."""
        return max(c.area_m2 for c in self.cells)

    @property
    def mean_area_m2(self) -> float:
        """Mean proposed grid, m²."""
        return sum(c.area_m2 for c in self.cells) / len(self.cells)


def propose_grids(
    deps: ServiceDeps, actor: Actor, community_code: str, *, target_area_m2: float
) -> Proposal:
    """Cut the community into unit grids of about the target area; nothing is written."""
    require(actor, Permission.GRID_WRITE)
    code = validate_code(community_code.strip(), DivisionLevel.COMMUNITY)
    target = checked_target(target_area_m2)
    with deps.db.read() as session:
        row = session.scalar(sa.select(Division).where(Division.code == code))
        if row is None or not actor.scope.covers_division(code):
            raise NotFound("division_not_found", "No division with code %(code)s", code=code)
        if row.geom is None:
            raise InvalidInput(
                "community_without_boundary",
                "Community %(code)s has no boundary yet; draw or import it before its grids",
                code=code,
            )
        boundary, name = row.geom, row.name
        current = session.scalar(
            sa.select(sa.func.count())
            .select_from(GridCell)
            .join(GridLayer, GridLayer.id == GridCell.layer_id)
            .where(
                GridLayer.code == grids.UNIT_LAYER,
                GridCell.community_code == code,
                grids.valid_at(deps.clock()),
            )
        )
    cells = _cut(code, boundary, target)
    return Proposal(
        community_code=code,
        community_name=name,
        target_area_m2=target,
        cells=tuple(cells),
        current_count=int(current or 0),
        fingerprint=_fingerprint(cells),
    )


def save_proposal(
    deps: ServiceDeps,
    actor: Actor,
    community_code: str,
    *,
    target_area_m2: float,
    fingerprint: str,
    valid_from: datetime | None,
    info: RequestInfo,
) -> grids.Redivision:
    """Generate again and, when it is still the proposal that was shown, replace the community's
    grids with it from ``valid_from`` (default: now); the old grids stay as history."""
    require(actor, Permission.GRID_WRITE)
    if not fingerprint.strip():
        raise InvalidInput("grid_preview_missing", "Preview the grids before saving them")
    proposal = propose_grids(deps, actor, community_code, target_area_m2=target_area_m2)
    if proposal.fingerprint != fingerprint.strip():
        raise Conflict(
            "grid_preview_stale",
            "The community changed since the preview; preview its grids again before saving",
        )
    return grids.replace_community_grids(
        deps,
        actor,
        proposal.community_code,
        [(c.code, c.geometry, {}) for c in proposal.cells],
        valid_from=valid_from or deps.clock(),
        info=info,
    )


def proposal_fingerprint(
    community_code: str, boundary: BaseGeometry, *, target_area_m2: float
) -> str:
    """The fingerprint of the grids a boundary would get (what a preview hands to the form)."""
    return _fingerprint(_cut(community_code, boundary, checked_target(target_area_m2)))


def _cut(code: str, boundary: BaseGeometry, target: float) -> list[ProposedCell]:
    """The community's generated grids in stored lon/lat, with the areas they will store."""
    metric, zone = to_projected(boundary)
    cells = []
    for cell in generate_grids(code, metric, target_area_m2=target):
        stored = to_stored(cell.geometry, zone)
        cells.append(ProposedCell(cell.code, stored, round(area_m2(stored), 2)))
    return cells


def _fingerprint(cells: list[ProposedCell]) -> str:
    """A short digest of codes, areas and positions (to the centimetre)."""
    digest = hashlib.sha256()
    for cell in cells:
        point = cell.geometry.representative_point()
        digest.update(f"{cell.code}:{cell.area_m2:.1f}:{point.x:.7f}:{point.y:.7f};".encode())
    return digest.hexdigest()[:32]
