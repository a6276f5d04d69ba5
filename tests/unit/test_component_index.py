"""The component map index against brute force: a tile's rows are exactly the points inside it,
cluster counts add up, every filter and the data scope select what a plain loop selects, a
patched index equals one built afresh, and the nearest components are the nearest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcity.adapters.component_index import ComponentIndex
from gridcity.adapters.component_tiling import (
    STATES,
    check_tile,
    lonlat_of,
    pack_digits,
    pack_rows,
    tile_units,
    unpack_digits,
)
from gridcity.domain.access import Scope

CLASSES = ("01001", "01037", "03005", "02014")
PLACES = ("110101001001", "110101001002", "110101002001", None)  # None: in no community
DEPARTMENTS = (7, 8, 9)
ALL_BUT_REMOVED = tuple(s for s in STATES if s != "removed")
# (id, identifier, class code, state, competent department, community or None, x, y)
Row = tuple[int, str, str, str, int, str | None, float, float]


def build(rows: list[Row], seq: int = 1, **options) -> ComponentIndex:
    """An index of readable rows (class ids are the class codes read as numbers)."""
    return ComponentIndex.build(_packed(rows), seq, _class_names(rows), **options)


def _packed(rows: list[Row]):
    return pack_rows((r[0], r[1], int(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows)


def _class_names(rows: list[Row]) -> dict[int, str]:
    return {int(r[2]): r[2] for r in rows}


def rows_around(n: int, seed: int, *, lon=(116.30, 116.50), lat=(39.80, 39.98)) -> list[Row]:
    """``n`` components at random places in a box, with every class, state and department."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(*lon, n)
    ys = rng.uniform(*lat, n)
    out: list[Row] = []
    for i in range(n):
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        out.append(
            (
                i + 1,
                f"110101{cls}{i + 1:06d}",
                cls,
                STATES[int(rng.integers(len(STATES)))],
                DEPARTMENTS[int(rng.integers(len(DEPARTMENTS)))],
                PLACES[int(rng.integers(len(PLACES)))],
                float(xs[i]),
                float(ys[i]),
            )
        )
    return out


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The slippy-map tile holding a point (the OpenStreetMap wiki's formula, scalar)."""
    n = 2**z
    phi = math.radians(lat)
    x = int(math.floor((lon + 180.0) / 360.0 * n))
    y = int(math.floor((1.0 - math.asinh(math.tan(phi)) / math.pi) / 2.0 * n))
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def inside(rows: list[Row], z: int, x: int, y: int) -> list[Row]:
    """The rows whose anchor lies in tile (z, x, y), by brute force."""
    return [r for r in rows if tile_of(r[6], r[7], z) == (x, y)]


def visible(row: Row, *, classes=(), states=ALL_BUT_REMOVED, depts=(), scope=None) -> bool:
    """Whether a row passes a filter, written out plainly."""
    _id, identifier, cls, state, dept, place, _x, _y = row
    if classes and not any(cls == c or (len(c) == 2 and cls.startswith(c)) for c in classes):
        return False
    if state not in states or (depts and dept not in depts):
        return False
    if scope is None or scope.everything:
        return True
    where = place or identifier[:6]
    return any(where.startswith(p) for p in scope.divisions) or dept in scope.departments


ROWS = rows_around(3000, seed=1)
INDEX = build(ROWS)


def tiles_with_points(z: int, count: int = 12) -> list[tuple[int, int]]:
    """Tiles at zoom z that hold some of ROWS (taken from the rows themselves)."""
    seen: dict[tuple[int, int], None] = {}
    for row in ROWS[:: max(1, len(ROWS) // 200)]:
        seen.setdefault(tile_of(row[6], row[7], z))
    return list(seen)[:count]


@pytest.mark.parametrize("z", [0, 5, 11, 12, 14, 16, 18, 19, 22])
def test_the_rows_of_a_tile_are_exactly_the_points_inside_it(z: int) -> None:
    for x, y in tiles_with_points(z):
        lo, hi = INDEX.span(z, x, y)
        found = set(unpack_digits(INDEX.data.identifiers[lo:hi]))
        assert found == {r[1] for r in inside(ROWS, z, x, y)}, (z, x, y)


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.floats(-179.99, 179.99, allow_nan=False), st.floats(-85.0, 85.0, allow_nan=False)
        ),
        min_size=1,
        max_size=60,
    ),
    z=st.integers(0, 24),
    pick=st.integers(0, 59),
)
def test_tile_ranges_match_brute_force_anywhere_on_earth(points, z, pick) -> None:
    rows: list[Row] = [
        (i + 1, f"1101010100100{i:04d}", "01001", "intact", 7, None, lon, lat)
        for i, (lon, lat) in enumerate(points)
    ]
    index = build(rows)
    lon, lat = points[pick % len(points)]
    x, y = tile_of(lon, lat, z)
    lo, hi = index.span(z, x, y)
    assert sorted(index.data.ids[lo:hi].tolist()) == sorted(r[0] for r in inside(rows, z, x, y))


