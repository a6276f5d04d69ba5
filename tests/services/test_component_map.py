"""The component map through its service, on SQLite and PostgreSQL: tiles answer clusters or
points with the filters and the data scope applied, the picker finds the nearest components,
and the index of one process sees what another process wrote, reading only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gridcity.adapters.component_tiling import STATES, lonlat_of
from gridcity.adapters.db.tables import Component
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.coords import wgs84_to_gcj02
from gridcity.domain.errors import Forbidden, InvalidInput
from gridcity.services import catalog, component_map
from gridcity.services.component_writes import (
    COMPONENTS_STATE,
    ImportSource,
    NewComponents,
    add_components,
)
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import COMM_A1, DISTRICT_BOX, SUB_A, SYSTEM, TEST_INFO, SmallCity
from tests.unit.test_component_index import tile_of

CLASSES = ("01001", "01037", "03005")  # 供水井盖, 路灯, 垃圾箱 (GB/T 47678.5-2026, the default)
STATES_ZH = ("完好", "破损", "丢失", "移除")
DEPARTMENTS = ("区园林绿化局", "区市政管理委员会")
CENTRE = (116.41, 39.91)


@dataclass(frozen=True)
class Stored:
    """A component as the database holds it (the reference the tiles are checked against)."""

    identifier: str
    class_code: str
    state: str
    department_id: int
    community_code: str | None
    x: float
    y: float


def add_at(
    container: Container,
    xy: np.ndarray,
    classes: Sequence[str],
    *,
    states: Sequence[str] | None = None,
    competent: Sequence[str] | None = None,
) -> None:
    """Components at the points, through the one write path (as a census import does)."""
    n = len(xy)
    add_components(
        container.deps,
        SYSTEM,
        NewComponents(
            rows=list(range(1, n + 1)),
            class_code=list(classes),
            geometry=shapely.points(xy),
            competent=list(competent or [DEPARTMENTS[0]] * n),
            state=list(states) if states is not None else None,
        ),
        source=ImportSource("census.csv", "csv"),
        info=TEST_INFO,
        duplicate_distance_m=0,
    )


def stored(container: Container) -> list[Stored]:
    """Every component row."""
    with container.db.read() as session:
        rows = session.execute(
            sa.select(
                Component.identifier,
                Component.class_code,
                Component.state,
                Component.competent_department_id,
                Component.community_code,
                Component.x,
                Component.y,
            )
        ).all()
    return [Stored(*r) for r in rows]


def in_tile(rows: list[Stored], z: int, x: int, y: int) -> list[Stored]:
    return [r for r in rows if tile_of(r.x, r.y, z) == (x, y)]


def build_inventory(container: Container) -> None:
    """The standard catalog and 240 components over the small city's district."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = DISTRICT_BOX
    n = 240
    xy = np.column_stack(
        (rng.uniform(x0 + 1e-4, x1 - 1e-4, n), rng.uniform(y0 + 1e-4, y1 - 1e-4, n))
    )
    add_at(
        container,
        xy,
        [CLASSES[i % 3] for i in range(n)],
        states=[STATES_ZH[(i // 3) % 4] for i in range(n)],
        competent=[DEPARTMENTS[(i // 2) % 2] for i in range(n)],
    )


@pytest.fixture
def inventory(container: Container, city: SmallCity) -> SmallCity:
    """The small city with the standard catalog and 240 components over its district."""
    build_inventory(container)
    return city


def test_city_tiles_cluster_every_visible_component(container, inventory) -> None:
    rows = stored(container)
    z = 12
    tiles = {tile_of(r.x, r.y, z) for r in rows}
    assert len(tiles) == 2  # the district straddles a tile edge
    total = 0
    for x, y in tiles:
        view = component_map.component_tile(container.deps, SYSTEM, z, x, y, max_points=0)
        expected = [r for r in in_tile(rows, z, x, y) if r.state != "removed"]
        assert view.kind == "clusters" and view.clusters is not None
        assert view.total == int(view.clusters.count.sum()) == len(expected)
        assert view.cells == 4 and len(view.clusters.count) <= 16
        per_state = view.clusters.states.sum(axis=0).tolist()
        assert per_state == [sum(1 for r in expected if r.state == s) for s in STATES]
        total += view.total
    assert total == 180  # a quarter of the 240 are removed


def test_a_street_tile_lists_its_components_with_position_class_and_state(
    container, inventory
) -> None:
    rows = stored(container)
    z = 16
    for x, y in {tile_of(r.x, r.y, z) for r in rows[:20]}:
        view = component_map.component_tile(container.deps, SYSTEM, z, x, y)
        assert view.kind == "points" and view.points is not None
        expected = {r.identifier: r for r in in_tile(rows, z, x, y) if r.state != "removed"}
        assert sorted(view.points.identifiers) == sorted(expected)
        for k, identifier in enumerate(view.points.identifiers):
            row = expected[identifier]
            assert (view.points.x[k], view.points.y[k]) == (row.x, row.y)
            assert view.points.class_codes[k] == row.class_code
            assert view.points.states[k] == row.state


def test_below_street_zoom_only_a_few_components_come_as_points(container, inventory) -> None:
    z, (x, y) = 15, tile_of(116.411, 39.911, 15)
    lon, lat = lonlat_of(np.array([x + 0.3, x + 0.7]), np.array([y + 0.7, y + 0.3]), z)
    rng = np.random.default_rng(5)
    spot = np.column_stack((rng.uniform(*lon, 300), rng.uniform(*lat, 300)))  # inside one z15 tile
    add_at(container, spot, ["01037"] * 300)
    street = component_map.component_tile(container.deps, SYSTEM, 15, x, y)
    assert street.kind == "points" and street.total > component_map.SPARSE_POINTS
    city = component_map.component_tile(container.deps, SYSTEM, 14, x // 2, y // 2)
    assert city.kind == "clusters" and city.total > component_map.SPARSE_POINTS
    sparse = component_map.component_tile(
        container.deps, SYSTEM, 14, x // 2, y // 2, class_codes=["01001"]
    )
    assert sparse.kind == "points" and 0 < sparse.total <= component_map.SPARSE_POINTS


def test_filters_by_class_state_and_department(container, inventory) -> None:
    second = inventory.department_ids[DEPARTMENTS[1]]
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"class_codes": ["01037"]}, lambda r: r.class_code == "01037"),
        ({"class_codes": ["01"]}, lambda r: r.class_code.startswith("01")),  # a major class
        ({"states": ["破损", "lost"]}, lambda r: r.state in ("damaged", "lost")),
        ({"include_removed": True}, lambda r: True),
        ({"states": ["removed"]}, lambda r: r.state == "removed"),
        ({"department_ids": [second]}, lambda r: r.department_id == second),
        (
            {"class_codes": ["03005", "01001"], "states": ["intact"]},
            lambda r: r.class_code in ("03005", "01001") and r.state == "intact",
        ),
    ]
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    rows = in_tile(stored(container), z, x, y)
    for filters, keep in cases:
        view = component_map.component_tile(container.deps, SYSTEM, z, x, y, **filters)
        shown = rows
        if "states" not in filters and not filters.get("include_removed"):
            shown = [r for r in rows if r.state != "removed"]
        expected = {r.identifier for r in shown if keep(r)}
        assert view.points is not None, filters
        assert set(view.points.identifiers) == expected, filters
        assert 0 < len(expected) <= len(rows), filters


def _user(roles: set[Role], *, divisions=(), departments=()) -> Actor:
    return Actor(
        user_id=99,
        username="someone",
        roles=frozenset(roles),
        scope=Scope(divisions=frozenset(divisions), departments=frozenset(departments)),
    )


def test_the_data_scope_is_a_mask_too(container, inventory) -> None:
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    rows = [r for r in in_tile(stored(container), z, x, y) if r.state != "removed"]
    second = inventory.department_ids[DEPARTMENTS[1]]

    def seen(actor: Actor) -> set[str]:
        view = component_map.component_tile(container.deps, actor, z, x, y)
        assert view.points is not None
        return set(view.points.identifiers)

    supervisor = _user({Role.SUPERVISOR}, divisions=[SUB_A])
    assert seen(supervisor) == {
        r.identifier for r in rows if (r.community_code or "").startswith(SUB_A)
    }
    community_or_department = _user({Role.DISPATCHER}, divisions=[COMM_A1], departments=[second])
    assert seen(community_or_department) == {
        r.identifier for r in rows if r.community_code == COMM_A1 or r.department_id == second
    }
    assert seen(_user({Role.HANDLER})) == set()  # an empty scope sees nothing
    assert seen(SYSTEM) == {r.identifier for r in rows}
    assert 0 < len(seen(supervisor)) < len(rows)


def test_the_public_may_not_read_the_component_map(container, inventory) -> None:
    with pytest.raises(Forbidden):
        component_map.component_tile(container.deps, Actor.anonymous(), 12, 3372, 1552)
    with pytest.raises(Forbidden):
        component_map.components_near(container.deps, Actor.anonymous(), *CENTRE)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"z": 23}, "invalid_tile"),
        ({"x": 1 << 12}, "invalid_tile"),
        ({"y": -1}, "invalid_tile"),
        ({"cells": 3}, "invalid_cells"),
        ({"max_points": 2001}, "invalid_max_points"),
        ({"class_codes": ["01 001"]}, "invalid_class_filter"),
        ({"class_codes": [str(i) for i in range(201)]}, "too_many_filter_values"),
        ({"department_ids": [0]}, "invalid_department_filter"),
        ({"states": ["broken"]}, "invalid_component_state"),
        ({"crs": "bd09"}, "invalid_display_crs"),
    ],
)
def test_a_tile_request_that_breaks_a_rule_is_refused(container, call, code) -> None:
    tile = {"z": 12, "x": 3372, "y": 1552}
    tile.update({k: v for k, v in call.items() if k in tile})
    rest = {k: v for k, v in call.items() if k not in tile}
    with pytest.raises(InvalidInput) as refused:
        component_map.component_tile(container.deps, SYSTEM, **tile, **rest)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"radius_m": 0}, "invalid_radius"),
        ({"radius_m": 501}, "invalid_radius"),
        ({"limit": 0}, "invalid_limit"),
        ({"limit": 51}, "invalid_limit"),
        ({"lon": 200.0}, "coordinate_out_of_range"),
    ],
)
def test_a_near_request_that_breaks_a_rule_is_refused(container, call, code) -> None:
    point = {"lon": CENTRE[0], "lat": CENTRE[1]}
    point.update({k: v for k, v in call.items() if k in point})
    rest = {k: v for k, v in call.items() if k not in point}
    with pytest.raises(InvalidInput) as refused:
        component_map.components_near(container.deps, SYSTEM, point["lon"], point["lat"], **rest)
    assert refused.value.code == code


