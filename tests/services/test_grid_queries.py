"""The read side of the grid map: a grid's details and its history across re-divisions, the
per-grid figures of the choropleth, search by code prefix or name, and generation with a
preview that writes nothing until the very proposal shown is saved."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.db.tables import AuditLog, GridCell
from gridcity.adapters.geo import area_m2
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridcity.services import assignments, divisions, grid_generation, grid_queries, grids, layers
from gridcity.services.grid_queries import Figure
from gridcity.services.layer_drawing import CellInput, replace_layer_cells
from tests.factories import COMM_A1, COMM_B1, SUB_A, SYSTEM, TEST_INFO, SmallCity

A1 = (116.40, 39.90, 116.41, 39.91)
B1 = (116.41, 39.90, 116.42, 39.92)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
SUPERVISOR_OF_A = Actor(
    user_id=99, username="sup", roles=frozenset({Role.SUPERVISOR}), scope=Scope(frozenset({SUB_A}))
)
Cells = list[tuple[str | None, BaseGeometry, dict[str, Any]]]


def quarters(bounds: tuple[float, float, float, float]) -> Cells:
    """South-west, south-east, north-west, north-east boxes (sequences 001–004)."""
    x0, y0, x1, y1 = bounds
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    return [
        (None, box(x0, y0, xm, ym), {"land_use": "R"}),
        (None, box(xm, y0, x1, ym), {}),
        (None, box(x0, ym, xm, y1), {}),
        (None, box(xm, ym, x1, y1), {"name": "东北片"}),
    ]


def halves(bounds: tuple[float, float, float, float]) -> Cells:
    """West and east halves (sequences 001, 002)."""
    x0, y0, x1, y1 = bounds
    xm = (x0 + x1) / 2
    return [(None, box(x0, y0, xm, y1), {}), (None, box(xm, y0, x1, y1), {})]


def redivide(container: Container, community: str, cells: Cells, at: datetime) -> None:
    """Replace a community's grids through the grid service."""
    grids.replace_community_grids(
        container.deps, SYSTEM, community, cells, valid_from=at, info=TEST_INFO
    )


@pytest.fixture
def history(container: Container, city: SmallCity) -> Container:
    """A1 in quarters from January, in halves from June; B1 in quarters from January."""
    redivide(container, COMM_A1, quarters(A1), JAN)
    redivide(container, COMM_B1, quarters(B1), JAN)
    redivide(container, COMM_A1, halves(A1), JUN)
    return container


PATROL = "ZR11010100101"  # a responsibility grid of subdistrict A made of A1's four grids


def staff(container: Container, city: SmallCity) -> None:
    """A1 and B1 in quarters; a patrol area over A1 with a supervisor on it (all day, from
    2026-01-01), a grid worker on B1-001 itself, a leader on community A1; B1-002…004 bare."""
    redivide(container, COMM_A1, quarters(A1), JAN)
    redivide(container, COMM_B1, quarters(B1), JAN)
    deps = container.deps
    layers.create_layer(
        deps, SYSTEM, code="patrol", name="责任网格", scheme="responsibility", info=TEST_INFO
    )
    replace_layer_cells(
        deps,
        SYSTEM,
        "patrol",
        [
            CellInput(
                division=SUB_A,
                name="东华门1号",
                grids=tuple(f"{COMM_A1}00{n}" for n in (1, 2, 3, 4)),
            )
        ],
        valid_from=JAN,
        info=TEST_INFO,
    )
    ids = city.user_ids
    for user, post, target in (
        ("supervisor", "supervisor", {"cell": PATROL, "layer": "patrol"}),
        ("operator", "grid_worker", {"cell": f"{COMM_B1}001"}),
        ("leader", "leader", {"division": COMM_A1}),
    ):
        assignments.create_assignment(
            deps, SYSTEM, user_id=ids[user], post=post, starts_on=date(2026, 1, 1),
            info=TEST_INFO, **target,  # type: ignore[arg-type]
        )  # fmt: skip


def grid_rows(container: Container) -> int:
    """How many grid versions are stored."""
    with container.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(GridCell)) or 0)


# --- details and history ------------------------------------------------------------------


