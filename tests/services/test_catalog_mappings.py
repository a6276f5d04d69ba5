"""Pairs made by hand between code sets: administrators add and delete ``manual`` rows, one to
one and of corresponding kinds; derived rows belong to the seed; the classes still without a
counterpart are listed without starting a switch."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.catalog_mapping import ClassRef, MappingBasis
from gridcity.domain.errors import DomainError, Forbidden
from gridcity.services import catalog, catalog_mappings
from tests.factories import SYSTEM, TEST_INFO

Y2026, Y2007 = "gbt47678_5_2026", "cjt214_2007"
SUPERVISOR = Actor(
    user_id=None, username="sv", roles=frozenset({Role.SUPERVISOR}), scope=Scope(everything=True)
)
WATER = ClassRef(Y2026, "component", "01001")  # 供水井盖: no 2007 class of that name
UPPER = ClassRef(Y2007, "component", "0101")  # 上水井盖


@pytest.fixture
def loaded(container: Container) -> Container:
    """A database with the standard catalog loaded."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return container


def add(container: Container, source: ClassRef, target: ClassRef, note: str = "") -> int:
    """Add a pair as the administrator; its id."""
    view = catalog_mappings.add_manual_mapping(
        container.deps, SYSTEM, source, target, note=note, info=TEST_INFO
    )
    return view.id


def refused(container: Container, source: ClassRef, target: ClassRef, note: str = "") -> str:
    """The refusal code of adding a pair."""
    with pytest.raises(DomainError) as caught:
        add(container, source, target, note)
    return caught.value.code


def audits(container: Container) -> list[str]:
    """Actions of the mapping audit rows."""
    with container.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog.action)
                .where(AuditLog.target_type == "catalog_mapping")
                .order_by(AuditLog.id)
            )
        )


def test_an_administrator_pairs_two_classes_by_hand_and_deletes_the_pair(
    loaded: Container,
) -> None:
    mapping_id = add(loaded, WATER, UPPER, note="同一种井盖，名称不同")
    manual = catalog_mappings.list_mappings(loaded.deps, SUPERVISOR, basis="manual")
    assert [(v.id, v.row.source, v.row.target) for v in manual] == [(mapping_id, WATER, UPPER)]
    view = manual[0]
    assert (view.source_name, view.target_name) == ("供水井盖", "上水井盖")
    assert view.row.basis is MappingBasis.MANUAL and view.row.note == "同一种井盖，名称不同"
    assert view.row.confidence.value == "🟡"  # the less certain of 🟡 (2026) and ✅ (2007)
    catalog_mappings.delete_manual_mapping(loaded.deps, SYSTEM, mapping_id, info=TEST_INFO)
    assert catalog_mappings.list_mappings(loaded.deps, SYSTEM, basis="manual") == []
    assert audits(loaded) == ["catalog_mapping.added", "catalog_mapping.deleted"]


def test_a_pair_of_unknown_same_set_mismatched_or_major_classes_is_refused(
    loaded: Container,
) -> None:
    assert refused(loaded, WATER, ClassRef(Y2007, "component", "0199")) == "class_not_found"
    assert refused(loaded, ClassRef("gbt_1999", "component", "0101"), UPPER) == "unknown_code_set"
    assert refused(loaded, WATER, ClassRef(Y2026, "component", "01002")) == "mapping_same_code_set"
    assert refused(loaded, WATER, ClassRef(Y2007, "event", "0101")) == "mapping_kind_mismatch"
    matter = ClassRef(Y2026, "matter", "06010")
    assert refused(loaded, matter, ClassRef(Y2007, "component", "0102")) == "mapping_kind_mismatch"
    major = ClassRef(Y2007, "component", "01")
    assert refused(loaded, ClassRef(Y2026, "component", "01"), major) == (
        "mapping_needs_minor_classes"
    )
    assert refused(loaded, WATER, UPPER, note="长" * 501) == "invalid_mapping_note"
    assert audits(loaded) == []


def test_a_class_already_paired_with_the_other_set_is_a_duplicate_either_way(
    loaded: Container,
) -> None:
    add(loaded, WATER, UPPER)
    assert refused(loaded, WATER, UPPER) == "duplicate_mapping"
    assert refused(loaded, UPPER, WATER) == "duplicate_mapping"
    assert refused(loaded, ClassRef(Y2026, "component", "01023"), UPPER) == "duplicate_mapping"
    # 污水井盖 0102 already maps to 01002 by name
    sewer = ClassRef(Y2007, "component", "0102")
    assert refused(loaded, ClassRef(Y2026, "component", "01022"), sewer) == "duplicate_mapping"


def test_derived_rows_cannot_be_deleted_and_staff_cannot_write(loaded: Container) -> None:
    derived = catalog_mappings.list_mappings(loaded.deps, SYSTEM, basis="name_match")[0]
    with pytest.raises(DomainError) as caught:
        catalog_mappings.delete_manual_mapping(loaded.deps, SYSTEM, derived.id, info=TEST_INFO)
    assert caught.value.code == "mapping_not_manual" and caught.value.status == 409
    with pytest.raises(DomainError) as missing:
        catalog_mappings.delete_manual_mapping(loaded.deps, SYSTEM, 999_999, info=TEST_INFO)
    assert missing.value.code == "mapping_not_found" and missing.value.status == 404
    with pytest.raises(Forbidden):
        catalog_mappings.add_manual_mapping(
            loaded.deps, SUPERVISOR, WATER, UPPER, note="", info=TEST_INFO
        )
    with pytest.raises(Forbidden):
        catalog_mappings.delete_manual_mapping(loaded.deps, SUPERVISOR, derived.id, info=TEST_INFO)
    with pytest.raises(DomainError) as basis:
        catalog_mappings.list_mappings(loaded.deps, SYSTEM, basis="guess")
    assert basis.value.code == "invalid_mapping_basis"


def test_the_unmapped_classes_of_the_active_set_are_listed_outside_a_switch(
    loaded: Container,
) -> None:
    before = catalog_mappings.unmapped_classes(loaded.deps, SYSTEM, Y2007)
    assert len(before) == 403 - 92 and WATER in {u.ref for u in before}
    assert {u.components for u in before} == {0}  # administrators see the counts
    add(loaded, WATER, UPPER)
    after = catalog_mappings.unmapped_classes(loaded.deps, SUPERVISOR, Y2007)
    assert len(after) == 403 - 93 and WATER not in {u.ref for u in after}
    assert {u.components for u in after} == {None}  # staff see the catalog only
    towards_2026 = catalog_mappings.unmapped_classes(loaded.deps, SYSTEM, Y2026, code_set=Y2007)
    assert UPPER not in {u.ref for u in towards_2026}  # the pair is read both ways
    with pytest.raises(DomainError) as caught:
        catalog_mappings.unmapped_classes(loaded.deps, SYSTEM, Y2026)
    assert caught.value.code == "mapping_same_code_set"
