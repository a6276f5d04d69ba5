"""The demo city: deterministic, Dongcheng-sized, tiled exactly, loaded through the services."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gridcity.adapters.geo import area_m2, from_geojson
from gridcity.bootstrap import Container
from gridcity.domain.access import STAFF_ROLES
from gridcity.domain.departments import validate_uscc
from gridcity.domain.divisions import DivisionLevel, parent_code, validate_code
from gridcity.domain.passwords import PasswordPolicy
from gridcity.domain.tiling import district_outline, partition, random_points, whole_cells
from gridcity.services import audit, auth, demo_city, departments, divisions, grids, users
from tests.factories import SYSTEM, TEST_INFO


def assert_tiles(parent: shapely.Geometry, children: list[shapely.Geometry]) -> None:
    """Children cover the parent with no gap and no overlap (planar areas, 0.01 %)."""
    union = shapely.union_all(children)
    assert union.area == pytest.approx(parent.area, rel=1e-4)
    assert sum(c.area for c in children) == pytest.approx(parent.area, rel=1e-4)
    assert shapely.symmetric_difference(union, parent).area < parent.area * 1e-4
    for a, b in itertools.combinations(children, 2):
        assert a.intersection(b).area < parent.area * 1e-9


# --- pure: no database -----------------------------------------------------------------------


def test_partition_tiles_an_irregular_parent_with_one_valid_cell_per_seed() -> None:
    rng = np.random.default_rng(1)
    parent = district_outline(rng, (500_000.0, 4_400_000.0), 3e6, aspect=1.5)
    cells = partition(parent, random_points(parent, 12, rng))
    assert len(cells) == 12
    assert all(c.is_valid and c.area > 0 for c in cells)
    assert_tiles(parent, cells)


def test_partition_keeps_a_concave_parent_whole_even_without_relaxing() -> None:
    u_shape = Polygon(
        [(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300)]
    )
    seeds = np.array([[50.0, 250.0], [250.0, 250.0], [150.0, 50.0], [150.0, 95.0]])
    cells = partition(u_shape, seeds, relax=0)
    assert len(cells) == 4
    assert_tiles(u_shape, cells)


def test_a_stray_piece_of_a_cell_joins_the_neighbour_it_borders_most() -> None:
    cells = [MultiPolygon([box(0, 0, 1, 1), box(2.5, 0, 3, 1)]), box(1, 0, 2.5, 1)]
    merged = whole_cells(cells)
    assert merged[0].equals(box(0, 0, 1, 1))
    assert merged[1].equals(box(1, 0, 3, 1))


def test_the_same_seed_plans_the_same_city_and_another_seed_another() -> None:
    first, again, other = (demo_city.plan_city(s) for s in (7, 7, 8))
    assert [(d.code, d.name, d.boundary.wkb) for d in first.divisions] == [
        (d.code, d.name, d.boundary.wkb) for d in again.divisions
    ]
    assert first.departments == again.departments
    assert first.display_names == again.display_names
    assert first.divisions[0].boundary.wkb != other.divisions[0].boundary.wkb
    assert [d.name for d in first.divisions] != [d.name for d in other.divisions]


def test_plan_has_unique_valid_names_and_credit_codes() -> None:
    plan = demo_city.plan_city(2004)
    names = [d.name for d in plan.divisions]
    assert len(set(names)) == len(names)
    assert all(n.endswith("社区") for n in names[18:])
    codes = [d.credit_code for d in plan.departments]
    assert [validate_uscc(c) for c in codes] == codes
    assert len(set(codes)) == len(codes)


def test_organization_codes_carry_the_gb_11714_check_character() -> None:
    # Check characters of two published codes (Alibaba, Tencent).
    assert demo_city.organization_code("79965505") == "799655058"
    assert demo_city.organization_code("71526726") == "71526726X"


def test_demo_password_meets_the_policy_for_every_demo_login() -> None:
    for user in demo_city.DEMO_USERS:
        PasswordPolicy().check(demo_city.DEMO_PASSWORD, username=user.username)
    assert {u.role for u in demo_city.DEMO_USERS} == set(STAFF_ROLES)


def test_the_login_sheet_names_every_account_and_the_password() -> None:
    text = demo_city.logins_text()
    assert demo_city.DEMO_PASSWORD in text
    for user in demo_city.DEMO_USERS:
        assert f"  {user.username} " in text
        assert user.role_zh in text and user.role_en in text


# --- loaded through the services (SQLite and PostgreSQL) ---------------------------------------


def test_demo_city_loads_once_through_the_services(container: Container) -> None:
    deps = container.deps
    stages: dict[str, list[int]] = {}

    def progress(label: str, total: int):  # type: ignore[no-untyped-def]
        stages[label] = [total, 0]

        def advance(step: int = 1) -> None:
            stages[label][1] += step

        return advance

    report = demo_city.load_demo_city(
        deps, SYSTEM, seed=2004, info=TEST_INFO, progress=progress, inventory_scale=0.01
    )

    counts = divisions.count_by_level(deps, SYSTEM)
    assert counts["district"] == 1 and counts["subdistrict"] == 17
    assert 180 <= counts["community"] <= 230
    assert report.communities == counts["community"]
    assert 41.0 < report.area_km2 < 43.0
    assert "东城区 (110101)" in report.summary()
    assert all(total == done for total, done in stages.values()) and len(stages) == 5
    assert stages["components 部件"][0] == report.components > 0
    assert 1_600 <= report.unit_grids <= 4_000  # a Dongcheng-sized district's unit grids
    assert grids.list_grids(container.deps, SYSTEM, per_page=1).total == report.unit_grids

    _check_divisions(container)
    _check_organisation(container)
    for user in demo_city.DEMO_USERS:
        result = auth.login(deps, user.username, demo_city.DEMO_PASSWORD, info=TEST_INFO)
        assert user.role in result.actor.roles

    before = (counts, audit.list_entries(deps, SYSTEM, per_page=1).total)
    with pytest.raises(demo_city.AlreadyLoaded):
        demo_city.load_demo_city(deps, SYSTEM, seed=99, info=TEST_INFO, inventory_scale=0.01)
    after = (
        divisions.count_by_level(deps, SYSTEM),
        audit.list_entries(deps, SYSTEM, per_page=1).total,
    )
    assert after == before


def _check_divisions(container: Container) -> None:
    """Real subdistrict names and codes; valid codes; children tile their parent."""
    deps = container.deps
    features = divisions.boundaries_geojson(deps, SYSTEM)["features"]
    geoms = {f["properties"]["code"]: from_geojson(f["geometry"]) for f in features}
    levels = {f["properties"]["code"]: DivisionLevel(f["properties"]["level"]) for f in features}
    assert all(validate_code(code, levels[code]) == code for code in geoms)
    subdistricts = divisions.list_divisions(
        deps, SYSTEM, level=DivisionLevel.SUBDISTRICT, per_page=50
    )
    assert [(v.code, v.name) for v in subdistricts.items][:3] == [
        ("110101001", "东华门街道"),
        ("110101002", "景山街道"),
        ("110101003", "交道口街道"),
    ]
    assert subdistricts.items[-1].name == "永定门外街道"
    for parent in [c for c, level in levels.items() if level is not DivisionLevel.COMMUNITY]:
        children = [g for c, g in geoms.items() if parent_code(c) == parent]
        assert_tiles(geoms[parent], children)
        geodesic = sum(area_m2(g) for g in children)
        assert geodesic == pytest.approx(area_m2(geoms[parent]), rel=1e-4)


def _check_organisation(container: Container) -> None:
    """Departments with valid credit codes and contacts; both centers; accounts in place."""
    deps = container.deps
    listed = departments.list_departments(deps, SYSTEM, per_page=50).items
    assert len(listed) == len(demo_city.DEPARTMENTS)
    assert all(validate_uscc(d.credit_code or "") for d in listed)
    assert all(d.contact_person and d.contact_phone for d in listed)
    centers = {c.kind.value: c.name for c in departments.list_centers(deps, SYSTEM)}
    assert centers == {
        "supervision_center": "东城区城市管理监督中心",
        "command_center": "东城区城市管理指挥中心",
    }
    accounts = {u.username: u for u in users.list_users(deps, SYSTEM, per_page=50).items}
    assert accounts["supervisor"].scope_divisions == ("110101001",)
    handler_department = departments.get_department(deps, SYSTEM, accounts["handler"].department_id)
    assert handler_department.name == "东城区城市管理委员会"
