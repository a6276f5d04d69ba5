"""The demo city as a newcomer meets it: every demo login works, the map draws the district."""

from __future__ import annotations

import pytest

from gridcity.services.demo_city import DEMO_PASSWORD, DEMO_USERS
from tests.e2e.conftest import screenshot


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.browser
def test_every_demo_login_reaches_its_own_home_page(browser, demo_live) -> None:
    server, _container = demo_live
    for user in DEMO_USERS:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        _sign_in(page, server.url, user.username)
        page.wait_for_url(f"**/home/{user.role.value}")
        assert page.get_by_test_id("home-title").is_visible()
        context.close()


def _drawn_paths(page) -> int:
    page.wait_for_function(
        "document.querySelectorAll('#map .leaflet-map-pane svg path').length > 0"
    )
    page.wait_for_timeout(300)
    return page.locator("#map .leaflet-map-pane svg path").count()


@pytest.mark.browser
def test_the_map_draws_the_district_its_subdistricts_and_communities_offline(
    page, demo_live
) -> None:
    server, container = demo_live
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    _sign_in(page, server.url, "admin")
    page.wait_for_url("**/home/admin")
    page.goto(f"{server.url}/map")
    with container.db.read() as session:
        import sqlalchemy as sa

        from gridcity.adapters.db.tables import Division

        divisions = session.scalar(sa.select(sa.func.count()).select_from(Division))
    assert _drawn_paths(page) == divisions
    assert not failed, f"the map loaded something it could not reach: {failed}"
    assert page.get_by_text("东华门街道").first.is_visible()
    screenshot(page, "map-admin")


@pytest.mark.browser
def test_a_supervisor_sees_only_their_subdistrict_on_the_map(page, demo_live) -> None:
    server, _container = demo_live
    _sign_in(page, server.url, "supervisor")
    page.wait_for_url("**/home/supervisor")
    page.goto(f"{server.url}/map")
    count = _drawn_paths(page)
    assert 1 + 1 + 10 <= count <= 1 + 1 + 14  # district outline, the subdistrict, its communities
    screenshot(page, "map-supervisor")
