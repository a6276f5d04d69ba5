"""As an administrator: open an account with roles and a data scope; the new user signs in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, SUB_B


@pytest.mark.browser
def test_an_admin_opens_an_account_and_its_owner_lands_on_the_right_home(
    browser, page, live
) -> None:
    server, _container, _city = live
    page.goto(f"{server.url}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home/admin")
    page.goto(f"{server.url}/admin/users/new")
    form = page.get_by_test_id("user-form")
    form.locator("input[name=username]").fill("wang.wu")
    form.locator("input[name=display_name]").fill("王五")
    form.locator("input[name=password]").fill("Wang#Wu2026x")
    form.get_by_test_id("roles").get_by_label("监督员").check()
    scope = form.get_by_test_id("scope")
    scope.get_by_role("searchbox").fill("景山")  # Alpine filters the division tree
    visible = scope.locator("label.check:visible", has_text="景山")
    assert visible.count() == 2  # the subdistrict and its community
    scope.locator(f"input[value='{SUB_B}']").check()
    screenshot(page, "user-new")
    form.get_by_role("button", name="保存").click()
    page.wait_for_url("**/admin/users/*?done=created")
    assert "王五" in page.locator("h1").inner_text()

    context = browser.new_context(locale="zh-CN")
    newcomer = context.new_page()
    newcomer.goto(f"{server.url}/login")
    newcomer.get_by_label("用户名").fill("wang.wu")
    newcomer.get_by_label("密码").fill("Wang#Wu2026x")
    newcomer.get_by_role("button", name="登录").click()
    newcomer.wait_for_url("**/home/supervisor")
    assert "您的数据范围内共有 1 个社区" in newcomer.content()
    context.close()
