"""Layer code schemes as data: what a city may change (marker, division level, sequence digits,
display names) and the rules an edit must keep; what stays code is the structure (which schemes
exist, their kind, where a cell's shape comes from, tiling, dynamic codes).

The seed values are those of standards.md §1.3 and seeds 篇3/篇5/篇6 (see ``domain/layers.py``);
the migration stores them in ``layer_scheme_setting``, where an administrator may change them as
long as every rule below holds. The rules in force are built by ``services/layers.rules_of``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from gridcity.domain.divisions import CODE_LENGTH, DivisionLevel
from gridcity.domain.errors import InvalidInput
from gridcity.domain.layers import CellShape, LayerKind, LayerRules, Scheme

MARKER = re.compile(r"^[A-Z]{1,4}$")
MIN_SEQUENCE_DIGITS, MAX_SEQUENCE_DIGITS = 1, 4
NAME_MAX = 50
FIRE_LEVELS = (Scheme.FIRE_BIG, Scheme.FIRE_MEDIUM, Scheme.FIRE_SMALL)
_DEPTH = {level: index for index, level in enumerate(CODE_LENGTH)}  # district 0 … community 2


@dataclass(frozen=True)
class SchemeStructure:
    """What a scheme is, fixed in code: its kind, where cells come from, tiling, dynamic codes."""

    kind: LayerKind
    shape: CellShape
    tiles_division: bool = False
    dynamic_code: bool = False


@dataclass(frozen=True)
class SchemeSettings:
    """What a city may change about a scheme: its code format and its display names."""

    marker: str
    level: DivisionLevel
    sequence_digits: int
    name_zh: str
    name_en: str


_P, _U, _W = CellShape.POLYGON, CellShape.UNIT_GRIDS, CellShape.DIVISION
STRUCTURE: dict[Scheme, SchemeStructure] = {
    Scheme.UNIT: SchemeStructure(LayerKind.UNIT, _P, tiles_division=True),
    Scheme.RESPONSIBILITY: SchemeStructure(LayerKind.RESPONSIBILITY, _U),
    Scheme.SOCIAL: SchemeStructure(LayerKind.SOCIAL, _P, dynamic_code=True),
    Scheme.ENFORCEMENT: SchemeStructure(LayerKind.ENFORCEMENT, _P),
    Scheme.SANITATION: SchemeStructure(LayerKind.SANITATION, _P),
    Scheme.FIRE_BIG: SchemeStructure(LayerKind.FIRE, _W),
    Scheme.FIRE_MEDIUM: SchemeStructure(LayerKind.FIRE, _W),
    Scheme.FIRE_SMALL: SchemeStructure(LayerKind.FIRE, _P, tiles_division=True),
}
_D, _S, _C = DivisionLevel.DISTRICT, DivisionLevel.SUBDISTRICT, DivisionLevel.COMMUNITY
# The values migration 0004 stores; a scheme without a stored row falls back to them.
SEED_SETTINGS: dict[Scheme, SchemeSettings] = {
    Scheme.UNIT: SchemeSettings("", _C, 3, "单元网格", "Unit grid"),
    Scheme.RESPONSIBILITY: SchemeSettings("ZR", _S, 2, "责任网格", "Responsibility grid"),
    Scheme.SOCIAL: SchemeSettings("SH", _C, 3, "社会服务管理网格", "Social-service grid"),
    Scheme.ENFORCEMENT: SchemeSettings("ZF", _D, 3, "执法网格", "Enforcement grid"),
    Scheme.SANITATION: SchemeSettings("HW", _D, 3, "环卫网格", "Sanitation grid"),
    Scheme.FIRE_BIG: SchemeSettings("XF", _S, 0, "消防大网格", "Fire grid, big"),
    Scheme.FIRE_MEDIUM: SchemeSettings("XF", _C, 0, "消防中网格", "Fire grid, medium"),
    Scheme.FIRE_SMALL: SchemeSettings("XF", _C, 2, "消防小网格", "Fire grid, small (zone)"),
}


def build_rules(scheme: Scheme, settings: SchemeSettings) -> LayerRules:
    """The rules of a scheme from its fixed structure and its settings."""
    structure = STRUCTURE[scheme]
    return LayerRules(
        scheme=scheme,
        kind=structure.kind,
        marker=settings.marker,
        level=settings.level,
        sequence_digits=settings.sequence_digits,
        shape=structure.shape,
        tiles_division=structure.tiles_division,
        dynamic_code=structure.dynamic_code,
    )


SEED_RULES: dict[Scheme, LayerRules] = {s: build_rules(s, SEED_SETTINGS[s]) for s in Scheme}
UNIT_RULES = SEED_RULES[Scheme.UNIT]  # fixed by GB/T 30428.1, never edited


def parse_level(value: str) -> DivisionLevel:
    """A division level by name, or a refusal listing the levels."""
    try:
        return DivisionLevel(value)
    except ValueError:
        raise InvalidInput(
            "layer_scheme_level_unknown",
            "Unknown division level %(level)s; known: %(known)s",
            level=value,
            known=", ".join(level.value for level in DivisionLevel),
        ) from None


def settings_of(rules: LayerRules, names: SchemeSettings) -> SchemeSettings:
    """The settings behind a scheme's rules, with the display names given."""
    return replace(
        names, marker=rules.marker, level=rules.level, sequence_digits=rules.sequence_digits
    )


