"""The layer admin pages (/admin/layers), driven as a browser would: the list, creating,
renaming and switching layers, drawing a responsibility layer from unit grids (the map's save),
uploading a GeoJSON of cells, and what re-divided unit grids left stale."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from gridcity.bootstrap import Container
from gridcity.services import layer_schemes, layers
from gridcity.services.layer_drawing import CellInput, replace_layer_cells
from gridcity.services.layer_schemes import SchemeEdit
from tests.factories import (
    COMM_A1,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SUB_B,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    browser_login,
    csrf_of,
)

A1 = (116.40, 39.90, 116.41, 39.91)
B1 = (116.41, 39.90, 116.42, 39.92)
JAN = datetime(2026, 1, 2, tzinfo=UTC)
PATROL = "ZR11010100101"


def g(community: str, n: int) -> str:
    """The n-th quarter grid of a community."""
    return f"{community}{n:03d}"


@pytest.fixture
def gridded(container: Container, city: SmallCity) -> SmallCity:
    """Quarter grids in A1 and B1; a patrol layer with one area (A1 001) from JAN."""
    patrol_city(container)
    return city


def patrol_city(container: Container) -> None:
    """Quarter grids in A1 and B1; a patrol layer with one area (A1 001) from JAN."""
    add_quarter_grids(container, COMM_A1, A1)
    add_quarter_grids(container, COMM_B1, B1)
    layers.create_layer(
        container.deps,
        SYSTEM,
        code="patrol",
        name="巡查责任区",
        scheme="responsibility",
        info=TEST_INFO,
    )
    replace_layer_cells(
        container.deps,
        SYSTEM,
        "patrol",
        [CellInput(division=SUB_A, name="多福巷", grids=(g(COMM_A1, 1),))],
        valid_from=JAN,
        info=TEST_INFO,
    )


@pytest.fixture
def admin(client: TestClient, gridded: SmallCity) -> TestClient:
    """A client signed in as the administrator."""
    browser_login(client, "admin")
    return client


def post_form(client: TestClient, action: str, data: dict[str, Any]) -> httpx.Response:
    """Post a form of the layer pages with the page's CSRF token, as a browser does."""
    token = csrf_of(client.get("/admin/layers").text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def save_drawing(
    client: TestClient, cells: list[dict[str, Any]], valid_from: str = "", layer: str = "patrol"
) -> httpx.Response:
    """What layer_draw.js sends: the drawing as JSON in a form field, the token in a header."""
    token = csrf_of(client.get(f"/admin/layers/{layer}").text)
    drawing = json.dumps({"valid_from": valid_from, "cells": cells})
    return client.post(
        f"/admin/layers/{layer}/cells",
        data={"drawing": drawing},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )


def upload(
    client: TestClient,
    layer: str,
    collection: dict[str, Any] | bytes,
    name: str = "cells.geojson",
) -> httpx.Response:
    """Post the upload form with a GeoJSON file (or other bytes)."""
    token = csrf_of(client.get(f"/admin/layers/{layer}").text)
    content = collection if isinstance(collection, bytes) else json.dumps(collection).encode()
    return client.post(
        f"/admin/layers/{layer}/upload",
        data={"csrf_token": token, "valid_from": ""},
        files={"file": (name, content, "application/geo+json")},
        follow_redirects=False,
    )


def draw_config(html: str) -> dict[str, Any]:
    """The JSON the layer page hands to layer_draw.js."""
    found = re.search(
        r'<script type="application/json" id="layer-draw-config">(.*?)</script>', html
    )
    assert found, "the page has no drawing configuration"
    return json.loads(found.group(1))


def cells_table(html: str) -> str:
    """The table of cells in force on the layer page."""
    return html.split('data-testid="cells"', 1)[1]


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_every_layer_with_its_scheme_validity_and_cells(admin: TestClient) -> None:
    html = admin.get("/admin/layers").text
    row = html.split('data-testid="layer-patrol"', 1)[1].split("</tr>", 1)[0]
    assert "巡查责任区" in row and "责任网格" in row and "^ZR[0-9]{9}[0-9]{2}$" in row
    assert "启用" in row and "2026-01-02 08:00" in row
    assert 'data-testid="layer-cells-patrol">1<' in row
    assert 'data-testid="layer-unit"' in html and 'data-testid="layer-form"' in html
    assert 'href="/admin/layers"' in html  # in the navigation


def test_the_pages_show_the_citys_own_scheme_names_and_formats(
    admin: TestClient, container: Container
) -> None:
    layer_schemes.update_layer_scheme(
        container.deps,
        SYSTEM,
        "sanitation",
        SchemeEdit(name_zh="保洁片区", marker="BJ"),
        info=TEST_INFO,
    )
    html = admin.get("/admin/layers").text
    assert "保洁片区 (多边形) BJ110101001</option>" in html
    post_form(admin, "/admin/layers", {"code": "clean", "name": "保洁", "scheme": "sanitation"})
    page = admin.get("/admin/layers/clean").text
    assert "保洁片区" in page and "^BJ[0-9]{6}[0-9]{3}$" in page


def test_an_admin_creates_a_layer_and_lands_on_its_page(admin: TestClient) -> None:
    created = post_form(
        admin, "/admin/layers", {"code": "zones", "name": "执法网格", "scheme": "enforcement"}
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/layers/zones?done=created"
    page = admin.get(created.headers["location"]).text
    assert "执法网格" in page and "已保存" in page and 'data-testid="upload-form"' in page
    assert 'data-testid="layer-draw"' not in page  # polygons are uploaded, not clicked
    assert "zones" in admin.get("/admin/layers").text


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"code": "Bad Code", "name": "x", "scheme": "sanitation"}, "Bad Code"),
        ({"code": "patrol", "name": "again", "scheme": "sanitation"}, "patrol"),
        ({"code": "odd", "name": "x", "scheme": "nonsense"}, "nonsense"),
        ({"code": "blank", "name": "   ", "scheme": "sanitation"}, "1 至 100"),
        ({"code": "second-unit", "name": "x", "scheme": "unit"}, "单元网格"),
    ],
)
def test_a_refused_layer_is_shown_on_the_form_with_its_reason(
    admin: TestClient, container: Container, fields: dict[str, str], shown: str
) -> None:
    refused = post_form(admin, "/admin/layers", fields)
    assert refused.status_code == 422
    error = refused.text.split('class="flash error"', 1)[1].split("</div>", 1)[0]
    assert shown in error
    assert f'value="{fields["name"]}"' in refused.text  # what was typed stays in the form
    assert len(layers.list_layers(container.deps, SYSTEM)) == 2


