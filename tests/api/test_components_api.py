"""The component registry over HTTP: the field names the map helper reads, search and paging,
creation, conditional edits (409 on a stale version), history and bulk state changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.adapters.storage import LocalStorage
from gridcity.bootstrap import Container
from gridcity.services import component_lists
from tests.factories import COMM_A1, COMM_B1, DISTRICT, api_token, browser_login, csrf_of
from tests.services.test_component_photos import JPEG, PNG, WEBP
from tests.services.test_components import BIN, PARKS, WATER_COVER, WORKS, Registry, build_registry

VIEW_FIELDS = {
    "identifier", "name", "class_code", "class_name", "code_set", "state", "state_name",
    "geometry", "lon", "lat", "grid_code", "community_code", "competent_department",
    "owner_department", "maintainer_department", "census_date", "changed_on", "data_source",
    "accuracy", "position_text", "note", "attributes", "photos", "version", "created_at",
    "updated_at",
}  # fmt: skip
HISTORY_FIELDS = {"version", "action", "changed_at", "actor_name", "reason", "changes", "source"}


@pytest.fixture
def reg(container: Container) -> Registry:
    """The registry fixture of the service tests."""
    return build_registry(container)


@pytest.fixture
def admin(client: TestClient, reg: Registry) -> dict[str, str]:
    """The administrator's bearer token."""
    return api_token(client, "admin")


def test_one_component_carries_the_fields_the_map_reads(
    client: TestClient, reg: Registry, admin: dict[str, str]
) -> None:
    body = client.get(f"/api/v1/components/{reg.cover}", headers=admin).json()
    assert set(body) >= VIEW_FIELDS
    assert body["geometry"] == {"type": "Point", "coordinates": [116.402, 39.902]}
    assert body["competent_department"] == {"id": reg.dept(PARKS), "name": PARKS}
    assert body["owner_department"] is None and body["state_name"] == "完好"
    assert body["census_date"] == "2026-03-01" and body["version"] == 1
    (created,) = client.get(f"/api/v1/components/{reg.cover}/history", headers=admin).json()
    assert set(created) == HISTORY_FIELDS
    assert created["source"] == {"file_name": "form", "file_format": "form"}


def test_a_component_outside_the_scope_is_not_found(client: TestClient, reg: Registry) -> None:
    supervisor = api_token(client, "supervisor")  # subdistrict A; the bin is in B
    for path in (f"/api/v1/components/{reg.bin}", f"/api/v1/components/{reg.bin}/history"):
        response = client.get(path, headers=supervisor)
        assert response.status_code == 404 and response.json()["code"] == "component_not_found"
    assert client.get(f"/api/v1/components/{reg.cover}", headers=supervisor).status_code == 200
    listed = client.get("/api/v1/components", headers=supervisor).json()
    assert [c["identifier"] for c in listed["items"]] == [reg.cover]


