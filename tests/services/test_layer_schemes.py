"""Layer schemes as data: an administrator changes a scheme's format, every layer of the scheme
then codes and checks its cells that way; an edit that stored cells would not match is refused."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from gridcity.adapters.db.tables import AuditLog, LayerSchemeSetting
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.errors import DomainError, Forbidden, InvalidInput
from gridcity.services import layer_schemes, layers
from gridcity.services.layer_drawing import CellInput
from gridcity.services.layer_schemes import SchemeEdit
from tests.factories import COMM_A1, DISTRICT, SUB_A, SYSTEM, TEST_INFO, SmallCity
from tests.services.test_layers import A1, draw, features, grid, gridded, new_layer, patrol_areas

CHIEF = Actor(
    user_id=None,
    username="chief",
    roles=frozenset({Role.DUTY_CHIEF}),
    scope=Scope(divisions=frozenset({DISTRICT})),
)


def edit(container: Container, scheme: str, actor: Actor = SYSTEM, **fields: object):  # type: ignore[no-untyped-def]
    """Change one scheme through the service."""
    return layer_schemes.update_layer_scheme(
        container.deps,
        actor,
        scheme,
        SchemeEdit(**fields),
        info=TEST_INFO,  # type: ignore[arg-type]
    )


def refusal(container: Container, scheme: str, **fields: object) -> InvalidInput:
    """The refusal an edit meets."""
    with pytest.raises(InvalidInput) as caught:
        edit(container, scheme, **fields)
    return caught.value


def test_the_schemes_are_listed_with_the_seeded_formats(container: Container) -> None:
    found = {v.scheme: v for v in layer_schemes.list_layer_schemes(container.deps, CHIEF)}

    assert found["responsibility"].code_pattern == "^ZR[0-9]{9}[0-9]{2}$"
    assert found["responsibility"].name_zh == "责任网格"
    assert found["fire_medium"].example == "XF110101001001"
    assert not found["unit"].editable and found["social"].editable


def test_a_new_format_is_stored_audited_and_used_by_every_layer_of_the_scheme(
    container: Container, city: SmallCity
) -> None:
    gridded(container)

    changed = edit(container, "responsibility", marker="XC", level="community", sequence_digits=3)
    new_layer(container, "patrol", "responsibility")
    draw(container, "patrol", [CellInput(division=COMM_A1, grids=(grid(COMM_A1, 1),))])

    assert changed.code_pattern == "^XC[0-9]{12}[0-9]{3}$"
    assert list(features(container, "patrol")) == ["XC110101001001001"]
    patrol = layers.get_layer(container.deps, SYSTEM, "patrol")
    assert patrol.code_pattern == changed.code_pattern and patrol.division_level == "community"
    with container.db.read() as session:
        row = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "layer_scheme.updated")
        ).one()
    assert row.detail["responsibility"]["marker"] == ["ZR", "XC"]
    assert row.detail["responsibility"]["sequence_digits"] == [2, 3]


def test_a_format_that_a_stored_cell_would_not_match_is_refused_naming_it(
    container: Container, city: SmallCity
) -> None:
    gridded(container)
    patrol_areas(container)

    refused = refusal(container, "responsibility", sequence_digits=3)

    assert refused.code == "layer_scheme_cells_mismatch"
    assert refused.params["code"] == "ZR11010100101" and refused.params["layer"] == "patrol"
    assert layer_schemes.get_layer_scheme(container.deps, SYSTEM, "responsibility").sequence_digits == 2  # fmt: skip


def test_historical_cells_count_too(container: Container, city: SmallCity) -> None:
    gridded(container)
    patrol_areas(container)
    draw(container, "patrol", [], at=datetime(2026, 6, 1, tzinfo=UTC))  # nothing in force now

    assert refusal(container, "responsibility", marker="XC").code == "layer_scheme_cells_mismatch"


def test_names_change_even_when_cells_are_stored(container: Container, city: SmallCity) -> None:
    gridded(container)
    patrol_areas(container)

    changed = edit(container, "responsibility", name_zh=" 巡查责任区 ", name_en="Patrol area")

    assert (changed.name_zh, changed.name_en) == ("巡查责任区", "Patrol area")
    assert changed.code_pattern == "^ZR[0-9]{9}[0-9]{2}$"


def test_the_fire_marker_changes_on_all_three_schemes_at_once(container: Container) -> None:
    assert refusal(container, "fire_big", marker="HZ").code == "layer_scheme_fire_marker"

    views = layer_schemes.update_layer_schemes(
        container.deps,
        SYSTEM,
        {s: SchemeEdit(marker="HZ") for s in ("fire_big", "fire_medium", "fire_small")},
        info=TEST_INFO,
    )

    assert {v.scheme: v.marker for v in views if v.kind == "fire"} == dict.fromkeys(
        ("fire_big", "fire_medium", "fire_small"), "HZ"
    )


def test_a_whole_division_scheme_draws_its_cells_in_the_new_format(
    container: Container, city: SmallCity
) -> None:
    layer_schemes.update_layer_schemes(
        container.deps,
        SYSTEM,
        {s: SchemeEdit(marker="HZ") for s in ("fire_big", "fire_medium", "fire_small")},
        info=TEST_INFO,
    )
    new_layer(container, "fire-big", "fire_big")

    draw(container, "fire-big", [CellInput(division=SUB_A)])

    assert list(features(container, "fire-big")) == [f"HZ{SUB_A}"]


@pytest.mark.parametrize(
    ("scheme", "fields", "reason"),
    [
        ("unit", {"marker": "DY"}, "layer_scheme_fixed"),
        ("social", {"marker": "sh"}, "layer_scheme_marker"),
        ("social", {"sequence_digits": 9}, "layer_scheme_digits"),
        ("fire_big", {"sequence_digits": 1}, "layer_scheme_whole_division_digits"),
        ("fire_medium", {"level": "district"}, "layer_scheme_level"),
        ("social", {"level": "city"}, "layer_scheme_level_unknown"),
        ("social", {"name_zh": ""}, "layer_scheme_name"),
        ("fire_small", {"level": "subdistrict"}, "layer_scheme_fire_hierarchy"),
        ("enforcement", {"marker": "HW"}, "layer_scheme_marker_taken"),
        ("nonsense", {"marker": "NO"}, "layer_scheme_unknown"),
    ],
)
def test_each_broken_rule_is_refused_and_nothing_changes(
    container: Container, scheme: str, fields: dict[str, object], reason: str
) -> None:
    before = layer_schemes.list_layer_schemes(container.deps, SYSTEM)

    assert refusal(container, scheme, **fields).code == reason
    assert layer_schemes.list_layer_schemes(container.deps, SYSTEM) == before


def test_only_administrators_change_a_scheme(container: Container) -> None:
    with pytest.raises(Forbidden):
        edit(container, "social", CHIEF, name_zh="社区网格")


def test_a_drawing_started_before_an_edit_holds_the_format_it_was_checked_against(
    container: Container, city: SmallCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drawing holds the scheme's settings row until it commits (FOR SHARE / write lock),
    so the edit waits for it and then finds its cell, instead of passing with none stored."""
    from gridcity.services import layer_drawing

    new_layer(container, "sanitation", "sanitation")
    checked = threading.Event()
    original = layer_drawing.check_geometry

    def slow_check(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        checked.set()
        time.sleep(1.0)  # the edit below starts while the drawing is still open

    monkeypatch.setattr(layer_drawing, "check_geometry", slow_check)
    errors: list[BaseException] = []

    def drawing() -> None:
        try:
            draw(container, "sanitation", [CellInput(division=DISTRICT, geometry=box(*A1))])
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=drawing)
    worker.start()
    assert checked.wait(10)
    refused = refusal(container, "sanitation", marker="HJ")
    worker.join(10)

    assert errors == []
    assert refused.code == "layer_scheme_cells_mismatch" and refused.params["code"] == "HW110101001"


