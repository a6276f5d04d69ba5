"""A year of the working calendar from a file (CSV or JSON rows: date, is_workday, name), checked
all-or-nothing with every problem named by row and column.

A file holds one year's State Council notice: every day off of its public holidays (weekends
inside a holiday period may be listed too, to carry the holiday's name) and every 调休 make-up
workday. The year is the latest year of its dates; a notice may also rearrange the last days
of December of the year before (the 2019 notice made 2018-12-29 a workday and 2018-12-31 a day
off), so such dates are accepted and belong to that year's notice. A file that is clearly
incomplete is refused: New Year's Day (1 January), Labour Day (1 May) and National Day (1–3
October) are days off every year, and from 2008 on the Spring Festival, Qingming, the Dragon
Boat Festival and the Mid-Autumn Festival each have a day off named for them (the Mid-Autumn
Festival may instead fall inside an 8-day National Day holiday, 1–8 October, as in 2020).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from gridcity.domain.census import CensusProblem
from gridcity.domain.errors import InvalidInput
from gridcity.domain.imports import N_, FileRefused
from gridcity.domain.work_calendar import NAME_MAX, CalendarDay

MAX_ROWS = 400
COLUMNS = ("date", "is_workday", "name")
# Header names accepted for each column (Chinese spreadsheets often carry Chinese headers).
HEADER_ALIASES = {
    "date": "date",
    "日期": "date",
    "is_workday": "is_workday",
    "workday": "is_workday",
    "是否上班": "is_workday",
    "上班": "is_workday",
    "name": "name",
    "名称": "name",
    "节日": "name",
}
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "是", "班", "上班"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "否", "休", "放假", "休息"})
_DATE = re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$")
FIRST_FESTIVAL_YEAR = 2008  # Qingming, Dragon Boat and Mid-Autumn became public holidays
# Days off in every year since 2008 (National Day since 1949, New Year's Day, Labour Day).
FIXED_HOLIDAYS = (
    (1, 1, "元旦"),
    (5, 1, "劳动节"),
    (10, 1, "国庆节"),
    (10, 2, "国庆节"),
    (10, 3, "国庆节"),
)
# Lunar-calendar holidays: some day off must be named for each (Chinese or English name).
FESTIVALS = (
    ("春节", ("春节", "spring festival")),
    ("清明节", ("清明", "tomb", "qingming")),
    ("端午节", ("端午", "dragon boat")),
    ("中秋节", ("中秋", "mid-autumn", "mid autumn")),
)


@dataclass(frozen=True)
class CalendarProblem(CensusProblem):
    """Why a file cannot be loaded: its row (0: the file as a whole), column and reason."""

    @property
    def text(self) -> str:
        """Row, column and reason in one line (the reason alone for the whole file)."""
        return self.reason if self.row == 0 else super().text


class CalendarFileRefused(FileRefused):
    """A calendar file refused as a whole (nothing loaded); ``problems`` in row order."""

    problems: tuple[CalendarProblem, ...]

    def __init__(self, source: str, problems: Sequence[CalendarProblem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.row, p.column))
        super().__init__(
            "calendar_file_refused",
            (
                N_("%(source)s: nothing was loaded; %(count)s problems: %(problems)s"),
                N_(
                    "%(source)s: nothing was loaded; %(count)s problems: %(problems)s; and %(more)s more"
                ),
            ),
            source,
            ordered,
        )


@dataclass(frozen=True)
class CalendarYearFile:
    """A checked year: its notice year and the dates it sets (some of December before, maybe)."""

    year: int
    days: tuple[CalendarDay, ...]

    @property
    def holidays(self) -> int:
        """Days off listed."""
        return sum(1 for d in self.days if not d.is_workday)

    @property
    def makeup_workdays(self) -> int:
        """Make-up workdays listed."""
        return sum(1 for d in self.days if d.is_workday)


@dataclass(frozen=True)
class FileRow:
    """One row as read: its number and its three texts."""

    number: int
    values: Mapping[str, str]


def read_calendar_file(data: bytes, name: str) -> CalendarYearFile:
    """A year of the calendar from a CSV or JSON file's bytes, checked; refused as a whole."""
    rows = _json_rows(data, name) if _is_json(data, name) else _csv_rows(data, name)
    return check_year(rows_of(rows), name)