def test_tile_units_and_their_inverse_agree() -> None:
    lon = np.array([116.4, -73.98, 0.0, 179.5])
    lat = np.array([39.9, 40.75, 0.0, -60.0])
    back = lonlat_of(*tile_units(lon, lat, 18), 18)
    assert np.allclose(back[0], lon) and np.allclose(back[1], lat)


def test_only_tiles_of_the_pyramid_are_tiles() -> None:
    assert check_tile(0, 0, 0) and check_tile(18, 2**18 - 1, 0)
    assert not check_tile(18, 2**18, 0)
    assert not check_tile(-1, 0, 0)
    assert not check_tile(12, 0, -1)
    assert not check_tile(23, 0, 0, max_zoom=22)


@pytest.mark.parametrize("z", [11, 12, 14])
@pytest.mark.parametrize("bits", [0, 1, 2, 3, 6])
def test_cluster_counts_add_up_and_sit_at_the_mean_of_their_members(z: int, bits: int) -> None:
    where = INDEX.where(states=ALL_BUT_REMOVED)
    for x, y in tiles_with_points(z, count=4):
        tile = INDEX.tile(z, x, y, where, max_points=0, cell_bits=bits)
        members = [r for r in inside(ROWS, z, x, y) if visible(r)]
        assert tile.total == len(members)
        clusters = tile.clusters
        assert clusters is not None
        assert int(clusters.count.sum()) == len(members)
        assert int(clusters.states.sum()) == len(members)
        side = 2**bits
        by_cell: dict[int, list[Row]] = {}
        for r in members:
            ux, uy = tile_units(np.array([r[6]]), np.array([r[7]]), z)
            cx = min(int((ux[0] - x) * side), side - 1)
            cy = min(int((uy[0] - y) * side), side - 1)
            by_cell.setdefault(_morton(cx, cy), []).append(r)
        assert sorted(by_cell) == clusters.cell.tolist()
        for k, cell in enumerate(clusters.cell.tolist()):
            group = by_cell[cell]
            assert clusters.count[k] == len(group)
            assert clusters.x[k] == pytest.approx(np.mean([r[6] for r in group]), abs=1e-9)
            assert clusters.y[k] == pytest.approx(np.mean([r[7] for r in group]), abs=1e-9)
            top = clusters.classes[k]
            assert sum(n for _c, n in top) <= len(group)
            assert top[0][1] == max(sum(1 for r in group if r[2] == c) for c in CLASSES)


def _morton(cx: int, cy: int) -> int:
    code = 0
    for bit in range(16):
        code |= ((cx >> bit) & 1) << (2 * bit) | ((cy >> bit) & 1) << (2 * bit + 1)
    return code


def test_a_tile_with_few_enough_components_answers_them_as_points() -> None:
    z = 16
    x, y = tiles_with_points(z, count=1)[0]
    tile = INDEX.tile(z, x, y, INDEX.where(states=STATES), max_points=2000)
    assert tile.points is not None and tile.clusters is None
    expected = {r[1]: r for r in inside(ROWS, z, x, y)}
    assert sorted(tile.points.identifiers) == sorted(expected)
    for k, identifier in enumerate(tile.points.identifiers):
        row = expected[identifier]
        assert (tile.points.x[k], tile.points.y[k]) == (row[6], row[7])
        assert (tile.points.class_codes[k], tile.points.states[k]) == (row[2], row[3])
    few = INDEX.tile(z, x, y, INDEX.where(states=STATES), max_points=len(expected) - 1)
    assert few.points is None and few.clusters is not None and few.total == len(expected)


FILTERS = [
    {"classes": ("01001",)},
    {"classes": ("01",)},  # the major class: 01001 and 01037
    {"classes": ("03005", "02014"), "states": ("damaged", "lost")},
    {"states": ("removed",)},
    {"states": STATES},
    {"depts": (8,)},
    {"classes": ("01037",), "depts": (7, 9), "states": ("intact",)},
    {"scope": Scope(divisions=frozenset({"110101001"}))},
    {"scope": Scope(divisions=frozenset({"110101002001"}), departments=frozenset({9}))},
    {"scope": Scope(departments=frozenset({7}))},
    {"scope": Scope(divisions=frozenset({"110101"}))},  # also the rows outside any community
    {"scope": Scope()},  # an empty scope sees nothing
    {"scope": Scope(everything=True), "classes": ("02014",)},
    {"classes": ("09999",)},
]


@pytest.mark.parametrize("chosen", FILTERS, ids=str)
def test_filters_and_scope_select_what_a_plain_loop_selects(chosen) -> None:
    where = INDEX.where(
        class_codes=chosen.get("classes", ()),
        states=chosen.get("states", ALL_BUT_REMOVED),
        department_ids=chosen.get("depts", ()),
        scope=chosen.get("scope"),
    )
    for z in (11, 14):
        for x, y in tiles_with_points(z, count=3):
            tile = INDEX.tile(z, x, y, where, max_points=10_000)
            expected = {r[1] for r in inside(ROWS, z, x, y) if visible(r, **chosen)}
            assert tile.points is not None
            assert set(tile.points.identifiers) == expected
            assert tile.total == len(expected)


