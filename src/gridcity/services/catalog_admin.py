"""Writing the catalog: edit what a city may change on a class and add local extension classes
(扩展部件/扩展事件) (administrators, ``settings.write``; one transaction and one audit row
each). Switching the active code set is in ``catalog_switch``, manual mappings in
``catalog_mappings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.tables import CatalogClass, Department
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import (
    GBT47678_5_2026,
    ClassRules,
    parse_code_set,
    parse_filing_criteria,
    parse_form_fields,
    parse_kind,
    parse_time_limits,
    validate_class_code,
    validate_major_code,
    validate_name,
)
from gridcity.domain.errors import InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.catalog import (
    ClassView,
    class_view,
    initials,
    load_class_row,
    rules_data,
)
from gridcity.services.deps import RequestInfo, ServiceDeps


@dataclass(frozen=True)
class ClassEdit:
    """What to change on a class; None keeps the stored value."""

    name_en: str | None = None
    department_id: int | None = None
    clear_department: bool = False
    filing_criteria: Sequence[Mapping[str, Any]] | None = None
    closing_criteria: str | None = None
    time_limits: Sequence[Mapping[str, Any]] | None = None
    form_fields: Sequence[Mapping[str, Any]] | None = None
    name_zh: str | None = None  # local extension classes only


def update_class(
    deps: ServiceDeps, actor: Actor, class_id: int, edit: ClassEdit, *, info: RequestInfo
) -> ClassView:
    """Change a class's criteria, time limits, department, form fields or names (administrators)."""
    require(actor, Permission.SETTINGS_WRITE)
    now = deps.clock()
    with deps.db.transaction() as session:
        row = load_class_row(session, class_id)
        before = class_view(row)
        if edit.name_zh is not None:
            if not row.is_local_extension:
                raise InvalidInput(
                    "standard_name_fixed",
                    "The Chinese name of a standard class is the standard's; only extension "
                    "classes can be renamed",
                )
            row.name_zh = validate_name(edit.name_zh)
            row.initials = initials(row.name_zh)
        if edit.name_en is not None:
            row.name_en = edit.name_en.strip()[:60]
        if edit.clear_department:
            row.department_id = None
        elif edit.department_id is not None:
            if session.get(Department, edit.department_id) is None:
                raise NotFound(
                    "department_not_found", "No department %(id)s", id=edit.department_id
                )
            row.department_id = edit.department_id
        rules = ClassRules(
            filing_criteria=parse_filing_criteria(edit.filing_criteria or []),
            closing_criteria=(edit.closing_criteria or "").strip(),
            time_limits=parse_time_limits(edit.time_limits or []),
            form_fields=parse_form_fields(edit.form_fields or []),
        )
        data = rules_data(rules)
        if edit.closing_criteria is not None:
            if len(edit.closing_criteria) > 500:
                raise InvalidInput(
                    "invalid_closing_criteria", "Closing criteria are at most 500 characters"
                )
            row.closing_criteria = data["closing_criteria"]
        for key, given in (
            ("filing_criteria", edit.filing_criteria),
            ("time_limits", edit.time_limits),
            ("form_fields", edit.form_fields),
        ):
            if given is not None:
                setattr(row, key, data[key])
        row.updated_at = now
        after = class_view(row)
        changes = {
            k: [getattr(before, k), getattr(after, k)]
            for k in (
                "name_zh",
                "name_en",
                "department_id",
                "filing_criteria",
                "closing_criteria",
                "time_limits",
                "form_fields",
            )
            if getattr(before, k) != getattr(after, k)
        }
        if changes:
            audit.append(
                session,
                at=now,
                actor=actor,
                action="catalog_class.updated",
                target_type="catalog_class",
                target_id=row.id,
                detail=changes,
                info=info,
            )
        return after


@dataclass(frozen=True)
class NewExtensionClass:
    """A local extension class (扩展部件/扩展事件): a major, or a minor under an extension major."""

    code_set: str
    kind: str
    level: str
    code: str
    name_zh: str
    name_en: str = ""


