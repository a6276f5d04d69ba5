"""Layer code schemes as data (convention 5): list them with their formats, and change a
scheme's marker, division level, sequence digits or display names (administrators).

An edit is checked by ``domain.layer_schemes.plan_edit`` against every stored cell of every
layer using the scheme (in force or historical) and applied in one transaction with its audit
row. Every scheme's settings row stays locked until commit (the rules span schemes), and a re-drawing holds the row it
checked against (``rules_of(…, hold=True)``), so no cell can be drawn in a format that is being
replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gridcity.adapters.db.engine import lock_rows
from gridcity.adapters.db.tables import GridCell, GridLayer, GridLayerScheme, LayerSchemeSetting
from gridcity.adapters.spatial_index import bump_version
from gridcity.domain.access import Actor, Permission, require
from gridcity.domain.layer_schemes import (
    SEED_SETTINGS,
    STRUCTURE,
    SchemeSettings,
    build_rules,
    parse_level,
    plan_edit,
)
from gridcity.domain.layers import DEFAULT_SCHEME, LayerRules, Scheme, parse_scheme
from gridcity.services import audit
from gridcity.services.deps import RequestInfo, ServiceDeps
from gridcity.services.grids import GRIDS_STATE
from gridcity.services.layers import SCHEME_TABLE, scheme_settings


@dataclass(frozen=True)
class SchemeEdit:
    """Fields of a scheme to change; None keeps the stored value."""

    marker: str | None = None
    level: str | None = None
    sequence_digits: int | None = None
    name_zh: str | None = None
    name_en: str | None = None


@dataclass(frozen=True)
class SchemeView:
    """A scheme with its format (editable settings and fixed structure) and an example code."""

    scheme: str
    kind: str
    marker: str
    division_level: str
    sequence_digits: int
    name_zh: str
    name_en: str
    shape: str
    tiles_division: bool
    dynamic_code: bool
    code_pattern: str
    example: str
    editable: bool
    layers: int


def _view(rules: LayerRules, settings: SchemeSettings, layers: int) -> SchemeView:
    """Read model of a scheme."""
    structure = STRUCTURE[rules.scheme]
    division = "110101001001"[: rules.division_digits]
    return SchemeView(
        scheme=rules.scheme.value,
        kind=structure.kind.value,
        marker=rules.marker,
        division_level=rules.level.value,
        sequence_digits=rules.sequence_digits,
        name_zh=settings.name_zh,
        name_en=settings.name_en,
        shape=structure.shape.value,
        tiles_division=structure.tiles_division,
        dynamic_code=structure.dynamic_code,
        code_pattern=rules.pattern,
        example=rules.code(division, 1) if rules.scheme is not Scheme.UNIT else "110101001001001",
        editable=rules.scheme is not Scheme.UNIT,
        layers=layers,
    )


def _layer_counts(session: Session) -> dict[Scheme, int]:
    """How many layers use each scheme (a layer without a row takes its kind's scheme)."""
    rows = session.execute(
        sa.select(GridLayer.kind, GridLayerScheme.scheme).outerjoin(
            GridLayerScheme, GridLayerScheme.layer_id == GridLayer.id
        )
    )
    counts: dict[Scheme, int] = {}
    for kind, scheme in rows:
        chosen = Scheme(scheme) if scheme else DEFAULT_SCHEME.get(kind)
        if chosen is not None:
            counts[chosen] = counts.get(chosen, 0) + 1
    return counts


def list_layer_schemes(deps: ServiceDeps, actor: Actor) -> list[SchemeView]:
    """Every scheme with its code format, in the order of ``Scheme`` (all staff)."""
    require(actor, Permission.GRID_READ)
    with deps.db.read() as session:
        settings = scheme_settings(session)
        counts = _layer_counts(session)
    return [_view(build_rules(s, settings[s]), settings[s], counts.get(s, 0)) for s in Scheme]


def get_layer_scheme(deps: ServiceDeps, actor: Actor, scheme: str) -> SchemeView:
    """One scheme by name (all staff)."""
    chosen = parse_scheme(scheme)
    return next(v for v in list_layer_schemes(deps, actor) if v.scheme == chosen.value)


def update_layer_scheme(
    deps: ServiceDeps, actor: Actor, scheme: str, edit: SchemeEdit, *, info: RequestInfo
) -> SchemeView:
    """Change one scheme's settings (administrators); see ``update_layer_schemes``."""
    chosen = parse_scheme(scheme).value
    views = update_layer_schemes(deps, actor, {chosen: edit}, info=info)
    return next(v for v in views if v.scheme == chosen)


def update_layer_schemes(
    deps: ServiceDeps, actor: Actor, edits: Mapping[str, SchemeEdit], *, info: RequestInfo
) -> list[SchemeView]:
    """Change several schemes at once (the fire marker is shared by three), all-or-nothing.

    Refused when the new settings break a rule of ``domain.layer_schemes`` or when a layer
    using an edited scheme holds cells and the edit changes the scheme's format.
    """
    require(actor, Permission.SETTINGS_WRITE)
    chosen = {parse_scheme(name): edit for name, edit in edits.items()}
    now = deps.clock()
    with deps.db.transaction() as session:
        # Lock first: a drawing in progress finishes (or waits) before the cells are checked.
        # Every row, not only the edited ones: the rule set (one marker per kind, nested fire
        # levels) is checked across all schemes, so two edits must not pass each other.
        lock_rows(session, SCHEME_TABLE)
        _restore_lost_rows(session, now)
        settings = scheme_settings(session)
        current = {s: build_rules(s, v) for s, v in settings.items()}
        wanted = {s: _apply(settings[s], edit) for s, edit in chosen.items()}
        stored = {
            s: _stored_cells(session, s) for s in chosen if build_rules(s, wanted[s]) != current[s]
        }
        proposed = plan_edit(current, wanted, stored)
        changes: dict[str, Any] = {}
        for scheme, new in wanted.items():
            diff = _diff(settings[scheme], new)
            if diff:
                _store(session, scheme, new, now)
                changes[scheme.value] = diff
        if changes:
            if any(proposed[s] != current[s] for s in chosen):
                bump_version(session, GRIDS_STATE, now)  # locator answers carry cell codes
            audit.append(
                session,
                at=now,
                actor=actor,
                action="layer_scheme.updated",
                target_type="layer_scheme",
                target_id=",".join(sorted(changes)),
                detail=changes,
                info=info,
            )
        counts = _layer_counts(session)
    return [_view(proposed[s], wanted.get(s, settings[s]), counts.get(s, 0)) for s in Scheme]


def _apply(settings: SchemeSettings, edit: SchemeEdit) -> SchemeSettings:
    """Settings with an edit's fields applied."""
    return replace(
        settings,
        marker=edit.marker.strip() if edit.marker is not None else settings.marker,
        level=parse_level(edit.level.strip()) if edit.level is not None else settings.level,
        sequence_digits=edit.sequence_digits
        if edit.sequence_digits is not None
        else settings.sequence_digits,
        name_zh=edit.name_zh.strip() if edit.name_zh is not None else settings.name_zh,
        name_en=edit.name_en.strip() if edit.name_en is not None else settings.name_en,
    )


def _diff(old: SchemeSettings, new: SchemeSettings) -> dict[str, list[Any]]:
    """The changed fields as [before, after] (for the audit log)."""
    found: dict[str, list[Any]] = {}
    for key in ("marker", "level", "sequence_digits", "name_zh", "name_en"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            found[key] = [str(before), str(after)] if key == "level" else [before, after]
    return found


def _stored_cells(session: Session, scheme: Scheme) -> list[tuple[str, str]]:
    """(layer, code) of every cell, in force or not, of the layers using a scheme."""
    kinds = [kind for kind, default in DEFAULT_SCHEME.items() if default is scheme]
    explicit = sa.select(GridLayerScheme.layer_id).where(GridLayerScheme.scheme == scheme.value)
    without_row = sa.select(GridLayer.id).where(
        GridLayer.kind.in_(kinds),
        ~sa.exists().where(GridLayerScheme.layer_id == GridLayer.id),
    )
    rows = session.execute(
        sa.select(GridLayer.code, GridCell.code)
        .join(GridCell, GridCell.layer_id == GridLayer.id)
        .where(sa.or_(GridLayer.id.in_(explicit), GridLayer.id.in_(without_row)))
        .distinct()
        .order_by(GridLayer.code, GridCell.code)
    )
    return [(layer, code) for layer, code in rows]


def _restore_lost_rows(session: Session, now: Any) -> None:
    """Insert the seed row of every scheme a database lost, before anything is read."""
    # A lost row cannot be locked; inserting it makes it ours until commit, and a concurrent edit
    # inserting the same row fails on its key (a clear concurrent_change, never a lost edit).
    present = set(session.scalars(sa.select(LayerSchemeSetting.scheme)))
    for scheme in Scheme:
        if scheme.value not in present:
            seed = SEED_SETTINGS[scheme]
            session.add(
                LayerSchemeSetting(
                    scheme=scheme.value,
                    marker=seed.marker,
                    division_level=seed.level.value,
                    sequence_digits=seed.sequence_digits,
                    name_zh=seed.name_zh,
                    name_en=seed.name_en,
                    updated_at=now,
                )
            )
    session.flush()


def _store(session: Session, scheme: Scheme, settings: SchemeSettings, now: Any) -> None:
    """Write a scheme's settings row (present: ``_restore_lost_rows`` ran first)."""
    row = session.get(LayerSchemeSetting, scheme.value)
    assert row is not None
    row.marker = settings.marker
    row.division_level = settings.level.value
    row.sequence_digits = settings.sequence_digits
    row.name_zh = settings.name_zh
    row.name_en = settings.name_en
    row.updated_at = now
