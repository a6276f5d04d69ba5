"""The demo city: a seeded, Dongcheng-sized district (东城区, 110101) loaded through the services.

Everything is synthetic except the names and codes of the district and its 17 subdistricts:
the outline is a smoothed random-radius polygon of Dongcheng's published area, drawn in a
CGCS2000 Gauss-Krüger zone (metres, so distances are isotropic) and transformed back to
EPSG:4490; subdistricts and communities are relaxed Voronoi cells clipped to their parent
(``domain.tiling``), so children tile their parent exactly. Nothing is written until the
whole city has been planned, and then only through the services, as the UI would.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.random import Generator
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from gridcity.domain.access import Actor, Role
from gridcity.domain.departments import CenterKind, DepartmentKind, uscc_check_char
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict
from gridcity.domain.tiling import (
    Area,
    district_outline,
    partition,
    random_points,
    reading_order,
)
from gridcity.services import departments, divisions, users
from gridcity.services.demo_components import load_demo_inventory
from gridcity.services.demo_data import (
    CENTERS,
    DEPARTMENTS,
    GIVEN_NAME_CHARS,
    PLACE_SUFFIXES,
    PLACES,
    STREETS,
    SUBDISTRICTS,
    SURNAMES,
)
from gridcity.services.demo_grids import create_demo_grids
from gridcity.services.demo_layers import create_demo_layers
from gridcity.services.deps import RequestInfo, ServiceDeps

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]

DEMO_PASSWORD = "Grid#2026demo"
DISTRICT_CODE = "110101"
DISTRICT_NAME = "东城区"
CENTRE_LONLAT = (116.416, 39.928)
DISTRICT_AREA_M2 = 41.84e6  # Dongcheng's published area
ASPECT = 2.0  # north–south extent over east–west extent, like the real district
PROJECTED_CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
STORED_CRS = "EPSG:4490"  # CGCS2000 lon/lat, the stored CRS
COMMUNITIES_PER_SUBDISTRICT = (10, 14)


@dataclass(frozen=True)
class DemoUser:
    """One demo account: its role, and where it works (a division or a department)."""

    username: str
    role: Role
    role_zh: str
    role_en: str
    where: str  # a division code, a department name or a center kind; "" for the whole city


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", Role.ADMIN, "管理员", "Administrator", ""),
    DemoUser("leader", Role.LEADER, "领导", "Leader", DISTRICT_CODE),
    DemoUser("chief", Role.DUTY_CHIEF, "值班长", "Duty chief", CenterKind.SUPERVISION.value),
    DemoUser("operator", Role.OPERATOR, "受理员", "Intake operator", CenterKind.SUPERVISION.value),
    DemoUser("dispatcher", Role.DISPATCHER, "派遣员", "Dispatcher", CenterKind.COMMAND.value),
    DemoUser("supervisor", Role.SUPERVISOR, "监督员", "Supervisor", "110101001"),
    DemoUser("supervisor02", Role.SUPERVISOR, "监督员", "Supervisor", "110101002"),
    DemoUser("supervisor03", Role.SUPERVISOR, "监督员", "Supervisor", "110101006"),
    DemoUser("supervisor04", Role.SUPERVISOR, "监督员", "Supervisor", "110101010"),
    DemoUser("supervisor05", Role.SUPERVISOR, "监督员", "Supervisor", "110101011"),
    DemoUser("supervisor06", Role.SUPERVISOR, "监督员", "Supervisor", "110101016"),
    DemoUser("handler", Role.HANDLER, "处置人员", "Department handler", "东城区城市管理委员会"),
    DemoUser(
        "handler02", Role.HANDLER, "处置人员", "Department handler", "北京市自来水集团东城分公司"
    ),
)


class AlreadyLoaded(Conflict):
    """The database already has divisions; the demo city goes only into an empty one."""

    def __init__(self) -> None:
        super().__init__(
            "demo_already_loaded",
            "The database already has divisions; the demo city is loaded only into an empty database",
        )


@dataclass(frozen=True)
class DivisionPlan:
    """A division to create: code, name, level and boundary in CGCS2000 lon/lat."""

    code: str
    name: str
    level: DivisionLevel
    boundary: MultiPolygon


@dataclass(frozen=True)
class CityPlan:
    """Everything the generator will create, computed before anything is written."""

    divisions: tuple[DivisionPlan, ...]
    departments: tuple[departments.DepartmentInput, ...]
    centers: tuple[tuple[CenterKind, str, str, str], ...]  # kind, name, phone, address
    display_names: tuple[str, ...]  # one per DEMO_USERS entry
    phones: tuple[str, ...]  # one per DEMO_USERS entry


@dataclass(frozen=True)
class DemoReport:
    """What was loaded, for the command line."""

    area_km2: float
    subdistricts: int
    communities: int
    unit_grids: int
    departments: int
    centers: int
    users: int
    seconds: float
    layer_cells: int = 0
    assignments: int = 0
    components: int = 0

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"demo city {DISTRICT_NAME} ({DISTRICT_CODE}): {self.area_km2:.2f} km², "
            f"{self.subdistricts} subdistricts, {self.communities} communities, "
            f"{self.unit_grids} unit grids, {self.layer_cells} cells in other layers, "
            f"{self.departments} departments, {self.centers} centers, {self.users} users, "
            f"{self.assignments} responsibility assignments, {self.components} components "
            f"— loaded in {self.seconds:.1f} s"
        )


def _to_lonlat(geom: Area, transformer: Transformer) -> MultiPolygon:
    """A projected area as a MultiPolygon in CGCS2000 lon/lat."""

    def convert(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((lon, lat))

    moved = shapely.transform(geom, convert)
    return moved if isinstance(moved, MultiPolygon) else MultiPolygon([moved])


def _subdistrict_seeds(outline: Polygon, rng: Generator) -> NDArray[np.float64]:
    """Seeds near where the real subdistricts lie, relative to the synthetic outline."""
    lons = np.array([s[1] for s in SUBDISTRICTS])
    lats = np.array([s[2] for s in SUBDISTRICTS])
    min_x, min_y, max_x, max_y = outline.bounds
    u = (lons - lons.min()) / (lons.max() - lons.min())
    v = (lats - lats.min()) / (lats.max() - lats.min())
    x = min_x + (0.15 + 0.7 * u) * (max_x - min_x)
    y = min_y + (0.08 + 0.84 * v) * (max_y - min_y)
    x, y = x + rng.normal(0.0, 150.0, x.size), y + rng.normal(0.0, 150.0, y.size)
    inner = outline.buffer(-300.0)
    seeds = []
    for px, py in zip(x, y, strict=True):
        point = Point(px, py)
        if not inner.contains(point):
            point = inner.exterior.interpolate(inner.exterior.project(point))
        seeds.append((point.x, point.y))
    return np.asarray(seeds, dtype=np.float64)


# --- names, codes, people (pure) --------------------------------------------------------


def community_names(rng: Generator, count: int) -> list[str]:
    """``count`` distinct plausible community names, each place word used at most twice."""
    # A place already named after its lane or street takes no further suffix.
    combos = [(p, s) for p in PLACES for s in PLACE_SUFFIXES if not (s and p[-1] in "同巷条街里")]
    used: dict[str, int] = {}
    names: list[str] = []
    for index in rng.permutation(len(combos)):
        place, suffix = combos[int(index)]
        if used.get(place, 0) >= 2:
            continue
        used[place] = used.get(place, 0) + 1
        names.append(f"{place}{suffix}社区")
        if len(names) == count:
            return names
    raise ValueError(f"the name pool holds fewer than {count} community names")


def organization_code(body8: str) -> str:
    """A 9-character GB 11714 organization code: 8 characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body8]
    check = 11 - sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: Generator, prefix: str, region: str = DISTRICT_CODE) -> str:
    """A well-formed unified social credit code (GB 32100) registered in the region."""
    first17 = prefix + region + organization_code(f"{int(rng.integers(10**8)):08d}")
    return first17 + uscc_check_char(first17)


