"""Switching the active code set when components exist is a migration with a report: the dry run
counts the components per class and where they go, a class in use without a counterpart
refuses the switch, and the switch re-codes every component (class, identifier 16 ↔ 17 digits,
version, history, change counter) in one transaction."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from shapely.geometry import Point

from gridcity.adapters.db.tables import AuditLog, Component, ComponentVersion, SpatialState
from gridcity.bootstrap import Container
from gridcity.domain.catalog_mapping import ClassMove, ClassRef
from gridcity.domain.errors import Conflict
from gridcity.services import catalog, catalog_admin, catalog_mappings, catalog_switch
from gridcity.services.catalog_admin import NewExtensionClass
from gridcity.services.component_writes import (
    COMPONENTS_STATE,
    ImportSource,
    NewComponents,
    add_components,
)
from tests.factories import COMM_A1, SYSTEM, TEST_INFO, add_quarter_grids, build_small_city

Y2026, Y2013, Y2007 = "gbt47678_5_2026", "gbt30428_2_2013", "cjt214_2007"


@pytest.fixture
def city(container: Container) -> Container:
    """The small city with unit grids in one community and the standard catalog."""
    build_small_city(container)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return container


def add(container: Container, code: str, n: int = 1) -> None:
    """``n`` components of a class of the active set, 10 m apart inside the gridded community."""
    batch = NewComponents(
        rows=list(range(1, n + 1)),
        class_code=[code] * n,
        geometry=np.array([Point(116.402 + i * 0.0001, 39.902) for i in range(n)], dtype=object),
        competent=["区市政管理委员会"] * n,
    )
    add_components(
        container.deps,
        SYSTEM,
        batch,
        source=ImportSource("census.csv", "csv"),
        info=TEST_INFO,
        duplicate_distance_m=0,
    )


def extension(container: Container, code_set: str, *codes: tuple[str, str]) -> None:
    """Extension component classes: (code, name) pairs, majors first."""
    for code, name in codes:
        level = "major" if len(code) == 2 else "minor"
        new = NewExtensionClass(code_set, "component", level, code, name)
        catalog_admin.add_extension_class(container.deps, SYSTEM, new, info=TEST_INFO)


def pair(container: Container, source: ClassRef, target: ClassRef) -> None:
    """A manual mapping row."""
    catalog_mappings.add_manual_mapping(
        container.deps, SYSTEM, source, target, note="by hand", info=TEST_INFO
    )


def components(container: Container) -> list[tuple[str, str, str, int, int]]:
    """(identifier, code set, class code, version, change_seq) of every component, by id."""
    with container.db.read() as session:
        rows = session.execute(
            sa.select(
                Component.identifier,
                Component.code_set,
                Component.class_code,
                Component.version,
                Component.change_seq,
            ).order_by(Component.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def counter(container: Container) -> int:
    """The ``components`` change counter."""
    with container.db.read() as session:
        return int(
            session.scalar(
                sa.select(SpatialState.version).where(SpatialState.name == COMPONENTS_STATE)
            )
            or 0
        )


def switch(container: Container, to_set: str, *, dry_run: bool) -> catalog_switch.SwitchResult:
    """Switch as the administrator."""
    return catalog_switch.switch_code_set(
        container.deps, SYSTEM, to_set, dry_run=dry_run, info=TEST_INFO
    )


def test_a_component_goes_2026_to_2013_and_back_with_17_16_17_digit_identifiers(
    city: Container,
) -> None:
    # 2013 has no seeded component minors: the city adds one and pairs it with 01001 by hand.
    extension(city, Y2013, ("21", "扩展部件"), ("2101", "供水井盖"))
    water, water_2013 = ClassRef(Y2026, "component", "01001"), ClassRef(Y2013, "component", "2101")
    pair(city, water, water_2013)
    add(city, "01001", 2)
    before = components(city)
    assert [c[0] for c in before] == ["11010101001000001", "11010101001000002"]

    dry = switch(city, Y2013, dry_run=True)
    assert not dry.switched and dry.recoded == 0
    assert dry.report.moves == (ClassMove(water, water_2013, 2),) and not dry.report.lost
    assert (dry.report.components_moved, dry.report.components_lost) == (2, 0)
    assert components(city) == before  # a dry run writes nothing

    seq = counter(city)
    done = switch(city, Y2013, dry_run=False)
    assert done.switched and done.recoded == 2
    there = components(city)
    assert [c[:4] for c in there] == [
        ("1101012101000001", Y2013, "2101", 2),
        ("1101012101000002", Y2013, "2101", 2),
    ]
    assert counter(city) == seq + 1 and {c[4] for c in there} == {seq + 1}

    back = switch(city, Y2026, dry_run=False)
    assert back.recoded == 2 and back.report.moves == (ClassMove(water_2013, water, 2),)
    home = components(city)
    # the class comes back; the identifier is 17 digits again, with serials drawn anew
    assert [c[:4] for c in home] == [
        ("11010101001000003", Y2026, "01001", 3),
        ("11010101001000004", Y2026, "01001", 3),
    ]
    with city.db.read() as session:
        history = session.execute(
            sa.select(
                ComponentVersion.version,
                ComponentVersion.action,
                ComponentVersion.changes,
                ComponentVersion.reason,
                ComponentVersion.actor_name,
            )
            .join(Component, Component.id == ComponentVersion.component_id)
            .where(Component.identifier == "11010101001000003")
            .order_by(ComponentVersion.version)
        ).all()
        audit = session.scalars(
            sa.select(AuditLog.detail)
            .where(AuditLog.action == "catalog.switched")
            .order_by(AuditLog.id)
        ).all()
    assert [tuple(h) for h in history] == [
        (
            2,
            "recoded",
            {
                "identifier": ["11010101001000001", "1101012101000001"],
                "class_code": ["01001", "2101"],
            },
            f"code set switch {Y2026} → {Y2013}",
            SYSTEM.username,
        ),
        (
            3,
            "recoded",
            {
                "identifier": ["1101012101000001", "11010101001000003"],
                "class_code": ["2101", "01001"],
            },
            f"code set switch {Y2013} → {Y2026}",
            SYSTEM.username,
        ),
    ]
    assert [(a["components"], a["by_class"]) for a in audit] == [
        (2, {"component:01001→component:2101": 2}),
        (2, {"component:2101→component:01001": 2}),
    ]


def test_a_class_in_use_without_a_counterpart_refuses_the_switch_and_changes_nothing(
    city: Container,
) -> None:
    add(city, "01001")  # 供水井盖: no 2007 class has that name (2007 says 上水井盖)
    add(city, "01002", 2)  # 污水井盖 maps to 2007 0102 by name
    before = components(city)
    dry = switch(city, Y2007, dry_run=True)
    assert dry.report.lost == (ClassRef(Y2026, "component", "01001"),)
    assert dry.report.moves == (
        ClassMove(ClassRef(Y2026, "component", "01001"), None, 1),
        ClassMove(ClassRef(Y2026, "component", "01002"), ClassRef(Y2007, "component", "0102"), 2),
    )
    assert (dry.report.components_moved, dry.report.components_lost) == (2, 1)
    with pytest.raises(Conflict) as caught:
        switch(city, Y2007, dry_run=False)
    assert caught.value.code == "unmapped_classes_in_use" and "component:01001" in str(caught.value)
    assert components(city) == before
    assert {s.key for s in catalog.list_code_sets(city.deps, SYSTEM) if s.active} == {Y2026}


def test_two_classes_that_swap_codes_between_16_digit_sets_are_re_coded_without_a_clash(
    city: Container,
) -> None:
    # 2007 → 2013 keeps 16 digits: a's new identifier is b's old one and the other way round.
    switch(city, Y2007, dry_run=False)
    extension(city, Y2007, ("21", "扩展部件"), ("2101", "屋顶广告"), ("2102", "墙面广告"))
    extension(city, Y2013, ("21", "扩展部件"), ("2101", "墙面广告"), ("2102", "屋顶广告"))
    pair(city, ClassRef(Y2007, "component", "2101"), ClassRef(Y2013, "component", "2102"))
    pair(city, ClassRef(Y2007, "component", "2102"), ClassRef(Y2013, "component", "2101"))
    add(city, "2101")
    add(city, "2102")
    assert [c[0] for c in components(city)] == ["1101012101000001", "1101012102000001"]
    done = switch(city, Y2013, dry_run=False)
    assert done.recoded == 2
    assert [c[:3] for c in components(city)] == [
        ("1101012102000001", Y2013, "2102"),
        ("1101012101000001", Y2013, "2101"),
    ]


def test_switching_to_the_active_set_with_components_writes_nothing(city: Container) -> None:
    add(city, "01001")
    before, seq = components(city), counter(city)
    for dry_run in (True, False):
        same = switch(city, Y2026, dry_run=dry_run)
        assert not same.switched and not same.report.lost and not same.report.moves
        assert len(same.report.mapped) == 403
    assert components(city) == before and counter(city) == seq


def test_classes_in_use_are_those_components_refer_to(city: Container) -> None:
    add(city, "01001", 2)
    add(city, "03005")
    with city.db.read() as session:
        assert catalog_switch.classes_in_use(session, Y2026) == {
            ClassRef(Y2026, "component", "01001"),
            ClassRef(Y2026, "component", "03005"),
        }
        assert catalog_switch.classes_in_use(session, Y2007) == set()
        assert catalog_switch.component_usage(session)[ClassRef(Y2026, "component", "01001")] == 2


def test_the_unmapped_list_counts_the_components_of_each_class(city: Container) -> None:
    add(city, "01001", 3)
    found = catalog_mappings.unmapped_classes(city.deps, SYSTEM, Y2007)
    counts = {(u.ref.kind, u.ref.code): u.components for u in found}
    assert counts["component", "01001"] == 3 and counts["matter", "01001"] == 0
    assert counts["component", "01017"] == 0  # 电缆井盖: unmapped, unused
