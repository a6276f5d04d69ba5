"""The inventory's three admin screens over HTTP: removing a photo (API and detail page), the
"new component" form, and switching the active code set from a page. Forms render with their
CSRF token, refuse a post without it, and show a refusal again with what was typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gridcity.adapters.db.tables import AuditLog, Component
from gridcity.adapters.storage import LocalStorage
from gridcity.bootstrap import Container
from gridcity.services import catalog, catalog_admin
from gridcity.services.catalog_admin import ClassEdit
from gridcity.services.component_photos import add_photo
from gridcity.services.components import component_history, get_component
from tests.factories import SYSTEM, TEST_INFO, api_token, browser_login, csrf_of
from tests.services.test_catalog_switch import Y2007, Y2026, add
from tests.services.test_component_photos import JPEG, PNG
from tests.services.test_components import BIN, IN_A1, OUTSIDE, PARKS, Registry, build_registry


@pytest.fixture
def reg(container: Container) -> Registry:
    """The registry fixture of the service tests."""
    return build_registry(container)


@pytest.fixture
def storage(app: FastAPI, tmp_path: Path) -> LocalStorage:
    """The app's file storage, in this test's folder."""
    app.state.storage = LocalStorage(tmp_path / "files")
    return app.state.storage


def _photo(reg: Registry, storage: LocalStorage, data: bytes = JPEG) -> str:
    """Add a photo to the fixture's manhole cover; its file name."""
    view = add_photo(reg.container.deps, storage, SYSTEM, reg.cover, data, info=TEST_INFO)
    return view.photos[-1].rsplit("/", 1)[1]


# --- removing a photo: the API ---------------------------------------------------------------


def test_the_api_removes_a_photo_with_a_reason(
    client: TestClient, reg: Registry, storage: LocalStorage
) -> None:
    name = _photo(reg, storage)
    admin = api_token(client, "admin")
    url = f"/api/v1/components/{reg.cover}/photos/{name}"
    assert client.get(url, headers=admin).status_code == 200
    response = client.request("DELETE", url, json={"reason": "拍错了"}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["photos"], body["photo_urls"], body["version"]) == ([], [], 3)
    assert client.get(url, headers=admin).status_code == 404
    history = client.get(f"/api/v1/components/{reg.cover}/history", headers=admin).json()
    assert (history[-1]["action"], history[-1]["reason"]) == ("photo_removed", "拍错了")


def test_the_api_refuses_a_removal_without_a_reason_permission_or_photo(
    client: TestClient, reg: Registry, storage: LocalStorage
) -> None:
    name = _photo(reg, storage)
    admin = api_token(client, "admin")
    url = f"/api/v1/components/{reg.cover}/photos/{name}"
    for payload in ({}, {"json": {}}, {"json": {"reason": "  "}}):
        missing = client.request("DELETE", url, headers=admin, **payload)
        assert missing.status_code == 422, missing.text
        assert missing.json()["code"] == "reason_required"
        assert missing.json()["message"] == "请说明原因（此项变更必须填写原因）"
    supervisor = client.request(
        "DELETE", url, json={"reason": "x"}, headers=api_token(client, "supervisor")
    )
    assert (supervisor.status_code, supervisor.json()["code"]) == (403, "permission_denied")
    # Administrators see every division, so "out of their scope" is "not there" for them;
    # the service tests cover an administrator with a narrower scope.
    for path, code in (
        (f"/api/v1/components/{reg.bin}/photos/{name}", "photo_not_found"),
        (f"/api/v1/components/{reg.cover[:-1]}9/photos/{name}", "component_not_found"),
        (f"/api/v1/components/{reg.cover}/photos/{'0' * 32}.jpg", "photo_not_found"),
    ):
        gone = client.request("DELETE", path, json={"reason": "x"}, headers=admin)
        assert (gone.status_code, gone.json()["code"]) == (404, code), path
    assert get_component(reg.container.deps, SYSTEM, reg.cover).photos != []


