"""Loading the standard catalog (``gridcity init``, ``gridcity catalog load``): a new database
gets every seeded class; an existing one gets what it lacks, the seed's corrections on its
standard classes, and a rebuilt derived mapping — never a change to what the city set.

What the seed owns on a standard class: its Chinese name, English name (when the seed gives
one), confidence, note and pinyin initials. What the city owns: filing and closing criteria,
time limits, default department and form fields, and every local extension class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pypinyin import Style, lazy_pinyin
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import (
    CatalogClass,
    CatalogCodeSet,
    CatalogMapping,
    CatalogSetting,
)
from gridcity.catalog_data import seed_entries, seed_time_limits
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import (
    CODE_SETS,
    GBT47678_5_2026,
    Confidence,
    SeedEntry,
    TimeLimit,
    check_seed,
    parse_time_limits,
)
from gridcity.domain.catalog_mapping import (
    ClassRef,
    MappingBasis,
    MappingDiff,
    MappingRow,
    derive_mapping,
    mapping_key,
    rebuild_derived,
)
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps

# Mappings derived at load time: (source set, target set); see domain.catalog_mapping.
DERIVED_MAPPINGS = (("cjt214_2007", GBT47678_5_2026), ("gbt30428_2_2013", GBT47678_5_2026))
_Key = tuple[str, str, str, str]  # (code set, kind, level, code)


def initials(name: str) -> str:
    """Lower-case pinyin initials of a name (供水井盖 → gsjg); other characters kept."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()[:60]


def limit_data(limit: TimeLimit) -> dict[str, Any]:
    """Plain data of a time limit (for the JSON column and the API)."""
    return {
        "amount": limit.amount,
        "unit": limit.unit.value,
        "urgency": limit.urgency.value if limit.urgency else None,
        "area_class": limit.area_class.value if limit.area_class else None,
        "note": limit.note,
    }


@dataclass(frozen=True)
class ClassCorrection:
    """A seed correction carried into a stored standard class: field → (stored, seeded)."""

    ref: ClassRef
    level: str
    changes: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class SeedCollision:
    """A seeded class whose key a local extension class holds: the extension stays."""

    ref: ClassRef
    level: str
    seed_name: str
    extension_name: str


@dataclass(frozen=True)
class LoadResult:
    """What loading the standard catalog added and changed."""

    classes: int  # classes added
    mappings: int  # derived mapping rows added
    time_limits: int  # classes added with a §4.4 example
    corrected: tuple[ClassCorrection, ...] = ()
    collisions: tuple[SeedCollision, ...] = ()
    mappings_removed: tuple[MappingRow, ...] = ()
    mappings_changed: tuple[tuple[MappingRow, MappingRow], ...] = ()  # (stored, rebuilt)
    mappings_yielded: tuple[MappingRow, ...] = ()  # derived rows left out for a manual pair
    not_in_seed: tuple[ClassRef, ...] = ()  # stored standard classes the seed no longer lists

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything."""
        return bool(
            self.classes
            or self.mappings
            or self.corrected
            or self.mappings_removed
            or self.mappings_changed
        )


def load_standard_catalog(deps: ServiceDeps, actor: Actor, *, info: RequestInfo) -> LoadResult:
    """Load the seeded code sets, classes, mapping and §4.4 examples (administrators).

    Adds what is missing, carries seed corrections into standard classes, rebuilds the derived
    mapping (manual rows stay) and reports seed keys a local extension class holds.
    """
    require(actor, Permission.SETTINGS_WRITE)
    now = deps.clock()
    seeds = {key: seed_entries(key) for key in CODE_SETS}
    for entries in seeds.values():
        check_seed(entries)
    with deps.db.transaction() as session:
        _ensure_code_sets(session, now)
        stored = {
            (r.code_set, r.kind, r.level, r.code): r
            for r in session.scalars(sa.select(CatalogClass))
        }
        # Examples go only on classes added now: a class a city edited keeps its edit.
        examples = _seed_limits()
        added = limits = 0
        corrected: list[ClassCorrection] = []
        collisions: list[SeedCollision] = []
        for entries in seeds.values():
            for e in entries:
                row = stored.get((e.code_set, e.kind, e.level, e.code))
                if row is None:
                    given = (
                        examples.get((e.code_set, e.kind, e.code), []) if e.level == "minor" else []
                    )
                    session.add(_class_row(e, now, given))
                    added += 1
                    limits += bool(given)
                elif row.is_local_extension:
                    ref = ClassRef(e.code_set, e.kind, e.code)
                    collisions.append(SeedCollision(ref, e.level, e.name_zh, row.name_zh))
                else:
                    fix = _correct(row, e, now)
                    if fix is not None:
                        corrected.append(fix)
        seeded = {(e.code_set, e.kind, e.level, e.code) for es in seeds.values() for e in es}
        not_in_seed = tuple(
            sorted(
                ClassRef(k[0], k[1], k[3])
                for k, row in stored.items()
                if k not in seeded and not row.is_local_extension
            )
        )
        session.flush()
        taken = {(c.ref.code_set, c.ref.kind, c.ref.code) for c in collisions}
        diff, yielded = _rebuild_mappings(session, seeds, taken)
        result = LoadResult(
            classes=added,
            mappings=len(diff.added),
            time_limits=limits,
            corrected=tuple(corrected),
            collisions=tuple(collisions),
            mappings_removed=diff.removed,
            mappings_changed=diff.changed,
            mappings_yielded=yielded,
            not_in_seed=not_in_seed,
        )
        if result.changed:
            audit.append(
                session,
                at=now,
                actor=actor,
                action="catalog.loaded",
                target_type="catalog",
                detail={
                    "classes": added,
                    "mappings": len(diff.added),
                    "time_limits": limits,
                    "corrected": [
                        f"{c.ref.code_set}/{c.ref.kind}/{c.ref.code}: {', '.join(c.changes)}"
                        for c in corrected
                    ],
                    "mappings_removed": len(diff.removed),
                    "mappings_changed": len(diff.changed),
                    "collisions": [
                        f"{c.ref.code_set}/{c.ref.kind}/{c.ref.code}" for c in collisions
                    ],
                },
                info=info,
            )
    return result


def _ensure_code_sets(session: Session, now: datetime) -> None:
    """The code set rows and the setting row, where missing."""
    present_sets = set(session.scalars(sa.select(CatalogCodeSet.key)))
    for code_set in CODE_SETS.values():
        if code_set.key not in present_sets:
            session.add(
                CatalogCodeSet(
                    key=code_set.key,
                    name_zh=code_set.name_zh,
                    name_en=code_set.name_en,
                    minor_digits=code_set.minor_digits,
                )
            )
    session.flush()
    if session.get(CatalogSetting, 1) is None:
        session.add(CatalogSetting(id=1, active_code_set=GBT47678_5_2026, updated_at=now))


def _correct(row: CatalogClass, entry: SeedEntry, now: datetime) -> ClassCorrection | None:
    """Carry the seed's fields into a stored standard class; None when they agree."""
    wanted = {
        "name_zh": entry.name_zh,
        "confidence": entry.confidence,
        "note": entry.note,
        "initials": initials(entry.name_zh),
    }
    if entry.name_en:  # a seed without an English name leaves the stored one
        wanted["name_en"] = entry.name_en
    changes = {k: (getattr(row, k), v) for k, v in wanted.items() if getattr(row, k) != v}
    if not changes:
        return None
    for key, (_old, new) in changes.items():
        setattr(row, key, new)
    row.updated_at = now
    return ClassCorrection(ClassRef(entry.code_set, entry.kind, entry.code), entry.level, changes)


