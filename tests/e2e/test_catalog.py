"""As an administrator, on a class page: add a filing criterion and a time limit in the
structured form, save, reload and see them; a bad value shows the refusal and keeps the rows."""

from __future__ import annotations

import pytest

from gridcity.services import catalog
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import SYSTEM, TEST_INFO

CLASS = "/admin/catalog/gbt47678_5_2026/matter/06012"  # 道路不洁


@pytest.mark.browser
def test_an_admin_adds_a_criterion_and_a_time_limit_and_a_bad_value_is_refused(page, live) -> None:
    server, container, _city = live
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    sign_in(page, server.url)
    page.goto(f"{server.url}{CLASS}")
    form = page.get_by_test_id("class-form")
    criteria = form.get_by_test_id("filing-criteria")
    assert criteria.get_by_test_id("criterion-row").count() == 0
    criteria.get_by_role("button", name="添加立案条件").click()
    row = criteria.get_by_test_id("criterion-row").first
    row.get_by_label("条件代码").fill("01")
    row.get_by_label("条件", exact=True).fill("道路有明显污渍")
    cell = form.get_by_test_id("limit-urgent:A")
    cell.get_by_label("紧急 · A 类区域 · 数值").fill("2")
    cell.get_by_label("紧急 · A 类区域 · 单位").select_option("working_hours")
    screenshot(page, "catalog-class-form")
    form.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**{CLASS}?done=updated")

    page.reload()
    criteria = page.get_by_test_id("filing-criteria")
    assert criteria.get_by_label("条件代码").input_value() == "01"
    assert criteria.get_by_label("条件", exact=True).input_value() == "道路有明显污渍"
    cell = page.get_by_test_id("limit-urgent:A")
    assert cell.get_by_label("紧急 · A 类区域 · 数值").input_value() == "2"
    assert cell.get_by_label("紧急 · A 类区域 · 单位").input_value() == "working_hours"
    # the seeded 济源 example (unspecified urgency and area) is still there
    assert (
        page.get_by_test_id("limit-:")
        .get_by_label("紧急程度未指定 · 区域未指定 · 数值")
        .input_value()
        == "5"
    )

    criteria.get_by_role("button", name="添加立案条件").click()
    second = criteria.get_by_test_id("criterion-row").nth(1)
    second.get_by_label("条件代码").fill("01")  # the same code twice
    second.get_by_label("条件", exact=True).fill("路面有积存垃圾")
    page.get_by_test_id("class-form").get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    flash = page.locator(".flash.error")
    assert "两条立案条件使用了同一代码 01" in flash.inner_text()
    rows = page.get_by_test_id("criterion-row")
    assert rows.count() == 2 and rows.nth(1).get_by_label("条件", exact=True).input_value() == (
        "路面有积存垃圾"
    )
    screenshot(page, "catalog-class-refused")
    view = catalog.get_class(
        container.deps,
        SYSTEM,
        catalog.class_id_of(container.deps, SYSTEM, "gbt47678_5_2026", "matter", "06012"),
    )
    assert [c["text"] for c in view.filing_criteria] == ["道路有明显污渍"]  # nothing saved
