"""The standard catalog as data: load it (``gridcity init``), search it, edit what a city may
change on a class, add local extension classes, and switch the active code set with a report.

Reading takes ``catalog.read`` (every staff member); every write takes ``settings.write``
(administrators), runs in one transaction and appends one audit row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    ClassRules,
    Confidence,
    SeedEntry,
    check_seed,
    parse_code_set,
    parse_kind,
    parse_time_limits,
    validate_major_code,
)
from gridcity.domain.catalog_mapping import (
    ClassRef,
    MappingBasis,
    MappingRow,
    derive_mapping,
)
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps

# Mappings derived at load time: (source set, target set); see domain.catalog_mapping.
DERIVED_MAPPINGS = (("cjt214_2007", GBT47678_5_2026), ("gbt30428_2_2013", GBT47678_5_2026))


def initials(name: str) -> str:
    """Lower-case pinyin initials of a name (供水井盖 → gsjg); other characters kept."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()[:60]


@dataclass(frozen=True)
class LoadResult:
    """What loading the standard catalog added."""

    classes: int
    mappings: int
    time_limits: int


def load_standard_catalog(deps: ServiceDeps, actor: Actor, *, info: RequestInfo) -> LoadResult:
    """Load the seeded code sets, classes, mapping and §4.4 examples; adds only what is missing."""
    require(actor, Permission.SETTINGS_WRITE)
    now = deps.clock()
    seeds = {key: seed_entries(key) for key in CODE_SETS}
    for entries in seeds.values():
        check_seed(entries)
    with deps.db.transaction() as session:
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
        present = {
            tuple(row)
            for row in session.execute(
                sa.select(
                    CatalogClass.code_set, CatalogClass.kind, CatalogClass.level, CatalogClass.code
                )
            )
        }
        # Examples go only on classes added now: a class a city edited keeps its edit.
        examples = _seed_limits()
        added = limits = 0
        for entries in seeds.values():
            for e in entries:
                if (e.code_set, e.kind, e.level, e.code) not in present:
                    given = (
                        examples.get((e.code_set, e.kind, e.code), []) if e.level == "minor" else []
                    )
                    session.add(_class_row(e, now, given))
                    added += 1
                    limits += bool(given)
        session.flush()
        mappings = _load_mappings(session, seeds)
        if added or mappings or limits:
            audit.append(
                session,
                at=now,
                actor=actor,
                action="catalog.loaded",
                target_type="catalog",
                detail={"classes": added, "mappings": mappings, "time_limits": limits},
                info=info,
            )
    return LoadResult(added, mappings, limits)


