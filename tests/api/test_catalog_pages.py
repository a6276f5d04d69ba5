"""The catalog admin pages: Chinese first, search by pinyin initials, the class edit form and
the extension form for administrators (CSRF), refusals shown on the form; staff only read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.bootstrap import Container
from gridcity.services import catalog
from tests.factories import SYSTEM, TEST_INFO, SmallCity, browser_login, csrf_of

CLASS = "/admin/catalog/gbt47678_5_2026/matter/06012"


def submit(client: TestClient, page: str, action: str, data: dict[str, object]) -> Response:
    """Open a page and post one of its forms with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def loaded(container: Container, city: SmallCity) -> SmallCity:
    """The small city with the standard catalog."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return city


def test_the_list_is_chinese_and_searches_by_pinyin_initials(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog", params={"kind": "matter", "q": "bllj"})
    assert page.status_code == 200
    assert "分类目录" in page.text and "暴露垃圾" in page.text
    assert 'data-testid="class-matter-06010"' in page.text
    assert 'data-testid="extension-form"' not in page.text  # staff read only
    detail = client.get(CLASS)
    assert "道路不洁" in detail.text and 'data-testid="class-form"' not in detail.text


def test_an_administrator_edits_a_class_and_a_bad_list_is_shown_on_the_form(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    saved = submit(client, CLASS, CLASS, {
        "closing_criteria": "清扫干净",
        "filing_criteria": '[{"code": "01", "text": "道路有明显污渍"}]',
        "time_limits": '[{"amount": 5, "unit": "working_hours"}]',
        "form_fields": "[]",
        "department_id": str(department),
    })  # fmt: skip
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "清扫干净" in page.text and "道路有明显污渍" in page.text
    bad = submit(client, CLASS, CLASS, {"time_limits": "{not json", "closing_criteria": "x"})
    assert bad.status_code == 422 and "JSON" in bad.text and "{not json" in bad.text
    without_token = client.post(CLASS, data={"closing_criteria": "y"}, follow_redirects=False)
    assert without_token.status_code == 403


def test_an_administrator_adds_an_extension_major_then_a_minor(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    form = {"code_set": "gbt47678_5_2026", "kind": "component", "level": "major", "code": "21",
            "name_zh": "扩展部件"}  # fmt: skip
    added = submit(client, "/admin/catalog", "/admin/catalog/classes", form)
    assert added.status_code == 303
    assert added.headers["location"].startswith("/admin/catalog/gbt47678_5_2026/component/21")
    taken = submit(client, "/admin/catalog", "/admin/catalog/classes", form)
    assert taken.status_code == 422 and "扩展部件" in taken.text
    minor = submit(client, "/admin/catalog", "/admin/catalog/classes",
                   {**form, "level": "minor", "code": "21001", "name_zh": "屋顶广告"})  # fmt: skip
    assert minor.status_code == 303
    listed = client.get("/admin/catalog", params={"q": "wdgg"})
    assert "屋顶广告" in listed.text
