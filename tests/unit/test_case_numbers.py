"""Case numbers: readable, unique per day and serial, and a mistyped digit is caught."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcity.domain.case_numbers import SERIAL_MAX, CaseNumber, luhn_digit, parse_case_number
from gridcity.domain.errors import InvalidInput


def _checked(body: str) -> str:
    """Digits with their right check digit (so only the other fault shows)."""
    return body + luhn_digit(body)


def test_a_case_number_is_date_serial_and_check_digit() -> None:
    number = CaseNumber(date(2026, 12, 4), 17)
    assert str(number) == "20261204000172"
    assert parse_case_number("20261204000172") == number


def test_the_check_digit_is_luhn() -> None:
    assert luhn_digit("7992739871") == "3"  # the textbook example
    assert luhn_digit("2026120400017") == "2"


def test_typed_separators_are_ignored() -> None:
    assert parse_case_number(" 20261204-00017-2 ") == CaseNumber(date(2026, 12, 4), 17)


def test_a_busy_day_grows_the_serial_to_six_digits() -> None:
    number = CaseNumber(date(2026, 12, 4), 123_456)
    assert len(str(number)) == 15
    assert parse_case_number(str(number)) == number


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "case_number_format"),
        ("2026120400017", "case_number_format"),  # check digit missing
        ("A0261204000173", "case_number_format"),
        ("20261204000173", "case_number_check_digit"),
        (_checked("2026130400017"), "case_number_format"),  # month 13
        (_checked("20261204000017"), "case_number_format"),  # six-digit serial, leading zero
    ],
)
def test_bad_numbers_are_refused_with_their_reason(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_case_number(text)
    assert caught.value.code == code


@pytest.mark.parametrize("serial", [0, SERIAL_MAX + 1])
def test_a_serial_out_of_range_is_refused(serial: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        CaseNumber(date(2026, 12, 4), serial)
    assert caught.value.code == "case_serial_range"


DAYS = st.dates(date(2004, 1, 1), date(2099, 12, 31))
SERIALS = st.integers(1, SERIAL_MAX)


@given(DAYS, SERIALS)
def test_every_number_reads_back(day: date, serial: int) -> None:
    assert parse_case_number(str(CaseNumber(day, serial))) == CaseNumber(day, serial)


@given(DAYS, SERIALS, st.data())
def test_any_single_mistyped_digit_is_caught(day: date, serial: int, data: st.DataObject) -> None:
    text = str(CaseNumber(day, serial))
    at = data.draw(st.integers(0, len(text) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != text[at]]))
    typed = text[:at] + wrong + text[at + 1 :]
    with pytest.raises(InvalidInput):
        parse_case_number(typed)


@given(DAYS, SERIALS, st.data())
def test_a_swap_of_neighbours_is_caught_unless_it_is_0_and_9(
    day: date, serial: int, data: st.DataObject
) -> None:
    text = str(CaseNumber(day, serial))
    at = data.draw(st.integers(0, len(text) - 2))
    a, b = text[at], text[at + 1]
    if a == b or {a, b} == {"0", "9"}:  # Luhn's one blind spot, and no swap at all
        return
    typed = text[:at] + b + a + text[at + 2 :]
    with pytest.raises(InvalidInput):
        parse_case_number(typed)


@given(DAYS, SERIALS, DAYS, SERIALS)
def test_numbers_are_unique(d1: date, s1: int, d2: date, s2: int) -> None:
    assert (str(CaseNumber(d1, s1)) == str(CaseNumber(d2, s2))) == ((d1, s1) == (d2, s2))
