"""The standard catalog as data: read and search it. Loading is in ``catalog_load`` (re-exported
here), edits and extensions in ``catalog_admin``, manual mappings in ``catalog_mappings``, and
switching the active code set in ``catalog_switch``.

Reading takes ``catalog.read`` (every staff member); every write takes ``settings.write``
(administrators), runs in one transaction and appends one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import CatalogClass, CatalogMapping, CatalogSetting
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import (
    CODE_SETS,
    GBT47678_5_2026,
    ClassRules,
    parse_code_set,
    parse_kind,
    validate_major_code,
)
from gridcity.domain.catalog_mapping import MappingRow
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services.catalog_load import (
    DERIVED_MAPPINGS,
    LoadResult,
    initials,
    limit_data,
    load_standard_catalog,
    mapping_row,
)
from gridcity.services.deps import ServiceDeps

__all__ = [
    "DERIVED_MAPPINGS",
    "LoadResult",
    "initials",
    "load_standard_catalog",
]


def rules_data(rules: ClassRules) -> dict[str, Any]:
    """Plain data of a class's editable rules."""
    return {
        "filing_criteria": [{"code": c.code, "text": c.text} for c in rules.filing_criteria],
        "closing_criteria": rules.closing_criteria,
        "time_limits": [limit_data(limit) for limit in rules.time_limits],
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
        mapping_row(r)
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
