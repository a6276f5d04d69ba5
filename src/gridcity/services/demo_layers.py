"""The demo city's other grid layers and its responsibility assignments, built on its unit grids
and stored through the layer and assignment services, as a city's own survey would be.

Layers: responsibility grids (each subdistrict split into 3–6 patrol areas of whole unit
grids), social-service grids for the first community of five subdistricts, sanitation zones and
enforcement grids over the district, and the three-level fire-safety grid (big = subdistrict,
medium = community, small = 2–4 zones of each community). Patrol areas, social grids,
enforcement grids and fire zones are clusters of neighbouring unit grids (k-means on their
centres, started from evenly spaced grids in code order), so the result is deterministic.

Assignments go to the existing demo accounts, chosen by role: each supervisor takes a day
shift on every patrol area of their subdistrict but the last, which is left uncovered on
purpose (the first subdistrict's is covered at night by a grid worker); leaders answer for
the supervised subdistricts and for one community. Subdistricts without a supervisor account
stay uncovered, so the map has something to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.domain.access import Actor, Role
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import assignments, layers, users
from gridcity.services.demo_grids import VALID_FROM
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import UNIT_LAYER
from gridcity.services.layer_drawing import CellInput, replace_layer_cells

STARTS_ON = date(2026, 1, 1)
SOCIAL_COMMUNITIES = 5
SANITATION_LATTICE = (2, 5)  # columns × rows over the district (north–south is the long side)


class DemoDivision(Protocol):
    """What the demo needs of a division: code, name, level and boundary."""

    @property
    def code(self) -> str:
        """Full division code."""
        ...

    @property
    def name(self) -> str:
        """Chinese name."""
        ...

    @property
    def level(self) -> DivisionLevel:
        """District, subdistrict or community."""
        ...

    @property
    def boundary(self) -> MultiPolygon:
        """Boundary in CGCS2000 lon/lat."""
        ...


@dataclass(frozen=True)
class DemoLayers:
    """What was loaded: cells in force over every new layer, and assignments."""

    cells: int
    assignments: int


@dataclass(frozen=True)
class _Duty:
    """One assignment to make."""

    user_id: int
    post: str
    layer: str | None = None
    cell: str | None = None
    division: str | None = None
    shift: str = ""


@dataclass(frozen=True)
class _Grids:
    """The unit grids in code order, with their centres in locally isotropic units."""

    codes: list[str]
    shapes: list[BaseGeometry]
    xy: NDArray[np.float64]

    def under(self, prefix: str) -> list[int]:
        """Indices of the grids whose code starts with a division code."""
        return [i for i, code in enumerate(self.codes) if code.startswith(prefix)]


def create_demo_layers(
    deps: ServiceDeps,
    actor: Actor,
    divisions: Sequence[DemoDivision],
    *,
    valid_from: datetime = VALID_FROM,
    info: RequestInfo,
) -> DemoLayers:
    """Create and draw every demo layer from ``valid_from`` on, then assign the demo accounts."""
    grids = _unit_grids(deps, actor, valid_from)
    district = next(d for d in divisions if d.level is DivisionLevel.DISTRICT)
    subdistricts = [d for d in divisions if d.level is DivisionLevel.SUBDISTRICT]
    communities = [d for d in divisions if d.level is DivisionLevel.COMMUNITY]
    drawings: list[tuple[str, str, str, str, list[CellInput]]] = [
        (
            "responsibility",
            "责任网格",
            "responsibility",
            "监督员的巡查责任区",
            _patrol_areas(grids, subdistricts),
        ),
        (
            "social",
            "社会服务管理网格",
            "social",
            "静态码 + 动态码",
            _social(grids, subdistricts, communities),
        ),
        ("sanitation", "环卫网格", "sanitation", "环卫保洁责任区", _sanitation(district)),
        (
            "enforcement",
            "城管执法网格",
            "enforcement",
            "执法队员责任网格",
            _enforcement(grids, district),
        ),
        (
            "fire-big",
            "消防大网格",
            "fire_big",
            "街道辖区",
            [CellInput(division=d.code, name=d.name) for d in subdistricts],
        ),
        (
            "fire-medium",
            "消防中网格",
            "fire_medium",
            "社区",
            [CellInput(division=d.code, name=d.name) for d in communities],
        ),
        (
            "fire-small",
            "消防小网格",
            "fire_small",
            "社区内的责任片区",
            _fire_zones(grids, communities),
        ),
    ]
    cells = 0
    for code, name, scheme, description, drawn in drawings:
        layers.create_layer(
            deps, actor, code=code, name=name, scheme=scheme, description=description, info=info
        )
        done = replace_layer_cells(deps, actor, code, drawn, valid_from=valid_from, info=info)
        cells += len(done.created)
    return DemoLayers(cells=cells, assignments=_assign(deps, actor, valid_from, info))


def _unit_grids(deps: ServiceDeps, actor: Actor, at: datetime) -> _Grids:
    """The unit grids in force when the demo layers start."""
    found = layers.cells_in_force(deps, actor, UNIT_LAYER, at=at)
    shapes = [cell.geometry for cell in found]
    centres = shapely.point_on_surface(np.asarray(shapes, dtype=object))
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    scale = float(np.cos(np.radians(np.mean(y)))) if len(y) else 1.0
    return _Grids([cell.code for cell in found], shapes, np.column_stack((x * scale, y)))


def clusters(xy: NDArray[np.float64], k: int, rounds: int = 12) -> list[list[int]]:
    """Indices of ``xy`` in ``k`` compact groups (k-means from evenly spaced starts), north first."""
    if len(xy) == 0:
        return []
    k = max(1, min(k, len(xy)))
    centres = xy[np.linspace(0, len(xy) - 1, k).round().astype(int)]
    label = np.zeros(len(xy), dtype=int)
    for _ in range(rounds):
        label = np.argmin(((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        centres = np.asarray(
            [xy[label == j].mean(axis=0) if np.any(label == j) else centres[j] for j in range(k)]
        )
    groups = [np.flatnonzero(label == j).tolist() for j in range(k)]
    groups = [g for g in groups if g]
    band = float(np.ptp(xy[:, 1])) / max(len(groups), 1) or 1.0
    return sorted(groups, key=lambda g: (-round(xy[g, 1].mean() / band), xy[g, 0].mean()))


def _union(grids: _Grids, members: Sequence[int]) -> BaseGeometry:
    """The union of some unit grids."""
    return shapely.union_all([grids.shapes[i] for i in members])


def _patrol_areas(grids: _Grids, subdistricts: Sequence[DemoDivision]) -> list[CellInput]:
    """Each subdistrict in 3–6 areas of about 45 unit grids (a supervisor's day of patrol)."""
    cells: list[CellInput] = []
    for sub in subdistricts:
        own = grids.under(sub.code)
        if not own:
            continue
        k = min(6, max(3, round(len(own) / 45)))
        for number, group in enumerate(clusters(grids.xy[own], k), 1):
            members = tuple(sorted(grids.codes[own[i]] for i in group))
            cells.append(
                CellInput(division=sub.code, name=f"{sub.name}{number}号责任网格", grids=members)
            )
    return cells


def _social(
    grids: _Grids, subdistricts: Sequence[DemoDivision], communities: Sequence[DemoDivision]
) -> list[CellInput]:
    """Three social-service grids in the first community of the first five subdistricts."""
    chosen = [
        next(c for c in communities if c.code.startswith(sub.code))
        for sub in subdistricts[:SOCIAL_COMMUNITIES]
        if any(c.code.startswith(sub.code) for c in communities)
    ]
    cells: list[CellInput] = []
    for community in chosen:
        own = grids.under(community.code)
        for number, group in enumerate(clusters(grids.xy[own], 3), 1) if own else ():
            shape = _union(grids, [own[i] for i in group])
            cells.append(
                CellInput(
                    division=community.code, name=f"{community.name}第{number}网格", geometry=shape
                )
            )
    return cells


def _sanitation(district: DemoDivision) -> list[CellInput]:
    """The district cut by a lattice into sanitation zones (they ignore unit grid lines)."""
    x0, y0, x1, y1 = district.boundary.bounds
    columns, rows = SANITATION_LATTICE
    cells: list[CellInput] = []
    for row in range(rows):
        for column in range(columns):
            tile = box(
                x0 + (x1 - x0) * column / columns,
                y1 - (y1 - y0) * (row + 1) / rows,
                x0 + (x1 - x0) * (column + 1) / columns,
                y1 - (y1 - y0) * row / rows,
            )
            piece = _polygonal(district.boundary.intersection(tile))
            if piece is not None:
                number = len(cells) + 1
                cells.append(
                    CellInput(division=district.code, name=f"环卫第{number}责任区", geometry=piece)
                )
    return cells


def _polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    """The polygon parts of an intersection (touching edges give lines), or None when empty."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 0]
    return MultiPolygon(parts) if parts else None


def _enforcement(grids: _Grids, district: DemoDivision) -> list[CellInput]:
    """About one enforcement grid per 90 unit grids (41 for a county town of 岳池's size)."""
    own = grids.under(district.code)
    k = max(2, min(41, round(len(own) / 90)))
    return [
        CellInput(
            division=district.code,
            name=f"执法{number}号网格",
            geometry=_union(grids, [own[i] for i in group]),
        )
        for number, group in enumerate(clusters(grids.xy[own], k), 1)
    ]


def _fire_zones(grids: _Grids, communities: Sequence[DemoDivision]) -> list[CellInput]:
    """Each community in 2–4 responsibility zones (责任片区) that together cover it."""
    cells: list[CellInput] = []
    for community in communities:
        own = grids.under(community.code)
        k = min(4, max(2, round(len(own) / 8)))
        for number, group in enumerate(clusters(grids.xy[own], k), 1) if own else ():
            shape = _union(grids, [own[i] for i in group])
            cells.append(
                CellInput(
                    division=community.code, name=f"{community.name}{number}号片区", geometry=shape
                )
            )
    return cells


def _assign(deps: ServiceDeps, actor: Actor, at: datetime, info: RequestInfo) -> int:
    """Supervisors on their patrol areas (day), grid workers, leaders on divisions."""
    accounts = sorted(users.list_users(deps, actor, per_page=200).items, key=lambda u: u.username)
    by_role = {role: [u for u in accounts if role in u.roles] for role in Role}
    areas = [a.code for a in layers.cells_in_force(deps, actor, "responsibility", at=at)]
    social = [c.code for c in layers.cells_in_force(deps, actor, "social", at=at)]
    duties: list[_Duty] = []
    supervised: list[str] = []
    for person in by_role[Role.SUPERVISOR]:
        for sub in sorted(s for s in person.scope_divisions if len(s) == 9):
            supervised.append(sub)
            own = [code for code in areas if code[2:11] == sub]
            # The last area of each subdistrict is left uncovered on purpose.
            duties += [
                _Duty(person.id, "supervisor", "responsibility", c, shift="day") for c in own[:-1]
            ]
    if supervised and by_role[Role.DISPATCHER]:
        last = [code for code in areas if code[2:11] == supervised[0]][-1:]
        worker = by_role[Role.DISPATCHER][0].id
        duties += [_Duty(worker, "grid_worker", "responsibility", c, shift="night") for c in last]
    if by_role[Role.OPERATOR]:
        worker = by_role[Role.OPERATOR][0].id
        duties += [
            _Duty(worker, "grid_worker", "social", c, shift="08:30-17:30") for c in social[:3]
        ]
    for leader in by_role[Role.LEADER]:
        divisions = sorted(set(supervised)) + [code[2:14] for code in social[:1]]
        duties += [_Duty(leader.id, "leader", division=code) for code in divisions]
    for duty in duties:
        assignments.create_assignment(
            deps,
            actor,
            user_id=duty.user_id,
            post=duty.post,
            layer=duty.layer,
            cell=duty.cell,
            division=duty.division,
            shift=duty.shift,
            starts_on=STARTS_ON,
            info=info,
        )
    return len(duties)
