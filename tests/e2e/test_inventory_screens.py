"""The inventory's admin screens in a browser: an administrator adds a component by choosing
its class by pinyin initials and clicking on the map, and reads it on its page; previews a
code-set switch, sees what blocks it, unblocks it and performs it; removes a photo."""

from __future__ import annotations

import pytest

from gridcity.services import catalog
from gridcity.services.components import NewComponent, create_component, get_component
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import COMM_A1, SYSTEM, TEST_INFO, add_quarter_grids
from tests.services.test_catalog_switch import Y2007, add
from tests.services.test_components import IN_A1, PARKS


def _png(width: int = 64, height: int = 48) -> bytes:
    """A real (tiny, orange) PNG, so that the screenshot shows a picture."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xe8\x59\x0c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _prepare(container) -> None:  # type: ignore[no-untyped-def]
    """The catalog and unit grids in community A1, as the component tests have them."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))


@pytest.mark.browser
def test_an_admin_adds_a_component_by_clicking_on_the_map(page, live) -> None:
    server, container, city = live
    _prepare(container)
    sign_in(page, server.url)
    page.goto(f"{server.url}/admin/components")
    page.get_by_test_id("new-component").click()
    page.wait_for_url("**/admin/components/new")
    page.wait_for_function("window.gridcityNewComponent && window.gridcityNewComponent.ready")
    page.get_by_test_id("class-search").fill("ljx")  # 垃圾箱's pinyin initials
    visible = page.locator("[data-testid=class-select] option:not([hidden])")
    assert visible.count() == 1 and "垃圾箱" in visible.inner_text()
    page.get_by_test_id("class-search").press("Enter")
    assert page.get_by_test_id("class-select").input_value() == "03005"
    page.wait_for_selector("[data-testid=class-default]")  # htmx swapped the class's fields in
    # A click in the middle of community A1 (the map frames the district; fly there first).
    page.evaluate(
        "(m => { m.invalidateSize(false); m.setView([39.905, 116.405], 17, {animate: false}); })"
        "(window.gridcityNewComponent.map)"
    )
    box = page.get_by_test_id("new-component-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("document.getElementById('lon').value !== ''")
    lon = float(page.get_by_test_id("lon").input_value())
    lat = float(page.get_by_test_id("lat").input_value())
    assert abs(lon - 116.405) < 0.0005 and abs(lat - 39.905) < 0.0005
    assert "已设定位置" in page.get_by_test_id("map-status").inner_text()
    page.get_by_test_id("name").fill("东四北垃圾箱")
    page.get_by_test_id("competent").select_option(label=PARKS)
    page.get_by_test_id("state").select_option("damaged")
    page.get_by_test_id("accuracy").select_option("A")
    page.get_by_test_id("data-source").fill("实测")
    page.get_by_test_id("note").fill("巡查新增")
    screenshot(page, "component-new-form")
    page.get_by_test_id("create-submit").click()
    page.wait_for_url("**/admin/components/*?done=created")
    title = page.get_by_test_id("component-title").inner_text()
    assert "东四北垃圾箱" in title and "破损" in page.get_by_test_id("component-state").inner_text()
    identifier = page.url.split("/")[-1].split("?")[0]
    assert len(identifier) == 17 and identifier[6:11] == "03005"
    facts = page.get_by_test_id("component-facts").inner_text()
    assert PARKS in facts and "实测" in facts and "巡查新增" in facts
    assert get_component(container.deps, SYSTEM, identifier).grid_code is not None

    # The same place again: refused as a likely duplicate, the form keeps what was typed.
    page.goto(f"{server.url}/admin/components/new?class_code=03005")
    page.get_by_test_id("lon").fill(str(lon))
    page.get_by_test_id("lat").fill(str(lat))
    page.get_by_test_id("name").fill("重复的垃圾箱")
    page.get_by_test_id("create-submit").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("form-refused").is_visible()
    assert identifier in page.get_by_test_id("error-position").inner_text()
    assert page.get_by_test_id("name").input_value() == "重复的垃圾箱"
    assert page.get_by_test_id("allow-duplicate").is_visible()
    screenshot(page, "component-new-refused")


@pytest.mark.browser
def test_an_admin_previews_unblocks_and_performs_a_code_set_switch(page, live) -> None:
    server, container, _city = live
    _prepare(container)
    add(container, "01001")  # 供水井盖: no 2007 class of that name, it blocks
    add(container, "01002", 2)  # 污水井盖 → 0102 by name
    sign_in(page, server.url)
    page.goto(f"{server.url}/admin/catalog")
    page.get_by_test_id("switch-link").click()
    page.get_by_test_id("switch-to").select_option(Y2007)
    page.get_by_test_id("switch-preview").click()
    page.wait_for_selector("[data-testid=switch-blocked]")
    assert page.get_by_test_id("components-moved").inner_text() == "2"
    assert page.get_by_test_id("components-lost").inner_text() == "1"
    blocked = page.get_by_test_id("lost-component-01001")
    assert "供水井盖" in blocked.inner_text()
    assert page.get_by_test_id("switch-form").count() == 0
    screenshot(page, "catalog-switch-blocked")
    blocked.get_by_test_id("pair-link").click()
    page.wait_for_url("**/admin/catalog/unmapped?*")
    row = page.get_by_test_id("unmapped-component-01001")
    row.get_by_label("对应代码").fill("0101")  # 上水井盖
    row.get_by_role("button").click()
    page.wait_for_url("**/admin/catalog/unmapped?*done=created*")

    page.goto(f"{server.url}/admin/catalog/switch?to_set={Y2007}")
    assert page.get_by_test_id("switch-blocked").count() == 0
    assert page.get_by_test_id("components-moved").inner_text() == "3"
    moves = page.get_by_test_id("switch-moves").inner_text()
    assert "0101" in moves and "上水井盖" in moves and "0102" in moves
    form = page.get_by_test_id("switch-form")
    form.get_by_test_id("switch-confirmation").fill("CJ/T 214")  # not the whole name
    form.get_by_test_id("switch-reason").fill("改用行业标准")
    form.get_by_test_id("switch-submit").click()
    page.wait_for_load_state()
    assert "请输入目标代码集的名称 CJ/T 214-2007" in page.locator(".flash.error").inner_text()
    assert page.get_by_test_id("switch-reason").input_value() == "改用行业标准"
    page.get_by_test_id("switch-confirmation").fill("CJ/T 214-2007")
    screenshot(page, "catalog-switch-confirm")
    page.get_by_test_id("switch-submit").click()
    page.wait_for_selector("[data-testid=switch-result]")
    assert "3 个部件已重新编码" in page.get_by_test_id("switch-result").inner_text()
    screenshot(page, "catalog-switch-done")
    assert {s.key for s in catalog.list_code_sets(container.deps, SYSTEM) if s.active} == {Y2007}
    page.get_by_test_id("switch-audit").click()
    page.wait_for_url("**/admin/audit?action=catalog.switched")
    assert "catalog.switched" in page.locator("#results").inner_text()
    assert "改用行业标准" in page.locator("#results").inner_html()  # in the entry's detail


@pytest.mark.browser
def test_an_admin_removes_a_photo_with_a_reason(page, live) -> None:
    server, container, city = live
    _prepare(container)
    cover = create_component(
        container.deps,
        SYSTEM,
        NewComponent("01001", IN_A1, competent_department_id=city.department_ids[PARKS]),
        info=TEST_INFO,
    ).identifier
    sign_in(page, server.url)
    page.goto(f"{server.url}/admin/components/{cover}")
    page.locator("[data-testid=photo-form] input[type=file]").set_input_files(
        {"name": "井盖.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.get_by_test_id("photo-submit").click()
    page.wait_for_url("**?done=updated")
    assert page.get_by_test_id("photo").count() == 1
    page.get_by_test_id("photo-remove").locator("summary").click()
    page.get_by_test_id("photo-remove-reason").fill("拍错了部件")
    screenshot(page, "component-photo-remove")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("photo-remove-submit").click()
    page.wait_for_url("**?done=updated")
    assert page.get_by_test_id("photo").count() == 0
    history = page.get_by_test_id("component-history").inner_text()
    assert "照片已移除" in history and "拍错了部件" in history
    view = get_component(container.deps, SYSTEM, cover)
    assert view.photos == [] and view.version == 3