def _class_row(entry: SeedEntry, now: Any, limits: list[dict[str, Any]]) -> CatalogClass:
    """A standard class row from its seed entry, with nothing a city sets filled in."""
    return CatalogClass(
        code_set=entry.code_set,
        kind=entry.kind,
        level=entry.level,
        code=entry.code,
        major=entry.major,
        name_zh=entry.name_zh,
        name_en="",
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
        found.setdefault(key, []).extend(_limit_data(limit) for limit in limits)
    return found


def _load_mappings(session: Session, seeds: Mapping[str, Sequence[SeedEntry]]) -> int:
    """Store the derived mapping rows that are missing."""
    present = {
        tuple(row)
        for row in session.execute(
            sa.select(
                CatalogMapping.source_set,
                CatalogMapping.source_kind,
                CatalogMapping.source_code,
                CatalogMapping.target_set,
            )
        )
    }
    count = 0
    for source, target in DERIVED_MAPPINGS:
        rows, _unmapped = derive_mapping(seeds[source], seeds[target])
        for row in rows:
            key = (row.source.code_set, row.source.kind, row.source.code, row.target.code_set)
            if key not in present:
                session.add(
                    CatalogMapping(
                        source_set=row.source.code_set,
                        source_kind=row.source.kind,
                        source_code=row.source.code,
                        target_set=row.target.code_set,
                        target_kind=row.target.kind,
                        target_code=row.target.code,
                        basis=row.basis.value,
                        confidence=row.confidence.value,
                        note=row.note,
                    )
                )
                count += 1
    return count


def _limit_data(limit: Any) -> dict[str, Any]:
    """Plain data of a time limit (for the JSON column and the API)."""
    return {
        "amount": limit.amount,
        "unit": limit.unit.value,
        "urgency": limit.urgency.value if limit.urgency else None,
        "area_class": limit.area_class.value if limit.area_class else None,
        "note": limit.note,
    }


def rules_data(rules: ClassRules) -> dict[str, Any]:
    """Plain data of a class's editable rules."""
    return {
        "filing_criteria": [{"code": c.code, "text": c.text} for c in rules.filing_criteria],
        "closing_criteria": rules.closing_criteria,
        "time_limits": [_limit_data(limit) for limit in rules.time_limits],
        "form_fields": [
            {
                "name": f.name,
                "label_zh": f.label_zh,
                "label_en": f.label_en,
                "type": f.type.value,
                "required": f.required,
                "choices": list(f.choices),
            }
            for f in rules.form_fields
        ],
    }


@dataclass(frozen=True)
class CodeSetView:
    """A code set, whether it is the city's active one, and how many classes it holds."""

    key: str
    name_zh: str
    name_en: str
    minor_digits: int
    kinds: list[str]
    active: bool
    classes: int


@dataclass(frozen=True)
class ClassView:
    """A class with everything a city set on it."""

    id: int
    code_set: str
    kind: str
    level: str
    code: str
    major: str
    name_zh: str
    name_en: str
    initials: str
    confidence: str
    note: str
    is_local_extension: bool
    department_id: int | None
    filing_criteria: list[dict[str, Any]]
    closing_criteria: str
    time_limits: list[dict[str, Any]]
    form_fields: list[dict[str, Any]]


def class_view(row: CatalogClass) -> ClassView:
    """Read model of a class row."""
    return ClassView(
        id=row.id,
        code_set=row.code_set,
        kind=row.kind,
        level=row.level,
        code=row.code,
        major=row.major,
        name_zh=row.name_zh,
        name_en=row.name_en,
        initials=row.initials,
        confidence=row.confidence,
        note=row.note,
        is_local_extension=row.is_local_extension,
        department_id=row.department_id,
        filing_criteria=list(row.filing_criteria),
        closing_criteria=row.closing_criteria,
        time_limits=list(row.time_limits),
        form_fields=list(row.form_fields),
    )


def active_code_set(session: Session) -> str:
    """The city's active code set (the default of migration 0005 if the row was lost)."""
    row = session.get(CatalogSetting, 1)
    return row.active_code_set if row is not None else GBT47678_5_2026


def list_code_sets(deps: ServiceDeps, actor: Actor) -> list[CodeSetView]:
    """Every code set, the active one marked (all staff)."""
    require(actor, Permission.CATALOG_READ)
    with deps.db.read() as session:
        active = active_code_set(session)
        query = sa.select(CatalogClass.code_set, sa.func.count()).group_by(CatalogClass.code_set)
        counts: dict[str, int] = {str(row[0]): int(row[1]) for row in session.execute(query)}
    return [
        CodeSetView(
            s.key,
            s.name_zh,
            s.name_en,
            s.minor_digits,
            [k.value for k in s.kinds],
            s.key == active,
            counts.get(s.key, 0),
        )
        for s in CODE_SETS.values()
    ]


def list_classes(
    deps: ServiceDeps,
    actor: Actor,
    *,
    code_set: str | None = None,
    kind: str | None = None,
    major: str | None = None,
    level: str | None = None,
    q: str | None = None,
    limit: int = 500,
) -> list[ClassView]:
    """Classes of a code set (the active one by default), filtered; ``q`` matches a code prefix,
    a part of the Chinese name or the pinyin initials (all staff)."""
    require(actor, Permission.CATALOG_READ)
    with deps.db.read() as session:
        chosen = parse_code_set(code_set or active_code_set(session))
        query = sa.select(CatalogClass).where(CatalogClass.code_set == chosen.key)
        if kind:
            query = query.where(CatalogClass.kind == parse_kind(chosen, kind).value)
        if major:
            query = query.where(CatalogClass.major == validate_major_code(major))
        if level:
            if level not in ("major", "minor"):
                raise InvalidInput(
                    "invalid_level", "A class level is major or minor: %(level)s", level=level
                )
            query = query.where(CatalogClass.level == level)
        text = (q or "").strip()
        if text:
            like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                sa.or_(
                    CatalogClass.code.like(f"{like}%", escape="\\"),
                    CatalogClass.name_zh.contains(text, autoescape=True),
                    CatalogClass.initials.contains(text.lower(), autoescape=True),
                )
            )
        rows = session.scalars(
            query.order_by(CatalogClass.kind, CatalogClass.level, CatalogClass.code).limit(limit)
        )
        return [class_view(row) for row in rows]


def get_class(deps: ServiceDeps, actor: Actor, class_id: int) -> ClassView:
    """One class by id (all staff)."""
    require(actor, Permission.CATALOG_READ)
    with deps.db.read() as session:
        return class_view(load_class_row(session, class_id))


def load_class_row(session: Session, class_id: int) -> CatalogClass:
    """A class row or NotFound."""
    row = session.get(CatalogClass, class_id)
    if row is None:
        raise NotFound("class_not_found", "No catalog class %(id)s", id=class_id)
    return row


def mapping_rows(session: Session) -> list[MappingRow]:
    """Every stored mapping row as domain values."""
    return [
        MappingRow(
            ClassRef(r.source_set, r.source_kind, r.source_code),
            ClassRef(r.target_set, r.target_kind, r.target_code),
            MappingBasis(r.basis),
            Confidence(r.confidence),
            r.note,
        )
        for r in session.scalars(sa.select(CatalogMapping).order_by(CatalogMapping.id))
    ]


def list_mapping(deps: ServiceDeps, actor: Actor) -> list[MappingRow]:
    """Every mapping row between code sets (all staff)."""
    require(actor, Permission.CATALOG_READ)
    with deps.db.read() as session:
        return mapping_rows(session)


def class_id_of(deps: ServiceDeps, actor: Actor, code_set: str, kind: str, code: str) -> int:
    """The id of a class by its key (code set, kind, code): major codes have 2 digits, minor 4 or 5."""
    require(actor, Permission.CATALOG_READ)
    chosen = parse_code_set(code_set)
    with deps.db.read() as session:
        found = session.scalar(
            sa.select(CatalogClass.id).where(
                CatalogClass.code_set == chosen.key,
                CatalogClass.kind == parse_kind(chosen, kind).value,
                CatalogClass.code == code,
            )
        )
    if found is None:
        raise NotFound(
            "class_not_found",
            "No %(kind)s class %(code)s in %(set)s",
            kind=kind,
            code=code,
            set=chosen.key,
        )
    return found
