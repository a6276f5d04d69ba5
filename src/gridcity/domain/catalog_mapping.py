"""The mapping between code sets and the report of switching a city's active code set.

Two bases are derived from standards.md (§2.3, §2.6), both 🟡:

* ``rule`` — GB/T 30428.2-2013 event → GB/T 47678.5-2026 matter: the 2026 standard kept the
  2013 event minor codes and shifted the majors 01→06, 02→07, 03→08, 04→09 (inferred from one
  city's enum, [S45]). It is *not* applied to CJ/T 214-2007 codes, whose event numbering differs
  (0102 暴露垃圾 in 2007, 01-10 in 2013 and 06010 in 2026).
* ``name_match`` — any other pair of sets: a minor class maps when exactly one class of the
  counterpart kind has the same Chinese name on each side; anything else stays unmapped.

``manual`` rows are added by people. A row never guesses: no target, no row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gridcity.domain.catalog import (
    GBT30428_2_2013,
    GBT47678_5_2026,
    ClassKind,
    Confidence,
    SeedEntry,
)
from gridcity.domain.errors import Conflict

RULE_MAJORS = {"01": "06", "02": "07", "03": "08", "04": "09"}
_ORDER = [Confidence.CERTAIN, Confidence.PROBABLE, Confidence.UNVERIFIED]


class MappingBasis(StrEnum):
    """Why two classes are paired."""

    RULE = "rule"
    NAME_MATCH = "name_match"
    MANUAL = "manual"


@dataclass(frozen=True, order=True)
class ClassRef:
    """A class by (code set, kind, code)."""

    code_set: str
    kind: str
    code: str


@dataclass(frozen=True)
class MappingRow:
    """A pairing of a class with its counterpart in another code set."""

    source: ClassRef
    target: ClassRef
    basis: MappingBasis
    confidence: Confidence
    note: str = ""


@dataclass(frozen=True)
class Unmapped:
    """A class left without a counterpart, with the reason."""

    ref: ClassRef
    reason: str


def counterpart_kind(kind: str, target_set: str) -> str:
    """The kind a class has in another set: events become matters in 2026, and back."""
    if target_set == GBT47678_5_2026 and kind == ClassKind.EVENT:
        return ClassKind.MATTER.value
    if target_set != GBT47678_5_2026 and kind == ClassKind.MATTER:
        return ClassKind.EVENT.value
    return kind


def rule_code(code_2013: str) -> str | None:
    """The 2026 matter code of a 2013 event code by the major-shift rule, or None."""
    major = RULE_MAJORS.get(code_2013[:2])
    return None if major is None else f"{major}{int(code_2013[2:]):03d}"


def weakest(*marks: str) -> Confidence:
    """The least certain of several confidence marks."""
    return max((Confidence(m) for m in marks), key=_ORDER.index)


def derive_mapping(
    source: Sequence[SeedEntry], target: Sequence[SeedEntry]
) -> tuple[list[MappingRow], list[Unmapped]]:
    """Rows from the minor classes of one set to those of another, and what stays unmapped."""
    minors = [e for e in source if e.level == "minor"]
    targets = [e for e in target if e.level == "minor"]
    if not minors or not targets:
        return [], [Unmapped(_ref(e), "no_target_classes") for e in minors]
    source_set, target_set = minors[0].code_set, targets[0].code_set
    by_code = {(e.kind, e.code): e for e in targets}
    target_names = Counter((e.kind, e.name_zh) for e in targets)
    source_names = Counter((counterpart_kind(e.kind, target_set), e.name_zh) for e in minors)
    by_name = {(e.kind, e.name_zh): e for e in targets}
    rows: list[MappingRow] = []
    unmapped: list[Unmapped] = []
    for entry in minors:
        kind = counterpart_kind(entry.kind, target_set)
        if source_set == GBT30428_2_2013 and target_set == GBT47678_5_2026 and kind == "matter":
            code = rule_code(entry.code)
            found = by_code.get((kind, code)) if code else None
            if found is None:
                unmapped.append(Unmapped(_ref(entry), "rule_target_absent"))
                continue
            same = found.name_zh == entry.name_zh
            note = "names agree" if same else f"names differ: {entry.name_zh} / {found.name_zh}"
            rows.append(_row(entry, found, MappingBasis.RULE, note))
            continue
        key = (kind, entry.name_zh)
        if target_names[key] == 0:
            unmapped.append(Unmapped(_ref(entry), "no_name_match"))
        elif target_names[key] > 1 or source_names[key] > 1:
            unmapped.append(Unmapped(_ref(entry), "ambiguous_name"))
        else:
            rows.append(_row(entry, by_name[key], MappingBasis.NAME_MATCH, "same name"))
    return rows, unmapped


def _ref(entry: SeedEntry) -> ClassRef:
    """The reference of a seed entry."""
    return ClassRef(entry.code_set, entry.kind, entry.code)


def _row(source: SeedEntry, target: SeedEntry, basis: MappingBasis, note: str) -> MappingRow:
    """A derived row: never surer than 🟡, and never surer than either class."""
    confidence = weakest(source.confidence, target.confidence, Confidence.PROBABLE)
    return MappingRow(_ref(source), _ref(target), basis, confidence, note)


def translate(rows: Iterable[MappingRow], ref: ClassRef, to_set: str) -> ClassRef | None:
    """The counterpart of a class in another set, reading rows in either direction."""
    for row in rows:
        if row.source == ref and row.target.code_set == to_set:
            return row.target
        if row.target == ref and row.source.code_set == to_set:
            return row.source
    return None


@dataclass(frozen=True)
class SwitchReport:
    """What switching the active code set does to each minor class of the current set."""

    from_set: str
    to_set: str
    mapped: tuple[tuple[ClassRef, ClassRef], ...]
    unmapped: tuple[ClassRef, ...]
    lost: tuple[ClassRef, ...] = ()  # unmapped classes that data refers to


def identity_report(classes: Iterable[ClassRef], code_set: str) -> SwitchReport:
    """The report of switching to the set that is already active: every class stays itself."""
    return SwitchReport(code_set, code_set, tuple((r, r) for r in sorted(classes)), ())


def with_lost(report: SwitchReport, in_use: Iterable[ClassRef]) -> SwitchReport:
    """The report with the classes in use that the switch would leave unmapped."""
    lost = tuple(sorted(set(report.unmapped) & set(in_use)))
    return SwitchReport(report.from_set, report.to_set, report.mapped, report.unmapped, lost)


def switch_report(
    classes: Iterable[ClassRef], rows: Sequence[MappingRow], from_set: str, to_set: str
) -> SwitchReport:
    """Pair every class of the current set with its counterpart in the target set, if any."""
    mapped: list[tuple[ClassRef, ClassRef]] = []
    unmapped: list[ClassRef] = []
    for ref in sorted(classes):
        found = translate(rows, ref, to_set)
        if found is None:
            unmapped.append(ref)
        else:
            mapped.append((ref, found))
    return SwitchReport(from_set, to_set, tuple(mapped), tuple(unmapped))


def check_switch(report: SwitchReport, in_use: Iterable[ClassRef]) -> None:
    """Refuse a switch that would leave classes in use without a counterpart."""
    lost = with_lost(report, in_use).lost
    if lost:
        raise Conflict(
            "unmapped_classes_in_use",
            "Switching to %(to_set)s would leave %(count)s classes in use unmapped: %(codes)s",
            to_set=report.to_set,
            count=len(lost),
            codes=", ".join(f"{r.kind}:{r.code}" for r in lost[:10]),
        )
