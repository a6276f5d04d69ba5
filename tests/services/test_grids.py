"""Unit grids: a re-division replaces a community's grids all-or-nothing and keeps the old ones
as history; locations answer the grid in force at the moment asked about, in every process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.db.tables import AuditLog, GridCell
from gridcity.adapters.geo import area_m2
from gridcity.adapters.spatial_index import read_versions
from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridcity.services import divisions, grids, locate
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import COMM_A1, COMM_B1, DISTRICT, SUB_A, SYSTEM, TEST_INFO, SmallCity

# Community A1 is the lon/lat box below (see tests/factories.py); B1 lies east of it.
A1 = (116.40, 39.90, 116.41, 39.91)
B1 = (116.41, 39.90, 116.42, 39.92)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
NORTH_EAST_OF_A1 = (116.4075, 39.9075)
Cells = list[tuple[str | None, BaseGeometry, dict[str, Any]]]
only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def quarters(bounds: tuple[float, float, float, float]) -> Cells:
    """Four boxes: south-west, south-east, north-west, north-east (sequences 001–004)."""
    x0, y0, x1, y1 = bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [
        (None, box(x0, y0, xm, ym), {"land_use": "R", "management_level": 1}),
        (None, box(xm, y0, x1, ym), {}),
        (None, box(x0, ym, xm, y1), {}),
        (None, box(xm, ym, x1, y1), {"name": "东北片"}),
    ]


def halves(bounds: tuple[float, float, float, float]) -> Cells:
    """West and east halves (sequences 001, 002)."""
    x0, y0, x1, y1 = bounds
    xm = (x0 + x1) / 2
    return [(None, box(x0, y0, xm, y1), {}), (None, box(xm, y0, x1, y1), {})]


def redivide(
    container: Container, community: str, cells: Cells, at: datetime, actor: Actor = SYSTEM
) -> grids.Redivision:
    """Replace a community's grids through the service."""
    return grids.replace_community_grids(
        container.deps, actor, community, cells, valid_from=at, info=TEST_INFO
    )


def grid_at(container: Container, point: tuple[float, float], at: datetime | None = None) -> str:
    """The unit grid code the locate service answers for a point ('' when none)."""
    found = locate.locate_point(container.deps, SYSTEM, *point, at=at)
    return found.grid.code if found.grid else ""


def current_codes(container: Container, community: str = COMM_A1) -> list[str]:
    """Codes of the community's grids in force now."""
    page = grids.list_grids(container.deps, SYSTEM, community=community, per_page=200)
    return [g.code for g in page.items]


# --- re-division ----------------------------------------------------------------------------


def test_a_redivision_stores_each_grid_with_its_code_area_attributes_and_start(
    container: Container, city: SmallCity
) -> None:
    done = redivide(container, COMM_A1, quarters(A1), JAN)

    assert done.created == tuple(f"{COMM_A1}{n:03d}" for n in (1, 2, 3, 4))
    first = grids.get_grid(container.deps, SYSTEM, f"{COMM_A1}001")
    assert first.community_code == COMM_A1
    assert first.valid_from == JAN and first.valid_to is None
    assert first.area_m2 == pytest.approx(area_m2(quarters(A1)[0][1]), rel=1e-6)
    assert first.attributes["land_use"] == "R" and first.attributes["management_level"] == 1
    assert grids.get_grid(container.deps, SYSTEM, f"{COMM_A1}004").name == "东北片"
    with container.db.read() as session:
        entry = session.execute(
            sa.select(AuditLog.target_id, AuditLog.detail).where(
                AuditLog.action == "grid.redivided"
            )
        ).one()
    assert entry.target_id == COMM_A1
    assert entry.detail["ended"] == 0 and entry.detail["created"] == 4


def test_given_codes_are_kept_and_missing_ones_take_the_next_free_sequences(
    container: Container, city: SmallCity
) -> None:
    cells = quarters(A1)
    cells[1] = (f"{COMM_A1}007", cells[1][1], {})

    done = redivide(container, COMM_A1, cells, JAN)

    assert done.created == (f"{COMM_A1}008", f"{COMM_A1}007", f"{COMM_A1}009", f"{COMM_A1}010")


def test_a_later_redivision_ends_the_current_grids_and_keeps_them_as_history(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)

    done = redivide(container, COMM_A1, halves(A1), JUN)

    assert done.ended == 4
    assert current_codes(container) == [f"{COMM_A1}001", f"{COMM_A1}002"]
    in_march = grids.list_grids(
        container.deps, SYSTEM, community=COMM_A1, at=JAN + timedelta(days=60)
    )
    assert [g.code for g in in_march.items] == [f"{COMM_A1}{n:03d}" for n in (1, 2, 3, 4)]
    assert {g.valid_to for g in in_march.items} == {JUN}
    with pytest.raises(NotFound):
        grids.get_grid(container.deps, SYSTEM, f"{COMM_A1}004")
    assert grids.get_grid(container.deps, SYSTEM, f"{COMM_A1}004", at=JUN - timedelta(seconds=1))


