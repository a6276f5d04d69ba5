"""Imports of unit grids and divisions: every feature is checked first, every problem is
reported with its feature index and code, and one problem means nothing is written."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.db.tables import AuditLog, Division, GridCell
from gridcity.adapters.geojson_files import Feature
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, Forbidden
from gridcity.domain.imports import ImportRefused
from gridcity.services import division_import, divisions, grid_import, grids
from gridcity.services.data_versions import data_versions
from tests.factories import (
    COMM_A1,
    COMM_A2,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
)

A1 = (116.40, 39.90, 116.41, 39.91)
A2 = (116.40, 39.91, 116.41, 39.92)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
BOWTIE = Polygon([(116.40, 39.90), (116.405, 39.905), (116.40, 39.905), (116.405, 39.90)])


def quarter_boxes(bounds: tuple[float, float, float, float]) -> list[BaseGeometry]:
    """South-west, south-east, north-west, north-east quarters."""
    x0, y0, x1, y1 = bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [box(x0, y0, xm, ym), box(xm, y0, x1, ym), box(x0, ym, xm, y1), box(xm, ym, x1, y1)]


def grid_features() -> list[Feature]:
    """Four grids of A1 with attributes (one with a Chinese name) and two halves of A2."""
    x0, y0, x1, y1 = A2
    xm = (x0 + x1) / 2
    shapes = [*quarter_boxes(A1), box(x0, y0, xm, y1), box(xm, y0, x1, y1)]
    codes = [f"{COMM_A1}00{i}" for i in range(1, 5)] + [f"{COMM_A2}00{i}" for i in (1, 2)]
    extra: list[dict[str, Any]] = [
        {"name": "多福巷东片", "land_use": "R2", "management_level": "1"},
        {"responsible_party": "东华门街道办事处"},
        {},
        {"management_level": 2},
        {"name": "银闸西"},
        {},
    ]
    return [
        Feature(i, shape, {"grid_code": code, **props})
        for i, (shape, code, props) in enumerate(zip(shapes, codes, extra, strict=True))
    ]


def run_import(
    container: Container, features: list[Feature], actor: Actor = SYSTEM, **kw: Any
) -> grid_import.GridImport:
    """Import the features through the service, as the CLI does."""
    kw.setdefault("valid_from", JUN)
    return grid_import.import_grids(
        container.deps, actor, features, info=TEST_INFO, source="grids.geojson", **kw
    )


def counts(container: Container) -> tuple[int, int, int]:
    """Rows of grids, divisions and audit entries: what a refused import must leave alone."""
    with container.db.read() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in (GridCell, Division, AuditLog)
        )


def with_changed(features: list[Feature], index: int, **change: Any) -> list[Feature]:
    """The features with one of them given another geometry and/or properties."""
    old = features[index]
    geometry = change.pop("geometry", old.geometry)
    changed = Feature(index, geometry, {**old.properties, **change})
    return [changed if f.index == index else f for f in features]


# --- grids: what an import writes ------------------------------------------------------------


def test_an_import_writes_the_grids_of_every_community_with_their_attributes(
    container: Container, city: SmallCity
) -> None:
    result = run_import(container, grid_features())

    assert (result.created, result.communities, result.ended) == (6, (COMM_A1, COMM_A2), 0)
    a1 = grids.list_grids(container.deps, SYSTEM, community=COMM_A1).items
    assert [g.code for g in a1] == [f"{COMM_A1}00{i}" for i in range(1, 5)]
    assert a1[0].name == "多福巷东片"
    assert a1[0].attributes["land_use"] == "R2"
    assert a1[0].attributes["management_level"] == "1"
    assert a1[1].attributes["responsible_party"] == "东华门街道办事处"
    assert a1[3].attributes["management_level"] == "2"  # attributes are stored as text
    assert a1[0].area_m2 == pytest.approx(852 * 278, rel=0.01)  # computed, never read


def test_an_import_is_audited_once_with_its_counts_and_file_name(
    container: Container, city: SmallCity
) -> None:
    run_import(container, grid_features())

    with container.db.read() as session:
        entries = session.scalars(sa.select(AuditLog).where(AuditLog.action.like("grid.%"))).all()
    assert [(e.action, e.target_id) for e in entries] == [("grid.imported", "grids.geojson")]
    assert entries[0].detail["communities"] == 2 and entries[0].detail["created"] == 6


def test_an_import_ends_the_grids_it_replaces_and_keeps_them_as_history(
    container: Container, city: SmallCity
) -> None:
    old = add_quarter_grids(container, COMM_A1, A1)
    features = [f for f in grid_features() if f.properties["grid_code"].startswith(COMM_A1)]

    result = run_import(container, features)

    assert result.ended == 4
    february = datetime(2026, 2, 1, tzinfo=UTC)
    assert grids.get_grid(container.deps, SYSTEM, old[0], at=february).name == ""
    assert grids.get_grid(container.deps, SYSTEM, old[0]).name == "多福巷东片"


def test_a_dry_run_checks_and_counts_but_writes_nothing(
    container: Container, city: SmallCity
) -> None:
    add_quarter_grids(container, COMM_A1, A1)
    before = counts(container)

    result = run_import(container, grid_features(), dry_run=True)

    assert (result.dry_run, result.created, result.ended) == (True, 6, 4)
    assert counts(container) == before


# --- grids: one bad feature and nothing is written -------------------------------------------


def _bad_geometry(features: list[Feature]) -> list[Feature]:
    return with_changed(features, 2, geometry=BOWTIE)


def _bad_code(features: list[Feature]) -> list[Feature]:
    return with_changed(features, 2, grid_code="11010100100103")


def _unknown_community(features: list[Feature]) -> list[Feature]:
    return with_changed(features, 2, grid_code="110101001009001")


def _overlap(features: list[Feature]) -> list[Feature]:
    x0, y0, x1, y1 = A1
    return with_changed(features, 2, geometry=box(x0, y0 + 0.002, (x0 + x1) / 2, y1))


def _outside(features: list[Feature]) -> list[Feature]:
    x0, y0, x1, y1 = A1
    return with_changed(features, 2, geometry=box(x0 - 0.003, (y0 + y1) / 2, (x0 + x1) / 2, y1))


def _unreadable(features: list[Feature]) -> list[Feature]:
    bad = Feature(2, None, features[2].properties, "unreadable geometry (ring not closed)")
    return [bad if f.index == 2 else f for f in features]


def _duplicate(features: list[Feature]) -> list[Feature]:
    return with_changed(features, 2, grid_code=f"{COMM_A1}001")


@pytest.mark.parametrize(
    ("spoil", "index", "code", "reason"),
    [
        (_bad_geometry, 2, f"{COMM_A1}003", "is not a valid polygon"),
        (_bad_code, 2, "11010100100103", "15 digits"),
        (_unknown_community, 2, "110101001009001", "does not exist or is outside your data scope"),
        (_overlap, 0, f"{COMM_A1}001", "overlaps feature 2"),
        (_outside, 2, f"{COMM_A1}003", "outside its community 110101001001"),
        (_unreadable, 2, f"{COMM_A1}003", "ring not closed"),
        (_duplicate, 2, f"{COMM_A1}001", "repeats feature 0"),
    ],
    ids=[
        "invalid geometry",
        "bad code",
        "unknown community",
        "overlap",
        "outside its community",
        "unreadable geometry",
        "duplicate code",
    ],
)
def test_one_bad_feature_writes_nothing_and_is_named(
    container: Container,
    city: SmallCity,
    spoil: Callable[[list[Feature]], list[Feature]],
    index: int,
    code: str,
    reason: str,
) -> None:
    before = counts(container)

    with pytest.raises(ImportRefused) as refused:
        run_import(container, spoil(grid_features()))

    first = refused.value.problems[0]
    assert (first.index, first.code) == (index, code)
    assert reason in first.text
    assert f"feature {index} (code {code})" in str(refused.value)
    assert counts(container) == before


def test_every_problem_is_reported_in_file_order_not_only_the_first(
    container: Container, city: SmallCity
) -> None:
    features = with_changed(_bad_code(grid_features()), 5, geometry=BOWTIE)

    with pytest.raises(ImportRefused) as refused:
        run_import(container, features)

    assert [p.index for p in refused.value.problems] == [2, 5]
    assert "2 problems" in str(refused.value)


def test_grids_of_neighbouring_communities_may_overlap_by_the_allowed_sliver(
    container: Container, city: SmallCity
) -> None:
    x0, y0, x1, y1 = A1
    # The north-west quarter reaches ~0.28 m into A2 (0.05 % of its area, under the 0.1 %
    # any grid may have outside its community), over A2's western half.
    sliver = box(x0, (y0 + y1) / 2, (x0 + x1) / 2, y1 + 0.0000025)

    result = run_import(container, with_changed(grid_features(), 2, geometry=sliver))

    assert result.created == 6


def test_a_gap_is_named_by_its_community(container: Container, city: SmallCity) -> None:
    features = [f for f in grid_features() if f.index != 3]

    with pytest.raises(ImportRefused) as refused:
        run_import(container, features)

    [gap] = refused.value.problems
    assert gap.index is None and gap.code == COMM_A1
    assert "of community 110101001001 is covered by no grid" in gap.text


def test_an_import_older_than_the_last_redivision_is_refused(
    container: Container, city: SmallCity
) -> None:
    add_quarter_grids(container, COMM_A1, A1)

    with pytest.raises(ImportRefused) as refused:
        run_import(container, grid_features(), valid_from=JAN)

    first = refused.value.problems[0]
    assert (first.index, first.code) == (None, COMM_A1)
    assert "was last re-divided from 2026-01-01" in first.text


def test_grids_of_a_community_without_boundary_are_refused(
    container: Container, city: SmallCity
) -> None:
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="110101001003",
        name="无边界社区",
        level=DivisionLevel.COMMUNITY,
        info=TEST_INFO,
    )
    features = with_changed(grid_features(), 0, grid_code="110101001003001")

    with pytest.raises(ImportRefused) as refused:
        run_import(container, features)

    assert "Community 110101001003 has no boundary yet" in refused.value.problems[0].text


def test_grids_outside_the_actors_scope_are_refused_like_unknown_ones(
    container: Container, city: SmallCity
) -> None:
    elsewhere = Actor(
        user_id=None,
        username="b-admin",
        roles=frozenset({Role.ADMIN}),
        scope=Scope(divisions=frozenset({"110101002"})),
    )

    with pytest.raises(ImportRefused) as refused:
        run_import(container, grid_features(), actor=elsewhere)

    assert {p.index for p in refused.value.problems} == set(range(6))


def test_an_import_needs_the_grid_write_permission(container: Container, city: SmallCity) -> None:
    supervisor = Actor(user_id=None, username="s", roles=frozenset({Role.SUPERVISOR}))

    with pytest.raises(Forbidden):
        run_import(container, grid_features(), actor=supervisor)


def test_the_export_gives_back_what_was_imported_at_full_precision(
    container: Container, city: SmallCity
) -> None:
    features = grid_features()
    run_import(container, features)

    rows = grid_import.export_grids(container.deps, SYSTEM, under=COMM_A1)

    assert [p["grid_code"] for _, p in rows] == [f"{COMM_A1}00{i}" for i in range(1, 5)]
    assert all(
        g.hausdorff_distance(f.geometry) < 1e-12
        for (g, _), f in zip(rows, features[:4], strict=True)
    )
    assert rows[0][1]["name"] == "多福巷东片" and rows[0][1]["valid_to"] is None
    assert list(rows[0][1]) == list(grid_import.EXPORT_COLUMNS)


# --- divisions ---------------------------------------------------------------------------------


def division_features() -> list[Feature]:
    """A new subdistrict with one community (child listed first), and A1 renamed."""
    x0, y0, x1, y1 = 116.40, 39.92, 116.41, 39.93  # north of the small city's district
    return [
        Feature(0, box(x0, y0, x1, (y0 + y1) / 2), {"code": "110101003001", "name": "新社区"}),
        Feature(
            1, box(x0, y0, x1, y1), {"code": "110101003", "name": "新街道", "level": "subdistrict"}
        ),
        Feature(2, box(*A1), {"code": COMM_A1, "name": "多福巷社区（新）"}),
    ]


def run_division_import(
    container: Container, features: list[Feature], **kw: Any
) -> division_import.DivisionImport:
    """Import divisions through the service."""
    return division_import.import_divisions(
        container.deps, SYSTEM, features, info=TEST_INFO, source="divisions.zip", **kw
    )


def test_a_division_import_creates_parents_before_children_and_updates_existing_ones(
    container: Container, city: SmallCity
) -> None:
    divisions.update_division(
        container.deps, SYSTEM, "110101", boundary=box(116.40, 39.90, 116.42, 39.93), info=TEST_INFO
    )

    result = run_division_import(container, division_features())

    assert (result.created, result.updated) == (("110101003", "110101003001"), (COMM_A1,))
    view = divisions.get_division(container.deps, SYSTEM, "110101003001")
    assert (view.name, view.parent_code, view.has_boundary) == ("新社区", "110101003", True)
    assert divisions.get_division(container.deps, SYSTEM, COMM_A1).name == "多福巷社区（新）"
    with container.db.read() as session:
        actions = session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id.desc())).first()
    assert actions == "division.imported"


@pytest.mark.parametrize(
    ("index", "change", "reason"),
    [
        (2, {"code": "110101003"}, "repeats feature 1"),
        (0, {"geometry": box(116.40, 39.92, 116.43, 39.925)}, "lies outside the parent division"),
        (1, {"level": "community"}, "a code of 9 digits is a subdistrict"),
        (2, {"geometry": BOWTIE}, "not a valid polygon"),
    ],
)
def test_one_bad_division_writes_nothing_and_is_named(
    container: Container, city: SmallCity, index: int, change: dict[str, Any], reason: str
) -> None:
    divisions.update_division(
        container.deps, SYSTEM, "110101", boundary=box(116.40, 39.90, 116.42, 39.93), info=TEST_INFO
    )
    before = counts(container)

    with pytest.raises(ImportRefused) as refused:
        run_division_import(container, with_changed(division_features(), index, **change))

    assert refused.value.problems[0].index == index
    assert reason in refused.value.problems[0].text
    assert counts(container) == before


def test_a_division_whose_parent_is_nowhere_is_refused(
    container: Container, city: SmallCity
) -> None:
    orphan = [
        Feature(0, box(116.40, 39.90, 116.41, 39.91), {"code": "110101009001", "name": "孤儿社区"})
    ]

    with pytest.raises(ImportRefused) as refused:
        run_division_import(container, orphan)

    assert "Parent division 110101009 does not exist yet" in refused.value.problems[0].text


def test_the_division_export_lists_boundaries_with_their_parents(
    container: Container, city: SmallCity
) -> None:
    rows = division_import.export_divisions(container.deps, SYSTEM, level=DivisionLevel.COMMUNITY)

    assert [(p["code"], p["parent_code"]) for _, p in rows] == [
        (COMM_A1, SUB_A),
        (COMM_A2, SUB_A),
        ("110101002001", "110101002"),
    ]


# --- a write checked in a dry run -----------------------------------------------------------


def test_a_write_after_the_checked_data_moved_on_is_refused_and_writes_nothing(
    container: Container, city: SmallCity
) -> None:
    checked = data_versions(container.deps)
    run_import(container, grid_features())  # someone else's import in between
    before = counts(container)
    with pytest.raises(Conflict) as refused:
        run_import(container, grid_features(), unchanged_since=checked)
    assert refused.value.code == "import_stale" and counts(container) == before
    with pytest.raises(Conflict):
        division_import.import_divisions(
            container.deps, SYSTEM, [], info=TEST_INFO, source="d.geojson", unchanged_since=checked
        )


def test_two_confirmations_of_one_check_at_the_same_instant_write_once(
    container: Container, city: SmallCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each confirmation waits (up to 1.5 s) after its version check for the other to check
    too: were the counters not held until commit, both would pass and import twice."""
    run_import(container, grid_features(), valid_from=JAN)  # the counters' rows exist
    checked = data_versions(container.deps)
    both = threading.Barrier(2)
    original = grid_import._checked

    def held(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait(timeout=1.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(grid_import, "_checked", held)
    outcomes: list[object] = []

    def confirm() -> None:
        try:
            outcomes.append(run_import(container, grid_features(), unchanged_since=checked))
        except Conflict as exc:
            outcomes.append(exc)

    workers = [threading.Thread(target=confirm) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    refusals = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert refusals[0].code == "import_stale"
    with container.db.read() as session:
        imported = sa.select(sa.func.count()).where(AuditLog.action == "grid.imported")
        assert session.scalar(imported) == 2  # the first import and one confirmation
