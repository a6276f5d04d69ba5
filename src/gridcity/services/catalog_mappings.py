"""The mapping between code sets as people see and extend it: every row with its class names,
pairs added and deleted by hand (``manual``), and the classes of a set that have no
counterpart in another set, listed outside a switch.

Reading takes ``catalog.read``; adding and deleting take ``settings.write`` and write one audit
row each. Derived rows (``rule``, ``name_match``) come from the seed and cannot be deleted here:
``load_standard_catalog`` rebuilds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import CatalogClass, CatalogMapping, CatalogSetting
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.catalog import parse_code_set, parse_kind
from gridcity.domain.catalog_mapping import (
    ClassFacts,
    ClassRef,
    MappingBasis,
    MappingRow,
    check_manual_mapping,
    switch_report,
    validate_mapping_note,
)
from gridcity.domain.errors import Conflict, InvalidInput, NotFound
from gridcity.services import audit
from gridcity.services.catalog import active_code_set, mapping_rows
from gridcity.services.catalog_load import mapping_row
from gridcity.services.catalog_switch import component_usage
from gridcity.services.deps import RequestInfo, ServiceDeps


@dataclass(frozen=True)
class MappingView:
    """A stored mapping row with its id and the Chinese names of both classes."""

    id: int
    row: MappingRow
    source_name: str
    target_name: str


def _names(session: Session) -> dict[ClassRef, str]:
    """Chinese name of every minor class."""
    query = sa.select(
        CatalogClass.code_set, CatalogClass.kind, CatalogClass.code, CatalogClass.name_zh
    ).where(CatalogClass.level == "minor")
    return {ClassRef(s, k, c): n for s, k, c, n in session.execute(query)}


def list_mappings(
    deps: ServiceDeps, actor: Actor, *, basis: str | None = None
) -> list[MappingView]:
    """Every mapping row (or those of one basis), with class names (all staff)."""
    require(actor, Permission.CATALOG_READ)
    query = sa.select(CatalogMapping).order_by(CatalogMapping.id)
    if basis is not None:
        if basis not in {b.value for b in MappingBasis}:
            raise InvalidInput(
                "invalid_mapping_basis",
                "A mapping basis is rule, name_match or manual: %(basis)s",
                basis=basis,
            )
        query = query.where(CatalogMapping.basis == basis)
    with deps.db.read() as session:
        names = _names(session)
        return [_view(r, names) for r in session.scalars(query)]


def _view(stored: CatalogMapping, names: dict[ClassRef, str]) -> MappingView:
    """Read model of a stored row."""
    row = mapping_row(stored)
    return MappingView(stored.id, row, names.get(row.source, ""), names.get(row.target, ""))


def _facts(session: Session, ref: ClassRef) -> ClassFacts:
    """What the pairing rules need of a class, or NotFound."""
    chosen = parse_code_set(ref.code_set)
    kind = parse_kind(chosen, ref.kind).value
    found = session.execute(
        sa.select(CatalogClass.level, CatalogClass.confidence).where(
            CatalogClass.code_set == chosen.key,
            CatalogClass.kind == kind,
            CatalogClass.code == ref.code,
        )
    ).first()
    if found is None:
        raise NotFound(
            "class_not_found",
            "No %(kind)s class %(code)s in %(set)s",
            kind=ref.kind,
            code=ref.code,
            set=chosen.key,
        )
    return ClassFacts(ClassRef(chosen.key, kind, ref.code), found[0], found[1])


def add_manual_mapping(
    deps: ServiceDeps,
    actor: Actor,
    source: ClassRef,
    target: ClassRef,
    *,
    note: str = "",
    info: RequestInfo,
) -> MappingView:
    """Pair two minor classes of different code sets by hand (administrators).

    Refused: an unknown class, two classes of one set, kinds that do not correspond, and a
    class that already has a counterpart in the other set.
    """
    require(actor, Permission.SETTINGS_WRITE)
    text = validate_mapping_note(note)
    with deps.db.transaction() as session:
        # Mapping edits and switches take the setting row in turn, so two administrators never
        # pair one class twice (in opposite directions) and a switch reads a settled mapping.
        lock_rows(session, CatalogSetting.__table__, CatalogSetting.id == 1)  # type: ignore[arg-type]
        left, right = _facts(session, source), _facts(session, target)
        confidence = check_manual_mapping(left, right, mapping_rows(session))
        stored = CatalogMapping(
            source_set=left.ref.code_set,
            source_kind=left.ref.kind,
            source_code=left.ref.code,
            target_set=right.ref.code_set,
            target_kind=right.ref.kind,
            target_code=right.ref.code,
            basis=MappingBasis.MANUAL.value,
            confidence=confidence.value,
            note=text,
        )
        session.add(stored)
        session.flush()
        audit.append(
            session,
            at=deps.clock(),
            actor=actor,
            action="catalog_mapping.added",
            target_type="catalog_mapping",
            target_id=stored.id,
            detail=_detail(mapping_row(stored)),
            info=info,
        )
        return _view(stored, _names(session))


def delete_manual_mapping(
    deps: ServiceDeps, actor: Actor, mapping_id: int, *, info: RequestInfo
) -> None:
    """Delete a pair added by hand (administrators); derived rows belong to the seed."""
    require(actor, Permission.SETTINGS_WRITE)
    with deps.db.transaction() as session:
        lock_rows(session, CatalogSetting.__table__, CatalogSetting.id == 1)  # type: ignore[arg-type]
        stored = session.get(CatalogMapping, mapping_id)
        if stored is None:
            raise NotFound("mapping_not_found", "No mapping row %(id)s", id=mapping_id)
        if stored.basis != MappingBasis.MANUAL.value:
            raise Conflict(
                "mapping_not_manual",
                "Only pairs added by hand can be deleted; %(basis)s rows come from the seed and "
                "are rebuilt when the catalog is loaded",
                basis=stored.basis,
            )
        detail = _detail(mapping_row(stored))
        session.delete(stored)
        audit.append(
            session,
            at=deps.clock(),
            actor=actor,
            action="catalog_mapping.deleted",
            target_type="catalog_mapping",
            target_id=mapping_id,
            detail=detail,
            info=info,
        )


def _detail(row: MappingRow) -> dict[str, str]:
    """Audit detail of a pair."""
    return {
        "source": f"{row.source.code_set}/{row.source.kind}/{row.source.code}",
        "target": f"{row.target.code_set}/{row.target.kind}/{row.target.code}",
        "confidence": row.confidence.value,
        "note": row.note,
    }


@dataclass(frozen=True)
class UnmappedClass:
    """A minor class without a counterpart in another set; ``components`` is None for people
    who may not run a switch (they see the catalog, not the city-wide inventory counts)."""

    ref: ClassRef
    name_zh: str
    is_local_extension: bool
    components: int | None


def unmapped_classes(
    deps: ServiceDeps, actor: Actor, to_set: str, *, code_set: str | None = None
) -> list[UnmappedClass]:
    """Minor classes of a set (the active one by default) that have no counterpart in
    ``to_set`` — what a switch would leave unmapped, listed without starting one (all staff)."""
    require(actor, Permission.CATALOG_READ)
    target = parse_code_set(to_set)
    with deps.db.read() as session:
        source = parse_code_set(code_set or active_code_set(session))
        if source.key == target.key:
            raise InvalidInput(
                "mapping_same_code_set",
                "A mapping pairs classes of two different code sets, not two of %(set)s",
                set=source.key,
            )
        classes = {
            ClassRef(s, k, c): (name, ext)
            for s, k, c, name, ext in session.execute(
                sa.select(
                    CatalogClass.code_set,
                    CatalogClass.kind,
                    CatalogClass.code,
                    CatalogClass.name_zh,
                    CatalogClass.is_local_extension,
                ).where(CatalogClass.code_set == source.key, CatalogClass.level == "minor")
            )
        }
        report = switch_report(classes, mapping_rows(session), source.key, target.key)
        counts = component_usage(session) if actor.can(Permission.SETTINGS_WRITE) else None
    return [
        UnmappedClass(
            ref,
            classes[ref][0],
            classes[ref][1],
            None if counts is None else counts.get(ref, 0),
        )
        for ref in report.unmapped
    ]