def test_a_filter_that_passes_everything_costs_no_mask() -> None:
    where = INDEX.where(states=STATES, scope=Scope(everything=True))
    assert where.mask(INDEX.data, 0, len(INDEX)) is None
    narrower = INDEX.where(states=ALL_BUT_REMOVED)
    assert narrower.mask(INDEX.data, 0, len(INDEX)) is not None


def test_a_patched_index_equals_one_built_from_the_new_rows() -> None:
    rows = rows_around(2000, seed=3)
    index = build(rows, seq=4)
    changed = rows_around(300, seed=4)  # ids 1–300: moved, reclassified, new states
    changed = [(r[0], r[1], r[2], r[3], r[4], "110101009001", r[6], r[7]) for r in changed]
    added = [(5000 + i, f"110101100100{i:05d}", "10010", "lost", 12, None, 116.4, 39.9) for i in range(20)]  # fmt: skip
    patched = index.patched(_packed(changed + added), 5, _class_names(changed + added))
    by_id = {r[0]: r for r in rows}
    by_id.update({r[0]: r for r in changed + added})
    fresh = build(list(by_id.values()), seq=5)
    assert patched.seq == 5 and len(patched) == len(fresh) == 2020
    assert np.array_equal(patched.data.codes, fresh.data.codes)
    assert (
        decoded(patched)
        == decoded(fresh)
        == {r[0]: (r[1], r[2], r[3], r[4], r[5] or r[1][:6], r[6], r[7]) for r in by_id.values()}
    )
    # The old index is untouched: readers holding it keep a consistent snapshot.
    assert len(index) == 2000 and index.seq == 4
    assert decoded(index) == {
        r[0]: (r[1], r[2], r[3], r[4], r[5] or r[1][:6], r[6], r[7]) for r in rows
    }


def decoded(ix: ComponentIndex) -> dict[int, tuple[str, str, str, int, str, float, float]]:
    """Every entry of an index with its codes looked up in the tables."""
    d, t = ix.data, ix.tables
    identifiers = unpack_digits(d.identifiers)
    return {
        int(i): (ident, t.class_codes[c], STATES[s], t.department_ids[k], t.places[p], x, y)
        for i, ident, c, s, k, p, x, y in zip(
            d.ids.tolist(),
            identifiers,
            d.cls.tolist(),
            d.state.tolist(),
            d.dept.tolist(),
            d.place.tolist(),
            d.x.tolist(),
            d.y.tolist(),
            strict=True,
        )
    }


def test_digit_strings_keep_their_leading_zeros() -> None:
    values = ["0101", "00012", "110101001001", "11010101037000012", "3205820305007077"]
    packed = np.array([pack_digits(v) for v in values], dtype=np.int64)
    assert unpack_digits(packed) == values


def test_patching_nothing_only_moves_the_counter() -> None:
    patched = INDEX.patched(_packed([]), 9, {})
    assert patched.seq == 9 and patched.data is INDEX.data


def test_an_empty_index_answers_empty_tiles() -> None:
    empty = build([], seq=0)
    tile = empty.tile(12, 3372, 1552, empty.where(states=STATES))
    assert tile.total == 0 and tile.points is not None and tile.points.identifiers == []
    assert empty.extent() is None
    grown = empty.patched(_packed(ROWS[:10]), 1, _class_names(ROWS[:10]))
    assert len(grown) == 10


@pytest.mark.parametrize("radius", [5.0, 40.0, 300.0])
def test_the_nearest_components_are_the_nearest(radius: float) -> None:
    rows = rows_around(4000, seed=5, lon=(116.40, 116.42), lat=(39.90, 39.92))
    index = build(rows)
    lon, lat = 116.4101, 39.9102
    scale = 111_320.0 * math.cos(math.radians(lat))
    distances = sorted(
        (math.hypot((r[6] - lon) * scale, (r[7] - lat) * 111_320.0), r[0])
        for r in rows
        if r[3] != "removed"
    )
    expected = [i for d, i in distances if d <= radius][:8]
    found = index.near(lon, lat, radius, index.where(states=ALL_BUT_REMOVED), limit=8)
    assert found.ids == expected
    assert found.distance_m is not None
    assert np.all(np.diff(found.distance_m) >= 0) and np.all(found.distance_m <= radius)


def test_display_coordinates_place_the_index_in_the_basemaps_system() -> None:
    shift = np.array([0.006, 0.001])
    index = build(ROWS[:50], display=lambda xy: xy + shift)
    assert index.data.x.min() == pytest.approx(min(r[6] for r in ROWS[:50]) + 0.006)


def test_memory_is_45_bytes_a_component() -> None:
    assert INDEX.nbytes == 45 * len(INDEX)