def test_the_picker_finds_the_nearest_components_in_scope(container, inventory) -> None:
    rows = [r for r in stored(container) if r.state != "removed"]
    lon, lat = CENTRE
    scale = 111_320.0 * np.cos(np.radians(lat))

    def metres(r: Stored) -> float:
        return float(np.hypot((r.x - lon) * scale, (r.y - lat) * 111_320.0))

    found = component_map.components_near(container.deps, SYSTEM, lon, lat, radius_m=300, limit=5)
    nearest = sorted((r for r in rows if metres(r) <= 300), key=metres)[:5]
    assert [c.identifier for c in found.items] == [r.identifier for r in nearest]
    assert [c.distance_m for c in found.items] == [round(metres(r), 2) for r in nearest]
    assert {c.name for c in found.items} <= {"供水井盖", "路灯", "垃圾箱"}
    supervisor = _user({Role.SUPERVISOR}, divisions=[SUB_A])
    mine = component_map.components_near(
        container.deps, supervisor, lon, lat, radius_m=500, limit=50
    )
    assert mine.items and all(c.identifier in _in_sub_a(rows) for c in mine.items)


def _in_sub_a(rows: list[Stored]) -> set[str]:
    return {r.identifier for r in rows if (r.community_code or "").startswith(SUB_A)}


