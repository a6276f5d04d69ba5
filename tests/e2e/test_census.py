"""As an administrator: upload a census file with a bad row and read the report; correct the
file, check it again, import it and see the result."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import Component
from gridcity.services import catalog
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import SYSTEM, TEST_INFO, add_quarter_grids
from tests.services.test_census import BOXES, good_rows, write_csv


@pytest.mark.browser
def test_an_admin_reads_the_report_of_a_bad_file_then_imports_the_corrected_one(
    page, live, tmp_path: Path
) -> None:
    server, container, _city = live
    for community, box in BOXES.items():
        add_quarter_grids(container, community, box)
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    bad = good_rows()
    bad[2] = "垃圾箱,区水务局,破损,20260115,116.4022,39.9022,"
    bad_file = write_csv(tmp_path, bad, "普查-有误.csv")
    good_file = write_csv(tmp_path, good_rows(), "普查.csv")

    sign_in(page, server.url)
    page.get_by_role("link", name="部件普查").click()
    page.wait_for_url("**/admin/census")

    page.get_by_test_id("census-file").set_input_files(str(bad_file))
    page.get_by_test_id("census-check").click()
    problems = page.get_by_test_id("census-problems")
    problems.wait_for()
    rows = [r.inner_text().split("\t") for r in problems.locator("tbody tr").all()]
    assert [(row, column) for row, column, _reason in rows] == [("3", "ZGBMMC")]
    assert "区水务局" in rows[0][2]
    assert page.get_by_test_id("census-import").is_disabled()
    with page.expect_download() as download:
        page.get_by_test_id("census-report-csv").click()
    report = Path(download.value.path()).read_text("utf-8-sig").splitlines()
    assert report[0] == "row,column,code,reason"
    assert report[1].startswith("3,ZGBMMC,unknown_department,")
    screenshot(page, "census-refused")

    page.get_by_test_id("census-file").set_input_files(str(good_file))
    page.get_by_test_id("census-check").click()
    page.get_by_test_id("census-result").wait_for()
    assert page.get_by_test_id("census-added").inner_text() == "3"
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Component)) == 0

    page.get_by_test_id("census-import").click()
    page.get_by_test_id("census-imported").wait_for()
    assert page.get_by_test_id("census-drawn").inner_text() == "3"
    assert page.get_by_test_id("census-import").is_disabled()  # no second import of the same check
    screenshot(page, "census-imported")
    with container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Component)) == 3
