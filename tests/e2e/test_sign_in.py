"""As a user: sign in, land on my own home page, switch language, get locked out, sign out."""

from __future__ import annotations

import pytest

from gridcity.domain.access import STAFF_ROLES
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD

HOME_TITLES = {
    "supervisor": "监督员工作台",
    "operator": "受理员工作台",
    "duty_chief": "值班长工作台",
    "dispatcher": "派遣员工作台",
    "handler": "专业部门工作台",
    "leader": "领导总览",
    "admin": "系统管理",
}


def _sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


@pytest.mark.browser
def test_every_role_signs_in_and_sees_its_own_home_page(browser, live) -> None:
    server, _container, _city = live
    for role in STAFF_ROLES:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        _sign_in(page, server.url, role.value.replace("_", "-"))
        page.wait_for_url(f"**/home/{role.value}")
        assert page.get_by_test_id("home-title").inner_text() == HOME_TITLES[role.value]
        screenshot(page, f"home-{role.value}")
        context.close()


@pytest.mark.browser
def test_a_protected_page_sends_me_to_sign_in_and_back(page, live) -> None:
    server, _container, _city = live
    page.goto(f"{server.url}/admin/divisions?q=景山")
    assert "/login" in page.url
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/divisions?q=*")
    assert page.get_by_test_id("results").get_by_text("景山东街社区").is_visible()


@pytest.mark.browser
def test_five_wrong_passwords_lock_me_out(page, live) -> None:
    server, _container, _city = live
    for _ in range(5):
        _sign_in(page, server.url, "operator", "Wrong#Pass2026")
        assert page.get_by_test_id("login-error").inner_text() == "用户名或密码错误"
    _sign_in(page, server.url, "operator")
    assert "锁定" in page.get_by_test_id("login-error").inner_text()
    screenshot(page, "login-locked")


@pytest.mark.browser
def test_i_can_switch_to_english_and_sign_out(page, live) -> None:
    server, _container, _city = live
    _sign_in(page, server.url, "dispatcher")
    page.wait_for_url("**/home/dispatcher")
    page.get_by_test_id("lang-en").click()
    assert page.get_by_test_id("home-title").inner_text() == "Dispatcher workbench"
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/login")
    assert page.get_by_role("button", name="Sign in").is_visible()
