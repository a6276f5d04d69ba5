"""Grid layers: created by administrators, re-drawn all-or-nothing under their scheme's rules,
kept as history, answered by point location while active, read within the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import MultiPolygon, box

from gridcity.adapters.db.tables import AuditLog
from gridcity.adapters.geo import area_m2, from_geojson
from gridcity.adapters.spatial_index import read_versions
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput
from gridcity.services import grids, layers, locate, responsibility
from gridcity.services.demo_layers import clusters, create_demo_layers
from gridcity.services.layer_drawing import CellInput, Drawing, replace_layer_cells
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SUB_B,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
)

# The small city's communities (tests/factories.py); each holds four quarter grids 001–004
# (north-west, north-east, south-west, south-east) from 2026-01-01.
A1 = (116.40, 39.90, 116.41, 39.91)
A2 = (116.40, 39.91, 116.41, 39.92)
B1 = (116.41, 39.90, 116.42, 39.92)
JAN = datetime(2026, 1, 2, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
IN_A1_NORTH_WEST = (116.4025, 39.9075)
IN_A1_NORTH_EAST = (116.4075, 39.9075)
SUPERVISOR_OF_A = Actor(
    user_id=None,
    username="sup-a",
    roles=frozenset({Role.SUPERVISOR}),
    scope=Scope(divisions=frozenset({SUB_A})),
)


def grid(community: str, n: int) -> str:
    """The n-th quarter grid of a community."""
    return f"{community}{n:03d}"


def gridded(container: Container) -> None:
    """Quarter grids in the three communities of the small city."""
    for code, bounds in ((COMM_A1, A1), (COMM_A2, A2), (COMM_B1, B1)):
        add_quarter_grids(container, code, bounds)


def new_layer(container: Container, code: str, scheme: str, actor: Actor = SYSTEM) -> None:
    """Create an empty layer through the service."""
    layers.create_layer(container.deps, actor, code=code, name=code, scheme=scheme, info=TEST_INFO)


def draw(container: Container, layer: str, cells: list[CellInput], at: datetime = JAN) -> Drawing:
    """Re-draw a layer through the service."""
    return replace_layer_cells(container.deps, SYSTEM, layer, cells, valid_from=at, info=TEST_INFO)


def features(
    container: Container, layer: str, at: datetime | None = None, actor: Actor = SYSTEM
) -> dict[str, dict]:  # type: ignore[type-arg]
    """The layer's GeoJSON features by code."""
    found = layers.layer_cells_geojson(container.deps, actor, layer, at=at)
    return {f["id"]: f for f in found["features"]}


def social_cell_at(container: Container, point: tuple[float, float]) -> str | None:
    """The social-service cell the locate service answers for a point now."""
    found = locate.locate_point(container.deps, SYSTEM, *point).layers
    cell = next(c.cell for c in found if c.layer == "social")
    return cell.code if cell else None


def patrol_areas(container: Container) -> Drawing:
    """A responsibility layer: A1 with half of A2, the rest of A2, and B1."""
    new_layer(container, "patrol", "responsibility")
    return draw(
        container,
        "patrol",
        [
            CellInput(division=SUB_A, grids=(*[grid(COMM_A1, n) for n in (1, 2, 3, 4)], grid(COMM_A2, 3), grid(COMM_A2, 4))),
            CellInput(division=SUB_A, grids=(grid(COMM_A2, 1), grid(COMM_A2, 2))),
            CellInput(division=SUB_B, grids=tuple(grid(COMM_B1, n) for n in (1, 2, 3, 4))),
        ],
    )  # fmt: skip


@pytest.fixture
def city_with_grids(container: Container, city: SmallCity) -> SmallCity:
    """The small city with quarter grids everywhere."""
    gridded(container)
    return city


# --- layers -------------------------------------------------------------------------------


def test_a_new_layer_is_listed_with_its_scheme_audited_and_answered_by_location(
    container: Container, city_with_grids: SmallCity
) -> None:
    with container.db.read() as session:
        before = read_versions(session)["grids"]

    new_layer(container, "fire-small", "fire_small")

    listed = {v.code: v for v in layers.list_layers(container.deps, SYSTEM)}
    assert listed["fire-small"].kind == "fire" and listed["fire-small"].scheme == "fire_small"
    assert listed["fire-small"].code_pattern == "^XF[0-9]{12}[0-9]{2}$"
    assert listed["unit"].cells == 12
    with container.db.read() as session:
        assert read_versions(session)["grids"] == before + 1
        assert (
            session.scalar(sa.select(AuditLog.target_id).where(AuditLog.action == "layer.created"))
            == "fire-small"
        )
    found = locate.locate_point(container.deps, SYSTEM, *IN_A1_NORTH_WEST)
    assert [(c.layer, c.cell) for c in found.layers] == [("fire-small", None)]