def test_names_from_data_are_escaped(admin: TestClient) -> None:
    post_form(admin, "/admin/layers", {"code": "xss", "name": "<b>x</b>", "scheme": "social"})
    assert "<b>x</b>" not in admin.get("/admin/layers").text
    assert "&lt;b&gt;x&lt;/b&gt;" in admin.get("/admin/layers/xss").text


def test_staff_read_the_layers_but_only_admins_change_them(
    client: TestClient, container: Container, gridded: SmallCity
) -> None:
    browser_login(client, "duty-chief")
    listing = client.get("/admin/layers")
    assert listing.status_code == 200 and 'data-testid="layer-form"' not in listing.text
    page = client.get("/admin/layers/patrol")
    assert page.status_code == 200 and PATROL in cells_table(page.text)
    for marker in ("rename-form", "layer-draw", "upload-form"):
        assert f'data-testid="{marker}"' not in page.text
    token = csrf_of(page.text)
    for action, data in (
        ("/admin/layers", {"code": "mine", "name": "x", "scheme": "social"}),
        ("/admin/layers/patrol", {"name": "改名"}),
        ("/admin/layers/patrol/active", {"is_active": "false"}),
    ):
        response = client.post(action, data={**data, "csrf_token": token})
        assert response.status_code == 403, action
    drawn = client.post(
        "/admin/layers/patrol/cells",
        data={"drawing": json.dumps({"cells": []})},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert drawn.status_code == 403 and drawn.json()["code"] == "permission_denied"
    assert layers.get_layer(container.deps, SYSTEM, "patrol").cells == 1


def test_an_unknown_layer_is_not_found(admin: TestClient) -> None:
    assert admin.get("/admin/layers/nope").status_code == 404


# --- rename, switch off and on -----------------------------------------------------------------


def test_an_admin_renames_and_switches_a_layer_off_and_on(
    admin: TestClient, container: Container
) -> None:
    renamed = post_form(admin, "/admin/layers/patrol", {"name": "东华门巡查", "description": "试"})
    assert renamed.status_code == 303
    assert "东华门巡查" in admin.get("/admin/layers/patrol").text
    off = post_form(admin, "/admin/layers/patrol/active", {"is_active": "false"})
    assert off.status_code == 303
    assert not layers.get_layer(container.deps, SYSTEM, "patrol").is_active
    assert 'data-testid="switch-on"' in admin.get("/admin/layers/patrol").text
    assert post_form(admin, "/admin/layers/patrol/active", {"is_active": "true"}).status_code == 303
    assert layers.get_layer(container.deps, SYSTEM, "patrol").is_active


def test_a_refused_rename_or_switch_shows_its_reason(admin: TestClient) -> None:
    blank = post_form(admin, "/admin/layers/patrol", {"name": "  "})
    assert blank.status_code == 422 and "1 至 100" in blank.text
    unit = post_form(admin, "/admin/layers/unit/active", {"is_active": "false"})
    assert unit.status_code == 422 and "单元网格图层不能停用" in unit.text


# --- drawing from unit grids -----------------------------------------------------------------


def test_the_layer_page_hands_the_cells_and_grids_to_the_drawing_script(
    admin: TestClient,
) -> None:
    html = admin.get("/admin/layers/patrol").text
    config = draw_config(html)
    assert config["cells"] == [
        {"code": PATROL, "name": "多福巷", "division": SUB_A, "grids": [g(COMM_A1, 1)]}
    ]
    assert config["save"] == "/admin/layers/patrol/cells"
    assert config["grids"].startswith("/grids/cells.geojson?layer=unit")
    assert f'<option value="{SUB_A}">' in html and f'<option value="{SUB_B}">' in html
    assert '<script src="/static/layer_draw.js"></script>' in html
    grids_shown = admin.get(config["grids"]).json()
    assert len(grids_shown["features"]) == 8


def test_saving_the_map_redraws_the_layer_through_the_service(
    admin: TestClient, container: Container
) -> None:
    saved = save_drawing(
        admin,
        [
            {"code": PATROL, "name": "多福巷北", "grids": [g(COMM_A1, 1), g(COMM_A1, 2)]},
            {"division": SUB_B, "name": "景山", "grids": [g(COMM_B1, 3), g(COMM_B1, 4)]},
        ],
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"redirect": "/admin/layers/patrol?done=drawn"}
    page = admin.get(saved.json()["redirect"]).text
    table = cells_table(page)
    assert PATROL in table and "多福巷北" in table and "ZR11010100201" in table and "景山" in table
    assert "已保存：图层已重新绘制" in page
    found = layers.layer_cells_geojson(container.deps, SYSTEM, "patrol")
    members = {f["id"]: f["properties"]["grids"] for f in found["features"]}
    assert members == {
        PATROL: [g(COMM_A1, 1), g(COMM_A1, 2)],
        "ZR11010100201": [g(COMM_B1, 3), g(COMM_B1, 4)],
    }


def test_a_redrawn_cell_keeps_its_attributes(admin: TestClient, container: Container) -> None:
    replace_layer_cells(
        container.deps,
        SYSTEM,
        "patrol",
        [CellInput(code=PATROL, grids=(g(COMM_A1, 1),), attributes={"phone": "010-1234"})],
        valid_from=datetime(2026, 2, 1, tzinfo=UTC),
        info=TEST_INFO,
    )
    assert save_drawing(admin, [{"code": PATROL, "grids": [g(COMM_A1, 3)]}]).status_code == 200
    (cell,) = layers.cells_in_force(container.deps, SYSTEM, "patrol")
    assert cell.attributes["phone"] == "010-1234" and cell.attributes["grid_count"] == 1


@pytest.mark.parametrize(
    ("cells", "valid_from", "reason"),
    [
        (
            [
                {"code": PATROL, "grids": [g(COMM_A1, 1), g(COMM_A1, 2)]},
                {"division": SUB_A, "grids": [g(COMM_A1, 2)]},
            ],
            "",
            "layer_grid_twice",
        ),
        ([{"division": SUB_A, "grids": [g(COMM_B1, 1)]}], "", "layer_grid_outside_division"),
        ([{"division": SUB_A, "grids": []}], "", "layer_cell_no_grids"),
        ([{"code": PATROL, "grids": [g(COMM_A1, 1)]}], "2026-01-02", "layer_redraw_order"),
        ([{"code": PATROL, "grids": [g(COMM_A1, 1)]}], "someday", "date_invalid"),
        ([{"division": "110101009", "grids": [g(COMM_A1, 1)]}], "", "division_not_found"),
    ],
)
def test_a_refused_drawing_answers_the_reason_and_writes_nothing(
    admin: TestClient,
    container: Container,
    cells: list[dict[str, Any]],
    valid_from: str,
    reason: str,
) -> None:
    refused = save_drawing(admin, cells, valid_from)
    assert refused.status_code in (404, 409, 422)
    body = refused.json()
    assert body["code"] == reason and body["message"]
    if reason == "layer_grid_twice":
        assert body["message"] == (
            f"单元网格 {g(COMM_A1, 2)} 同时属于网格 {PATROL} 和网格 ZR11010100102"
        )
    found = layers.layer_cells_geojson(container.deps, SYSTEM, "patrol")
    assert [f["properties"]["grids"] for f in found["features"]] == [[g(COMM_A1, 1)]]


def test_a_drawing_that_cannot_be_read_or_lacks_its_token_is_refused(
    admin: TestClient, container: Container
) -> None:
    token = csrf_of(admin.get("/admin/layers/patrol").text)
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    garbled = admin.post("/admin/layers/patrol/cells", data={"drawing": "{"}, headers=headers)
    assert garbled.status_code == 422 and garbled.json()["code"] == "layer_drawing_invalid"
    untokened = admin.post(
        "/admin/layers/patrol/cells",
        data={"drawing": json.dumps({"cells": []})},
        headers={"Accept": "application/json"},
    )
    assert untokened.status_code == 403
    assert layers.get_layer(container.deps, SYSTEM, "patrol").cells == 1


# --- uploading a GeoJSON of cells -------------------------------------------------------------


def zones_layer(container: Container) -> None:
    """An empty enforcement layer (polygons in the district)."""
    layers.create_layer(
        container.deps, SYSTEM, code="zones", name="执法网格", scheme="enforcement", info=TEST_INFO
    )


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    """One GeoJSON feature."""
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_an_uploaded_geojson_redraws_a_polygon_layer(
    admin: TestClient, container: Container
) -> None:
    zones_layer(container)
    west, east = box(116.40, 39.90, 116.41, 39.92), box(116.41, 39.90, 116.42, 39.92)
    collection = {
        "type": "FeatureCollection",
        "features": [
            feature(mapping(west), division=DISTRICT, name="西片", team="一中队"),
            feature(mapping(east), code="ZF110101007", name="东片"),
        ],
    }
    done = upload(admin, "zones", collection)
    assert done.status_code == 303 and done.headers["location"] == "/admin/layers/zones?done=drawn"
    table = cells_table(admin.get(done.headers["location"]).text)
    # A cell without a code takes the next sequence after the highest one given.
    assert "ZF110101008" in table and "西片" in table and "ZF110101007" in table
    cells = {c.code: c for c in layers.cells_in_force(container.deps, SYSTEM, "zones")}
    assert cells["ZF110101008"].attributes["team"] == "一中队"


def test_an_uploaded_responsibility_layer_lists_its_grids(
    admin: TestClient, container: Container
) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [feature(None, code=PATROL, grids=[g(COMM_A1, 3), g(COMM_A1, 4)])],
    }
    assert upload(admin, "patrol", collection).status_code == 303
    (cell,) = layers.layer_cells_geojson(container.deps, SYSTEM, "patrol")["features"]
    assert cell["properties"]["grids"] == [g(COMM_A1, 3), g(COMM_A1, 4)]