def add_extension_class(
    deps: ServiceDeps, actor: Actor, new: NewExtensionClass, *, info: RequestInfo
) -> ClassView:
    """Add a local extension class whose code collides with no class of the set (administrators).

    A minor extension goes under an extension major of the same kind; the major's code is the
    city's choice (standards.md §2.2: which code cities use is ❓).
    """
    require(actor, Permission.SETTINGS_WRITE)
    chosen = parse_code_set(new.code_set)
    kind = parse_kind(chosen, new.kind).value
    name = validate_name(new.name_zh)
    if new.level == "major":
        code = validate_major_code(new.code)
    elif new.level == "minor":
        code = validate_class_code(chosen, new.code)
    else:
        raise InvalidInput(
            "invalid_level", "A class level is major or minor: %(level)s", level=new.level
        )
    now = deps.clock()
    with deps.db.transaction() as session:
        same = sa.select(CatalogClass).where(
            CatalogClass.code_set == chosen.key,
            CatalogClass.kind == kind,
        )
        if (
            session.scalar(same.where(CatalogClass.level == new.level, CatalogClass.code == code))
            is not None
        ):
            raise InvalidInput(
                "class_code_taken",
                "Code %(code)s is already a %(kind)s class of %(set)s",
                code=code,
                kind=kind,
                set=chosen.key,
            )
        if new.level == "major":
            # a minor extension sits under an extension major, which passed this check
            _refuse_shared_major(session, chosen.key, kind, code)
        if new.level == "minor":
            major = session.scalar(
                same.where(CatalogClass.level == "major", CatalogClass.code == code[:2])
            )
            if major is None or not major.is_local_extension:
                raise InvalidInput(
                    "extension_needs_extension_major",
                    "An extension class goes under an extension major class; %(major)s is not one",
                    major=code[:2],
                )
        row = CatalogClass(
            code_set=chosen.key,
            kind=kind,
            level=new.level,
            code=code,
            major=code[:2],
            name_zh=name,
            name_en=new.name_en.strip()[:60],
            initials=initials(name),
            confidence="",
            note="",
            is_local_extension=True,
            department_id=None,
            filing_criteria=[],
            closing_criteria="",
            time_limits=[],
            form_fields=[],
            updated_at=now,
        )
        session.add(row)
        session.flush()
        audit.append(
            session,
            at=now,
            actor=actor,
            action="catalog_class.added",
            target_type="catalog_class",
            target_id=row.id,
            detail={
                "code_set": chosen.key,
                "kind": kind,
                "level": new.level,
                "code": code,
                "name_zh": name,
            },
            info=info,
        )
        return class_view(row)


# GB/T 47678.5-2026 gives the matter for a component's anomaly the component's own 5-digit
# code, so a major class code may belong to components or to matters, never to both.
_SHARED_CODE_KINDS = {GBT47678_5_2026: ("component", "matter")}
_SHARED_MAJOR_MESSAGES = {
    "matter": "Major code %(major)s is already a matter major class of %(set)s; components and "
    "matters share codes there, so a component major cannot take it",
    "component": "Major code %(major)s is already a component major class of %(set)s; components "
    "and matters share codes there, so a matter major cannot take it",
}


def _refuse_shared_major(session: Session, code_set: str, kind: str, major: str) -> None:
    """Refuse a component major that is a matter major of the set, or the other way round."""
    kinds = _SHARED_CODE_KINDS.get(code_set)
    if kinds is None or kind not in kinds:
        return
    other = kinds[1] if kind == kinds[0] else kinds[0]
    clash = session.scalar(
        sa.select(CatalogClass.id).where(
            CatalogClass.code_set == code_set,
            CatalogClass.kind == other,
            CatalogClass.level == "major",
            CatalogClass.code == major,
        )
    )
    if clash is not None:
        raise InvalidInput(
            "major_code_of_other_kind",
            _SHARED_MAJOR_MESSAGES[other],
            major=major,
            set=code_set,
        )
