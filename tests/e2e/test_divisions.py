"""As an administrator: search divisions as I type, page through them, add a community."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD


def _sign_in_as_admin(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home/admin")


@pytest.mark.browser
def test_search_filters_the_list_while_i_type(page, live) -> None:
    server, _container, _city = live
    _sign_in_as_admin(page, server.url)
    page.goto(f"{server.url}/admin/divisions")
    rows = page.get_by_test_id("results").locator("tbody tr")
    assert rows.count() == 6
    page.get_by_test_id("search").fill("银闸")
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=results] tbody tr').length === 1"
    )
    assert "银闸社区" in rows.first.inner_text()
    assert "q=" in page.url  # hx-push-url keeps the search in the address bar
    screenshot(page, "divisions-search")


@pytest.mark.browser
def test_an_admin_adds_a_community_with_its_boundary(page, live) -> None:
    server, _container, _city = live
    _sign_in_as_admin(page, server.url)
    page.goto(f"{server.url}/admin/divisions/new?parent=110101002")
    boundary = {
        "type": "Polygon",
        "coordinates": [
            [
                [116.411, 39.901],
                [116.419, 39.901],
                [116.419, 39.905],
                [116.411, 39.905],
                [116.411, 39.901],
            ]
        ],
    }
    form = page.get_by_test_id("division-form")
    form.locator("input[name=code]").fill("110101002009")
    form.locator("input[name=name]").fill("新建测试社区")
    form.locator("textarea[name=boundary_text]").fill(json.dumps(boundary))
    form.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/divisions/110101002009?done=created")
    assert "已保存" in page.locator(".flash.success").inner_text()
    assert "新建测试社区" in page.locator("h1").inner_text()
    screenshot(page, "division-created")


@pytest.mark.browser
def test_a_bad_code_is_refused_with_the_reason_and_my_input_kept(page, live) -> None:
    server, _container, _city = live
    _sign_in_as_admin(page, server.url)
    page.goto(f"{server.url}/admin/divisions/new")
    form = page.get_by_test_id("division-form")
    form.locator("select[name=level]").select_option("community")
    form.locator("input[name=code]").fill("110101009001")
    form.locator("input[name=name]").fill("孤儿社区")
    form.get_by_role("button", name="保存").click()
    assert "上级区划 110101009 尚不存在" in page.locator(".flash.error").inner_text()
    assert form.locator("input[name=name]").input_value() == "孤儿社区"


@pytest.mark.browser
def test_a_division_name_with_markup_is_shown_as_text_on_the_map(page, live) -> None:
    from gridcity.services import divisions
    from tests.factories import COMM_B1, SYSTEM, TEST_INFO

    server, container, _city = live
    hostile = '<img src=x onerror="window.__xss = 1">'
    divisions.update_division(container.deps, SYSTEM, COMM_B1, name=hostile, info=TEST_INFO)
    _sign_in_as_admin(page, server.url)
    page.goto(f"{server.url}/map")
    page.wait_for_selector(".map-label-community", state="attached")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.locator(".map-label-community", has_text=hostile).count() == 1