def test_layer_codes_are_unique_and_only_administrators_create_layers(
    container: Container, city: SmallCity
) -> None:
    new_layer(container, "social", "social")
    with pytest.raises(Conflict):
        new_layer(container, "social", "sanitation")
    with pytest.raises(Forbidden):
        new_layer(container, "other", "sanitation", actor=SUPERVISOR_OF_A)
    with pytest.raises(InvalidInput) as caught:
        new_layer(container, "units", "unit")
    assert caught.value.code == "layer_unit_exists"


# --- drawing ------------------------------------------------------------------------------


def test_a_responsibility_grid_is_the_union_of_its_unit_grids(
    container: Container, city_with_grids: SmallCity
) -> None:
    done = patrol_areas(container)

    assert done.created == ("ZR11010100101", "ZR11010100102", "ZR11010100201")
    first = features(container, "patrol")["ZR11010100101"]
    assert first["properties"]["grids"] == sorted(
        [grid(COMM_A1, n) for n in (1, 2, 3, 4)] + [grid(COMM_A2, 3), grid(COMM_A2, 4)]
    )
    shape = from_geojson(first["geometry"])
    assert shape.symmetric_difference(box(116.40, 39.90, 116.41, 39.915)).area < 1e-12
    assert first["properties"]["area_m2"] == pytest.approx(area_m2(shape), rel=1e-6)
    assert first["properties"]["division_code"] == SUB_A


def test_a_drawing_that_breaks_a_rule_names_it_and_writes_nothing(
    container: Container, city_with_grids: SmallCity
) -> None:
    new_layer(container, "patrol", "responsibility")
    twice = [
        CellInput(division=SUB_A, grids=(grid(COMM_A1, 1), grid(COMM_A1, 2))),
        CellInput(division=SUB_A, grids=(grid(COMM_A1, 2),)),
    ]
    with pytest.raises(InvalidInput) as caught:
        draw(container, "patrol", twice)
    assert caught.value.code == "layer_grid_twice"

    before_grids = [CellInput(division=SUB_A, grids=(grid(COMM_A1, 1),))]
    with pytest.raises(InvalidInput) as caught:
        draw(container, "patrol", before_grids, at=datetime(2025, 12, 1, tzinfo=UTC))
    assert caught.value.code == "layer_grid_unknown"

    assert features(container, "patrol") == {}
    with container.db.read() as session:
        done = session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "layer.redrawn"))
    assert done == 0


def test_cells_given_in_the_wrong_shape_are_refused(
    container: Container, city_with_grids: SmallCity
) -> None:
    for code, scheme, cell in (
        ("patrol", "responsibility", CellInput(division=SUB_A, geometry=box(*A1))),
        ("fire-big", "fire_big", CellInput(division=SUB_A, geometry=box(*A1))),
        ("sanitation", "sanitation", CellInput(division=DISTRICT, grids=(grid(COMM_A1, 1),))),
    ):
        new_layer(container, code, scheme)
        with pytest.raises(InvalidInput) as caught:
            draw(container, code, [cell])
        assert caught.value.code == "layer_cell_shape"


def test_sanitation_zones_may_not_overlap(container: Container, city: SmallCity) -> None:
    new_layer(container, "sanitation", "sanitation")
    overlapping = [
        CellInput(division=DISTRICT, geometry=box(116.40, 39.90, 116.42, 39.911)),
        CellInput(division=DISTRICT, geometry=box(116.40, 39.91, 116.42, 39.92)),
    ]
    with pytest.raises(InvalidInput) as caught:
        draw(container, "sanitation", overlapping)
    assert caught.value.code == "layer_cell_overlap"
    assert (caught.value.params["a"], caught.value.params["b"]) == ("HW110101001", "HW110101002")


