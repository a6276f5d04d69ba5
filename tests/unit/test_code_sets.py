"""Class codes, component identifiers and matter codes of both code sets; every wrong format is
refused with its own code; class rules (time limits, criteria, form fields) are checked."""

from __future__ import annotations

import pytest

from gridcity.domain.catalog import (
    CJT214_2007,
    CODE_SETS,
    GBT47678_5_2026,
    AreaClass,
    TimeUnit,
    Urgency,
    component_identifier,
    matter_code,
    parse_code_set,
    parse_component_identifier,
    parse_filing_criteria,
    parse_form_fields,
    parse_kind,
    parse_matter_code,
    parse_time_limits,
    validate_class_code,
)
from gridcity.domain.errors import InvalidInput

OLD, NEW = CODE_SETS[CJT214_2007], CODE_SETS[GBT47678_5_2026]


def refused(code: str, call, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """The call is refused with the given machine code."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code


def test_the_2007_set_has_four_digit_classes_and_the_2026_set_five() -> None:
    assert validate_class_code(OLD, "0101") == "0101"
    assert validate_class_code(NEW, "01001") == "01001"
    refused("invalid_class_code", validate_class_code, OLD, "01001")
    refused("invalid_class_code", validate_class_code, NEW, "0101")
    refused("invalid_class_code", validate_class_code, OLD, "01a1")
    refused("invalid_class_code", validate_class_code, OLD, "0100")
    refused("invalid_major_code", validate_class_code, NEW, "00001")


def test_the_2026_set_has_matters_and_the_2007_set_events() -> None:
    assert parse_kind(NEW, "matter").value == "matter"
    assert parse_kind(OLD, "event").value == "event"
    refused("unknown_class_kind", parse_kind, OLD, "matter")
    refused("unknown_class_kind", parse_kind, NEW, "event")
    refused("unknown_code_set", parse_code_set, "gbt_1999")


def test_component_identifiers_match_the_published_examples() -> None:
    # standards.md §2.2: 3205080101000001 is 上水井盖 in 320508; 3205820305007077 is 垃圾箱.
    assert component_identifier(OLD, "320508", "0101", 1) == "3205080101000001"
    parsed = parse_component_identifier(OLD, "3205820305007077")
    assert (parsed.admin, parsed.class_code, parsed.serial) == ("320582", "0305", 7077)
    assert component_identifier(NEW, "320508", "01001", 1) == "32050801001000001"
    assert len(component_identifier(NEW, "320508", "01001", 999_999)) == 17


def test_wrong_component_identifiers_are_refused() -> None:
    refused("invalid_component_identifier", parse_component_identifier, OLD, "32050801010000011")
    refused("invalid_component_identifier", parse_component_identifier, NEW, "3205080101000001")
    refused("invalid_component_identifier", parse_component_identifier, OLD, "320508010100000x")
    refused("invalid_serial", parse_component_identifier, OLD, "3205080101000000")
    refused("invalid_class_code", parse_component_identifier, OLD, "3205080100000001")
    # 320000 (Jiangsu) became valid with "county-level or higher"; 320001 names no division
    refused("invalid_admin_code", parse_component_identifier, OLD, "3200010101000001")
    refused("invalid_serial", component_identifier, OLD, "320508", "0101", 1_000_000)
    refused("invalid_serial", component_identifier, OLD, "320508", "0101", 0)
    refused("invalid_admin_code", component_identifier, OLD, "32050", "0101", 1)


def test_matter_codes_are_eleven_digits_and_only_in_2026() -> None:
    assert matter_code(NEW, "320508", "06010") == "32050806010"
    assert parse_matter_code("32050806010") == ("320508", "06010")
    refused("invalid_matter_code", parse_matter_code, "3205080601")
    refused("no_matter_code", matter_code, OLD, "320508", "0102")


def test_time_limits_are_one_per_urgency_and_area_class() -> None:
    limits = parse_time_limits(
        [
            {"amount": 2, "unit": "natural_hours", "urgency": "urgent", "area_class": "A"},
            {"amount": 1, "unit": "working_days", "urgency": "normal", "area_class": "A"},
            {"amount": 5, "unit": "working_hours"},
        ]
    )
    assert limits[0].unit is TimeUnit.NATURAL_HOURS
    assert (limits[0].urgency, limits[0].area_class) == (Urgency.URGENT, AreaClass.A)
    assert limits[2].urgency is None and limits[2].area_class is None
    refused("duplicate_time_limit", parse_time_limits, [{"amount": 1, "unit": "working_days"}] * 2)
    refused("invalid_time_unit", parse_time_limits, [{"amount": 1, "unit": "weeks"}])
    refused(
        "invalid_urgency",
        parse_time_limits,
        [{"amount": 1, "unit": "working_days", "urgency": "x"}],
    )
    refused(
        "invalid_area_class",
        parse_time_limits,
        [{"amount": 1, "unit": "working_days", "area_class": "D"}],
    )
    refused("invalid_time_limit", parse_time_limits, [{"amount": 0, "unit": "working_days"}])
    refused("invalid_time_limit", parse_time_limits, [{"amount": True, "unit": "working_days"}])


def test_filing_criteria_each_have_their_own_code() -> None:
    found = parse_filing_criteria(
        [{"code": "01", "text": "成堆成片"}, {"code": "02", "text": "散落"}]
    )
    assert [c.code for c in found] == ["01", "02"]
    refused("duplicate_criterion_code", parse_filing_criteria, [{"code": "01", "text": "a"}] * 2)
    refused("invalid_criterion_code", parse_filing_criteria, [{"code": "0 1", "text": "a"}])
    refused("invalid_criterion", parse_filing_criteria, [{"code": "01", "text": " "}])


def test_form_fields_are_checked() -> None:
    found = parse_form_fields(
        [
            {"name": "area_m2", "label_zh": "面积", "type": "number", "required": True},
            {"name": "size", "label_zh": "规模", "type": "choice", "choices": ["小", "大"]},
        ]
    )
    assert found[1].choices == ("小", "大") and found[0].required
    refused(
        "invalid_field_name",
        parse_form_fields,
        [{"name": "Area", "label_zh": "面积", "type": "text"}],
    )
    refused(
        "invalid_field_type", parse_form_fields, [{"name": "a", "label_zh": "面积", "type": "date"}]
    )
    refused(
        "invalid_choices",
        parse_form_fields,
        [{"name": "a", "label_zh": "x", "type": "choice", "choices": ["小"]}],
    )
    refused(
        "invalid_choices",
        parse_form_fields,
        [{"name": "a", "label_zh": "x", "type": "text", "choices": ["a", "b"]}],
    )
    refused(
        "duplicate_field_name",
        parse_form_fields,
        [{"name": "a", "label_zh": "x", "type": "text"}] * 2,
    )
    refused(
        "invalid_field_label", parse_form_fields, [{"name": "a", "label_zh": "", "type": "text"}]
    )
    refused(
        "invalid_required",
        parse_form_fields,
        [{"name": "a", "label_zh": "x", "type": "text", "required": "yes"}],
    )


@pytest.mark.parametrize("digits", ["０１０１", "٠١٠١", "０1０1"])
def test_class_codes_in_other_scripts_digits_are_refused(digits: str) -> None:
    # "０１０１ 供水井盖" would look exactly like the standard class 0101.
    refused("invalid_class_code", validate_class_code, OLD, digits)
    refused("invalid_class_code", validate_class_code, NEW, digits + "1")


def test_major_codes_in_other_scripts_digits_are_refused() -> None:
    from gridcity.domain.catalog import validate_major_code

    refused("invalid_major_code", validate_major_code, "０１")
    refused("invalid_major_code", validate_major_code, "٠١")
    assert validate_major_code("01") == "01"


def test_identifiers_and_matter_codes_in_other_scripts_digits_are_refused() -> None:
    refused(
        "invalid_component_identifier", parse_component_identifier, OLD, "３２０５０８0101000001"
    )
    refused("invalid_component_identifier", parse_component_identifier, OLD, "320508٠١٠١000001")
    refused("invalid_admin_code", component_identifier, OLD, "３２０５０８", "0101", 1)
    refused("invalid_class_code", component_identifier, OLD, "320508", "٠١٠١", 1)
    refused("invalid_matter_code", parse_matter_code, "320508０６０１０")
    refused("invalid_matter_code", parse_matter_code, "٣٢٠٥٠٨06010")
    refused("invalid_admin_code", matter_code, NEW, "٣٢٠٥٠٨", "06010")


def test_admin_codes_of_county_level_or_higher_are_accepted() -> None:
    # standards.md §1.1: county-level or higher; province 110000, prefecture 320500, county 320508
    for admin in ("110000", "320500", "320508", "110101"):
        assert parse_component_identifier(OLD, admin + "0101000001").admin == admin
    for admin in ("990000", "320001", "000000", "32050"):
        refused("invalid_admin_code", component_identifier, OLD, admin, "0101", 1)


def test_the_admin_code_refusal_says_county_level_or_higher() -> None:
    with pytest.raises(InvalidInput) as caught:
        component_identifier(OLD, "990000", "0101", 1)
    assert "county-level or higher" in caught.value.message


@pytest.mark.parametrize(
    ("parse", "item"),
    [
        (parse_time_limits, "3 working days"),
        (parse_filing_criteria, ["A1", "text"]),
        (parse_form_fields, 7),
    ],
)
def test_list_items_that_are_not_objects_are_refused(parse, item) -> None:  # type: ignore[no-untyped-def]
    refused("invalid_list_item", parse, [item])


def test_a_duplicate_time_limit_without_urgency_or_area_says_unspecified() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_time_limits([{"amount": 1, "unit": "working_days"}] * 2)
    assert "None" not in str(caught.value) and "unspecified" in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        parse_time_limits([{"amount": 1, "unit": "working_days", "urgency": "urgent"}] * 2)
    assert "None" not in str(caught.value) and "urgent" in str(caught.value)


def test_a_note_of_a_time_limit_that_is_too_long_is_refused() -> None:
    refused(
        "invalid_note",
        parse_time_limits,
        [{"amount": 1, "unit": "working_days", "note": "x" * 501}],
    )
    refused("invalid_note", parse_time_limits, [{"amount": 1, "unit": "working_days", "note": 5}])


def test_a_class_name_that_is_empty_or_too_long_is_refused() -> None:
    from gridcity.domain.catalog import validate_name

    refused("invalid_class_name", validate_name, "  ")
    refused("invalid_class_name", validate_name, "井" * 61)
    assert validate_name(" 供水井盖 ") == "供水井盖"


@pytest.mark.parametrize(
    ("level", "code", "major", "twice"),
    [("minor", "0101", "02", False), ("group", "01", "01", False), ("major", "01", "01", True)],
)
def test_a_seed_that_breaks_the_code_set_s_structure_is_refused(
    level: str, code: str, major: str, twice: bool
) -> None:
    from gridcity.domain.catalog import SeedEntry, check_seed

    entry = SeedEntry("cjt214_2007", "component", level, code, major, "公用设施", "✅", "")
    refused("invalid_seed", check_seed, [entry, entry] if twice else [entry])