def test_an_uploaded_file_of_codes_redraws_a_layer_of_whole_divisions(
    admin: TestClient, container: Container
) -> None:
    layers.create_layer(
        container.deps,
        SYSTEM,
        code="fire-big",
        name="消防大网格",
        scheme="fire_big",
        info=TEST_INFO,
    )
    collection = {
        "type": "FeatureCollection",
        "features": [feature(None, division=SUB_A), feature(None, code="XF110101002")],
    }
    assert upload(admin, "fire-big", collection).status_code == 303
    codes = [c.code for c in layers.cells_in_force(container.deps, SYSTEM, "fire-big")]
    assert codes == ["XF110101001", "XF110101002"]


def test_a_refused_upload_is_shown_on_the_page_and_writes_nothing(
    admin: TestClient, container: Container
) -> None:
    zones_layer(container)
    whole = mapping(box(116.40, 39.90, 116.42, 39.92))
    overlapping = {
        "type": "FeatureCollection",
        "features": [feature(whole, division=DISTRICT), feature(whole, division=DISTRICT)],
    }
    refused = upload(admin, "zones", overlapping)
    assert refused.status_code == 422
    assert (
        "ZF110101001" in refused.text and "ZF110101002" in refused.text and "重叠" in refused.text
    )
    csv = upload(admin, "zones", b"code,wkt\nZF110101001,POINT (116.4 39.9)\n", name="cells.csv")
    assert csv.status_code == 422 and "GeoJSON" in csv.text  # a type we read, not for layers
    disguised = upload(admin, "zones", b"code,name\n1,2\n", name="cells.geojson")
    assert disguised.status_code == 422 and "cells.geojson" in disguised.text  # sniffed: CSV
    token = csrf_of(admin.get("/admin/layers/zones").text)
    nothing = admin.post("/admin/layers/zones/upload", data={"csrf_token": token})
    assert nothing.status_code == 422
    empty = upload(admin, "zones", {"type": "FeatureCollection", "features": []})
    assert empty.status_code == 422
    assert layers.get_layer(container.deps, SYSTEM, "zones").cells == 0
