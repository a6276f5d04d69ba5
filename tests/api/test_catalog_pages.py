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


def test_confidence_is_shown_in_words_not_emoji(client: TestClient, loaded: SmallCity) -> None:
    """The ✅/🟡/❓ marks need an emoji font that field machines often lack."""
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog", params={"kind": "matter", "q": "bllj"}).text
    row = page[page.index('data-testid="class-matter-06010"') :].split("</tr>")[0]
    assert 'class="badge warn"' in row and "较可信" in row and "🟡" not in row
    page_2007 = client.get("/admin/catalog", params={"set": "cjt214_2007", "q": "01"}).text
    major = page_2007[page_2007.index('data-testid="class-component-01"') :].split("</tr>")[0]
    assert 'class="badge ok"' in major and "确定" in major and "✅" not in page_2007


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


def test_deeply_nested_or_broken_json_is_refused_with_its_place_and_label(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    deep = submit(client, CLASS, CLASS, {"time_limits": "[" * 15000})
    assert deep.status_code == 422 and "时限" in deep.text  # not a 500
    broken = submit(client, CLASS, CLASS, {"filing_criteria": '[{"code": "01",\n "text": }]'})
    assert broken.status_code == 422
    assert "立案条件" in broken.text and "第 2 行" in broken.text and "第 10 列" in broken.text
    not_objects = submit(client, CLASS, CLASS, {"form_fields": "[1, 2]"})
    assert not_objects.status_code == 422 and "须为 JSON 对象列表" in not_objects.text


def test_a_duplicate_time_limit_without_urgency_says_unspecified(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    twice = '[{"amount": 1, "unit": "working_days"}, {"amount": 2, "unit": "working_days"}]'
    page = submit(client, CLASS, CLASS, {"time_limits": twice})
    assert page.status_code == 422 and "未指定" in page.text and "None" not in page.text


def test_fields_missing_from_the_form_keep_their_stored_values(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    full = {"closing_criteria": "清扫干净", "filing_criteria": '[{"code": "01", "text": "污渍"}]',
            "department_id": str(department), "name_en": "Dirty road"}  # fmt: skip
    assert submit(client, CLASS, CLASS, full).status_code == 303
    assert submit(client, CLASS, CLASS, {"form_fields": "[]"}).status_code == 303
    deps = container.deps
    view = catalog.get_class(
        deps, SYSTEM, catalog.class_id_of(deps, SYSTEM, "gbt47678_5_2026", "matter", "06012")
    )
    assert view.closing_criteria == "清扫干净" and view.filing_criteria[0]["code"] == "01"
    assert view.department_id == department and view.name_en == "Dirty road"
    assert view.time_limits  # the seeded limit is still there


def test_a_non_numeric_department_is_refused_clearly(client: TestClient, loaded: SmallCity) -> None:
    browser_login(client, "admin")
    page = submit(client, CLASS, CLASS, {"department_id": "abc"})
    assert page.status_code == 422 and "请从列表中选择部门" in page.text
    full_width = submit(client, CLASS, CLASS, {"department_id": "１"})
    assert full_width.status_code == 422 and "请从列表中选择部门" in full_width.text


def test_a_deactivated_department_of_the_class_stays_selected(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    from gridcity.services import departments

    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    assert submit(client, CLASS, CLASS, {"department_id": str(department)}).status_code == 303
    current = departments.get_department(container.deps, SYSTEM, department)
    departments.update_department(
        container.deps,
        SYSTEM,
        department,
        departments.DepartmentInput(name=current.name, kind=current.kind, is_active=False),
        info=TEST_INFO,
    )
    page = client.get(CLASS).text
    assert f'<option value="{department}" selected>' in page


def test_an_active_set_this_version_does_not_know_is_shown_not_a_500(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    import sqlalchemy as sa

    from gridcity.adapters.db.tables import CatalogCodeSet, CatalogSetting

    # a row a later version of gridcity wrote, read by this one (e.g. after a downgrade)
    with container.deps.db.transaction() as session:
        session.add(
            CatalogCodeSet(key="gbt_2099", name_zh="未来", name_en="Future", minor_digits=3)
        )
        session.flush()
        session.execute(sa.update(CatalogSetting).values(active_code_set="gbt_2099"))
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog")
    assert page.status_code != 500 and "本版本已知" in page.text
