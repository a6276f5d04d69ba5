"""/api/v1/calendar: covered years, days, deadlines for staff; uploads and office hours for
administrators; refusals as {"code", "message"} (Chinese first)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.calendar_files import HYPOTHETICAL_2027, csv_of
from tests.factories import SmallCity, api_token

URL = "/api/v1/calendar"


@pytest.fixture
def staff(client: TestClient, city: SmallCity) -> dict[str, str]:
    """A handler's token: reading the calendar needs a login, not a particular role."""
    return api_token(client, "handler")


@pytest.fixture
def admin(client: TestClient, city: SmallCity) -> dict[str, str]:
    return api_token(client, "admin")


def test_the_issues_deadline_over_http(client: TestClient, staff: dict[str, str]) -> None:
    response = client.get(
        f"{URL}/deadline",
        params={"start": "2026-02-13T16:00", "limit": "4", "unit": "working_hours"},
        headers=staff,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "start": "2026-02-13T16:00:00+08:00",
        "limit": "4",
        "unit": "working_hours",
        "deadline": "2026-02-14T11:00:00+08:00",
    }


def test_a_deadline_beyond_the_calendar_is_refused_in_chinese(
    client: TestClient, staff: dict[str, str]
) -> None:
    response = client.get(
        f"{URL}/deadline",
        params={"start": "2026-12-31T16:00+08:00", "limit": "4", "unit": "working_days"},
        headers=staff,
    )
    assert response.status_code == 422
    assert response.json() == {
        "code": "calendar_not_covered",
        "message": "工作日历尚未包含 2027 年；请管理员先按国务院办公厅通知录入该年的节假日和调休上班日",
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-02-13T16:00", "limit": "0", "unit": "working_hours"}, "invalid_limit"),
        ({"start": "2026-02-13 4pm", "limit": "4", "unit": "working_hours"}, "invalid_instant"),
        ({"start": "2026-02-13T16:00", "limit": "4", "unit": "weeks"}, "invalid_request"),
    ],
)
def test_bad_deadline_questions_are_refused(
    client: TestClient, staff: dict[str, str], params: dict[str, str], code: str
) -> None:
    response = client.get(f"{URL}/deadline", params=params, headers=staff)
    assert (response.status_code, response.json()["code"]) == (422, code)


def test_years_and_days(client: TestClient, staff: dict[str, str]) -> None:
    years = client.get(f"{URL}/years", headers=staff).json()
    assert [y["year"] for y in years] == list(range(2004, 2027))
    days = client.get(
        f"{URL}/days", params={"from": "2026-02-13", "to": "2026-02-15"}, headers=staff
    )
    assert days.json() == [
        {"date": "2026-02-13", "kind": "workday", "is_workday": True, "name": ""},
        {"date": "2026-02-14", "kind": "makeup_workday", "is_workday": True, "name": "春节"},
        {"date": "2026-02-15", "kind": "holiday", "is_workday": False, "name": "春节"},
    ]
    too_far = client.get(
        f"{URL}/days", params={"from": "2026-12-31", "to": "2027-01-01"}, headers=staff
    )
    assert (too_far.status_code, too_far.json()["code"]) == (422, "calendar_not_covered")


def test_an_administrator_uploads_a_year_and_a_bad_file_gets_every_problem(
    client: TestClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    bad_rows = [r for r in HYPOTHETICAL_2027 if r[0] != "2027-05-01"] + [
        ("2027-03-03", True, "植树节")
    ]
    refused = client.post(
        f"{URL}/years",
        files={"file": ("2027.csv", csv_of(bad_rows), "text/csv")},
        headers=admin,
    )
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "calendar_file_refused"
    assert [(p["row"], p["column"], p["code"]) for p in body["problems"]] == [
        (0, "", "holiday_missing"),
        (len(bad_rows) + 1, "is_workday", "makeup_on_weekday"),
    ]
    assert body["problems"][1]["message"].startswith("2027-03-03 是周一至周五")

    created = client.post(
        f"{URL}/years",
        files={"file": ("2027.csv", csv_of(HYPOTHETICAL_2027), "text/csv")},
        data={"source": "国办发明电〔2026〕（测试）"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json()["year"] == 2027 and created.json()["replaced"] is False
    deadline = client.get(
        f"{URL}/deadline",
        params={"start": "2026-12-31T16:00", "limit": "4", "unit": "working_hours"},
        headers=staff,
    )
    assert deadline.json()["deadline"] == "2027-01-04T11:00:00+08:00"


def test_an_upload_needs_a_file_of_at_most_a_megabyte(
    client: TestClient, admin: dict[str, str]
) -> None:
    missing = client.post(f"{URL}/years", data={"source": "x"}, headers=admin)
    huge = client.post(
        f"{URL}/years",
        files={"file": ("big.csv", b"x" * (1024 * 1024 + 1), "text/csv")},
        headers=admin,
    )
    assert (missing.status_code, missing.json()["code"]) == (422, "upload_missing")
    assert (huge.status_code, huge.json()["code"]) == (413, "upload_too_large")


def test_office_hours_are_read_by_staff_and_changed_by_administrators(
    client: TestClient, admin: dict[str, str], staff: dict[str, str]
) -> None:
    shown = client.get(f"{URL}/settings", headers=staff).json()
    assert (shown["office_hours"], shown["day_hours"], shown["time_zone"]) == (
        "08:30-12:00,14:00-17:30",
        "7",
        "Asia/Shanghai",
    )
    changed = client.put(
        f"{URL}/settings", json={"office_hours": "08:00-12:00,14:00-18:00"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["day_hours"] == "8"
    refused = client.put(f"{URL}/settings", json={"office_hours": "9-17"}, headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (422, "office_period_format")
    forbidden = client.put(f"{URL}/settings", json={"time_zone": "UTC"}, headers=staff)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "permission_denied")