def test_a_location_made_before_a_redivision_still_answers_the_old_grid_for_that_date(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    reported_at = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)
    assert grid_at(container, NORTH_EAST_OF_A1, reported_at) == f"{COMM_A1}004"

    redivide(container, COMM_A1, halves(A1), JUN)

    assert grid_at(container, NORTH_EAST_OF_A1, reported_at) == f"{COMM_A1}004"
    assert grid_at(container, NORTH_EAST_OF_A1) == f"{COMM_A1}002"
    assert grid_at(container, NORTH_EAST_OF_A1, JUN) == f"{COMM_A1}002"
    assert grid_at(container, NORTH_EAST_OF_A1, JUN - timedelta(microseconds=1)) == (
        f"{COMM_A1}004"
    )
    before_any = locate.locate_point(
        container.deps, SYSTEM, *NORTH_EAST_OF_A1, at=JAN - timedelta(days=1)
    )
    assert before_any.grid is None and before_any.community is not None
    assert before_any.community.code == COMM_A1


def test_a_point_on_the_edge_between_two_grids_goes_to_the_lower_code_every_time(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    middle = ((A1[0] + A1[2]) / 2, (A1[1] + A1[3]) / 2)  # the corner all four quarters share
    on_edge = (middle[0], A1[1] + 0.001)  # between 001 (west) and 002 (east)

    answers = {grid_at(container, on_edge) for _ in range(3)}

    assert answers == {f"{COMM_A1}001"}
    assert grid_at(container, middle) == f"{COMM_A1}001"


def test_another_process_sees_a_redivision_and_a_renamed_division_on_its_next_location(
    container: Container, city: SmallCity, database_url: str
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    assert grid_at(container, NORTH_EAST_OF_A1) == f"{COMM_A1}004"  # this process's index is warm
    other = bootstrap(settings_for(database_url), hasher=FAST_HASHER)
    try:
        redivide(other, COMM_A1, halves(A1), JAN + timedelta(days=1))
        divisions.update_division(other.deps, SYSTEM, COMM_A1, name="新多福巷社区", info=TEST_INFO)
    finally:
        other.db.engine.dispose()

    found = locate.locate_point(container.deps, SYSTEM, *NORTH_EAST_OF_A1)

    assert found.grid is not None and found.grid.code == f"{COMM_A1}002"
    assert found.community is not None and found.community.name == "新多福巷社区"


def test_every_change_of_divisions_or_grids_moves_its_version_counter(
    container: Container, city: SmallCity
) -> None:
    def versions() -> dict[str, int]:
        with container.db.read() as session:
            return read_versions(session)

    before = versions()
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="110101001003",
        name="新社区",
        level=DivisionLevel.COMMUNITY,
        info=TEST_INFO,
    )
    divisions.update_division(container.deps, SYSTEM, COMM_B1, name="改名", info=TEST_INFO)
    redivide(container, COMM_A1, quarters(A1), JAN)
    after = versions()

    assert after["divisions"] == before.get("divisions", 0) + 2
    assert after["grids"] == before.get("grids", 0) + 1


# --- refusals: all-or-nothing ---------------------------------------------------------------


def _with(cells: Cells, index: int, **change: Any) -> Cells:
    code, geom, attrs = cells[index]
    replaced = list(cells)
    replaced[index] = (
        change.get("code", code),
        change.get("geom", geom),
        change.get("attrs", attrs),
    )
    return replaced


BOW_TIE = Polygon([(116.40, 39.90), (116.405, 39.905), (116.405, 39.90), (116.40, 39.905)])
WEST_WIDE = box(116.40, 39.90, 116.4055, 39.91)
REFUSALS: list[tuple[str, Callable[[], Cells], str]] = [
    ("grid_cells_empty", lambda: [], "no grid at all"),
    ("grid_code_format", lambda: _with(quarters(A1), 0, code="12345"), "short code"),
    (
        "grid_code_community",
        lambda: _with(quarters(A1), 0, code="110101001002001"),
        "code of a neighbouring community",
    ),
    (
        "grid_code_duplicate",
        lambda: _with(_with(quarters(A1), 0, code=f"{COMM_A1}005"), 1, code=f"{COMM_A1}005"),
        "one code twice",
    ),
    (
        "grid_geometry_type",
        lambda: _with(quarters(A1), 0, geom=LineString([(116.40, 39.90), (116.41, 39.91)])),
        "a line",
    ),
    ("grid_geometry_invalid", lambda: _with(quarters(A1), 0, geom=BOW_TIE), "a bow tie"),
    (
        "grid_outside_community",
        lambda: _with(quarters(A1), 1, geom=box(116.405, 39.90, 116.412, 39.905)),
        "reaches into the neighbour",
    ),
    ("grid_overlap", lambda: [(None, WEST_WIDE, {}), halves(A1)[1]], "two grids overlap"),
    ("grid_gap", lambda: quarters(A1)[:3], "a quarter is missing"),
    (
        "grid_attribute_invalid",
        lambda: _with(quarters(A1), 2, attrs={"tags": ["a", "b"]}),
        "a list attribute",
    ),
]


@only_sqlite
@pytest.mark.parametrize(("code", "cells", "why"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_redivision_names_the_reason_and_changes_nothing(
    container: Container, city: SmallCity, code: str, cells: Callable[[], Cells], why: str
) -> None:
    redivide(container, COMM_A1, halves(A1), JAN)
    with container.db.read() as session:
        before = read_versions(session)

    with pytest.raises(InvalidInput) as refused:
        redivide(container, COMM_A1, cells(), JUN)

    assert refused.value.code == code, why
    assert current_codes(container) == [f"{COMM_A1}001", f"{COMM_A1}002"]
    with container.db.read() as session:
        assert read_versions(session) == before
        assert session.scalar(sa.select(sa.func.count()).select_from(GridCell)) == 2


@only_sqlite
def test_a_naive_start_time_is_refused_as_ambiguous(container: Container, city: SmallCity) -> None:
    with pytest.raises(InvalidInput) as refused:
        redivide(container, COMM_A1, quarters(A1), datetime(2026, 1, 1))
    assert refused.value.code == "time_zone_missing"


@only_sqlite
def test_a_community_without_boundary_or_out_of_reach_gets_no_grids(
    container: Container, city: SmallCity
) -> None:
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="110101001003",
        name="未勾绘社区",
        level=DivisionLevel.COMMUNITY,
        info=TEST_INFO,
    )
    cells = [(None, box(116.40, 39.90, 116.401, 39.901), {})]
    with pytest.raises(InvalidInput) as undrawn:
        redivide(container, "110101001003", cells, JAN)
    with pytest.raises(NotFound) as missing:
        redivide(container, "110101001009", cells, JAN)
    supervisor = Actor(
        user_id=city.user_ids["supervisor"],
        username="supervisor",
        roles=frozenset({Role.SUPERVISOR}),
        scope=Scope(divisions=frozenset({SUB_A})),
    )
    with pytest.raises(Forbidden):
        redivide(container, COMM_A1, quarters(A1), JAN, actor=supervisor)

    assert undrawn.value.code == "community_without_boundary"
    assert missing.value.code == "division_not_found"


def test_a_redivision_must_start_after_the_last_one(container: Container, city: SmallCity) -> None:
    redivide(container, COMM_A1, quarters(A1), JUN)

    for start in (JUN, JAN):
        with pytest.raises(Conflict) as refused:
            redivide(container, COMM_A1, halves(A1), start)
        assert refused.value.code == "grid_redivision_order"
    assert len(current_codes(container)) == 4


# --- reading: scope ---------------------------------------------------------------------------


@pytest.fixture
def supervisor(city: SmallCity) -> Iterator[Actor]:
    """The test city's supervisor, whose scope is subdistrict A."""
    yield Actor(
        user_id=city.user_ids["supervisor"],
        username="supervisor",
        roles=frozenset({Role.SUPERVISOR}),
        scope=Scope(divisions=frozenset({SUB_A})),
    )


def test_a_supervisor_reads_only_the_grids_of_their_scope(
    container: Container, city: SmallCity, supervisor: Actor
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    redivide(container, COMM_B1, halves(B1), JAN)
    deps = container.deps

    listed = grids.list_grids(deps, supervisor, per_page=200)
    mapped = grids.grids_geojson(deps, supervisor, parent=DISTRICT)

    assert {g.community_code for g in listed.items} == {COMM_A1}
    assert {f["properties"]["community_code"] for f in mapped["features"]} == {COMM_A1}
    assert len(grids.grids_geojson(deps, SYSTEM, parent=DISTRICT)["features"]) == 6
    with pytest.raises(NotFound):
        grids.get_grid(deps, supervisor, f"{COMM_B1}001")


def test_the_geojson_of_a_community_carries_codes_names_and_attributes(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)

    features = grids.grids_geojson(container.deps, SYSTEM, parent=COMM_A1)["features"]

    assert [f["id"] for f in features] == [f"{COMM_A1}{n:03d}" for n in (1, 2, 3, 4)]
    north_east = features[3]
    assert north_east["geometry"]["type"] == "MultiPolygon"
    assert north_east["properties"]["name"] == "东北片"
    assert north_east["properties"]["area_m2"] > 200_000
    assert north_east["properties"]["valid_to"] is None
