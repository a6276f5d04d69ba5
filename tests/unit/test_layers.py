"""Layer schemes: each kind of layer codes its cells its own way and checks its own coverage rule."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import box

from gridcity.domain.errors import InvalidInput
from gridcity.domain.layer_schemes import SEED_RULES as RULES
from gridcity.domain.layers import (
    Scheme,
    check_geometry,
    check_layer_code,
    check_members,
    dynamic_codes,
    parse_scheme,
    plan_codes,
)

SUB, COMM = "110101001", "110101001001"
# Planar areas of these boxes, in "square metres" for the checks below (1 unit = 1 m).
M2 = 1.0


def refusal(call: object, *args: object, **kwargs: object) -> str:
    """The code of the refusal a call raises."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


# --- codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "division", "sequence", "code"),
    [
        (Scheme.RESPONSIBILITY, SUB, 3, "ZR11010100103"),
        (Scheme.SOCIAL, COMM, 12, "SH110101001001012"),
        (Scheme.ENFORCEMENT, "110101", 41, "ZF110101041"),
        (Scheme.SANITATION, "110101", 9, "HW110101009"),
        (Scheme.FIRE_BIG, SUB, 0, "XF110101001"),
        (Scheme.FIRE_MEDIUM, COMM, 0, "XF110101001001"),
        (Scheme.FIRE_SMALL, COMM, 2, "XF11010100100102"),
    ],
)
def test_each_scheme_codes_a_cell_by_marker_division_and_sequence(
    scheme: Scheme, division: str, sequence: int, code: str
) -> None:
    rules = RULES[scheme]
    assert rules.code(division, sequence) == code
    assert rules.check_code(code) == code
    assert rules.division_of(code) == division


def test_the_three_fire_levels_nest_by_code_prefix() -> None:
    big = RULES[Scheme.FIRE_BIG].code(SUB)
    medium = RULES[Scheme.FIRE_MEDIUM].code(COMM)
    small = RULES[Scheme.FIRE_SMALL].code(COMM, 1)
    assert small.startswith(medium) and medium.startswith(big)


@pytest.mark.parametrize(
    ("scheme", "code", "reason"),
    [
        (Scheme.RESPONSIBILITY, "ZF11010100101", "layer_cell_code_format"),
        (Scheme.RESPONSIBILITY, "ZR1101010010", "layer_cell_code_format"),
        (Scheme.RESPONSIBILITY, "ZR11010100100", "layer_cell_code_sequence"),
        (Scheme.SOCIAL, "SH990101001001001", "division_code_province"),
        (Scheme.FIRE_MEDIUM, "XF110101001000", "division_code_zero_segment"),
        (Scheme.UNIT, "110101001001000", "grid_code_sequence"),
    ],
)
def test_a_code_off_the_scheme_is_refused_with_the_reason(
    scheme: Scheme, code: str, reason: str
) -> None:
    assert refusal(RULES[scheme].check_code, code) == reason


def test_missing_codes_take_the_next_free_sequence_of_their_division() -> None:
    rules = RULES[Scheme.SOCIAL]
    given = [("SH110101001001004", None), (None, COMM), (None, "110101001002"), (None, COMM)]

    codes = plan_codes(rules, given)

    assert codes == [
        "SH110101001001004",
        "SH110101001001005",
        "SH110101001002001",
        "SH110101001001006",
    ]


def test_whole_division_cells_are_coded_after_their_division_once() -> None:
    rules = RULES[Scheme.FIRE_BIG]
    assert plan_codes(rules, [(None, SUB), (None, "110101002")]) == ["XF110101001", "XF110101002"]
    assert refusal(plan_codes, rules, [(None, SUB), (None, SUB)]) == "layer_cell_code_duplicate"


def test_a_drawing_refuses_repeated_codes_and_cells_without_code_or_division() -> None:
    rules = RULES[Scheme.SANITATION]
    twice = [("HW110101001", None), ("HW110101001", None)]
    assert refusal(plan_codes, rules, twice) == "layer_cell_code_duplicate"
    assert refusal(plan_codes, rules, [(None, None)]) == "layer_cell_needs_code"
    assert refusal(plan_codes, RULES[Scheme.RESPONSIBILITY], [(None, "110101")]) == (
        "division_code_length"
    )


def test_a_division_full_of_cells_refuses_one_more() -> None:
    rules = RULES[Scheme.RESPONSIBILITY]
    assert refusal(plan_codes, rules, [("ZR11010100199", None), (None, SUB)]) == (
        "layer_cell_sequence_full"
    )


def test_layer_codes_and_schemes_are_checked() -> None:
    assert check_layer_code("fire-small") == "fire-small"
    assert refusal(check_layer_code, "Fire Small") == "layer_code_format"
    assert parse_scheme("fire_small") is Scheme.FIRE_SMALL
    assert refusal(parse_scheme, "fire") == "layer_scheme_unknown"


def test_a_data_scope_reaches_cells_in_and_around_its_divisions() -> None:
    assert RULES[Scheme.RESPONSIBILITY].scope_prefix(COMM) == "ZR110101001"
    assert RULES[Scheme.SOCIAL].scope_prefix(SUB) == "SH110101001"
    assert RULES[Scheme.SANITATION].scope_prefix(SUB) == "HW110101"


