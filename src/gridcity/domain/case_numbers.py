"""Case numbers (案卷编号): readable over the phone, unique, and checked for typing errors.

A case number is the city-time date the case was reported, a serial within that day, and one
Luhn check digit: ``20261204`` + ``00017`` + ``2`` → ``20261204000172``. The serial has five
digits (99,999 cases a day, five times Shanghai's busiest day) and grows to six only beyond that,
so numbers stay the same length in practice and remain unique either way (the date part has a
fixed length). The check digit catches every single mistyped digit and almost every swap of two
neighbours, so an operator who mishears a number gets "no such case number" instead of someone
else's case. Pure: the service draws the serial from a per-day counter in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from gridcity.domain.errors import InvalidInput

SERIAL_DIGITS = 5
SERIAL_MAX = 999_999
_NUMBER = re.compile(r"^([0-9]{8})([0-9]{5,6})([0-9])$")
_SEPARATORS = re.compile(r"[\s\-_/.]")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit that makes ``digits`` + it a valid Luhn number."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the digit next to the check digit, every other one
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True, order=True)
class CaseNumber:
    """A case number's parts: the day it was reported (city time) and its serial that day."""

    day: date
    serial: int

    def __post_init__(self) -> None:
        if not 1 <= self.serial <= SERIAL_MAX:
            raise InvalidInput(
                "case_serial_range",
                "A case serial runs from 1 to %(max)s a day, not %(serial)s",
                max=SERIAL_MAX,
                serial=self.serial,
            )

    def __str__(self) -> str:
        body = f"{self.day:%Y%m%d}{self.serial:0{SERIAL_DIGITS}d}"
        return body + luhn_digit(body)


def parse_case_number(text: str) -> CaseNumber:
    """A case number as typed (spaces and dashes allowed), checked: format, date, check digit."""
    cleaned = _SEPARATORS.sub("", text or "")
    match = _NUMBER.match(cleaned)
    if match is None:
        raise InvalidInput(
            "case_number_format",
            "A case number is 14 digits (date, serial, check digit), such as 20261204000172: "
            "%(value)s",
            value=text,
        )
    day_text, serial_text, check = match.groups()
    if luhn_digit(day_text + serial_text) != check:
        raise InvalidInput(
            "case_number_check_digit",
            "%(value)s is not a case number (its check digit is wrong: a digit mistyped?)",
            value=text,
        )
    try:
        day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
    except ValueError:
        raise InvalidInput(
            "case_number_format", "%(value)s does not start with a date", value=text
        ) from None
    if len(serial_text) == SERIAL_DIGITS + 1 and serial_text[0] == "0":
        raise InvalidInput(
            "case_number_format", "%(value)s has a serial with a leading zero too many", value=text
        )
    return CaseNumber(day, int(serial_text))