def test_details_name_the_grid_its_community_and_subdistrict_and_every_version(
    history: Container,
) -> None:
    details = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}001")

    assert details.in_force
    assert details.grid.area_m2 == pytest.approx(area_m2(halves(A1)[0][1]), rel=1e-6)
    assert (details.community_name, details.subdistrict_name) == ("多福巷社区", "东华门街道")
    assert details.subdistrict_code == SUB_A
    assert [(v.valid_from, v.valid_to) for v in details.versions] == [(JUN, None), (JAN, JUN)]


def test_a_grid_after_a_redivision_lists_the_earlier_grids_on_its_ground(
    history: Container,
) -> None:
    west = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}001")
    east = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}002")

    # The west half covers the old south-west (001) and north-west (003) quarters; touching
    # the eastern ones along the middle line does not count.
    assert [v.code for v in west.replaced] == [f"{COMM_A1}001", f"{COMM_A1}003"]
    assert [v.code for v in east.replaced] == [f"{COMM_A1}002", f"{COMM_A1}004"]
    assert all(v.valid_to == JUN for v in west.replaced)
    assert west.replaced_by == ()


def test_a_retired_code_shows_its_last_version_and_what_replaced_it(history: Container) -> None:
    retired = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}004")

    assert not retired.in_force
    assert retired.grid.valid_to == JUN
    assert retired.grid.name == "东北片"
    assert [v.code for v in retired.replaced_by] == [f"{COMM_A1}002"]


def test_details_at_a_past_moment_show_the_version_in_force_then(history: Container) -> None:
    then = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}001", at=MAR)

    assert then.in_force
    assert (then.grid.valid_from, then.grid.valid_to) == (JAN, JUN)
    assert then.grid.attributes["land_use"] == "R"
    assert [v.code for v in then.replaced_by] == [f"{COMM_A1}001"]


def test_unknown_out_of_scope_and_not_yet_valid_grids_are_not_found(history: Container) -> None:
    with pytest.raises(NotFound):
        grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}099")
    with pytest.raises(NotFound):
        grid_queries.grid_details(history.deps, SUPERVISOR_OF_A, f"{COMM_B1}001")
    with pytest.raises(NotFound):
        grid_queries.grid_details(
            history.deps, SYSTEM, f"{COMM_A1}001", at=datetime(2025, 6, 1, tzinfo=UTC)
        )


def test_details_need_a_time_zone_and_the_grid_permission(history: Container) -> None:
    with pytest.raises(InvalidInput):
        grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}001", at=datetime(2026, 3, 1))
    with pytest.raises(Forbidden):
        grid_queries.grid_details(history.deps, Actor.anonymous(), f"{COMM_A1}001")


def test_details_name_who_answers_for_the_grid_and_its_cells_in_other_layers(
    container: Container, city: SmallCity
) -> None:
    staff(container, city)

    details = grid_queries.grid_details(container.deps, SYSTEM, f"{COMM_A1}002", at=MAR)

    answering = [(r.via, r.assignment.post, r.assignment.username) for r in details.responsible]
    assert answering == [
        ("responsibility", "supervisor", "supervisor"),
        ("community", "leader", "leader"),
    ]
    assert [(c.layer, c.layer_name, c.code, c.name) for c in details.layer_cells] == [
        ("patrol", "责任网格", PATROL, "东华门1号")
    ]
    bare = grid_queries.grid_details(container.deps, SYSTEM, f"{COMM_B1}002", at=MAR)
    assert bare.responsible == () and bare.layer_cells == ()


def test_a_retired_grid_has_nobody_responsible_and_no_layer_cells(history: Container) -> None:
    retired = grid_queries.grid_details(history.deps, SYSTEM, f"{COMM_A1}004")
    assert retired.responsible == () and retired.layer_cells == ()


# --- search ----------------------------------------------------------------------------------


def test_search_by_code_prefix_finds_grids_in_force_only(history: Container) -> None:
    result = grid_queries.search_grids(history.deps, SYSTEM, COMM_A1)

    assert [m.code for m in result.matches] == [f"{COMM_A1}001", f"{COMM_A1}002"]
    assert result.total == 2
    assert result.matches[0].community_name == "多福巷社区"


def test_search_counts_every_match_but_lists_only_the_first(history: Container) -> None:
    result = grid_queries.search_grids(history.deps, SYSTEM, "110101", limit=3)

    assert result.total == 6  # A1's two halves and B1's four quarters
    assert [m.code for m in result.matches] == [
        f"{COMM_A1}001",
        f"{COMM_A1}002",
        f"{COMM_B1}001",
    ]