def test_search_filters_and_paging(
    client: TestClient, reg: Registry, admin: dict[str, str]
) -> None:
    def found(**params: object) -> list[str]:
        body = client.get("/api/v1/components", params=params, headers=admin).json()
        return [c["identifier"] for c in body["items"]]

    assert found(q="gsjg") == [reg.cover]
    assert found(q=DISTRICT + "03") == [reg.bin]
    assert found(community_code=COMM_B1) == [reg.bin]
    assert found(class_code=WATER_COVER, state="intact") == [reg.cover]
    assert found(department_id=reg.dept(WORKS)) == [reg.bin]
    page = client.get("/api/v1/components", params={"per_page": 1}, headers=admin).json()
    assert (page["total"], page["pages"], page["per_page"], page["exact"]) == (2, 2, 1, True)
    bad = client.get("/api/v1/components", params={"grid_code": "A1"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_grid_filter"


def test_creating_one_component(client: TestClient, reg: Registry, admin: dict[str, str]) -> None:
    new = {
        "class_code": BIN,
        "lon": 116.405,
        "lat": 39.905,
        "competent_department_id": reg.dept(WORKS),
    }
    response = client.post("/api/v1/components", json=new, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["identifier"] == f"{DISTRICT}{BIN}000002" and body["community_code"] == COMM_A1
    again = client.post("/api/v1/components", json=new, headers=admin)
    assert again.status_code == 422 and again.json()["code"] == "likely_duplicate"
    allowed = client.post(
        "/api/v1/components", json={**new, "allow_duplicate": True}, headers=admin
    )
    assert allowed.status_code == 201
    line = {"type": "LineString", "coordinates": [[116.401, 39.901], [116.402, 39.901]]}
    road = client.post(
        "/api/v1/components",
        json={"class_code": "02017", "geometry": line, "competent_department_id": reg.dept(WORKS)},
        headers=admin,
    )
    assert road.status_code == 201 and road.json()["geometry"]["type"] == "LineString"
    broken = client.post(
        "/api/v1/components", json={"class_code": BIN, "geometry": {"type": "Nope"}}, headers=admin
    )
    assert broken.status_code == 422 and broken.json()["code"] == "geojson_invalid"
    nowhere = client.post(
        "/api/v1/components",
        json={"class_code": BIN, "competent_department_id": reg.dept(WORKS)},
        headers=admin,
    )
    assert nowhere.json()["code"] == "missing_geometry"


def test_an_edit_is_conditional_on_the_version_read(
    client: TestClient, reg: Registry, admin: dict[str, str]
) -> None:
    path = f"/api/v1/components/{reg.bin}"
    edit = {
        "expected_version": 1,
        "state": "damaged",
        "reason": "箱体破损",
        "maintainer_department_id": None,
    }
    response = client.patch(path, json=edit, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["version"], body["state"], body["maintainer_department"]) == (2, "damaged", None)
    stale = client.patch(path, json={"expected_version": 1, "note": "迟到的修改"}, headers=admin)
    assert stale.status_code == 409 and stale.json()["code"] == "component_changed_meanwhile"
    created, edited = client.get(f"{path}/history", headers=admin).json()
    assert (edited["version"], edited["action"], edited["actor_name"]) == (2, "updated", "admin")
    assert edited["reason"] == "箱体破损" and edited["source"] is None
    assert edited["changes"] == {
        "state": ["intact", "damaged"],
        "maintainer_department": [PARKS, None],
    }


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        ({"class_code": BIN}, "class_change_refused"),
        ({"competent_department_id": None}, "not_clearable"),
        ({"state": "lost"}, "reason_required"),
        ({"geometry": {"type": "Point", "coordinates": [116.5, 39.95]}}, "outside_managed_area"),
    ],
)
def test_a_refused_edit_answers_its_code(
    client: TestClient, reg: Registry, admin: dict[str, str], edit: dict[str, object], code: str
) -> None:
    response = client.patch(
        f"/api/v1/components/{reg.cover}", json={"expected_version": 1, **edit}, headers=admin
    )
    assert response.status_code == 422 and response.json()["code"] == code


def test_bulk_state_change(client: TestClient, reg: Registry, admin: dict[str, str]) -> None:
    body = {"identifiers": [reg.cover, reg.bin], "state": "removed", "reason": "道路改造，已拆除"}
    response = client.post("/api/v1/components/state", json=body, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "state": "removed",
        "changed": 2,
        "unchanged": 0,
        "identifiers": [reg.cover, reg.bin],
    }
    assert client.get("/api/v1/components", headers=admin).json()["total"] == 0
    unknown = {**body, "identifiers": [f"{DISTRICT}{BIN}000077"]}
    refused = client.post("/api/v1/components/state", json=unknown, headers=admin)
    assert refused.status_code == 404 and refused.json()["code"] == "components_not_found"
    why = client.post("/api/v1/components/state", json={**body, "reason": " "}, headers=admin)
    assert why.status_code == 422 and why.json()["code"] == "reason_required"


def test_writes_are_for_administrators(client: TestClient, reg: Registry) -> None:
    leader = api_token(client, "leader")
    response = client.patch(
        f"/api/v1/components/{reg.cover}", json={"expected_version": 1, "note": "x"}, headers=leader
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_the_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/components"])
    assert {"get", "patch"} <= set(paths["/api/v1/components/{identifier}"])
    assert "/api/v1/components/{identifier}/history" in paths
    assert "post" in paths["/api/v1/components/state"]


# --- admin pages ----------------------------------------------------------------------------


def _submit(client: TestClient, page: str, action: str, data: dict[str, object]) -> Response:
    """Open a page and post one of its forms with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def _edit_form(reg: Registry, **changes: object) -> dict[str, object]:
    """The detail page's edit form as a browser posts it unchanged, plus the changes."""
    return {
        "expected_version": "1",
        "name": "供水井盖",
        "competent_department_id": str(reg.dept(PARKS)),
        "owner_department_id": "",
        "maintainer_department_id": "",
        "census_date": "2026-03-01",
        "changed_on": "",
        "data_source": "",
        "accuracy": "",
        "position_text": "",
        "note": "",
        "geometry": "",
        "reason": "",
        **changes,
    }


def test_the_list_page_is_chinese_scoped_and_searchable(client: TestClient, reg: Registry) -> None:
    browser_login(client, "supervisor")
    page = client.get("/admin/components")
    assert page.status_code == 200
    assert "部件" in page.text and 'href="/admin/components"' in page.text  # the nav entry
    assert reg.cover in page.text and reg.bin not in page.text  # the bin is outside the scope
    assert 'data-testid="bulk-form"' in page.text and 'name="identifier"' not in page.text
    table = client.get("/admin/components", params={"q": "gsjg"}, headers={"HX-Request": "true"})
    assert "<html" not in table.text and reg.cover in table.text


def test_the_detail_page_shows_who_changed_what_when_and_why(
    client: TestClient, reg: Registry
) -> None:
    browser_login(client, "admin")
    path = f"/admin/components/{reg.cover}"
    saved = _submit(client, path, path, _edit_form(reg, note="井盖松动", reason="巡查复核"))
    assert saved.status_code == 303, saved.text
    page = client.get(path).text
    history = page[page.index('data-testid="component-history"') :]
    first = history[history.index('data-testid="history-row"') :].split("</tr>")[0]
    assert "admin" in first and "修改" in first and "巡查复核" in first
    assert "备注" in first and "井盖松动" in first  # the field and its new value
    assert "来自 form（form）" in history  # the creation's source
    assert '"type": "Point"' in page  # the map's geometry
    browser_login(client, "supervisor")
    readonly = client.get(path).text
    assert 'data-testid="edit-form"' not in readonly and "巡查复核" in readonly


def test_an_edit_needs_a_reason_and_a_stale_form_is_a_conflict(
    client: TestClient, reg: Registry
) -> None:
    browser_login(client, "admin")
    path = f"/admin/components/{reg.cover}"
    why = _submit(client, path, path, _edit_form(reg, note="无原因"))
    assert why.status_code == 422 and "请说明原因" in why.text
    assert "无原因" in why.text  # what was typed is kept
    assert _submit(client, path, path, _edit_form(reg, note="一", reason="一")).status_code == 303
    stale = _submit(client, path, path, _edit_form(reg, note="二", reason="二"))
    assert stale.status_code == 409 and "已被他人修改" in stale.text


def test_the_state_form_and_the_bulk_state_change(client: TestClient, reg: Registry) -> None:
    browser_login(client, "admin")
    path = f"/admin/components/{reg.cover}"
    single = _submit(
        client, path, f"{path}/state", {"expected_version": "1", "state": "lost", "reason": "被盗"}
    )
    assert single.status_code == 303
    assert "丢失" in client.get(path).text
    bulk = _submit(
        client,
        "/admin/components",
        "/admin/components/state",
        {"identifier": [reg.cover, reg.bin], "state": "removed", "reason": "道路改造",
         "back": "q=110101"},
    )  # fmt: skip
    assert bulk.status_code == 303 and bulk.headers["location"].startswith("/admin/components?q=")
    assert reg.cover not in client.get("/admin/components").text  # removed leave the list
    refused = _submit(
        client,
        "/admin/components",
        "/admin/components/state",
        {"identifier": [reg.cover], "state": "intact", "reason": ""},
    )
    assert refused.status_code == 422 and "请说明原因" in refused.text


def test_past_the_count_limit_the_list_says_more_match(
    client: TestClient, reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(component_lists, "COUNT_LIMIT", 1)
    token = api_token(client, "admin")
    browser_login(client, "admin")
    page = client.get("/admin/components")
    assert "匹配超过 1 个" in page.text and 'data-testid="next-page"' not in page.text
    assert reg.cover in page.text and reg.bin in page.text
    client.cookies.clear()
    body = client.get("/api/v1/components", headers=token).json()
    assert (body["total"], body["exact"], len(body["items"])) == (1, False, 2)


# --- photos ---------------------------------------------------------------------------------


@pytest.fixture
def storage(app: FastAPI, tmp_path: Path) -> LocalStorage:
    """The app's file storage, in this test's folder."""
    app.state.storage = LocalStorage(tmp_path / "files")
    return app.state.storage


def test_a_photo_is_uploaded_and_served_within_the_scope(
    client: TestClient, reg: Registry, admin: dict[str, str], storage: LocalStorage
) -> None:
    upload = {"file": ("井盖.jpg", JPEG, "image/jpeg")}
    response = client.post(
        f"/api/v1/components/{reg.cover}/photos",
        files=upload,
        data={"reason": "现场"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    (url,) = response.json()["photo_urls"]
    photo = client.get(url, headers=api_token(client, "supervisor"))
    assert (photo.status_code, photo.headers["content-type"], photo.content) == (
        200,
        "image/jpeg",
        JPEG,
    )
    other = client.post(
        f"/api/v1/components/{reg.bin}/photos",
        files={"file": ("a.png", PNG, "image/png")},
        headers=admin,
    )
    hidden = client.get(other.json()["photo_urls"][0], headers=api_token(client, "supervisor"))
    assert hidden.status_code == 404
    fake = client.post(
        f"/api/v1/components/{reg.cover}/photos",
        files={"file": ("x.jpg", b"GIF89a", "image/jpeg")},
        headers=admin,
    )
    assert fake.status_code == 415 and fake.json()["code"] == "photo_type"
    none = client.post(
        f"/api/v1/components/{reg.cover}/photos", data={"reason": "x"}, headers=admin
    )
    assert none.status_code == 422


def test_the_detail_page_uploads_and_shows_photos(
    client: TestClient, reg: Registry, storage: LocalStorage
) -> None:
    browser_login(client, "admin")
    path = f"/admin/components/{reg.cover}"
    token = csrf_of(client.get(path).text)
    saved = client.post(
        f"{path}/photos",
        data={"csrf_token": token},
        files={"file": ("p.webp", WEBP, "image/webp")},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = client.get(path).text
    assert f"/api/v1/components/{reg.cover}/photos/" in page and "添加照片" in page
    refused = client.post(
        f"{path}/photos",
        data={"csrf_token": token},
        files={"file": ("p.txt", b"hello", "text/plain")},
    )
    assert refused.status_code == 415 and "照片须为 JPEG、PNG 或 WebP 图片" in refused.text
