"""The demo inventory: seeded, placed along a street network (not uniform noise), a realistic
mix of classes at Dongcheng's density, all inside the district, loaded through add_components."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gridcity.adapters.crs import transform
from gridcity.adapters.db.tables import AuditLog, Component, Department
from gridcity.bootstrap import Container
from gridcity.services import demo_city
from gridcity.services.demo_components import (
    DENSITY_PER_KM2,
    DEPARTMENT_OF,
    PROJECTED_EPSG,
    STORED_EPSG,
    DemoInventory,
    plan_inventory,
)
from tests.factories import SYSTEM, TEST_INFO

TODAY = date(2026, 12, 1)
COVERS = {"01001", "01002", "01003", "01004", "01005", "01006", "01007", "01010", "01011"}


@pytest.fixture(scope="module")
def district() -> shapely.MultiPolygon:
    """The demo district's outline (lon/lat)."""
    return demo_city.plan_city(2004).divisions[0].boundary


@pytest.fixture(scope="module")
def planned(district: shapely.MultiPolygon) -> DemoInventory:
    """A fifth of the full inventory (about 57,000 components)."""
    return plan_inventory(district, 2004, TODAY, 0.2)


def test_the_same_seed_plans_the_same_inventory_and_another_seed_another(
    district: shapely.MultiPolygon, planned: DemoInventory
) -> None:
    again = plan_inventory(district, 2004, TODAY, 0.2).batch
    other = plan_inventory(district, 2005, TODAY, 0.2).batch
    batch = planned.batch
    assert batch.class_code == again.class_code
    assert shapely.to_wkb(batch.geometry).tolist() == shapely.to_wkb(again.geometry).tolist()
    assert (batch.state, batch.census_date, batch.competent) == (
        again.state,
        again.census_date,
        again.competent,
    )
    assert batch.class_code != other.class_code


def test_the_density_is_dongcheng_s_scaled_to_the_district(
    district: shapely.MultiPolygon, planned: DemoInventory
) -> None:
    area_km2 = transform(district, STORED_EPSG, PROJECTED_EPSG).area / 1e6
    expected = DENSITY_PER_KM2 * area_km2 * 0.2  # ≈ 57,000; the full inventory ≈ 285,000
    assert len(planned.batch) == pytest.approx(expected, rel=0.05)


def test_components_lie_along_the_streets_not_uniformly(
    district: shapely.MultiPolygon, planned: DemoInventory
) -> None:
    geoms = planned.batch.geometry
    points = geoms[shapely.get_type_id(geoms) == 0]
    projected = transform(shapely.multipoints(points), STORED_EPSG, PROJECTED_EPSG)
    streets = shapely.STRtree(planned.streets.lines)
    placed = _distance_to_nearest(streets, shapely.get_parts(projected))
    outline = transform(district, STORED_EPSG, PROJECTED_EPSG)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = outline.bounds
    candidates = shapely.points(rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000))
    uniform = _distance_to_nearest(streets, candidates[shapely.contains(outline, candidates)])
    assert np.median(placed) < 9.0  # a few metres from the centre line: pavement, kerb
    assert np.percentile(placed, 95) < 16.0
    assert np.median(uniform) > 4 * np.median(placed)


def _distance_to_nearest(tree: shapely.STRtree, points: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest street line."""
    _, distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    return distance


def test_the_mix_of_classes_is_a_city_s(planned: DemoInventory) -> None:
    counts = Counter(planned.batch.class_code)
    total = sum(counts.values())
    share = {code: n / total for code, n in counts.items()}
    assert len(counts) >= 45
    assert 0.20 < sum(share[c] for c in COVERS) < 0.40  # manhole covers of six networks
    assert 0.20 < share["04002"] < 0.35  # street trees
    assert 0.04 < share["01037"] < 0.10  # street lamps
    assert counts["02014"] > 0 and counts["03001"] > 0 and counts["02004"] > 0
    kinds = Counter(
        (code, int(t))
        for code, t in zip(
            planned.batch.class_code, shapely.get_type_id(planned.batch.geometry), strict=True
        )
    )
    assert kinds[("04013", 3)] > 0 and kinds[("02001", 3)] > 0  # green spaces, car parks
    assert kinds[("02017", 1)] > 0 and kinds[("04008", 1)] > 0  # guardrails, fences
    assert {c for c, t in kinds if t != 0} == {"04013", "02001", "02017", "04008"}
    states = Counter(planned.batch.state)
    assert 0.02 < 1 - states["完好"] / total < 0.08
    assert set(planned.batch.data_source or []) == {"实测"}
    pairs = zip(planned.batch.class_code, planned.batch.competent or [], strict=True)
    assert all(department == DEPARTMENT_OF[code][0] for code, department in pairs)


def test_everything_lies_inside_the_district(
    district: shapely.MultiPolygon, planned: DemoInventory
) -> None:
    geoms = planned.batch.geometry
    assert shapely.is_valid(geoms).all()
    assert shapely.within(geoms, district).all()
    dates = {date.fromisoformat(d) for d in planned.batch.census_date or []}
    assert min(dates) >= date(2021, 11, 1) and max(dates) <= TODAY


def test_the_demo_city_loads_its_inventory_through_add_components(container: Container) -> None:
    report = demo_city.load_demo_city(
        container.deps, SYSTEM, seed=2004, info=TEST_INFO, inventory_scale=0.02
    )
    assert 5_000 < report.components < 6_500
    assert f"{report.components} components" in report.summary()
    with container.db.read() as session:
        stored = session.execute(
            sa.select(
                Component.identifier,
                Component.class_code,
                Component.grid_code,
                Component.community_code,
                Component.competent_department_id,
                Component.census_date,
            )
        ).all()
        audits = session.scalars(
            sa.select(AuditLog.detail).where(AuditLog.action == "component.imported")
        ).all()
        departments = dict(session.execute(sa.select(Department.id, Department.name)).all())
    assert len(stored) == report.components
    assert all(len(r.identifier) == 17 and r.identifier[:6] == "110101" for r in stored)
    assert all(r.grid_code and r.grid_code.startswith(r.community_code) for r in stored)
    assert all(
        departments[r.competent_department_id] == DEPARTMENT_OF[r.class_code][0] for r in stored
    )
    assert max(r.census_date for r in stored) < date.today()
    (detail,) = audits
    assert detail["file"] == "演示部件普查" and detail["rows"] == report.components
