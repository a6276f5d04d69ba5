"""The mapping between code sets and the report of switching a city's active code set.

Two bases are derived from standards.md (§2.3, §2.6), both 🟡:

* ``rule`` — GB/T 30428.2-2013 event → GB/T 47678.5-2026 matter: the 2026 standard kept the
  2013 event minor codes and shifted the majors 01→06, 02→07, 03→08, 04→09 (inferred from one
  city's enum, [S45]). It is *not* applied to CJ/T 214-2007 codes, whose event numbering differs
  (0102 暴露垃圾 in 2007, 01-10 in 2013 and 06010 in 2026).
* ``name_match`` — any other pair of sets: a minor class maps when exactly one class of the
  counterpart kind has the same Chinese name on each side; anything else stays unmapped.

``manual`` rows are added by people (one to one: a class has at most one counterpart per
set) and win over a derived row. A row never guesses: no target, no row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gridcity.domain.catalog import (
    GBT30428_2_2013,
    GBT47678_5_2026,
    ClassKind,
    Confidence,
    SeedEntry,
)
from gridcity.domain.errors import Conflict, InvalidInput

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
class ClassMove:
    """How many components of a class a switch re-codes, and to which class (None: lost)."""

    source: ClassRef
    target: ClassRef | None
    components: int


@dataclass(frozen=True)
class SwitchReport:
    """What switching the active code set does to each minor class of the current set, and to
    the components that refer to classes (``moves``)."""

    from_set: str
    to_set: str
    mapped: tuple[tuple[ClassRef, ClassRef], ...]
    unmapped: tuple[ClassRef, ...]
    lost: tuple[ClassRef, ...] = ()  # unmapped classes that data refers to
    moves: tuple[ClassMove, ...] = ()

    @property
    def components_moved(self) -> int:
        """Components the switch re-codes."""
        return sum(m.components for m in self.moves if m.target is not None)

    @property
    def components_lost(self) -> int:
        """Components whose class has no counterpart in the target set."""
        return sum(m.components for m in self.moves if m.target is None)


def identity_report(classes: Iterable[ClassRef], code_set: str) -> SwitchReport:
    """The report of switching to the set that is already active: every class stays itself."""
    return SwitchReport(code_set, code_set, tuple((r, r) for r in sorted(classes)), ())


def switch_report(
    classes: Iterable[ClassRef],
    rows: Sequence[MappingRow],
    from_set: str,
    to_set: str,
    *,
    components: Mapping[ClassRef, int] | None = None,
    in_use: Iterable[ClassRef] = (),
) -> SwitchReport:
    """Pair every class of the current set with its counterpart in the target set, if any.

    ``components`` counts the components per class (of any set but the target: rows written
    in an older set are re-coded too); ``in_use`` names the classes other data refers to.
    A class in use without a counterpart is ``lost``.
    """
    mapped: list[tuple[ClassRef, ClassRef]] = []
    unmapped: list[ClassRef] = []
    found: dict[ClassRef, ClassRef | None] = {}
    for ref in sorted(classes):
        target = found[ref] = translate(rows, ref, to_set)
        if target is None:
            unmapped.append(ref)
        else:
            mapped.append((ref, target))
    moves: list[ClassMove] = []
    for ref, count in sorted((components or {}).items()):
        if count <= 0 or ref.code_set == to_set:
            continue
        target = found[ref] if ref in found else translate(rows, ref, to_set)
        moves.append(ClassMove(ref, target, count))
    lost = {m.source for m in moves if m.target is None} | (set(unmapped) & set(in_use))
    return SwitchReport(
        from_set, to_set, tuple(mapped), tuple(unmapped), tuple(sorted(lost)), tuple(moves)
    )


def check_switch(report: SwitchReport) -> None:
    """Refuse a switch that would leave classes in use without a counterpart."""
    if report.lost:
        raise Conflict(
            "unmapped_classes_in_use",
            "Switching to %(to_set)s would leave %(count)s classes in use unmapped: %(codes)s",
            to_set=report.to_set,
            count=len(report.lost),
            codes=", ".join(f"{r.kind}:{r.code}" for r in report.lost[:10]),
        )


@dataclass(frozen=True)
class ClassFacts:
    """What pairing two classes by hand needs to know of each."""

    ref: ClassRef
    level: str
    confidence: str  # '' for a local extension class


def check_manual_mapping(
    source: ClassFacts, target: ClassFacts, rows: Iterable[MappingRow]
) -> Confidence:
    """Refuse a hand-made pair that the mapping cannot hold; its confidence otherwise.

    Both are minor classes of different sets and of counterpart kinds (component ↔ component,
    event ↔ matter), and neither may already have a counterpart in the other's set: the
    mapping stays one to one, so a switch and its way back give the same class. A pair is as
    sure as the less certain of its classes (an extension class is the city's own: certain).
    """
    if source.ref.code_set == target.ref.code_set:
        raise InvalidInput(
            "mapping_same_code_set",
            "A mapping pairs classes of two different code sets, not two of %(set)s",
            set=source.ref.code_set,
        )
    if source.level != "minor" or target.level != "minor":
        raise InvalidInput(
            "mapping_needs_minor_classes", "A mapping pairs minor classes, not major classes"
        )
    expected = counterpart_kind(source.ref.kind, target.ref.code_set)
    if target.ref.kind != expected:
        raise InvalidInput(
            "mapping_kind_mismatch",
            "A %(kind)s class of %(source)s pairs with a %(expected)s class of %(target)s, "
            "not a %(given)s class",
            kind=source.ref.kind,
            source=source.ref.code_set,
            expected=expected,
            target=target.ref.code_set,
            given=target.ref.kind,
        )
    rows = list(rows)
    for ref, other_set in ((source.ref, target.ref.code_set), (target.ref, source.ref.code_set)):
        taken = translate(rows, ref, other_set)
        if taken is not None:
            raise Conflict(
                "duplicate_mapping",
                "%(kind)s:%(code)s of %(set)s already maps to %(other_kind)s:%(other_code)s of "
                "%(other_set)s; delete that pair first",
                kind=ref.kind,
                code=ref.code,
                set=ref.code_set,
                other_kind=taken.kind,
                other_code=taken.code,
                other_set=taken.code_set,
            )
    return weakest(source.confidence or Confidence.CERTAIN, target.confidence or Confidence.CERTAIN)


def validate_mapping_note(note: str) -> str:
    """The note of a hand-made pair: at most 500 characters."""
    if len(note) > 500:
        raise InvalidInput("invalid_mapping_note", "A mapping note has at most 500 characters")
    return note.strip()


@dataclass(frozen=True)
class MappingDiff:
    """How a rebuilt derived mapping differs from the stored one (rows keyed by source and
    target set)."""

    added: tuple[MappingRow, ...]
    removed: tuple[MappingRow, ...]
    changed: tuple[tuple[MappingRow, MappingRow], ...]  # (stored, rebuilt)


def mapping_key(row: MappingRow) -> tuple[ClassRef, str]:
    """The stored key of a row: one row per class and target set."""
    return (row.source, row.target.code_set)


def rebuild_derived(
    derived: Sequence[MappingRow], stored: Sequence[MappingRow]
) -> tuple[MappingDiff, tuple[MappingRow, ...]]:
    """Compare freshly derived rows with the stored ones; manual rows stay and win.

    A derived row that would pair a class a manual row already pairs with that set is left
    out (and returned second), so the mapping stays one to one.
    """
    manual = [r for r in stored if r.basis is MappingBasis.MANUAL]
    kept: list[MappingRow] = []
    yielded: list[MappingRow] = []
    for row in derived:
        clash = translate(manual, row.source, row.target.code_set) is not None or (
            translate(manual, row.target, row.source.code_set) is not None
        )
        (yielded if clash else kept).append(row)
    old = {mapping_key(r): r for r in stored if r.basis is not MappingBasis.MANUAL}
    new = {mapping_key(r): r for r in kept}
    diff = MappingDiff(
        added=tuple(new[k] for k in new if k not in old),
        removed=tuple(old[k] for k in old if k not in new),
        changed=tuple((old[k], new[k]) for k in new if k in old and old[k] != new[k]),
    )
    return diff, tuple(yielded)