def test_the_filter_panel_offers_the_classes_and_departments_in_scope(container, inventory) -> None:
    choices = component_map.filter_choices(container.deps, SYSTEM)
    assert [(c.code, c.name, c.count) for c in choices.classes] == [
        ("01001", "供水井盖", 60),
        ("01037", "路灯", 60),
        ("03005", "垃圾箱", 60),
    ]  # 80 of each class, a quarter of them removed
    assert choices.majors == {"01": "市政公用设施", "03": "市容环卫设施"}
    rows = [r for r in stored(container) if r.state != "removed"]
    names = {v: k for k, v in inventory.department_ids.items()}
    assert sorted((d.name, d.count) for d in choices.departments) == sorted(
        (names[i], sum(1 for r in rows if r.department_id == i)) for i in names
    )
    supervisor = _user({Role.SUPERVISOR}, divisions=[SUB_A])
    theirs = component_map.filter_choices(container.deps, supervisor)
    assert sum(c.count for c in theirs.classes) == len(_in_sub_a(rows))


def test_an_index_sees_what_another_process_wrote_reading_only_that(
    container, inventory, monkeypatch
) -> None:
    reads: list[int | None] = []
    real_rows = component_map._rows

    def spy(session: Any, after: int | None, *rest: Any) -> Any:
        reads.append(after)
        return real_rows(session, after, *rest)

    monkeypatch.setattr(component_map, "_rows", spy)
    z, (x, y) = 16, tile_of(116.4150, 39.9150, 16)
    before = component_map.component_tile(container.deps, SYSTEM, z, x, y)
    assert reads == [None]  # the first request builds the index from every row
    component_map.component_tile(container.deps, SYSTEM, z, x, y)
    assert reads == [None]  # unchanged counter: nothing is read

    other = bootstrap(settings_for(container.settings.database_url), hasher=FAST_HASHER)
    try:
        spot = np.array([[116.41500, 39.91500], [116.41502, 39.91501]])
        add_at(other, spot, ["01037", "01037"])
        after = component_map.component_tile(container.deps, SYSTEM, z, x, y)
        assert reads == [None, before.seq]  # only rows written after the index's counter
        assert after.seq > before.seq and after.tag != before.tag
        assert after.points is not None and before.points is not None
        new = set(after.points.identifiers) - set(before.points.identifiers)
        assert len(new) == 2

        # An edit in the other process: its state changes, so it leaves the default map.
        edited = sorted(new)[0]
        _change_state_as_the_edit_service_does(other, edited, "removed")
        again = component_map.component_tile(container.deps, SYSTEM, z, x, y)
        assert again.points is not None and edited not in again.points.identifiers
        shown = component_map.component_tile(container.deps, SYSTEM, z, x, y, states=["removed"])
        assert shown.points is not None and edited in shown.points.identifiers
        assert reads == [None, before.seq, after.seq]  # the last request read nothing
    finally:
        other.db.engine.dispose()