def test_search_by_name_and_within_the_data_scope(history: Container) -> None:
    by_name = grid_queries.search_grids(history.deps, SYSTEM, "东北")
    assert [m.code for m in by_name.matches] == [f"{COMM_B1}004"]
    assert grid_queries.search_grids(history.deps, SUPERVISOR_OF_A, "110101").total == 2
    with pytest.raises(InvalidInput):
        grid_queries.search_grids(history.deps, SYSTEM, "  ")


# --- figures -------------------------------------------------------------------------------


def test_area_and_deviation_come_from_the_stored_areas(history: Container) -> None:
    areas = grid_queries.grid_figure(history.deps, SYSTEM, Figure.AREA)
    deviations = grid_queries.grid_figure(history.deps, SYSTEM, Figure.DEVIATION)

    stored = grids.get_grid(history.deps, SYSTEM, f"{COMM_B1}003").area_m2
    assert areas[f"{COMM_B1}003"] == stored
    assert deviations[f"{COMM_B1}003"] == pytest.approx((stored / 10_000 - 1) * 100, abs=0.05)
    assert sorted(areas) == sorted(deviations)
    assert len(areas) == 6


def test_redivisions_count_how_often_the_community_was_divided_again(
    history: Container,
) -> None:
    now = grid_queries.grid_figure(history.deps, SYSTEM, Figure.REDIVISIONS)
    before = grid_queries.grid_figure(history.deps, SYSTEM, Figure.REDIVISIONS, at=MAR)

    assert now == {
        f"{COMM_A1}001": 1.0,
        f"{COMM_A1}002": 1.0,
        **{f"{COMM_B1}00{n}": 0.0 for n in (1, 2, 3, 4)},
    }
    assert before[f"{COMM_A1}004"] == 0.0


def test_people_count_supervisors_and_grid_workers_on_the_grid_or_its_patrol_area(
    container: Container, city: SmallCity
) -> None:
    staff(container, city)

    people = grid_queries.grid_figure(container.deps, SYSTEM, Figure.PEOPLE, at=MAR)

    assert people == {
        **{f"{COMM_A1}00{n}": 1.0 for n in (1, 2, 3, 4)},  # the patrol area's supervisor
        f"{COMM_B1}001": 1.0,  # its own grid worker
        **{f"{COMM_B1}00{n}": 0.0 for n in (2, 3, 4)},  # nobody: the leader does not count
    }
    before = grid_queries.grid_figure(
        container.deps, SYSTEM, Figure.PEOPLE, at=datetime(2025, 12, 31, 12, tzinfo=UTC)
    )
    assert before == {}  # no grid was in force yet


def test_figures_stay_in_the_data_scope_and_under_the_parent(history: Container) -> None:
    scoped = grid_queries.grid_figure(history.deps, SUPERVISOR_OF_A, Figure.AREA)
    under_b1 = grid_queries.grid_figure(history.deps, SYSTEM, Figure.AREA, parent=COMM_B1)

    assert sorted(scoped) == [f"{COMM_A1}001", f"{COMM_A1}002"]
    assert sorted(under_b1) == [f"{COMM_B1}00{n}" for n in (1, 2, 3, 4)]


def test_outlines_are_the_grids_in_force_in_scope(history: Container) -> None:
    outlines = grid_queries.grid_outlines(history.deps, SUPERVISOR_OF_A)

    assert outlines.codes == [f"{COMM_A1}001", f"{COMM_A1}002"]
    assert outlines.shapes[0].equals(halves(A1)[0][1])


def test_class_breaks() -> None:
    areas = [float(a) for a in range(1_000, 21_000, 1_000)]  # 20 grids, 1,000 … 20,000 m²

    assert grid_queries.class_breaks(areas, Figure.AREA) == [4_000.0, 8_000.0, 12_000.0, 16_000.0]
    assert grid_queries.class_breaks([5_000.0] * 7, Figure.AREA) == [5_000.0]
    assert grid_queries.class_breaks([], Figure.AREA) == []
    assert grid_queries.class_breaks([3.0], Figure.DEVIATION) == [-50.0, -20.0, 20.0, 50.0]
    assert grid_queries.class_breaks([0.0, 7.0], Figure.REDIVISIONS) == [0.0, 1.0, 2.0, 3.0]
    assert grid_queries.class_breaks([0.0, 2.0], Figure.PEOPLE) == [0.0, 1.0, 2.0, 3.0]