# --- unit-grid cells --------------------------------------------------------------------------


def test_a_unit_grid_belongs_to_at_most_one_responsibility_grid() -> None:
    rules = RULES[Scheme.RESPONSIBILITY]
    codes = ["ZR11010100101", "ZR11010100102"]
    check_members(rules, codes, [["110101001001001"], ["110101001001002", "110101001002001"]])

    with pytest.raises(InvalidInput) as caught:
        check_members(rules, codes, [["110101001001001"], ["110101001001001"]])
    assert caught.value.code == "layer_grid_twice"
    assert caught.value.params["grid"] == "110101001001001"


def test_a_responsibility_grid_lists_unit_grids_of_its_own_subdistrict() -> None:
    rules = RULES[Scheme.RESPONSIBILITY]
    code = ["ZR11010100101"]
    assert refusal(check_members, rules, code, [["110101002001001"]]) == (
        "layer_grid_outside_division"
    )
    assert refusal(check_members, rules, code, [[]]) == "layer_cell_no_grids"
    assert refusal(check_members, rules, code, [["11010100100100"]]) == "grid_code_format"


# --- geometry -------------------------------------------------------------------------------


def test_polygon_cells_must_lie_inside_their_division() -> None:
    rules = RULES[Scheme.SANITATION]
    district = {"110101": box(0, 0, 100, 100)}
    check_geometry(rules, ["HW110101001"], [box(0, 0, 100, 50)], district, m2_per_unit=M2)

    with pytest.raises(InvalidInput) as caught:
        check_geometry(rules, ["HW110101001"], [box(50, 0, 150, 50)], district, m2_per_unit=M2)
    assert caught.value.code == "layer_cell_outside_division"
    assert caught.value.params["pct"] == 50.0


def test_cells_of_a_layer_must_not_overlap_beyond_drawing_noise() -> None:
    rules = RULES[Scheme.ENFORCEMENT]
    district = {"110101": box(0, 0, 1000, 1000)}
    codes = ["ZF110101001", "ZF110101002"]
    sliver = [box(0, 0, 500.4, 1000), box(500, 0, 1000, 1000)]  # 400 m², under 0.1 % of either
    check_geometry(rules, codes, sliver, district, m2_per_unit=M2)

    with pytest.raises(InvalidInput) as caught:
        overlap = [box(0, 0, 600, 1000), box(500, 0, 1000, 1000)]
        check_geometry(rules, codes, overlap, district, m2_per_unit=M2)
    assert caught.value.code == "layer_cell_overlap"
    assert caught.value.params == {"a": codes[0], "b": codes[1], "m2": 100_000.0}


def test_fire_zones_must_tile_each_community_they_divide() -> None:
    rules = RULES[Scheme.FIRE_SMALL]
    communities = {COMM: box(0, 0, 100, 100), "110101001002": box(100, 0, 200, 100)}
    codes = ["XF11010100100101", "XF11010100100102"]
    check_geometry(
        rules, codes, [box(0, 0, 50, 100), box(50, 0, 100, 100)], communities, m2_per_unit=M2
    )

    with pytest.raises(InvalidInput) as caught:
        check_geometry(
            rules, codes, [box(0, 0, 50, 100), box(50, 0, 90, 100)], communities, m2_per_unit=M2
        )
    assert caught.value.code == "layer_cell_gap"
    assert caught.value.params == {"pct": 10.0, "division": COMM}


def test_a_social_layer_may_leave_part_of_a_community_without_grids() -> None:
    rules = RULES[Scheme.SOCIAL]
    communities = {COMM: box(0, 0, 100, 100)}
    check_geometry(rules, ["SH110101001001001"], [box(0, 0, 50, 50)], communities, m2_per_unit=M2)


# --- social-service grids: static and dynamic codes -----------------------------------------


def test_dynamic_codes_number_the_cells_of_a_community_north_to_south_then_west_to_east() -> None:
    rules = RULES[Scheme.SOCIAL]
    codes = ["SH110101001001001", "SH110101001001002", "SH110101001001003"]
    shapes = [box(0, 0, 10, 10), box(10, 10, 20, 20), box(0, 10, 10, 20)]  # SW, NE, NW

    dynamic = dynamic_codes(rules, codes, shapes, [None, None, None], date(2026, 1, 1))

    assert dynamic == [
        "110101001001-20260101-003",
        "110101001001-20260101-002",
        "110101001001-20260101-001",
    ]


def test_a_new_drawing_gives_new_dynamic_codes_and_a_given_one_is_kept() -> None:
    rules = RULES[Scheme.SOCIAL]
    codes = ["SH110101001001001", "SH110101001001002"]
    shapes = [box(0, 10, 10, 20), box(0, 0, 10, 10)]

    dynamic = dynamic_codes(rules, codes, shapes, [None, " 东四-07 "], date(2026, 7, 1))

    assert dynamic == ["110101001001-20260701-001", "东四-07"]
    assert refusal(dynamic_codes, rules, codes, shapes, ["x", "x"], date(2026, 7, 1)) == (
        "layer_dynamic_code_duplicate"
    )
    assert refusal(dynamic_codes, rules, codes, shapes, ["", None], date(2026, 7, 1)) == (
        "layer_dynamic_code"
    )
