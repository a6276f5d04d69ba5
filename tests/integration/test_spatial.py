"""Boundaries go into the division table and come back bit for bit, on both databases."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import MultiPolygon, Polygon

from gridcity.adapters.db.tables import Division
from gridcity.adapters.geo import area_m2
from gridcity.bootstrap import Container
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import divisions
from tests.factories import SYSTEM, TEST_INFO

# Runs a test on PostgreSQL + PostGIS only (the ``database_url`` fixture's other parameter).
on_postgis = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

DISTRICT = "110101"
# Two parts, one with a hole; coordinates use every bit of a double, so any text or
# precision-losing step on the way would show up in the WKB.
BOUNDARY = MultiPolygon(
    [
        Polygon(
            [
                (116.38123456789012, 39.89123456789012),
                (116.43987654321098, 39.89234567890123),
                (116.44012345678901, 39.94345678901234),
                (116.37956789012345, 39.94012345678909),
            ],
            holes=[
                [
                    (116.40111111111111, 39.91111111111111),
                    (116.41222222222222, 39.91111111111111),
                    (116.41222222222222, 39.92222222222222),
                    (116.40111111111111, 39.92222222222222),
                ]
            ],
        ),
        Polygon(
            [
                (116.45000000000001, 39.90000000000003),
                (116.46333333333333, 39.90000000000003),
                (116.46333333333333, 39.91666666666667),
            ]
        ),
    ]
)


def _store(container: Container) -> None:
    divisions.create_division(
        container.deps,
        SYSTEM,
        code=DISTRICT,
        name="东城区",
        level=DivisionLevel.DISTRICT,
        boundary=BOUNDARY,
        info=TEST_INFO,
    )


def test_a_multipolygon_comes_back_with_the_same_wkb(container: Container) -> None:
    _store(container)

    with container.db.read() as session:
        stored = session.scalar(sa.select(Division.geom).where(Division.code == DISTRICT))

    assert isinstance(stored, MultiPolygon)
    assert shapely.to_wkb(stored) == shapely.to_wkb(BOUNDARY)


def test_the_bbox_columns_hold_the_bounds_of_the_boundary(container: Container) -> None:
    _store(container)

    with container.db.read() as session:
        row = session.execute(
            sa.select(Division.min_x, Division.min_y, Division.max_x, Division.max_y).where(
                Division.code == DISTRICT
            )
        ).one()

    assert tuple(row) == BOUNDARY.bounds


def test_the_stored_area_does_not_depend_on_how_the_rings_are_wound(
    container: Container,
) -> None:
    # BOUNDARY winds its hole like its shell; normalize() winds them opposite ways.
    _store(container)
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="110102",
        name="西城区",
        level=DivisionLevel.DISTRICT,
        boundary=shapely.normalize(BOUNDARY),
        info=TEST_INFO,
    )

    with container.db.read() as session:
        same_winding, opposite_winding = session.scalars(
            sa.select(Division.area_m2).order_by(Division.code)
        ).all()

    assert same_winding == pytest.approx(opposite_winding, rel=1e-9)


@on_postgis
def test_postgis_stores_the_boundary_in_cgcs2000(container: Container) -> None:
    _store(container)

    with container.db.engine.connect() as conn:
        srid = conn.execute(
            sa.text("SELECT ST_SRID(geom) FROM division WHERE code = :code"), {"code": DISTRICT}
        ).scalar()
    with container.db.read() as session:
        stored = session.scalar(sa.select(Division.geom).where(Division.code == DISTRICT))

    assert srid == 4490
    assert shapely.get_srid(stored) == 4490


@on_postgis
def test_postgis_geodesic_area_agrees_with_ours_within_a_tenth_of_a_percent(
    container: Container,
) -> None:
    _store(container)

    with container.db.engine.connect() as conn:
        postgis_area, stored_area = conn.execute(
            sa.text("SELECT ST_Area(geom::geography), area_m2 FROM division WHERE code = :code"),
            {"code": DISTRICT},
        ).one()

    ours = area_m2(BOUNDARY)
    assert ours > 20_000_000  # about 5 km × 5.5 km, less the hole: a real district-sized area
    assert abs(postgis_area - ours) / postgis_area < 0.001
    assert stored_area == ours


def test_a_unique_key_lost_to_a_concurrent_insert_is_a_conflict_not_a_crash(container) -> None:
    """Two requests check "is the code free?" at once; the loser gets 409, not a 500."""
    from datetime import UTC, datetime

    import pytest

    from gridcity.adapters.db.tables import Division
    from gridcity.domain.errors import Conflict

    now = datetime(2026, 11, 27, tzinfo=UTC)
    row = {
        "code": "110101",
        "level": "district",
        "name": "东城区",
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }
    with container.db.transaction() as session:
        session.add(Division(**row))
    with pytest.raises(Conflict) as refused, container.db.transaction() as session:
        session.add(Division(**row))
    assert refused.value.code == "concurrent_change"
