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
    refused("invalid_admin_code", parse_component_identifier, OLD, "3200000101000001")
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