def test_the_fire_grid_takes_whole_divisions_and_zones_that_tile_their_community(
    container: Container, city: SmallCity
) -> None:
    for code, scheme in (
        ("fire-big", "fire_big"),
        ("fire-medium", "fire_medium"),
        ("fire-small", "fire_small"),
    ):
        new_layer(container, code, scheme)  # fmt: skip
    draw(container, "fire-big", [CellInput(division=SUB_A), CellInput(division=SUB_B)])
    draw(container, "fire-medium", [CellInput(division=c) for c in (COMM_A1, COMM_A2, COMM_B1)])
    half = (A1[0] + A1[2]) / 2
    west, east = box(A1[0], A1[1], half, A1[3]), box(half, A1[1], A1[2], A1[3])
    gap = box(half, A1[1], A1[2] - 0.001, A1[3])
    with pytest.raises(InvalidInput) as caught:
        draw(
            container, "fire-small", [CellInput(division=COMM_A1, geometry=g) for g in (west, gap)]
        )
    assert caught.value.code == "layer_cell_gap"

    draw(container, "fire-small", [CellInput(division=COMM_A1, geometry=g) for g in (west, east)])

    big = from_geojson(features(container, "fire-big")["XF110101001"]["geometry"])
    assert big.symmetric_difference(box(116.40, 39.90, 116.41, 39.92)).area < 1e-12
    found = {
        c.layer: c.cell.code if c.cell else None
        for c in locate.locate_point(container.deps, SYSTEM, *IN_A1_NORTH_WEST).layers
    }
    assert found == {"fire-big": "XF110101001", "fire-medium": "XF110101001001", "fire-small": "XF11010100100101"}  # fmt: skip


def test_a_redrawing_keeps_the_old_cells_for_past_moments_and_renumbers_dynamic_codes(
    container: Container, city: SmallCity
) -> None:
    new_layer(container, "social", "social")
    south, north = box(116.40, 39.90, 116.41, 39.905), box(116.40, 39.905, 116.41, 39.91)
    draw(container, "social", [CellInput(division=COMM_A1, geometry=g) for g in (south, north)])
    assert social_cell_at(container, IN_A1_NORTH_EAST) == "SH110101001001002"
    west, east = box(116.40, 39.90, 116.405, 39.91), box(116.405, 39.90, 116.41, 39.91)
    redrawn = draw(
        container,
        "social",
        [CellInput(code="SH110101001001002", geometry=west), CellInput(division=COMM_A1, geometry=east)],
        at=JUN,
    )  # fmt: skip

    assert redrawn.ended == 2 and redrawn.created == ("SH110101001001002", "SH110101001001003")
    assert social_cell_at(container, IN_A1_NORTH_EAST) == "SH110101001001003"  # index rebuilt
    before = features(container, "social", at=JUN - timedelta(seconds=1))
    now = features(container, "social")
    assert sorted(before) == ["SH110101001001001", "SH110101001001002"]
    assert sorted(now) == ["SH110101001001002", "SH110101001001003"]
    # The static code 002 stays; its dynamic code says which drawing and where it now lies.
    assert before["SH110101001001002"]["properties"]["dynamic_code"] == "110101001001-20260102-001"
    assert now["SH110101001001002"]["properties"]["dynamic_code"] == "110101001001-20260601-001"
    assert now["SH110101001001003"]["properties"]["dynamic_code"] == "110101001001-20260601-002"
    with pytest.raises(Conflict) as caught:
        draw(container, "social", [], at=JUN)
    assert caught.value.code == "layer_redraw_order"


def test_unit_grids_are_not_redrawn_as_a_layer(
    container: Container, city_with_grids: SmallCity
) -> None:
    with pytest.raises(InvalidInput) as caught:
        draw(container, "unit", [])
    assert caught.value.code == "layer_unit_grids"


def test_switching_a_layer_off_takes_it_out_of_point_location(
    container: Container, city_with_grids: SmallCity
) -> None:
    patrol_areas(container)
    found = locate.locate_point(container.deps, SYSTEM, *IN_A1_NORTH_WEST)
    assert [(c.layer, c.cell.code if c.cell else None) for c in found.layers] == [("patrol", "ZR11010100101")]  # fmt: skip

    view = layers.update_layer(container.deps, SYSTEM, "patrol", is_active=False, info=TEST_INFO)

    assert not view.is_active and view.cells == 3
    assert locate.locate_point(container.deps, SYSTEM, *IN_A1_NORTH_WEST).layers == ()
    with pytest.raises(InvalidInput) as caught:
        layers.update_layer(container.deps, SYSTEM, "unit", is_active=False, info=TEST_INFO)
    assert caught.value.code == "layer_unit_always_on"


