"""The grid map in a browser: open it on the demo city, search a code, the map zooms to the grid
and the panel shows its details; click, colour by a figure; generate grids with a preview."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import Division, GridCell, GridLayer
from gridcity.services.demo_city import DEMO_PASSWORD
from tests.e2e.conftest import screenshot
from tests.factories import COMM_A1, PASSWORD

READY = "window.gridcityGridMap && window.gridcityGridMap.ready"


def _unit_grids_in_force(*columns):
    """A query of unit grids (not other layers' cells) in force now."""
    return (
        sa.select(*columns)
        .select_from(GridCell)
        .join(GridLayer, GridLayer.id == GridCell.layer_id)
        .where(GridLayer.code == "unit", GridCell.valid_to.is_(None))
    )


def _sign_in(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home/**")


def _a_grid_and_its_community(container, prefix: str = "110101") -> tuple[str, str]:
    """A grid in force somewhere in the middle of the list, and its community's name."""
    with container.db.read() as session:
        codes = session.scalars(
            _unit_grids_in_force(GridCell.code)
            .where(GridCell.code.startswith(prefix))
            .order_by(GridCell.code)
        ).all()
        code = codes[len(codes) // 2]
        name = session.scalar(sa.select(Division.name).where(Division.code == code[:12]))
    return code, name


def _loaded_grids(page) -> int:
    return page.evaluate("Object.keys(window.gridcityGridMap.byCode).length")


@pytest.mark.browser
def test_search_a_code_zoom_to_it_and_read_its_details(page, demo_live) -> None:
    server, container = demo_live
    code, community = _a_grid_and_its_community(container)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    _sign_in(page, server.url, "admin")
    page.get_by_role("link", name="网格", exact=True).click()
    page.wait_for_function(READY)
    with container.db.read() as session:
        in_force = session.scalar(_unit_grids_in_force(sa.func.count()))
    assert _loaded_grids(page) == in_force > 3000
    overview = page.evaluate("window.gridcityGridMap.map.getZoom()")
    screenshot(page, "grid-map-overview")

    page.get_by_test_id("grid-search").fill(code)
    page.get_by_test_id("grid-search-button").click()

    detail = page.get_by_test_id("grid-detail")
    detail.wait_for()
    assert detail.get_attribute("data-code") == code
    assert page.get_by_test_id("grid-code").inner_text() == code
    assert community in page.get_by_test_id("grid-community").inner_text()
    assert page.get_by_test_id("grid-layer-cells").is_visible()  # the demo city has layers
    page.wait_for_url(re.compile(rf"/grids\?code={code}$"))
    page.wait_for_function(
        f"window.gridcityGridMap.highlighted.has('{code}') && window.gridcityGridMap.map.getZoom() >= 16"
    )
    assert page.evaluate("window.gridcityGridMap.map.getZoom()") > overview + 3
    in_view = page.evaluate(
        f"window.gridcityGridMap.map.getBounds().contains("
        f"window.gridcityGridMap.byCode['{code}'].getBounds())"
    )
    assert in_view, "the searched grid is inside the view"
    assert page.locator(".grid-label", has_text=code).count() == 1  # its code is on the map
    assert not failed, f"the map loaded something it could not reach: {failed}"
    screenshot(page, "grid-map-search")

    # A reload keeps the search: the page opens on the same grid.
    page.reload()
    page.wait_for_function(READY)
    assert page.get_by_test_id("grid-detail").get_attribute("data-code") == code
    assert page.evaluate(f"window.gridcityGridMap.highlighted.has('{code}')")

    # Back leaves the map (searches replace the address, they add no history entry) and
    # Forward brings back a live map, not a lifeless snapshot of one.
    page.go_back()
    page.wait_for_url("**/home/admin")
    page.go_forward()
    page.wait_for_function(READY)
    assert page.evaluate(f"window.gridcityGridMap.highlighted.has('{code}')")


@pytest.mark.browser
def test_click_a_grid_and_colour_the_map_by_a_figure(page, demo_live) -> None:
    server, container = demo_live
    code, _community = _a_grid_and_its_community(container)
    _sign_in(page, server.url, "admin")
    page.goto(f"{server.url}/grids?code={code[:12]}")  # a community: its grids are listed
    page.wait_for_function(READY)
    assert page.get_by_test_id("grid-matches").is_visible()
    neighbour = page.evaluate(
        f"Object.keys(window.gridcityGridMap.byCode).find(c => c.startsWith('{code[:12]}') && c !== '{code}')"
    )
    point = page.evaluate(
        f"""(() => {{
          const s = window.gridcityGridMap, layer = s.byCode['{neighbour}'];
          const p = s.map.latLngToContainerPoint(layer.getCenter());
          const box = s.map.getContainer().getBoundingClientRect();
          return [box.left + p.x, box.top + p.y];
        }})()"""
    )
    page.mouse.click(*point)
    page.wait_for_selector(f"[data-testid=grid-detail][data-code='{neighbour}']")
    assert f"code={neighbour}" in page.url

    # The uncovered grids: as many coloured as the status line counts.
    page.get_by_test_id("grid-uncovered-toggle").check()
    status = page.get_by_test_id("grid-map-status")
    status.wait_for()
    uncovered = page.evaluate("window.gridcityGridMap.uncovered.size")
    assert f"当前有 {uncovered} 个网格无在岗监督员或网格员" == status.inner_text()
    page.get_by_test_id("grid-uncovered-toggle").uncheck()
    assert page.evaluate("window.gridcityGridMap.uncovered") is None

    # Another layer, loaded when switched on, labelled with its codes.
    page.get_by_label("责任网格").check()
    page.wait_for_selector(".grid-label-responsibility")
    assert page.locator(".grid-label-responsibility").first.inner_text().startswith("ZR")

    page.get_by_test_id("grid-figure").select_option("area_deviation")
    legend = page.get_by_test_id("grid-legend")
    legend.wait_for()
    assert "与标准面积 10,000 m² 的偏差" in legend.inner_text()
    assert legend.locator("i").count() == 5
    fill = page.evaluate(f"window.gridcityGridMap.byCode['{neighbour}'].options.fillColor")
    assert fill != "#ffffff", "the grid is coloured by its figure"
    screenshot(page, "grid-map-figure")


@pytest.mark.browser
def test_a_supervisor_gets_only_the_grids_of_their_subdistrict(page, demo_live) -> None:
    server, container = demo_live
    _sign_in(page, server.url, "supervisor")
    page.goto(f"{server.url}/grids")
    page.wait_for_function(READY)
    codes = page.evaluate("Object.keys(window.gridcityGridMap.byCode)")
    assert codes and len({c[:9] for c in codes}) == 1
    with container.db.read() as session:
        expected = session.scalar(
            _unit_grids_in_force(sa.func.count()).where(GridCell.code.startswith(codes[0][:9]))
        )
    assert len(codes) == expected


@pytest.mark.browser
def test_an_administrator_previews_generated_grids_then_saves_them(page, live) -> None:
    server, container, _city = live
    _sign_in(page, server.url, "admin", PASSWORD)
    page.goto(f"{server.url}/admin/grids/generate")
    page.get_by_test_id("generate-community").select_option(COMM_A1)
    page.get_by_test_id("generate-target").fill("100000")
    assert page.get_by_test_id("generate-save").is_disabled()

    page.get_by_test_id("generate-preview").click()

    count = page.get_by_test_id("generate-count")
    page.wait_for_function("document.querySelector('[data-testid=generate-count]').textContent")
    proposed = int(count.inner_text())
    assert proposed >= 5
    assert page.locator("#generate-map .grid-label").count() == proposed
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GridCell)) == 0
    screenshot(page, "grid-generate-preview")

    page.get_by_test_id("generate-save").click()
    page.wait_for_url("**done=redivided")
    assert page.locator(".flash.success").is_visible()
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GridCell)) == proposed