def _change_state_as_the_edit_service_does(
    container: Container, identifier: str, state: str
) -> None:
    """Stand-in for the single-component edit service (built in parallel, not on this branch):
    what every write to components must do — bump the ``components`` counter and stamp the
    touched rows with its new value, in one transaction."""
    now = container.deps.clock()
    with container.db.transaction() as session:
        bump_version(session, COMPONENTS_STATE, now)
        session.flush()
        seq = read_versions(session)[COMPONENTS_STATE]
        session.execute(
            sa.update(Component)
            .where(Component.identifier == identifier)
            .values(state=state, version=Component.version + 1, change_seq=seq, updated_at=now)
        )


def test_tags_differ_by_data_filter_and_scope(container, inventory) -> None:
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    tile = component_map.component_tile
    first = tile(container.deps, SYSTEM, z, x, y)
    assert tile(container.deps, SYSTEM, z, x, y).tag == first.tag
    assert tile(container.deps, SYSTEM, z, x, y, class_codes=["01001"]).tag != first.tag
    supervisor = _user({Role.SUPERVISOR}, divisions=[SUB_A])
    assert tile(container.deps, supervisor, z, x, y).tag != first.tag
    add_at(container, np.array([CENTRE]), ["01001"])
    assert tile(container.deps, SYSTEM, z, x, y).tag != first.tag


def test_gcj02_maps_get_shifted_positions_and_pick_in_them(container, inventory) -> None:
    rows = [r for r in stored(container) if r.state != "removed"]
    target = rows[0]
    lon, lat = wgs84_to_gcj02(target.x, target.y)
    assert abs(lon - target.x) > 1e-3  # the shift is hundreds of metres in Beijing
    z, (x, y) = 17, tile_of(lon, lat, 17)
    view = component_map.component_tile(container.deps, SYSTEM, z, x, y, crs="GCJ02")
    assert view.points is not None
    k = view.points.identifiers.index(target.identifier)
    assert (view.points.x[k], view.points.y[k]) == pytest.approx((lon, lat), abs=1e-7)
    near = component_map.components_near(container.deps, SYSTEM, lon, lat, radius_m=1, crs="gcj02")
    assert [c.identifier for c in near.items] == [target.identifier]
    plain = component_map.components_near(container.deps, SYSTEM, lon, lat, radius_m=1)
    assert target.identifier not in [c.identifier for c in plain.items]