# --- removing a photo: the detail page -------------------------------------------------------


def test_the_detail_page_removes_a_photo_after_a_reason(
    client: TestClient, reg: Registry, storage: LocalStorage
) -> None:
    keep, drop = _photo(reg, storage, PNG), _photo(reg, storage, JPEG)
    browser_login(client, "admin")
    path = f"/admin/components/{reg.cover}"
    page = client.get(path).text
    assert f'action="{path}/photos/{drop}/delete"' in page and "移除照片" in page
    token = csrf_of(page)
    forged = client.post(f"{path}/photos/{drop}/delete", data={"reason": "x"})
    assert forged.status_code == 403 and "表单已过期" in forged.text
    refused = client.post(f"{path}/photos/{drop}/delete", data={"csrf_token": token})
    assert refused.status_code == 422 and "请说明原因" in refused.text
    assert f"/photos/{drop}" in refused.text  # the photo is still shown
    done = client.post(
        f"{path}/photos/{drop}/delete",
        data={"csrf_token": token, "reason": "照片模糊"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=updated"
    page = client.get(path).text
    assert f"/photos/{drop}" not in page and f"/photos/{keep}" in page
    assert "照片已移除" in page and "照片模糊" in page  # the history row names it
    browser_login(client, "supervisor")
    assert "photo-remove" not in client.get(path).text  # readers see no removal button


# --- the new-component page ------------------------------------------------------------------


def _form(client: TestClient, reg: Registry, **values: str) -> dict[str, str]:
    """A good form for a 垃圾箱 in community A1, with the page's CSRF token."""
    token = csrf_of(client.get("/admin/components/new").text)
    form = {
        "csrf_token": token,
        "class_code": BIN,
        "lon": "116.4051",
        "lat": "39.9051",
        "name": "东四北垃圾箱",
        "competent_department_id": str(reg.dept(PARKS)),
        "state": "damaged",
        "census_date": "2026-03-02",
        "data_source": "实测",
        "accuracy": "B",
        "note": "新增",
        "reason": "巡查发现",
    }
    form.update(values)
    return form


def test_the_new_component_page_lists_the_classes_and_is_for_administrators(
    client: TestClient, reg: Registry
) -> None:
    browser_login(client, "admin")
    listed = client.get("/admin/components").text
    assert 'href="/admin/components/new"' in listed
    page = client.get("/admin/components/new")
    assert page.status_code == 200 and csrf_of(page.text)
    assert 'value="03005" data-name="垃圾箱" data-initials="ljx"' in page.text
    assert "新增部件" in page.text and "经度" in page.text
    browser_login(client, "supervisor")
    assert 'href="/admin/components/new"' not in client.get("/admin/components").text
    denied = client.get("/admin/components/new")
    assert denied.status_code == 403 and "permission_denied" in denied.text


def test_a_new_component_is_added_and_shown_on_its_page(client: TestClient, reg: Registry) -> None:
    browser_login(client, "admin")
    forged = client.post("/admin/components/new", data={"class_code": BIN})
    assert forged.status_code == 403 and "表单已过期" in forged.text
    saved = client.post("/admin/components/new", data=_form(client, reg), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    found = re.fullmatch(r"/admin/components/(\d{17})\?done=created", saved.headers["location"])
    assert found, saved.headers["location"]
    identifier = found.group(1)
    assert identifier[6:11] == BIN
    view = get_component(reg.container.deps, SYSTEM, identifier)
    assert (view.name, view.state, view.accuracy, view.data_source, view.note) == (
        "东四北垃圾箱",
        "damaged",
        "B",
        "实测",
        "新增",
    )
    assert (view.lon, view.lat, str(view.census_date)) == (116.4051, 39.9051, "2026-03-02")
    (created,) = component_history(reg.container.deps, SYSTEM, identifier)
    assert created.reason == "巡查发现" and created.source == {
        "file_name": "form",
        "file_format": "form",
    }
    page = client.get(saved.headers["location"]).text
    assert identifier in page and "东四北垃圾箱" in page


def test_a_refused_component_shows_the_form_again_with_the_reasons_by_field(
    client: TestClient, reg: Registry
) -> None:
    browser_login(client, "admin")
    outside = _form(client, reg, lon=str(OUTSIDE.x), lat=str(OUTSIDE.y), census_date="2999-01-01")
    refused = client.post("/admin/components/new", data=outside)
    assert refused.status_code == 422
    html = refused.text
    assert 'data-testid="error-position"' in html and "管理范围" in html
    assert 'data-testid="error-census_date"' in html
    assert 'value="东四北垃圾箱"' in html and f'value="{OUTSIDE.x}"' in html  # kept as typed
    assert re.search(r'<option value="03005"[^>]*selected', html)
    unreadable = client.post(
        "/admin/components/new", data=_form(client, reg, lon="东经116", lat="39.9")
    )
    assert unreadable.status_code == 422 and "不是" in unreadable.text
    with reg.container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Component)) == 2


def test_the_class_fields_are_swapped_in_and_checked(client: TestClient, reg: Registry) -> None:
    deps = reg.container.deps
    class_id = catalog.class_id_of(deps, SYSTEM, Y2026, "component", BIN)
    fields = [
        {"name": "capacity_l", "label_zh": "容量", "type": "number", "required": True},
        {"name": "material", "label_zh": "材质", "type": "choice", "choices": ["塑料", "金属"]},
    ]
    catalog_admin.update_class(
        deps, SYSTEM, class_id, ClassEdit(form_fields=fields), info=TEST_INFO
    )
    browser_login(client, "admin")
    fragment = client.get("/admin/components/new/fields", params={"class_code": BIN})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'name="attr.capacity_l"' in fragment.text and "容量" in fragment.text
    assert '<option value="金属"' in fragment.text
    missing = client.post(
        "/admin/components/new", data=_form(client, reg, **{"attr.material": "金属"})
    )
    assert missing.status_code == 422
    assert 'data-testid="error-attr.capacity_l"' in missing.text
    assert re.search(r'<option value="金属"\s+selected', missing.text)  # the choice is kept
    saved = client.post(
        "/admin/components/new",
        data=_form(client, reg, **{"attr.capacity_l": "240", "attr.material": "金属"}),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    identifier = saved.headers["location"].split("/")[-1].split("?")[0]
    view = get_component(deps, SYSTEM, identifier)
    assert view.attributes == {"capacity_l": 240, "material": "金属"}


def test_a_likely_duplicate_is_refused_until_it_is_confirmed(
    client: TestClient, reg: Registry
) -> None:
    browser_login(client, "admin")
    here = {"class_code": "01001", "lon": str(IN_A1.x), "lat": str(IN_A1.y)}
    refused = client.post("/admin/components/new", data=_form(client, reg, **here))
    assert refused.status_code == 422
    assert 'data-testid="error-position"' in refused.text and reg.cover in refused.text
    assert 'name="allow_duplicate"' in refused.text
    saved = client.post(
        "/admin/components/new",
        data=_form(client, reg, **here, allow_duplicate="1"),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text


# --- switching the code set --------------------------------------------------------------------


@pytest.fixture
def switchable(reg: Registry) -> Registry:
    """The registry with two 污水井盖 too (01002 → CJ/T 214-2007 0102 by name); its bin maps
    by name as well (03005 → 0305), its 供水井盖 does not (2007 says 上水井盖): that one blocks."""
    add(reg.container, "01002", 2)
    return reg


def test_the_switch_page_previews_what_blocks_the_switch(
    client: TestClient, switchable: Registry
) -> None:
    browser_login(client, "admin")
    assert 'href="/admin/catalog/switch"' in client.get("/admin/catalog").text
    page = client.get("/admin/catalog/switch")
    assert page.status_code == 200 and 'data-testid="switch-target"' in page.text
    preview = client.get("/admin/catalog/switch", params={"to_set": Y2007}).text
    blocked = re.search(r'data-testid="switch-blocked".*?</section>', preview, re.S)
    assert blocked, "the classes that block the switch are shown"
    assert 'data-testid="lost-component-01001"' in blocked.group(0)
    assert f"/admin/catalog/unmapped?set={Y2026}&amp;to_set={Y2007}" in blocked.group(0)
    assert 'data-testid="move-01002"' in preview and "0102" in preview
    assert 'data-testid="switch-form"' not in preview  # nothing to confirm while blocked


def test_a_switch_needs_the_typed_name_and_a_reason_then_shows_what_it_re_coded(
    client: TestClient, switchable: Registry
) -> None:
    deps = switchable.container.deps
    catalog_mappings_pair(switchable)
    browser_login(client, "admin")
    preview = client.get("/admin/catalog/switch", params={"to_set": Y2007}).text
    assert 'data-testid="switch-form"' in preview and 'data-testid="switch-blocked"' not in preview
    token = csrf_of(preview)
    base = {"to_set": Y2007, "from_set": Y2026, "reason": "改用行业标准"}
    forged = client.post("/admin/catalog/switch", data={**base, "confirmation": "CJ/T 214-2007"})
    assert forged.status_code == 403 and "表单已过期" in forged.text
    wrong = client.post(
        "/admin/catalog/switch", data={**base, "csrf_token": token, "confirmation": "CJ/T 214"}
    )
    assert wrong.status_code == 422 and "请输入目标代码集的名称 CJ/T 214-2007" in wrong.text
    assert 'value="改用行业标准"' in wrong.text  # what was typed is kept
    no_reason = client.post(
        "/admin/catalog/switch",
        data={**base, "reason": "", "csrf_token": token, "confirmation": "cj/t  214-2007"},
    )
    assert no_reason.status_code == 422 and "请说明原因" in no_reason.text
    assert {s.key for s in catalog.list_code_sets(deps, SYSTEM) if s.active} == {Y2026}
    done = client.post(
        "/admin/catalog/switch",
        data={**base, "csrf_token": token, "confirmation": " CJ/T 214-2007 "},
    )
    assert done.status_code == 200, done.text
    assert 'data-testid="switch-result"' in done.text and "4 个部件已重新编码" in done.text
    assert 'href="/admin/audit?action=catalog.switched"' in done.text
    assert {s.key for s in catalog.list_code_sets(deps, SYSTEM) if s.active} == {Y2007}
    with switchable.container.db.read() as session:
        (row,) = session.scalars(sa.select(AuditLog).where(AuditLog.action == "catalog.switched"))
        assert row.detail["reason"] == "改用行业标准" and row.detail["components"] == 4
    # The same confirmation posted again (a reload) is refused: the active set has changed.
    again = client.post(
        "/admin/catalog/switch",
        data={**base, "csrf_token": token, "confirmation": "CJ/T 214-2007"},
    )
    assert again.status_code == 409 and "刚才已有他人切换了启用的代码集" in again.text
    browser_login(client, "supervisor")
    denied = client.get("/admin/catalog/switch", params={"to_set": Y2026})
    assert denied.status_code == 403 and "permission_denied" in denied.text
    assert 'href="/admin/catalog/switch"' not in client.get("/admin/catalog").text


def catalog_mappings_pair(reg: Registry) -> None:
    """Pair 供水井盖 with 上水井盖 by hand, which unblocks the switch to 2007."""
    from gridcity.domain.catalog_mapping import ClassRef
    from gridcity.services import catalog_mappings

    catalog_mappings.add_manual_mapping(
        reg.container.deps,
        SYSTEM,
        ClassRef(Y2026, "component", "01001"),
        ClassRef(Y2007, "component", "0101"),
        info=TEST_INFO,
    )
