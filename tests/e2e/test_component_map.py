"""The component layer in a browser: it shows on the map, filters by class, a cluster zooms in
when clicked, and a clicked component shows its details and history in the side panel.

The last test needs ``GET /api/v1/components/{identifier}`` and ``…/history``, which are built
on the inventory branch at the same time as this layer: until both branches are merged it clicks
a component, sees the panel open with the endpoint's refusal, and fails saying so (nothing here
pretends the endpoints exist)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from gridcity.bootstrap import Container, bootstrap
from tests.conftest import FAST_HASHER, settings_for
from tests.e2e.conftest import LiveServer, screenshot, sign_in
from tests.factories import SmallCity, build_small_city
from tests.services.test_component_map import add_at, build_inventory

IDLE = (
    "window.gridcityMap && window.gridcityMap.ready && window.gridcityMap.components"
    " && window.gridcityMap.components.isIdle()"
    " && window.gridcityMap.components.loadedItems().length > 0"
)


@pytest.fixture
def live_inventory(sqlite_url: str) -> Iterator[tuple[LiveServer, Container, SmallCity]]:
    """The small city with the catalog and 2,340 components (a dense quarter among them)."""
    container = bootstrap(settings_for(sqlite_url), hasher=FAST_HASHER)
    city = build_small_city(container)
    build_inventory(container)
    rng = np.random.default_rng(11)
    dense = np.column_stack(
        (rng.uniform(116.401, 116.409, 2100), rng.uniform(39.911, 39.919, 2100))
    )
    add_at(container, dense, ["03005"] * 2100)
    with LiveServer(container) as server:
        yield server, container, city
    container.db.engine.dispose()


def _items(page) -> list[dict]:
    return page.evaluate(
        "window.gridcityMap.components.loadedItems().map(i => ({kind: i.kind, count: i.count,"
        " identifier: i.identifier || null, class_code: i.class_code || null}))"
    )


def _wait_idle(page) -> None:
    page.wait_for_function(IDLE, timeout=15_000)
    page.wait_for_timeout(100)  # the filter's debounce and the last draws


@pytest.mark.browser
def test_the_component_layer_shows_and_filters_by_class(page, live_inventory) -> None:
    server, _container, _city = live_inventory
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    sign_in(page, server.url)
    page.goto(f"{server.url}/map")
    _wait_idle(page)
    shown = _items(page)
    assert {i["class_code"] for i in shown if i["kind"] == "point"} >= {"01001", "01037", "03005"}
    options = page.locator("[data-testid=component-class] option")
    assert options.count() == 3
    assert "路灯" in page.get_by_test_id("component-class").inner_text()

    page.get_by_test_id("component-class-search").fill("ld")  # 路灯's pinyin initials
    assert page.locator("[data-testid=component-class] option:not([hidden])").count() == 1
    page.get_by_test_id("component-class").select_option(["01037"])
    page.wait_for_function(
        "window.gridcityMap.components.getFilter().classes.join() === '01037'", timeout=5_000
    )
    _wait_idle(page)
    filtered = _items(page)
    assert filtered and {i["class_code"] for i in filtered} == {"01037"}
    assert len(filtered) < len(shown)

    page.get_by_test_id("component-state-intact").uncheck()
    page.get_by_test_id("component-state-damaged").uncheck()
    page.get_by_test_id("component-state-lost").uncheck()
    page.get_by_test_id("component-state-occupied").uncheck()
    page.get_by_test_id("component-state-abandoned").uncheck()
    page.wait_for_function(
        "window.gridcityMap.components.getFilter().states.length === 0", timeout=5_000
    )
    page.wait_for_timeout(300)
    assert _items(page) == []  # no state ticked: nothing shows
    page.get_by_test_id("component-state-removed").check()
    _wait_idle(page)
    assert {i["class_code"] for i in _items(page)} == {"01037"}
    screenshot(page, "component-map-filtered")
    assert not failed, failed


@pytest.mark.browser
def test_a_cluster_zooms_in_when_clicked(page, live_inventory) -> None:
    server, _container, _city = live_inventory
    sign_in(page, server.url)
    page.goto(f"{server.url}/map")
    _wait_idle(page)
    page.evaluate("window.gridcityMap.map.setView([39.915, 116.41], 12, {animate: false})")
    _wait_idle(page)
    clusters = [i for i in _items(page) if i["kind"] == "cluster"]
    assert clusters and sum(i["count"] for i in clusters) > 2000
    screenshot(page, "component-map-clusters")
    target = page.evaluate(
        "(() => { const c = window.gridcityMap.components.loadedItems()"
        ".filter(i => i.kind === 'cluster').sort((a, b) => b.count - a.count)[0];"
        " const p = window.gridcityMap.map.latLngToContainerPoint([c.lat, c.lon]);"
        " return {x: p.x, y: p.y}; })()"
    )
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function("window.gridcityMap.map.getZoom() >= 14", timeout=5_000)


@pytest.mark.browser
def test_a_clicked_component_shows_its_details_and_history(page, live_inventory) -> None:
    server, _container, _city = live_inventory
    sign_in(page, server.url)
    page.goto(f"{server.url}/map")
    _wait_idle(page)
    page.evaluate("window.gridcityMap.map.setView([39.905, 116.415], 17, {animate: false})")
    _wait_idle(page)
    point = next(i for i in _items(page) if i["kind"] == "point")
    at = page.evaluate(
        f"(() => {{ const p = window.gridcityMap.components.positionOf('{point['identifier']}');"
        " return {x: p.x, y: p.y}; })()"
    )
    box = page.get_by_test_id("map").bounding_box()
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    page.wait_for_selector(
        "[data-testid=component-title], [data-testid=component-detail-failed]", timeout=10_000
    )
    failed = page.get_by_test_id("component-detail-failed")
    if failed.count():
        pytest.fail(
            f"The panel opened for {point['identifier']}, but the details endpoint answered: "
            f"{failed.inner_text()!r}. GET /api/v1/components/{{identifier}} and …/history come "
            "from the inventory branch; this test passes once both branches are merged."
        )
    text = page.get_by_test_id("component-detail").inner_text()
    assert point["identifier"] in text
    assert "主管部门" in text and "变更历史" in text
    history = page.get_by_test_id("component-history")
    assert history.locator("li").count() >= 1 and "v1" in history.inner_text()
    screenshot(page, "component-map-details")