def person_name(rng: Generator) -> str:
    """A plausible Chinese personal name (surname + one or two characters)."""
    size = 1 if rng.random() < 0.3 else 2
    given = "".join(
        GIVEN_NAME_CHARS[int(i)] for i in rng.integers(len(GIVEN_NAME_CHARS), size=size)
    )
    return SURNAMES[int(rng.integers(len(SURNAMES)))] + given


def _landline(rng: Generator) -> str:
    """A Beijing office number."""
    return f"010-6{int(rng.integers(10**7)):07d}"


def _mobile(rng: Generator) -> str:
    """A mainland mobile number."""
    prefix = ("135", "136", "138", "139", "186", "189", "158", "177")[int(rng.integers(8))]
    return f"{prefix}{int(rng.integers(10**8)):08d}"


def _address(rng: Generator) -> str:
    """A street address in Dongcheng."""
    street = STREETS[int(rng.integers(len(STREETS)))]
    return f"北京市东城区{street}{int(rng.integers(1, 200))}号"


# --- the plan (pure) ----------------------------------------------------------------------


def plan_city(seed: int) -> CityPlan:
    """The whole demo city for a seed; the same seed always gives the same city."""
    rng = np.random.default_rng(seed)
    to_projected = Transformer.from_crs(STORED_CRS, PROJECTED_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(PROJECTED_CRS, STORED_CRS, always_xy=True)
    centre = to_projected.transform(*CENTRE_LONLAT)
    outline = district_outline(rng, centre, DISTRICT_AREA_M2, ASPECT)
    plans = [
        DivisionPlan(
            DISTRICT_CODE, DISTRICT_NAME, DivisionLevel.DISTRICT, _to_lonlat(outline, to_lonlat)
        )
    ]
    subdistricts = partition(outline, _subdistrict_seeds(outline, rng), relax=2)
    low, high = COMMUNITIES_PER_SUBDISTRICT
    counts = [int(n) for n in rng.integers(low, high + 1, size=len(subdistricts))]
    names = iter(community_names(rng, sum(counts)))
    communities: list[DivisionPlan] = []
    for number, ((name, _lon, _lat), cell) in enumerate(
        zip(SUBDISTRICTS, subdistricts, strict=True), 1
    ):
        code = f"{DISTRICT_CODE}{number:03d}"
        plans.append(
            DivisionPlan(code, name, DivisionLevel.SUBDISTRICT, _to_lonlat(cell, to_lonlat))
        )
        children = partition(cell, random_points(cell, counts[number - 1], rng))
        for child_number, index in enumerate(reading_order(children), 1):
            communities.append(
                DivisionPlan(
                    f"{code}{child_number:03d}",
                    next(names),
                    DivisionLevel.COMMUNITY,
                    _to_lonlat(children[index], to_lonlat),
                )
            )
    return CityPlan(
        divisions=tuple(plans + communities),
        departments=tuple(_department_input(rng, spec) for spec in DEPARTMENTS),
        centers=tuple((kind, name, _landline(rng), _address(rng)) for kind, name in CENTERS),
        display_names=tuple(person_name(rng) for _ in DEMO_USERS),
        phones=tuple(_mobile(rng) for _ in DEMO_USERS),
    )


def _department_input(
    rng: Generator, spec: tuple[str, str, DepartmentKind, str]
) -> departments.DepartmentInput:
    name, short_name, kind, prefix = spec
    return departments.DepartmentInput(
        name=name,
        kind=kind,
        short_name=short_name,
        credit_code=credit_code(rng, prefix),
        contact_person=person_name(rng),
        contact_phone=_landline(rng),
        address=_address(rng),
    )


# --- loading through the services -----------------------------------------------------------


def load_demo_city(
    deps: ServiceDeps,
    actor: Actor,
    *,
    seed: int = 2004,
    info: RequestInfo,
    progress: Progress | None = None,
    inventory_scale: float = 1.0,
) -> DemoReport:
    """Create the demo city through the services; refuse when any division already exists.

    ``inventory_scale`` thins the component inventory (1 = Dongcheng's density, about
    285,000 components; 0 = none), so that tests load a small city quickly.
    """
    started = time.perf_counter()
    if any(divisions.count_by_level(deps, actor).values()):
        raise AlreadyLoaded
    plan = plan_city(seed)
    area_m2 = _create_divisions(deps, actor, plan, info, progress)
    communities = [
        (d.code, d.boundary) for d in plan.divisions if d.level is DivisionLevel.COMMUNITY
    ]
    unit_grids = create_demo_grids(
        deps,
        actor,
        communities,
        info=info,
        advance=_stepper(progress, "unit grids 单元网格", len(communities)),
    )
    department_ids, center_ids = _create_organisation(deps, actor, plan, info, progress)
    _create_users(deps, actor, plan, department_ids, center_ids, info, progress)
    layered = create_demo_layers(deps, actor, plan.divisions, info=info)
    components = load_demo_inventory(
        deps,
        actor,
        plan.divisions[0].boundary,
        seed=seed,
        scale=inventory_scale,
        info=info,
        progress=progress,
    )
    levels = [d.level for d in plan.divisions]
    return DemoReport(
        area_km2=area_m2 / 1e6,
        subdistricts=levels.count(DivisionLevel.SUBDISTRICT),
        communities=levels.count(DivisionLevel.COMMUNITY),
        unit_grids=unit_grids,
        departments=len(department_ids),
        centers=len(center_ids),
        users=len(DEMO_USERS),
        seconds=time.perf_counter() - started,
        layer_cells=layered.cells,
        assignments=layered.assignments,
        components=components,
    )


def is_loaded(deps: ServiceDeps, actor: Actor) -> bool:
    """True when every demo account exists (so the printed logins really work)."""
    names = {user.username for user in DEMO_USERS}
    return users.existing_usernames(deps, actor, names) == names


def _stepper(progress: Progress | None, label: str, total: int) -> Advance:
    """The progress callback for one stage (a no-op without a progress factory)."""
    return progress(label, total) if progress is not None else (lambda _step: None)


def _create_divisions(
    deps: ServiceDeps, actor: Actor, plan: CityPlan, info: RequestInfo, progress: Progress | None
) -> float:
    """Create every division, parents first; return the district's geodesic area in m²."""
    advance = _stepper(progress, "divisions", len(plan.divisions))
    area = 0.0
    for item in plan.divisions:
        view = divisions.create_division(
            deps,
            actor,
            code=item.code,
            name=item.name,
            level=item.level,
            boundary=item.boundary,
            info=info,
        )
        if item.level is DivisionLevel.DISTRICT:
            area = view.area_m2 or 0.0
        advance(1)
    return area


def _create_organisation(
    deps: ServiceDeps, actor: Actor, plan: CityPlan, info: RequestInfo, progress: Progress | None
) -> tuple[dict[str, int], dict[str, int]]:
    """Create the departments and both centers; return their ids by name and by kind."""
    total = len(plan.departments) + len(plan.centers)
    advance = _stepper(progress, "departments and centers", total)
    department_ids: dict[str, int] = {}
    for data in plan.departments:
        department_ids[data.name] = departments.create_department(deps, actor, data, info=info).id
        advance(1)
    center_ids: dict[str, int] = {}
    for kind, name, phone, address in plan.centers:
        view = departments.save_center(
            deps,
            actor,
            district_code=DISTRICT_CODE,
            kind=kind,
            name=name,
            phone=phone,
            address=address,
            info=info,
        )
        center_ids[kind.value] = view.id
        advance(1)
    return department_ids, center_ids


def _create_users(
    deps: ServiceDeps,
    actor: Actor,
    plan: CityPlan,
    department_ids: dict[str, int],
    center_ids: dict[str, int],
    info: RequestInfo,
    progress: Progress | None,
) -> None:
    """Create one account per demo login, all with the demo password."""
    advance = _stepper(progress, "users", len(DEMO_USERS))
    for user, display_name, phone in zip(DEMO_USERS, plan.display_names, plan.phones, strict=True):
        users.create_user(
            deps,
            actor,
            username=user.username,
            password=DEMO_PASSWORD,
            data=_user_input(user, display_name, phone, department_ids, center_ids),
            info=info,
        )
        advance(1)


def _user_input(
    user: DemoUser,
    display_name: str,
    phone: str,
    department_ids: dict[str, int],
    center_ids: dict[str, int],
) -> users.UserInput:
    """Roles, workplace and data scope of a demo account."""
    department_id = department_ids.get(user.where)
    center_id = center_ids.get(user.where)
    if user.role is Role.SUPERVISOR:
        center_id = center_ids[CenterKind.SUPERVISION.value]
    scope = {user.where} if user.where.isdigit() else set()
    if user.role is not Role.ADMIN and not scope:
        scope = {DISTRICT_CODE}  # center staff and handlers work across the whole district
    return users.UserInput(
        display_name=display_name,
        roles=frozenset({user.role}),
        phone=phone,
        department_id=department_id,
        center_id=center_id,
        scope_divisions=frozenset(scope),
        scope_departments=frozenset({department_id}) if department_id is not None else frozenset(),
    )


# --- the login sheet --------------------------------------------------------------------------


def _pad(text: str, width: int) -> str:
    """Left-justify text to a terminal width, counting CJK characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def _workplace(user: DemoUser) -> str:
    """Where a demo account works, in Chinese."""
    known = {f"{DISTRICT_CODE}{n:03d}": s[0] for n, s in enumerate(SUBDISTRICTS, 1)}
    known.update({DISTRICT_CODE: DISTRICT_NAME, "": "全区"})
    known.update({kind.value: name for kind, name in CENTERS})
    return known.get(user.where, user.where)


def logins_text() -> str:
    """The demo accounts and their shared password, printed each time the demo starts."""
    lines = [f"demo logins 演示账号 — password for every account 统一密码: {DEMO_PASSWORD}"]
    for user in DEMO_USERS:
        role = f"{user.role_zh} {user.role_en}"
        lines.append(f"  {_pad(user.username, 14)}{_pad(role, 28)}{_workplace(user)}")
    return "\n".join(lines)
