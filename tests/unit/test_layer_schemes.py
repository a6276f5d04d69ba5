"""Layer schemes as data: an edit of a scheme's format is checked on its own, against the other
schemes, and against the cells already stored; each refusal has its reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import InvalidInput
from gridcity.domain.layer_schemes import (
    SEED_RULES,
    SEED_SETTINGS,
    SchemeSettings,
    build_rules,
    parse_level,
    plan_edit,
)
from gridcity.domain.layers import Scheme

S = Scheme
SUB, COMM = DivisionLevel.SUBDISTRICT, DivisionLevel.COMMUNITY


def edited(scheme: Scheme, **changes: object) -> SchemeSettings:
    """The seed settings of a scheme with some fields changed."""
    return replace(SEED_SETTINGS[scheme], **changes)  # type: ignore[arg-type]


def refusal(edits: dict[Scheme, SchemeSettings], stored: dict | None = None) -> str:  # type: ignore[type-arg]
    """The code of the refusal an edit meets."""
    with pytest.raises(InvalidInput) as caught:
        plan_edit(SEED_RULES, edits, stored or {})
    return caught.value.code


def test_the_seed_rules_are_todays_formats() -> None:
    assert SEED_RULES[S.RESPONSIBILITY].pattern == "^ZR[0-9]{9}[0-9]{2}$"
    assert SEED_RULES[S.FIRE_BIG].code("110101001") == "XF110101001"
    assert SEED_RULES[S.SOCIAL].dynamic_code and SEED_RULES[S.FIRE_SMALL].tiles_division


def test_an_edit_gives_the_new_rules_and_leaves_the_structure_alone() -> None:
    rules = plan_edit(
        SEED_RULES,
        {S.SANITATION: edited(S.SANITATION, marker="HJ", level=SUB, sequence_digits=2)},
        {S.SANITATION: []},
    )

    assert rules[S.SANITATION].code("110101001", 7) == "HJ11010100107"
    assert rules[S.SANITATION].shape is SEED_RULES[S.SANITATION].shape
    assert rules[S.ENFORCEMENT] == SEED_RULES[S.ENFORCEMENT]


@pytest.mark.parametrize(
    ("scheme", "changes", "reason"),
    [
        (S.UNIT, {"marker": "DY"}, "layer_scheme_fixed"),
        (S.SOCIAL, {"marker": ""}, "layer_scheme_marker"),
        (S.SOCIAL, {"marker": "sh"}, "layer_scheme_marker"),
        (S.SOCIAL, {"marker": "SHEHU"}, "layer_scheme_marker"),
        (S.SOCIAL, {"marker": "S1"}, "layer_scheme_marker"),
        (S.SOCIAL, {"marker": "社会"}, "layer_scheme_marker"),
        (S.SOCIAL, {"sequence_digits": 0}, "layer_scheme_digits"),
        (S.SOCIAL, {"sequence_digits": 5}, "layer_scheme_digits"),
        (S.FIRE_BIG, {"sequence_digits": 2}, "layer_scheme_whole_division_digits"),
        (S.FIRE_MEDIUM, {"sequence_digits": 1}, "layer_scheme_whole_division_digits"),
        (S.FIRE_BIG, {"level": DivisionLevel.DISTRICT}, "layer_scheme_level"),
        (S.SOCIAL, {"name_zh": " "}, "layer_scheme_name"),
        (S.SOCIAL, {"name_en": "x" * 51}, "layer_scheme_name"),
    ],
)
def test_settings_that_break_a_rule_of_their_own_are_refused(
    scheme: Scheme, changes: dict[str, object], reason: str
) -> None:
    assert refusal({scheme: edited(scheme, **changes)}) == reason


def test_an_unknown_division_level_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_level("city")
    assert caught.value.code == "layer_scheme_level_unknown"
    assert parse_level("community") is COMM


def test_the_fire_schemes_keep_one_marker_and_change_it_together() -> None:
    assert refusal({S.FIRE_BIG: edited(S.FIRE_BIG, marker="FX")}) == "layer_scheme_fire_marker"

    together = plan_edit(SEED_RULES, {s: edited(s, marker="FX") for s in (S.FIRE_BIG, S.FIRE_MEDIUM, S.FIRE_SMALL)}, {})  # fmt: skip

    assert together[S.FIRE_SMALL].code("110101001001", 1) == "FX11010100100101"


@pytest.mark.parametrize(
    "edits",
    [
        {S.FIRE_MEDIUM: edited(S.FIRE_MEDIUM, level=SUB)},  # medium = big: no nesting
        {S.FIRE_SMALL: edited(S.FIRE_SMALL, level=SUB)},  # small above medium
        {S.FIRE_BIG: edited(S.FIRE_BIG, level=COMM)},  # big below medium
    ],
)
def test_fire_codes_must_nest_big_medium_small(edits: dict[Scheme, SchemeSettings]) -> None:
    assert refusal(edits) == "layer_scheme_fire_hierarchy"


def test_zones_at_the_medium_grids_level_still_nest() -> None:
    rules = plan_edit(
        SEED_RULES,
        {
            S.FIRE_BIG: edited(S.FIRE_BIG, level=DivisionLevel.SUBDISTRICT),
            S.FIRE_SMALL: edited(S.FIRE_SMALL, sequence_digits=3),
        },
        {},
    )
    assert (
        rules[S.FIRE_SMALL]
        .code("110101001001", 1)
        .startswith(rules[S.FIRE_MEDIUM].code("110101001001"))
    )


@pytest.mark.parametrize(
    ("scheme", "marker"),
    [(S.SOCIAL, "ZR"), (S.SANITATION, "XF"), (S.ENFORCEMENT, "HW")],
)
def test_markers_of_different_kinds_differ(scheme: Scheme, marker: str) -> None:
    assert refusal({scheme: edited(scheme, marker=marker)}) == "layer_scheme_marker_taken"


def test_an_edit_no_stored_cell_would_match_is_refused_naming_one() -> None:
    stored = {S.RESPONSIBILITY: [("patrol", "ZR11010100101"), ("patrol", "ZR11010100102")]}

    with pytest.raises(InvalidInput) as caught:
        plan_edit(
            SEED_RULES, {S.RESPONSIBILITY: edited(S.RESPONSIBILITY, sequence_digits=3)}, stored
        )

    assert caught.value.code == "layer_scheme_cells_mismatch"
    assert caught.value.params["code"] == "ZR11010100101"
    assert caught.value.params["layer"] == "patrol"


def test_stored_cells_that_still_match_let_the_names_and_format_through() -> None:
    stored = {S.RESPONSIBILITY: [("patrol", "ZR11010100101")]}

    rules = plan_edit(
        SEED_RULES, {S.RESPONSIBILITY: edited(S.RESPONSIBILITY, name_zh="巡查区")}, stored
    )

    assert rules[S.RESPONSIBILITY] == SEED_RULES[S.RESPONSIBILITY]


def test_a_new_level_makes_old_division_codes_mismatch() -> None:
    stored = {S.SANITATION: [("sanitation", "HW110101009")]}

    assert refusal({S.SANITATION: edited(S.SANITATION, level=SUB)}, stored) == (
        "layer_scheme_cells_mismatch"
    )


def test_build_rules_keeps_the_structure_of_the_scheme() -> None:
    rules = build_rules(S.SOCIAL, edited(S.SOCIAL, marker="SQ"))
    assert rules.dynamic_code and rules.marker == "SQ" and rules.kind.value == "social"


def test_a_format_a_stored_code_still_matches_is_refused_too_it_would_change_its_division() -> None:
    """ZF1101010013 at subdistrict level with 1 digit is a cell of 110101001; at district level
    with 4 digits it still matches but would be a cell of 110101 (another data scope)."""
    at_subdistrict = build_rules(S.ENFORCEMENT, edited(S.ENFORCEMENT, level=SUB, sequence_digits=1))
    current = {**SEED_RULES, S.ENFORCEMENT: at_subdistrict}
    stored = {S.ENFORCEMENT: [("enforcement", "ZF1101010013")]}
    to_district = edited(S.ENFORCEMENT, level=DivisionLevel.DISTRICT, sequence_digits=4)
    assert build_rules(S.ENFORCEMENT, to_district).division_of("ZF1101010013") == "110101"

    with pytest.raises(InvalidInput) as caught:
        plan_edit(current, {S.ENFORCEMENT: to_district}, stored)

    assert caught.value.code == "layer_scheme_cells_mismatch"
    assert caught.value.params == {"code": "ZF1101010013", "layer": "enforcement"}


def test_the_names_of_a_scheme_holding_cells_still_change() -> None:
    stored = {S.ENFORCEMENT: [("enforcement", "ZF110101001")]}

    rules = plan_edit(SEED_RULES, {S.ENFORCEMENT: edited(S.ENFORCEMENT, name_en="Law")}, stored)

    assert rules[S.ENFORCEMENT] == SEED_RULES[S.ENFORCEMENT]