def _class_row(entry: SeedEntry, now: datetime, limits: list[dict[str, Any]]) -> CatalogClass:
    """A standard class row from its seed entry, with nothing a city sets filled in."""
    return CatalogClass(
        code_set=entry.code_set,
        kind=entry.kind,
        level=entry.level,
        code=entry.code,
        major=entry.major,
        name_zh=entry.name_zh,
        name_en=entry.name_en,
        initials=initials(entry.name_zh),
        confidence=entry.confidence,
        note=entry.note,
        is_local_extension=False,
        department_id=None,
        filing_criteria=[],
        closing_criteria="",
        time_limits=limits,
        form_fields=[],
        updated_at=now,
    )


def _seed_limits() -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """The §4.4 examples by (code set, kind, code), checked by the domain."""
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for example in seed_time_limits():
        limits = parse_time_limits(
            [{"amount": example.amount, "unit": example.unit, "note": example.note}]
        )
        key = (example.code_set, example.kind, example.code)
        found.setdefault(key, []).extend(limit_data(limit) for limit in limits)
    return found


def _rebuild_mappings(
    session: Session,
    seeds: Mapping[str, Sequence[SeedEntry]],
    taken: set[tuple[str, str, str]],
) -> tuple[MappingDiff, tuple[MappingRow, ...]]:
    """Derive the mapping from the seeds again and store only the difference.

    Rows touching a seed key that a local extension holds are left out: that key is the
    city's class, not the seed's. Manual rows stay, and win over a derived row.
    """
    derived: list[MappingRow] = []
    for source, target in DERIVED_MAPPINGS:
        rows, _unmapped = derive_mapping(seeds[source], seeds[target])
        derived += [
            r
            for r in rows
            if (r.source.code_set, r.source.kind, r.source.code) not in taken
            and (r.target.code_set, r.target.kind, r.target.code) not in taken
        ]
    stored_rows = list(session.scalars(sa.select(CatalogMapping).order_by(CatalogMapping.id)))
    stored = [mapping_row(r) for r in stored_rows]
    ids = {mapping_key(row): r.id for row, r in zip(stored, stored_rows, strict=True)}
    diff, yielded = rebuild_derived(derived, stored)
    if diff.removed:
        session.execute(
            sa.delete(CatalogMapping).where(
                CatalogMapping.id.in_([ids[mapping_key(r)] for r in diff.removed])
            )
        )
    for _old, new in diff.changed:
        session.execute(
            sa.update(CatalogMapping)
            .where(CatalogMapping.id == ids[mapping_key(new)])
            .values(_mapping_values(new))
        )
    for row in diff.added:
        session.add(CatalogMapping(**_mapping_values(row)))
    session.flush()
    return diff, yielded


def mapping_row(r: CatalogMapping) -> MappingRow:
    """A stored mapping row as a domain value."""
    return MappingRow(
        ClassRef(r.source_set, r.source_kind, r.source_code),
        ClassRef(r.target_set, r.target_kind, r.target_code),
        MappingBasis(r.basis),
        Confidence(r.confidence),
        r.note,
    )


def _mapping_values(row: MappingRow) -> dict[str, str]:
    """Column values of a mapping row."""
    return {
        "source_set": row.source.code_set,
        "source_kind": row.source.kind,
        "source_code": row.source.code,
        "target_set": row.target.code_set,
        "target_kind": row.target.kind,
        "target_code": row.target.code,
        "basis": row.basis.value,
        "confidence": row.confidence.value,
        "note": row.note,
    }