def test_two_concurrent_edits_cannot_give_two_kinds_one_marker(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each edit alone keeps one marker per kind; both are held after their check until the other
    has checked (or 1.5 s passed). Locking only the edited rows lets both pass and commit."""
    from gridcity.services import layer_schemes as service

    checked = threading.Barrier(2)
    original = service.plan_edit

    def held(*args: Any) -> Any:
        planned = original(*args)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=1.5)
        return planned

    monkeypatch.setattr(service, "plan_edit", held)
    outcomes: list[object] = []

    def request(scheme: str) -> None:
        try:
            outcomes.append(edit(container, scheme, marker="QQ"))
        except DomainError as exc:
            outcomes.append(exc)

    workers = [threading.Thread(target=request, args=(s,)) for s in ("sanitation", "enforcement")]
    for worker in workers:
        worker.start()
        time.sleep(0.05)
    for worker in workers:
        worker.join(20)

    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert refusals[0].code == "layer_scheme_marker_taken"
    markers = [v.marker for v in layer_schemes.list_layer_schemes(container.deps, SYSTEM)]
    assert markers.count("QQ") == 1


def test_an_edit_first_restores_every_lost_settings_row_so_that_it_can_hold_it(
    container: Container,
) -> None:
    """A lost row cannot be locked; any edit puts the seed row back before it checks."""
    with container.db.transaction() as session:
        session.execute(sa.delete(LayerSchemeSetting).where(LayerSchemeSetting.scheme == "social"))

    edit(container, "enforcement", name_en="Law enforcement")

    with container.db.read() as session:
        restored = session.get(LayerSchemeSetting, "social")
    assert restored is not None and (restored.marker, restored.name_zh) == (
        "SH",
        "社会服务管理网格",
    )
    assert edit(container, "social", marker="SQ").marker == "SQ"
