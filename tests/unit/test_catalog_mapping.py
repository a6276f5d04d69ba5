"""The mapping rules as pure functions: a switch report counts components per class and names
the lost ones, a rebuilt mapping lets pairs made by hand win, and a hand-made pair is as sure as
the less certain of its classes."""

from __future__ import annotations

import pytest

from gridcity.domain.catalog import Confidence
from gridcity.domain.catalog_mapping import (
    ClassFacts,
    ClassMove,
    ClassRef,
    MappingBasis,
    MappingRow,
    check_manual_mapping,
    rebuild_derived,
    switch_report,
)
from gridcity.domain.errors import Conflict

A = ClassRef("gbt47678_5_2026", "component", "01001")
B = ClassRef("gbt47678_5_2026", "component", "01002")
OLD_A = ClassRef("cjt214_2007", "component", "0101")
OLD_B = ClassRef("cjt214_2007", "component", "0102")
STALE = ClassRef("gbt30428_2_2013", "component", "2101")  # written before an earlier switch


def row(
    source: ClassRef, target: ClassRef, basis: MappingBasis = MappingBasis.NAME_MATCH
) -> MappingRow:
    """A mapping row of 🟡."""
    return MappingRow(source, target, basis, Confidence.PROBABLE)


def test_a_switch_report_counts_the_components_of_every_set_but_the_target() -> None:
    rows = [row(OLD_B, B)]  # read backwards: 2026 → 2007
    usage = {A: 2, B: 5, STALE: 1, OLD_B: 4}
    report = switch_report([A, B], rows, A.code_set, OLD_A.code_set, components=usage)
    assert report.mapped == ((B, OLD_B),) and report.unmapped == (A,)
    assert report.moves == (  # by class: code set, kind, code
        ClassMove(STALE, None, 1),
        ClassMove(A, None, 2),
        ClassMove(B, OLD_B, 5),
    )
    assert report.lost == (STALE, A)
    assert (report.components_moved, report.components_lost) == (5, 3)


def test_a_class_other_data_uses_is_lost_without_a_counterpart() -> None:
    report = switch_report([A, B], [row(OLD_B, B)], A.code_set, OLD_A.code_set, in_use=[A])
    assert report.lost == (A,) and report.moves == ()


def test_a_rebuilt_mapping_yields_to_a_manual_pair_in_either_direction() -> None:
    manual = row(A, OLD_A, MappingBasis.MANUAL)
    stored = [manual, row(OLD_B, B)]
    old_c = ClassRef("cjt214_2007", "component", "0103")
    new_c = ClassRef("gbt47678_5_2026", "component", "01003")
    derived = [row(OLD_A, A), row(OLD_B, B), row(old_c, new_c)]
    diff, yielded = rebuild_derived(derived, stored)
    assert yielded == (row(OLD_A, A),)
    assert [r.source.code for r in diff.added] == ["0103"] and not diff.removed and not diff.changed


def test_a_hand_made_pair_is_as_sure_as_its_least_certain_class() -> None:
    ext = ClassFacts(ClassRef("gbt30428_2_2013", "component", "2101"), "minor", "")
    sure = ClassFacts(OLD_A, "minor", "✅")
    assert check_manual_mapping(ext, sure, []) is Confidence.CERTAIN
    unsure = ClassFacts(A, "minor", "🟡")
    assert check_manual_mapping(ext, unsure, []) is Confidence.PROBABLE
    with pytest.raises(Conflict):
        check_manual_mapping(unsure, sure, [row(A, OLD_B, MappingBasis.MANUAL)])
