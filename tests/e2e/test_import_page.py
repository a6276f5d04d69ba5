"""As an administrator: upload a GeoJSON of unit grids, read the dry run, confirm, see it done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import mapping

from gridcity.adapters.db.tables import GridCell
from tests.e2e.conftest import screenshot, sign_in
from tests.services.test_grid_import import grid_features


def _grid_file(folder: Path) -> Path:
    """The six test grids of communities A1 and A2 as a GeoJSON file."""
    features = [
        {"type": "Feature", "geometry": mapping(f.geometry), "properties": f.properties}
        for f in grid_features()
    ]
    path = folder / "网格.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


@pytest.mark.browser
def test_an_admin_checks_a_grid_file_then_imports_it(page, live, tmp_path: Path) -> None:
    server, container, _city = live
    sign_in(page, server.url)
    page.get_by_role("link", name="导入与导出").click()
    page.wait_for_url("**/admin/import")

    page.get_by_test_id("import-file").set_input_files(str(_grid_file(tmp_path)))
    page.get_by_test_id("import-valid-from").fill("2026-07-01")
    page.get_by_test_id("import-check").click()

    summary = page.get_by_test_id("import-summary")
    summary.wait_for()
    assert "6 个" in page.get_by_test_id("import-would-write").inner_text()
    rows = page.get_by_test_id("import-communities").locator("tbody tr")
    assert [r.inner_text().split() for r in rows.all()] == [
        ["110101001001", "多福巷社区", "4", "0"],
        ["110101001002", "银闸社区", "2", "0"],
    ]
    page.wait_for_selector("#import-map.leaflet-container canvas")
    screenshot(page, "import-dry-run")
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GridCell)) == 0

    page.get_by_test_id("import-confirm").click()
    page.wait_for_url("**/admin/import?done=grids*")
    assert "已导入：2 个社区的单元网格 6 个" in page.locator(".flash.success").inner_text()
    assert page.get_by_test_id("import-see-grids").is_visible()
    screenshot(page, "import-done")
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(GridCell)) == 6
