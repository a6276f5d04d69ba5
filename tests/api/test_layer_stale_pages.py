"""What re-divided unit grids leave stale, as the pages and the API show it: the layer page and
GET /api/v1/layers/{code}/stale, the grid generation page after saving, the import check."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from gridcity.bootstrap import Container
from gridcity.services import grids
from tests.api.test_layer_pages import (
    B1,
    PATROL,
    cells_table,
    draw_config,
    feature,
    g,
    patrol_city,
    save_drawing,
    zones_layer,
)
from tests.factories import COMM_A1, COMM_B1, SYSTEM, TEST_INFO, SmallCity, browser_login, csrf_of


@pytest.fixture
def admin(client: TestClient, container: Container, city: SmallCity) -> TestClient:
    """The administrator's browser on the patrol city of test_layer_pages."""
    patrol_city(container)
    browser_login(client, "admin")
    return client


def test_the_layer_page_and_the_api_name_cells_left_stale_by_a_redivision(
    admin: TestClient, container: Container
) -> None:
    assert 'data-testid="layer-stale"' in admin.get("/admin/layers/patrol").text  # unheld grids
    done = grids.replace_community_grids(
        container.deps,
        SYSTEM,
        COMM_A1,
        [
            (None, box(116.40, 39.90, 116.405, 39.91), {}),
            (None, box(116.405, 39.90, 116.41, 39.91), {}),
        ],
        valid_from=datetime(2026, 3, 1, tzinfo=UTC),
        info=TEST_INFO,
    )
    assert [a.code for a in done.affected] == [PATROL]

    page = admin.get("/admin/layers/patrol").text
    stale = page.split('data-testid="layer-stale"', 1)[1].split("</section>", 1)[0]
    assert f'data-testid="stale-{PATROL}"' in stale and "2026-03-01 08:00" in stale
    assert "已过期" in cells_table(page)
    api = admin.get("/api/v1/layers/patrol/stale").json()
    assert [c["code"] for c in api["stale"]] == [PATROL]
    assert api["stale"][0]["ended"] == [g(COMM_A1, 1)] and api["stale"][0]["missing"] == []
    assert api["unheld"] == [g(COMM_A1, 2)] + [g(COMM_B1, n) for n in (1, 2, 3, 4)]
    assert api["unheld_count"] == 5
    scoped = admin.get("/api/v1/layers/patrol/stale", params={"parent": COMM_B1}).json()
    assert scoped["stale"] == [] and scoped["unheld_count"] == 4
    assert draw_config(page)["stale"] == [PATROL]  # the drawing's list marks it too

    # Saving the same cell again draws it from the grids in force: no longer stale.
    assert save_drawing(admin, [{"code": PATROL, "grids": [g(COMM_A1, 1)]}]).status_code == 200
    assert admin.get("/api/v1/layers/patrol/stale").json()["stale"] == []
    assert 'data-testid="stale-' not in admin.get("/admin/layers/patrol").text


def test_the_stale_check_refuses_a_layer_of_polygons(
    admin: TestClient, container: Container
) -> None:
    zones_layer(container)
    refused = admin.get("/api/v1/layers/zones/stale")
    assert refused.status_code == 422 and refused.json()["code"] == "layer_not_of_unit_grids"
    assert admin.get("/api/v1/layers/nope/stale").status_code == 404


def test_the_grid_generation_page_names_the_cells_its_redivision_left_stale(
    admin: TestClient,
) -> None:
    preview = admin.get(
        "/admin/grids/generate/preview.geojson",
        params={"community": COMM_A1, "target_area": "100000"},
        headers={"Accept": "application/json"},
    ).json()
    token = csrf_of(admin.get("/admin/grids/generate").text)
    saved = admin.post(
        "/admin/grids/generate",
        data={
            "csrf_token": token,
            "community": COMM_A1,
            "target_area": "100000",
            "fingerprint": preview["summary"]["fingerprint"],
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = admin.get(saved.headers["location"]).text
    warning = page.split('data-testid="redivision-stale"', 1)[1].split("</section>", 1)[0]
    assert PATROL in warning and 'href="/admin/layers/patrol"' in warning
    untouched = admin.get(f"/admin/grids/generate?community={COMM_B1}&done=redivided").text
    assert 'data-testid="redivision-stale"' not in untouched


def test_the_import_check_names_the_cells_an_import_would_leave_stale(admin: TestClient) -> None:
    west, east = box(116.40, 39.90, 116.405, 39.91), box(116.405, 39.90, 116.41, 39.91)
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(mapping(west), grid_code=g(COMM_A1, 1)),
            feature(mapping(east), grid_code=g(COMM_A1, 2)),
        ],
    }
    token = csrf_of(admin.get("/admin/import").text)
    checked = admin.post(
        "/admin/import/check",
        data={"csrf_token": token, "kind": "grids", "crs": "", "encoding": "", "valid_from": ""},
        files={"file": ("a1.geojson", json.dumps(collection).encode(), "application/geo+json")},
    )
    assert checked.status_code == 200, checked.text
    warning = checked.text.split('data-testid="import-stale"', 1)[1].split("</section>", 1)[0]
    assert PATROL in warning and 'href="/admin/layers/patrol"' in warning
    other = {
        "type": "FeatureCollection",
        "features": [feature(mapping(box(*B1)), grid_code=g(COMM_B1, 1))],
    }
    unaffected = admin.post(
        "/admin/import/check",
        data={"csrf_token": token, "kind": "grids", "crs": "", "encoding": "", "valid_from": ""},
        files={"file": ("b1.geojson", json.dumps(other).encode(), "application/geo+json")},
    )
    assert unaffected.status_code == 200 and 'data-testid="import-stale"' not in unaffected.text
