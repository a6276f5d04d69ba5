"""Grid settings over HTTP: the layer-scheme and shift API, the two admin pages (Chinese first,
CSRF on every form, refusals shown on the form), and rotas on the responsibility page and API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.bootstrap import Container
from gridcity.services import shifts
from tests.factories import (  # fmt: skip
    COMM_A1,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    api_token,
    browser_login,
    csrf_of,
)

SCHEMES, SHIFTS = "/admin/layer-schemes", "/admin/shifts"


def submit(client: TestClient, page: str, action: str, data: dict[str, object]) -> Response:
    """Open a page and post one of its forms with the page's CSRF token, as a browser does."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def admin(client: TestClient, city: SmallCity) -> TestClient:
    """The client, signed in as the administrator."""
    browser_login(client, "admin")
    return client


@pytest.fixture
def grids(container: Container, city: SmallCity) -> list[str]:
    """Four unit grids in community A1."""
    return add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))


# --- API -------------------------------------------------------------------------------------------


def test_the_api_lists_and_changes_a_scheme_and_refuses_with_a_code(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")

    listed = client.get("/api/v1/layer-schemes", headers=headers).json()
    changed = client.patch("/api/v1/layer-schemes/social", json={"marker": "SQ", "sequence_digits": 2}, headers=headers)  # fmt: skip
    refused = client.patch("/api/v1/layer-schemes/social", json={"marker": "ZR"}, headers=headers)

    assert [s["scheme"] for s in listed][:2] == ["unit", "responsibility"]
    assert changed.status_code == 200, changed.text
    assert changed.json()["code_pattern"] == "^SQ[0-9]{12}[0-9]{2}$"
    assert client.get("/api/v1/layer-schemes/social", headers=headers).json()["marker"] == "SQ"
    assert refused.status_code == 422
    assert refused.json()["code"] == "layer_scheme_marker_taken"


def test_the_fire_marker_changes_through_one_bulk_patch(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")
    body = {"schemes": {s: {"marker": "HZ"} for s in ("fire_big", "fire_medium", "fire_small")}}

    alone = client.patch("/api/v1/layer-schemes/fire_small", json={"marker": "HZ"}, headers=headers)  # fmt: skip
    together = client.patch("/api/v1/layer-schemes", json=body, headers=headers)

    assert alone.json()["code"] == "layer_scheme_fire_marker"
    assert together.status_code == 200
    assert {s["marker"] for s in together.json() if s["kind"] == "fire"} == {"HZ"}


def test_the_shift_api_adds_changes_retires_and_deletes(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")
    early = {"name": "early", "starts_at": "06:00", "ends_at": "14:00", "name_zh": "早班", "name_en": "early"}  # fmt: skip

    created = client.post("/api/v1/shifts", json=early, headers=headers)
    again = client.post("/api/v1/shifts", json=early, headers=headers)
    retired = client.patch("/api/v1/shifts/early", json={"retired": True}, headers=headers)
    deleted = client.delete("/api/v1/shifts/early", headers=headers)

    assert created.status_code == 201 and created.json()["overnight"] is False
    assert again.status_code == 409 and again.json()["code"] == "shift_name_taken"
    assert retired.json()["retired"] is True
    assert deleted.status_code == 204
    assert "early" not in {s["name"] for s in client.get("/api/v1/shifts", headers=headers).json()}


def test_a_rota_goes_in_and_out_through_the_assignment_api(
    client: TestClient, city: SmallCity, grids: list[str]
) -> None:
    headers = api_token(client, "admin")
    body = {"user_id": city.user_ids["operator"], "post": "grid_worker", "cell": grids[0], "shift": "night", "starts_on": "2026-03-02", "weekdays": [1, 2, 3, 4, 5]}  # fmt: skip

    made = client.post("/api/v1/responsibility/assignments", json=body, headers=headers)
    in_use = client.delete("/api/v1/shifts/night", headers=headers)
    saturday_3am = client.get(f"/api/v1/grids/{grids[0]}/responsible", params={"at": "2026-03-07T03:00:00+08:00"}, headers=headers)  # fmt: skip
    monday_3am = client.get(f"/api/v1/grids/{grids[0]}/responsible", params={"at": "2026-03-09T03:00:00+08:00"}, headers=headers)  # fmt: skip
    empty = client.post("/api/v1/responsibility/assignments", json={**body, "weekdays": []}, headers=headers)  # fmt: skip

    assert made.status_code == 201, made.text
    assert made.json()["weekdays"] == [1, 2, 3, 4, 5]
    assert in_use.status_code == 409 and in_use.json()["code"] == "shift_in_use"
    assert [p["assignment"]["username"] for p in saturday_3am.json()["people"]] == ["operator"]
    assert monday_3am.json()["people"] == []
    assert empty.status_code == 422 and empty.json()["code"] == "weekdays_empty"


# --- pages -----------------------------------------------------------------------------------------


def test_the_schemes_page_shows_the_formats_in_chinese_and_saves_an_edit(admin: TestClient) -> None:
    page = admin.get(SCHEMES)
    saved = submit(admin, SCHEMES, f"{SCHEMES}/sanitation", {"name_zh": "环境卫生网格", "name_en": "Sanitation", "marker": "HW", "division_level": "district", "sequence_digits": "3"})  # fmt: skip

    assert page.status_code == 200
    assert "图层编码方案" in page.text and "^ZR[0-9]{9}[0-9]{2}$" in page.text
    assert "消防网格标识" in page.text
    assert saved.status_code == 303
    assert "环境卫生网格" in admin.get(SCHEMES).text


def test_a_refused_scheme_edit_is_shown_on_the_page_in_chinese(admin: TestClient) -> None:
    refused = submit(admin, SCHEMES, f"{SCHEMES}/sanitation", {"name_zh": "环卫网格", "name_en": "Sanitation", "marker": "XF", "division_level": "district", "sequence_digits": "3"})  # fmt: skip
    fire = submit(admin, SCHEMES, f"{SCHEMES}/fire-marker", {"marker": "hz"})

    assert refused.status_code == 422
    assert "标识 XF 已被" in refused.text
    assert fire.status_code == 422 and "大写字母" in fire.text


def test_a_form_posted_without_its_csrf_token_is_refused(admin: TestClient) -> None:
    response = admin.post(f"{SHIFTS}", data={"name": "early", "starts_at": "06:00", "ends_at": "14:00", "name_zh": "早班", "name_en": "early"})  # fmt: skip

    assert response.status_code == 403
    assert "早班" not in admin.get(SHIFTS).text


def test_the_shifts_page_adds_retires_and_deletes_a_shift(admin: TestClient) -> None:
    early = {"name": "early", "starts_at": "06:00", "ends_at": "14:00", "name_zh": "早班", "name_en": "early"}  # fmt: skip

    added = submit(admin, SHIFTS, SHIFTS, early)
    bad = submit(admin, SHIFTS, SHIFTS, {**early, "name": "late", "starts_at": "9:00"})
    retired = submit(admin, SHIFTS, f"{SHIFTS}/early", {**early, "retired": "1"})
    listed = admin.get(SHIFTS).text
    deleted = submit(admin, SHIFTS, f"{SHIFTS}/early/delete", {})

    assert added.status_code == 303
    assert bad.status_code == 422 and "时刻的格式为 HH:MM" in bad.text
    assert retired.status_code == 303 and "已停用" in listed.split('data-testid="shift-early"')[1]
    assert deleted.status_code == 303 and 'data-testid="shift-early"' not in admin.get(SHIFTS).text


def test_a_shift_in_use_cannot_be_deleted_from_the_page(
    admin: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    from datetime import date

    from gridcity.services import assignments

    assignments.create_assignment(container.deps, SYSTEM, user_id=city.user_ids["operator"], post="grid_worker", cell=grids[0], shift="day", starts_on=date(2026, 3, 2), info=TEST_INFO)  # fmt: skip

    refused = submit(admin, SHIFTS, f"{SHIFTS}/day/delete", {})

    assert refused.status_code == 409 and "请停用而不是删除" in refused.text
    assert "day" in {s.name for s in shifts.list_shifts(container.deps, SYSTEM)}


def test_other_staff_read_the_settings_without_forms(client: TestClient, city: SmallCity) -> None:
    browser_login(client, "duty-chief")

    schemes, named = client.get(SCHEMES), client.get(SHIFTS)

    assert schemes.status_code == 200 and 'data-testid="edit-social"' not in schemes.text
    assert named.status_code == 200 and 'data-testid="shift-form"' not in named.text
    assert 'href="/admin/shifts"' not in named.text  # the nav link is for administrators


def test_the_responsibility_page_takes_and_shows_a_rota(
    admin: TestClient, city: SmallCity, grids: list[str]
) -> None:
    form = {"user_id": city.user_ids["supervisor"], "post": "supervisor", "layer": "unit", "target": grids[0], "shift": "day", "starts_on": "2026-03-02", "rota": "1"}  # fmt: skip

    none_ticked = submit(admin, "/admin/responsibility", "/admin/responsibility", form)
    weekend = submit(admin, "/admin/responsibility", "/admin/responsibility", {**form, "weekdays": ["6", "7"]})  # fmt: skip
    page = admin.get("/admin/responsibility").text

    assert none_ticked.status_code == 422 and "请至少选择一天" in none_ticked.text
    assert weekend.status_code == 303
    assert "周六、周日" in page and 'name="weekdays" value="1"' in page


def test_page_and_api_refuse_a_shift_change_with_the_refusal_s_own_status(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    from datetime import date

    from gridcity.services import assignments

    for shift in ("day", "night"):
        assignments.create_assignment(container.deps, SYSTEM, user_id=city.user_ids["operator"], post="grid_worker", cell=grids[0], shift=shift, starts_on=date(2026, 3, 2), info=TEST_INFO)  # fmt: skip
    later = {"starts_at": "08:00", "ends_at": "21:00", "name_zh": "白班", "name_en": "day shift"}
    headers = api_token(client, "admin")

    api_overlap = client.patch("/api/v1/shifts/day", json={"ends_at": "21:00"}, headers=headers)
    api_unknown = client.patch("/api/v1/shifts/late", json={"ends_at": "21:00"}, headers=headers)
    browser_login(client, "admin")
    page_overlap = submit(client, SHIFTS, f"{SHIFTS}/day", later)
    page_unknown = submit(client, SHIFTS, f"{SHIFTS}/late", later)

    assert page_overlap.status_code == 409 and api_overlap.status_code == 409
    assert api_overlap.json()["code"] == "shift_change_overlap"
    assert page_unknown.status_code == 404 and api_unknown.status_code == 404
    assert api_unknown.json()["code"] == "shift_not_found"
    assert {s.name: s.ends_at for s in shifts.list_shifts(container.deps, SYSTEM)}["day"] == "20:00"