# --- generation with a preview --------------------------------------------------------------

TARGET = 100_000.0  # community A1 is ~0.95 km²: about ten grids


def test_a_proposal_covers_the_community_and_writes_nothing(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    stored = grid_rows(container)

    proposal = grid_generation.propose_grids(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET)

    assert grid_rows(container) == stored
    assert proposal.current_count == 4
    assert proposal.community_name == "多福巷社区"
    assert [c.code for c in proposal.cells] == [
        f"{COMM_A1}{n:03d}" for n in range(1, len(proposal.cells) + 1)
    ]
    assert sum(c.area_m2 for c in proposal.cells) == pytest.approx(area_m2(box(*A1)), rel=1e-6)
    assert 0.3 * TARGET <= proposal.min_area_m2 <= proposal.max_area_m2 <= 3 * TARGET


def test_saving_the_proposal_replaces_the_grids_and_is_audited(
    container: Container, city: SmallCity
) -> None:
    redivide(container, COMM_A1, quarters(A1), JAN)
    proposal = grid_generation.propose_grids(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET)

    done = grid_generation.save_proposal(
        container.deps,
        SYSTEM,
        COMM_A1,
        target_area_m2=TARGET,
        fingerprint=proposal.fingerprint,
        valid_from=JUN,
        info=TEST_INFO,
    )

    assert (done.ended, done.created) == (4, tuple(c.code for c in proposal.cells))
    now = grids.list_grids(container.deps, SYSTEM, community=COMM_A1, per_page=200)
    assert [g.area_m2 for g in now.items] == [c.area_m2 for c in proposal.cells]
    assert all(g.valid_from == JUN for g in now.items)
    with container.db.read() as session:
        actions = session.scalars(
            sa.select(AuditLog.action).where(AuditLog.target_id == COMM_A1)
        ).all()
    assert actions.count("grid.redivided") == 2


def test_the_fingerprint_is_known_from_the_boundary_alone(
    container: Container, city: SmallCity
) -> None:
    shown = grid_generation.propose_grids(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET)
    same = grid_generation.proposal_fingerprint(COMM_A1, box(*A1), target_area_m2=TARGET)
    other = grid_generation.proposal_fingerprint(COMM_A1, box(*A1), target_area_m2=2 * TARGET)
    assert shown.fingerprint == same != other


def test_saving_refuses_without_a_preview_or_when_the_community_changed(
    container: Container, city: SmallCity
) -> None:
    proposal = grid_generation.propose_grids(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET)
    save = grid_generation.save_proposal
    with pytest.raises(InvalidInput) as missing:
        save(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET, fingerprint="",
             valid_from=None, info=TEST_INFO)  # fmt: skip
    assert missing.value.code == "grid_preview_missing"
    divisions.update_division(
        container.deps, SYSTEM, COMM_A1, name="多福巷社区",
        boundary=box(116.40, 39.90, 116.41, 39.905), is_active=True, info=TEST_INFO,
    )  # fmt: skip
    with pytest.raises(Conflict) as stale:
        save(container.deps, SYSTEM, COMM_A1, target_area_m2=TARGET,
             fingerprint=proposal.fingerprint, valid_from=None, info=TEST_INFO)  # fmt: skip
    assert stale.value.code == "grid_preview_stale"
    assert grid_rows(container) == 0


def test_generation_refusals(container: Container, city: SmallCity) -> None:
    divisions.create_division(
        container.deps, SYSTEM, code="110101002002", name="无边界社区",
        level=DivisionLevel.COMMUNITY, boundary=None, info=TEST_INFO,
    )  # fmt: skip
    propose = grid_generation.propose_grids
    with pytest.raises(InvalidInput) as undrawn:
        propose(container.deps, SYSTEM, "110101002002", target_area_m2=TARGET)
    assert undrawn.value.code == "community_without_boundary"
    with pytest.raises(NotFound):
        propose(container.deps, SYSTEM, "110101009009", target_area_m2=TARGET)
    with pytest.raises(InvalidInput):
        propose(container.deps, SYSTEM, SUB_A, target_area_m2=TARGET)  # not a community
    with pytest.raises(InvalidInput):
        propose(container.deps, SYSTEM, COMM_A1, target_area_m2=-5)
    with pytest.raises(Forbidden):
        propose(container.deps, SUPERVISOR_OF_A, COMM_A1, target_area_m2=TARGET)
