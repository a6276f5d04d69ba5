"""Layers in a browser: an administrator creates a responsibility layer on /admin/layers, clicks
two unit grids on the map into a new cell, saves, and finds the cell listed on the layer page."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcity.services import layers
from tests.factories import COMM_A1, PASSWORD, SUB_A, SYSTEM, TEST_INFO, add_quarter_grids

SCREENSHOTS = Path("/tmp")
READY = "window.gridcityLayerDraw && window.gridcityLayerDraw.ready"


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home/**")


def _click_grid(page, code: str) -> None:
    """A real mouse click on the middle of a unit grid, where Leaflet draws it."""
    x, y = page.evaluate(
        """code => {
            const state = window.gridcityLayerDraw;
            const point = state.map.latLngToContainerPoint(state.grids.get(code).getCenter());
            return [point.x, point.y];
        }""",
        code,
    )
    page.get_by_test_id("layer-map").click(position={"x": x, "y": y})


@pytest.mark.browser
def test_an_admin_draws_a_responsibility_cell_from_two_unit_grids(page, live) -> None:
    server, container, _city = live
    north_west, north_east, *_ = add_quarter_grids(
        container, COMM_A1, (116.40, 39.90, 116.41, 39.91)
    )
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    _sign_in(page, server.url)
    page.get_by_role("link", name="网格图层", exact=True).click()
    page.wait_for_url("**/admin/layers")

    page.get_by_test_id("layer-code").fill("patrol")
    page.get_by_test_id("layer-name").fill("巡查责任区")
    page.get_by_test_id("layer-scheme").select_option("responsibility")
    page.get_by_test_id("create-layer").click()
    page.wait_for_url("**/admin/layers/patrol?done=created")
    page.wait_for_function(READY)
    assert page.evaluate("window.gridcityLayerDraw.grids.size") == 4

    page.get_by_test_id("draw-division").select_option(SUB_A)
    page.get_by_test_id("draw-new").click()
    page.get_by_test_id("draw-name").fill("多福巷北片")
    _click_grid(page, north_west)
    _click_grid(page, north_east)
    assert page.evaluate("window.gridcityLayerDraw.cells[0].grids.size") == 2
    assert "2" in page.get_by_test_id("draw-cell-0").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "layers-draw.png"), full_page=True)

    page.get_by_test_id("draw-save").click()
    page.wait_for_url("**/admin/layers/patrol?done=drawn")
    row = page.get_by_test_id("cell-ZR11010100101")
    assert "多福巷北片" in row.inner_text() and "2" in row.inner_text()
    page.wait_for_function(READY)
    page.screenshot(path=str(SCREENSHOTS / "layers-saved.png"), full_page=True)

    found = layers.layer_cells_geojson(container.deps, SYSTEM, "patrol")["features"]
    assert [f["properties"]["grids"] for f in found] == [sorted([north_west, north_east])]
    assert not failed, failed


@pytest.mark.browser
def test_a_refused_drawing_shows_its_reason_and_keeps_the_drawing(page, live) -> None:
    server, container, _city = live
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    layers.create_layer(
        container.deps, SYSTEM, code="patrol", name="巡查", scheme="responsibility", info=TEST_INFO
    )
    _sign_in(page, server.url)
    page.goto(f"{server.url}/admin/layers/patrol")
    page.wait_for_function(READY)
    page.get_by_test_id("draw-new").click()  # a new cell with no unit grids in it
    page.get_by_test_id("draw-save").click()
    error = page.get_by_test_id("draw-error")
    error.wait_for()
    assert "至少" in error.inner_text()  # a cell must list at least one unit grid
    assert page.evaluate("window.gridcityLayerDraw.cells.length") == 1
    assert layers.get_layer(container.deps, SYSTEM, "patrol").cells == 0