# --- checking an edit -------------------------------------------------------------------------


def check_settings(scheme: Scheme, settings: SchemeSettings) -> SchemeSettings:
    """One scheme's settings on their own: an editable scheme, marker, digits, level, names."""
    if scheme is Scheme.UNIT:
        raise InvalidInput(
            "layer_scheme_fixed",
            "The unit grid code is fixed by the national standard and cannot be changed",
        )
    if not MARKER.match(settings.marker):
        raise InvalidInput(
            "layer_scheme_marker",
            "A marker has 1 to 4 upper-case letters A-Z, got %(marker)s",
            marker=settings.marker,
        )
    whole_division = STRUCTURE[scheme].shape is CellShape.DIVISION
    if whole_division and settings.sequence_digits != 0:
        raise InvalidInput(
            "layer_scheme_whole_division_digits",
            "A %(scheme)s cell is a whole division and takes no sequence digits",
            scheme=scheme.value,
        )
    if not whole_division and not (
        MIN_SEQUENCE_DIGITS <= settings.sequence_digits <= MAX_SEQUENCE_DIGITS
    ):
        raise InvalidInput(
            "layer_scheme_digits",
            "A sequence has %(min)s to %(max)s digits, got %(digits)s",
            min=MIN_SEQUENCE_DIGITS,
            max=MAX_SEQUENCE_DIGITS,
            digits=settings.sequence_digits,
        )
    if whole_division and settings.level is DivisionLevel.DISTRICT:
        # A whole-division cell is a grid within a district: a subdistrict or a community.
        raise InvalidInput(
            "layer_scheme_level",
            "A %(scheme)s cell is a whole subdistrict or community, not a district",
            scheme=scheme.value,
        )
    for name in (settings.name_zh, settings.name_en):
        if not 1 <= len(name.strip()) <= NAME_MAX:
            raise InvalidInput(
                "layer_scheme_name", "A display name needs 1 to %(max)s characters", max=NAME_MAX
            )
    return replace(settings, name_zh=settings.name_zh.strip(), name_en=settings.name_en.strip())


def check_rule_set(rules: Mapping[Scheme, LayerRules]) -> None:
    """All schemes together: one fire marker, nested fire codes, one marker per kind."""
    fire = [rules[s] for s in FIRE_LEVELS]
    if len({r.marker for r in fire}) != 1:
        raise InvalidInput(
            "layer_scheme_fire_marker",
            "The three fire schemes share one marker; change it on all three at once",
        )
    big, medium, small = (_DEPTH[r.level] for r in fire)
    if not big < medium <= small:
        raise InvalidInput(
            "layer_scheme_fire_hierarchy",
            "Fire codes nest big ⊃ medium ⊃ small: the big grid's division must lie above the "
            "medium grid's, and the medium grid's must not lie below the small zone's",
        )
    owner: dict[str, LayerKind] = {}
    for scheme in sorted(rules):
        current = rules[scheme]
        if current.scheme is Scheme.UNIT:
            continue
        other = owner.setdefault(current.marker, current.kind)
        if other is not current.kind:
            raise InvalidInput(
                "layer_scheme_marker_taken",
                "Marker %(marker)s is already used by the %(kind)s layers",
                marker=current.marker,
                kind=other.value,
            )


def check_stored_cells(cells: Iterable[tuple[str, str]]) -> None:
    """No format change while the scheme holds a cell (layer code, cell code), in force or not."""
    # Matching the new format is not enough: ZF1101010013 (subdistrict level, 1 digit, a cell of
    # 110101001) still matches district level with 4 digits, where it is a cell of 110101 — a
    # silent change of data scope. A stored code keeps the meaning it was stored with.
    first = next(iter(cells), None)
    if first is not None:
        layer, code = first
        raise InvalidInput(
            "layer_scheme_cells_mismatch",
            "Layer %(layer)s holds cells (such as %(code)s): the code format of its scheme "
            "cannot change once cells are stored, only the display names",
            code=code,
            layer=layer,
        )


def plan_edit(
    current: Mapping[Scheme, LayerRules],
    edits: Mapping[Scheme, SchemeSettings],
    stored: Mapping[Scheme, Iterable[tuple[str, str]]],
) -> dict[Scheme, LayerRules]:
    """The rules after an edit of one or more schemes, or the first rule it breaks.

    ``stored`` gives, per edited scheme, the (layer, code) of every cell a layer of that scheme
    holds, in force or historical: a scheme holding any cell keeps its format (marker, level,
    digits); its display names stay editable.
    """
    proposed = dict(current)
    for scheme, settings in edits.items():
        proposed[scheme] = build_rules(scheme, check_settings(scheme, settings))
    check_rule_set(proposed)
    for scheme in edits:
        if proposed[scheme] != current[scheme]:
            check_stored_cells(stored.get(scheme, ()))
    return proposed