def test_a_scoped_reader_sees_the_cells_in_and_around_their_scope(
    container: Container, city_with_grids: SmallCity
) -> None:
    patrol_areas(container)
    new_layer(container, "sanitation", "sanitation")
    draw(
        container,
        "sanitation",
        [CellInput(division=DISTRICT, geometry=box(116.40, 39.90, 116.42, 39.92))],
    )

    assert sorted(features(container, "patrol", actor=SUPERVISOR_OF_A)) == ["ZR11010100101", "ZR11010100102"]  # fmt: skip
    assert sorted(features(container, "sanitation", actor=SUPERVISOR_OF_A)) == ["HW110101001"]
    unit = layers.cells_in_force(container.deps, SUPERVISOR_OF_A, "unit")
    assert {c.code[:9] for c in unit} == {SUB_A}
    assert len(grids.list_grids(container.deps, SYSTEM, per_page=50).items) == 12


# --- the demo city's layers -----------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A division of the small city, as the demo layer builder reads one."""

    code: str
    name: str
    level: DivisionLevel
    boundary: MultiPolygon


SMALL_CITY = [
    Place(DISTRICT, "东城区", DivisionLevel.DISTRICT, MultiPolygon([box(116.40, 39.90, 116.42, 39.92)])),
    Place(SUB_A, "东华门街道", DivisionLevel.SUBDISTRICT, MultiPolygon([box(116.40, 39.90, 116.41, 39.92)])),
    Place(SUB_B, "景山街道", DivisionLevel.SUBDISTRICT, MultiPolygon([box(*B1)])),
    Place(COMM_A1, "多福巷社区", DivisionLevel.COMMUNITY, MultiPolygon([box(*A1)])),
    Place(COMM_A2, "银闸社区", DivisionLevel.COMMUNITY, MultiPolygon([box(*A2)])),
    Place(COMM_B1, "景山东街社区", DivisionLevel.COMMUNITY, MultiPolygon([box(*B1)])),
]  # fmt: skip


def test_clusters_split_points_into_compact_groups_the_same_way_every_time() -> None:
    rng = np.random.default_rng(5)
    xy = np.concatenate([rng.normal(c, 0.1, (20, 2)) for c in ((0, 5), (5, 5), (0, 0))])

    groups = clusters(xy, 3)

    assert groups == clusters(xy.copy(), 3)
    assert sorted(i for g in groups for i in g) == list(range(60))
    assert [sorted(g) for g in groups] == [
        list(range(20)),
        list(range(20, 40)),
        list(range(40, 60)),
    ]


def test_the_demo_layers_cover_the_city_and_leave_some_grids_uncovered_on_purpose(
    container: Container, city_with_grids: SmallCity
) -> None:
    made = create_demo_layers(container.deps, SYSTEM, SMALL_CITY, valid_from=JAN, info=TEST_INFO)

    counts = {v.code: v.cells for v in layers.list_layers(container.deps, SYSTEM)}
    assert counts == {
        "unit": 12, "responsibility": 6, "social": 6, "sanitation": 10, "enforcement": 2,
        "fire-big": 2, "fire-medium": 3, "fire-small": 6,
    }  # fmt: skip
    assert made.cells == sum(counts.values()) - 12
    areas = features(container, "responsibility")
    members = sorted(g for f in areas.values() for g in f["properties"]["grids"])
    assert members == sorted(c.code for c in layers.cells_in_force(container.deps, SYSTEM, "unit"))
    noon = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    left = responsibility.uncovered_grids(container.deps, SYSTEM, at=noon)
    last_area_of_a = areas["ZR11010100103"]["properties"]["grids"]
    assert left == sorted(last_area_of_a + [grid(COMM_B1, n) for n in (1, 2, 3, 4)])
    found = locate.locate_point(container.deps, SYSTEM, *IN_A1_NORTH_WEST)
    assert all(c.cell is not None for c in found.layers)
    assert made.assignments == 2 + 1 + 3 + 2  # supervisor, night worker, social workers, leader
