"""Re-dividing unit grids leaves the responsibility cells built on them as they were: the
re-division names the cells it affects, and a read-side check lists the cells whose member
grids were ended and the unit grids in force that no cell holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from gridcity.adapters.db.tables import AuditLog
from gridcity.adapters.geojson_files import Feature
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services import grid_import, grids, layers
from gridcity.services.grids import AffectedCell
from gridcity.services.layer_drawing import CellInput, replace_layer_cells
from gridcity.services.layer_staleness import layer_staleness, stale_cells
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    SUB_A,
    SUB_B,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
)

A1 = (116.40, 39.90, 116.41, 39.91)
A2 = (116.40, 39.91, 116.41, 39.92)
B1 = (116.41, 39.90, 116.42, 39.92)
JAN = datetime(2026, 1, 2, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
APR = datetime(2026, 4, 1, tzinfo=UTC)
MAY = datetime(2026, 5, 1, tzinfo=UTC)
EAST_PATROL = "ZR11010100101"  # A1 001 + 002 (its northern half)
NORTH_PATROL = "ZR11010100102"  # all of A2
B_PATROL = "ZR11010100201"  # all of B1
SUPERVISOR_OF_B = Actor(
    user_id=None,
    username="sup-b",
    roles=frozenset({Role.SUPERVISOR}),
    scope=Scope(divisions=frozenset({SUB_B})),
)


def g(community: str, n: int) -> str:
    """The n-th grid of a community."""
    return f"{community}{n:03d}"


@pytest.fixture
def patrol(container: Container, city: SmallCity) -> None:
    """Quarter grids in A1, A2, B1 (from 2026-01-01); a patrol layer of three areas from JAN."""
    for code, bounds in ((COMM_A1, A1), (COMM_A2, A2), (COMM_B1, B1)):
        add_quarter_grids(container, code, bounds)
    layers.create_layer(
        container.deps, SYSTEM, code="patrol", name="巡查", scheme="responsibility", info=TEST_INFO
    )
    cells = [
        CellInput(division=SUB_A, name="多福巷北", grids=(g(COMM_A1, 1), g(COMM_A1, 2))),
        CellInput(division=SUB_A, grids=tuple(g(COMM_A2, n) for n in (1, 2, 3, 4))),
        CellInput(division=SUB_B, grids=tuple(g(COMM_B1, n) for n in (1, 2, 3, 4))),
    ]
    drawn = replace_layer_cells(
        container.deps, SYSTEM, "patrol", cells, valid_from=JAN, info=TEST_INFO
    )
    assert drawn.created == (EAST_PATROL, NORTH_PATROL, B_PATROL)


def redivide_a1_whole(container: Container, at: datetime = MAR) -> grids.Redivision:
    """A1 becomes one single grid (001) from ``at``: its grids 002–004 are gone."""
    return grids.replace_community_grids(
        container.deps, SYSTEM, COMM_A1, [(None, box(*A1), {})], valid_from=at, info=TEST_INFO
    )


def test_a_fresh_drawing_is_not_stale_and_names_the_grids_no_cell_holds(
    container: Container, patrol: None
) -> None:
    found = layer_staleness(container.deps, SYSTEM, "patrol", at=FEB)
    assert found.stale == ()
    assert found.unheld == (g(COMM_A1, 3), g(COMM_A1, 4))
    assert layer_staleness(container.deps, SYSTEM, "patrol", at=FEB, parent=COMM_B1).unheld == ()


def test_a_redivision_names_the_cells_built_on_the_replaced_grids(
    container: Container, patrol: None
) -> None:
    done = redivide_a1_whole(container)

    assert done.affected == (AffectedCell("patrol", EAST_PATROL, "多福巷北"),)
    with container.db.read() as session:
        detail = session.scalar(
            sa.select(AuditLog.detail)
            .where(AuditLog.action == "grid.redivided")
            .order_by(AuditLog.id.desc())
        )
    assert detail["affected_cells"] == [f"patrol:{EAST_PATROL}"]
    untouched = grids.replace_community_grids(
        container.deps, SYSTEM, COMM_B1, [(None, box(*B1), {})], valid_from=MAR, info=TEST_INFO
    )
    assert [a.code for a in untouched.affected] == [B_PATROL]


def test_cells_whose_member_grids_were_ended_are_stale_until_the_layer_is_redrawn(
    container: Container, patrol: None
) -> None:
    redivide_a1_whole(container)

    found = layer_staleness(container.deps, SYSTEM, "patrol", at=APR)
    (stale,) = found.stale
    assert (stale.layer, stale.code, stale.name) == ("patrol", EAST_PATROL, "多福巷北")
    assert stale.ended == (g(COMM_A1, 1), g(COMM_A1, 2))
    assert stale.ended_at == MAR and stale.valid_from == JAN
    assert stale.missing == (g(COMM_A1, 2),)  # 001 is a new, larger grid; 002 is gone
    assert found.unheld == ()  # the new 001 carries a code the stale cell still lists
    assert [c.code for c in stale_cells(container.deps, SYSTEM, parent=COMM_A1, at=APR)] == [
        EAST_PATROL
    ]
    assert stale_cells(container.deps, SYSTEM, parent=COMM_A2, at=APR) == []

    # Before the re-division starts, the cell is already known to go stale then.
    (ahead,) = layer_staleness(container.deps, SYSTEM, "patrol", at=FEB).stale
    assert ahead.ended_at == MAR and ahead.missing == ()

    replace_layer_cells(
        container.deps,
        SYSTEM,
        "patrol",
        [
            CellInput(code=EAST_PATROL, grids=(g(COMM_A1, 1),)),
            CellInput(code=NORTH_PATROL, grids=tuple(g(COMM_A2, n) for n in (1, 2, 3, 4))),
        ],
        valid_from=APR,
        info=TEST_INFO,
    )
    redrawn = layer_staleness(container.deps, SYSTEM, "patrol", at=MAY)
    assert redrawn.stale == ()
    assert redrawn.unheld == tuple(g(COMM_B1, n) for n in (1, 2, 3, 4))  # B's area was dropped
    # The past keeps its answer: in March the January cell was stale.
    assert [c.code for c in layer_staleness(container.deps, SYSTEM, "patrol", at=MAR).stale] == [
        EAST_PATROL
    ]


def test_a_cell_redrawn_before_the_grids_end_is_stale_only_in_between(
    container: Container, patrol: None
) -> None:
    replace_layer_cells(
        container.deps,
        SYSTEM,
        "patrol",
        [CellInput(code=EAST_PATROL, grids=(g(COMM_A1, 1),))],
        valid_from=APR,
        info=TEST_INFO,
    )
    redivide_a1_whole(container, at=MAY)  # after the April drawing: ends the grid it holds
    assert [c.code for c in layer_staleness(container.deps, SYSTEM, "patrol", at=APR).stale] == [
        EAST_PATROL
    ]
    redivide_b = grids.replace_community_grids(
        container.deps, SYSTEM, COMM_B1, [(None, box(*B1), {})], valid_from=MAY, info=TEST_INFO
    )
    assert redivide_b.affected == ()  # B's area ended in April, before this re-division
    # Between January and April B's area held grids that end only in May, after it: not stale.
    assert B_PATROL not in {
        c.code for c in layer_staleness(container.deps, SYSTEM, "patrol", at=FEB).stale
    }


def test_the_check_stays_within_the_readers_scope(container: Container, patrol: None) -> None:
    redivide_a1_whole(container)
    grids.replace_community_grids(
        container.deps, SYSTEM, COMM_B1, [(None, box(*B1), {})], valid_from=MAR, info=TEST_INFO
    )
    found = layer_staleness(container.deps, SUPERVISOR_OF_B, "patrol", at=APR)
    assert [c.code for c in found.stale] == [B_PATROL]
    assert found.stale[0].missing == tuple(g(COMM_B1, n) for n in (2, 3, 4))
    assert found.unheld == ()
    nobody = Actor(user_id=None, username="x", roles=frozenset({Role.HANDLER}))
    empty = layer_staleness(container.deps, nobody, "patrol", at=APR)
    assert empty.stale == () and empty.unheld == ()


def test_layers_of_polygons_and_unknown_layers_are_refused(
    container: Container, patrol: None
) -> None:
    layers.create_layer(
        container.deps, SYSTEM, code="zones", name="执法", scheme="enforcement", info=TEST_INFO
    )
    with pytest.raises(InvalidInput) as caught:
        layer_staleness(container.deps, SYSTEM, "zones")
    assert caught.value.code == "layer_not_of_unit_grids"
    with pytest.raises(NotFound):
        layer_staleness(container.deps, SYSTEM, "nope")


def test_an_import_names_the_cells_it_affects_even_as_a_dry_run(
    container: Container, patrol: None
) -> None:
    feature = Feature(0, box(*A2), {"grid_code": g(COMM_A2, 1)})
    for dry_run in (True, False):
        result = grid_import.import_grids(
            container.deps,
            SYSTEM,
            [feature],
            valid_from=MAR,
            info=TEST_INFO,
            source="a2.geojson",
            dry_run=dry_run,
        )
        assert [a.code for a in result.affected] == [NORTH_PATROL]
    assert [c.code for c in layer_staleness(container.deps, SYSTEM, "patrol", at=APR).stale] == [
        NORTH_PATROL
    ]