def rows_of(items: Iterable[tuple[int, Mapping[str, str]]]) -> list[FileRow]:
    """Rows from (number, column → text) pairs."""
    return [FileRow(number, values) for number, values in items]


def _is_json(data: bytes, name: str) -> bool:
    lower = name.lower()
    if lower.endswith(".json"):
        return True
    if lower.endswith(".csv"):
        return False
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"[", b"{")


def _refuse_file(name: str, code: str, message: str, **params: object) -> CalendarFileRefused:
    return CalendarFileRefused(name, [CalendarProblem(0, "", code, message, params)])


def _text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a spreadsheet saved on a Chinese desktop)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse_file(
            name,
            "calendar_file_encoding",
            N_("The file is neither UTF-8 nor GB18030 text"),
        ) from None


def _csv_rows(data: bytes, name: str) -> list[tuple[int, dict[str, str]]]:
    """CSV rows by column, numbered as a spreadsheet shows them (the header is row 1)."""
    reader = csv.reader(io.StringIO(_text(data, name), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _refuse_file(name, "calendar_file_empty", N_("The file holds no days")) from None
    except csv.Error as exc:
        raise _refuse_file(
            name,
            "calendar_file_unreadable",
            N_("The file is not readable CSV: %(reason)s"),
            reason=str(exc),
        ) from None
    columns = [HEADER_ALIASES.get(h.strip().lower(), h.strip()) for h in header]
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise _refuse_file(
            name,
            "calendar_file_columns",
            N_("The header row needs the columns date, is_workday and name; missing: %(missing)s"),
            missing=", ".join(missing),
        )
    found: list[tuple[int, dict[str, str]]] = []
    try:
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            values = {
                column: line[index].strip() if index < len(line) else ""
                for index, column in enumerate(columns)
                if column in COLUMNS
            }
            found.append((reader.line_num, values))
    except csv.Error as exc:
        raise _refuse_file(
            name,
            "calendar_file_unreadable",
            N_("The file is not readable CSV: %(reason)s"),
            reason=str(exc),
        ) from None
    return found


def _json_rows(data: bytes, name: str) -> list[tuple[int, dict[str, str]]]:
    """JSON rows: a list of objects, or an object whose ``days`` is one; numbered from 1."""
    try:
        document = json.loads(_text(data, name))
    except json.JSONDecodeError as exc:
        raise _refuse_file(
            name,
            "calendar_file_unreadable",
            N_("The file is not readable JSON: %(reason)s"),
            reason=str(exc),
        ) from None
    items = document.get("days") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise _refuse_file(
            name,
            "calendar_file_shape",
            N_('A JSON calendar is a list of days, or an object whose "days" is one'),
        )
    found: list[tuple[int, dict[str, str]]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            found.append((number, {}))
            continue
        found.append((number, {c: _plain(item.get(c)) for c in COLUMNS}))
    return found


def _plain(value: object) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _date(text: str) -> date:
    found = _DATE.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise InvalidInput(
            "invalid_date", "Not a date (such as 2027-02-06): %(value)s", value=text
        ) from None


def _workday(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidInput(
        "invalid_workday",
        "is_workday is true (a make-up workday, 调休上班) or false (a day off), got %(value)s",
        value=text,
    )


def _name(text: str) -> str:
    if not text:
        raise InvalidInput("name_missing", "Each day needs the name of its holiday (such as 春节)")
    if len(text) > NAME_MAX:
        raise InvalidInput("name_too_long", "A name has at most %(max)s characters", max=NAME_MAX)
    return text


def check_year(rows: Sequence[FileRow], source: str) -> CalendarYearFile:
    """The year the rows describe, or a refusal listing every problem."""
    if not rows:
        raise _refuse_file(source, "calendar_file_empty", N_("The file holds no days"))
    if len(rows) > MAX_ROWS:
        raise _refuse_file(
            source,
            "calendar_file_too_long",
            N_("A year's file has at most %(max)s rows, got %(count)s"),
            max=MAX_ROWS,
            count=len(rows),
        )
    problems: list[CalendarProblem] = []
    days: list[tuple[int, CalendarDay]] = []
    for row in rows:
        parsed: dict[str, object] = {}
        for column, parse in (("date", _date), ("is_workday", _workday), ("name", _name)):
            try:
                parsed[column] = parse(row.values.get(column, ""))
            except InvalidInput as exc:
                problems.append(CalendarProblem.of(row.number, column, exc))
        if len(parsed) == 3:
            day = parsed["date"]
            assert isinstance(day, date)
            days.append(
                (row.number, CalendarDay(day, bool(parsed["is_workday"]), str(parsed["name"])))
            )
    if not days:
        raise CalendarFileRefused(source, problems)
    year = max(d.day.year for _n, d in days)
    problems.extend(_day_problems(days, year))
    problems.extend(_completeness(days, year))
    if problems:
        raise CalendarFileRefused(source, problems)
    return CalendarYearFile(year, tuple(sorted((d for _n, d in days), key=lambda d: d.day)))


def _day_problems(days: Sequence[tuple[int, CalendarDay]], year: int) -> list[CalendarProblem]:
    """Dates outside the notice's year, twice in the file, or make-up days on weekdays."""
    problems: list[CalendarProblem] = []
    first_row: dict[date, int] = {}
    for number, day in days:
        if day.day.year != year and not (day.day.year == year - 1 and day.day.month == 12):
            problems.append(
                CalendarProblem(
                    number,
                    "date",
                    "date_outside_year",
                    N_(
                        "%(date)s lies outside %(year)s (only the last days of December "
                        "%(previous)s may belong to the notice for %(year)s)"
                    ),
                    {"date": day.day.isoformat(), "year": year, "previous": year - 1},
                )
            )
        if day.day in first_row:
            problems.append(
                CalendarProblem(
                    number,
                    "date",
                    "date_repeated",
                    N_("%(date)s is listed already, on row %(first)s"),
                    {"date": day.day.isoformat(), "first": first_row[day.day]},
                )
            )
        else:
            first_row[day.day] = number
        if day.is_workday and day.day.isoweekday() <= 5:
            problems.append(
                CalendarProblem(
                    number,
                    "is_workday",
                    "makeup_on_weekday",
                    N_(
                        "%(date)s falls on a weekday, which is a working day anyway; only a "
                        "Saturday or Sunday can be a make-up workday (调休上班)"
                    ),
                    {"date": day.day.isoformat()},
                )
            )
    return problems


def _completeness(days: Sequence[tuple[int, CalendarDay]], year: int) -> list[CalendarProblem]:
    """Holidays every year has and the file lacks."""
    off = {d.day: d.name for _n, d in days if not d.is_workday}
    problems: list[CalendarProblem] = []
    for month, day_of_month, holiday in FIXED_HOLIDAYS:
        when = date(year, month, day_of_month)
        if when not in off:
            problems.append(
                CalendarProblem(
                    0,
                    "",
                    "holiday_missing",
                    N_(
                        "%(date)s (%(holiday)s) is a day off every year, and the file does not "
                        "list it; a year's file lists every holiday and make-up workday"
                    ),
                    {"date": when.isoformat(), "holiday": holiday},
                )
            )
    if year >= FIRST_FESTIVAL_YEAR:
        names = [name.lower() for name in off.values()]
        combined = all(date(year, 10, n) in off for n in range(1, 9))
        for festival, words in FESTIVALS:
            if festival == "中秋节" and combined:
                continue  # Mid-Autumn inside an 8-day 国庆节、中秋节 holiday (2020, 2025)
            if not any(word in name for name in names for word in words):
                problems.append(
                    CalendarProblem(
                        0,
                        "",
                        "festival_missing",
                        N_(
                            "No day off in the file is named for %(festival)s; a year's file "
                            "lists every holiday and make-up workday"
                        ),
                        {"festival": festival},
                    )
                )
    return problems
