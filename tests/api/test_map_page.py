"""The map page: who may open it, what it loads, the data scope and the GCJ-02 display shift."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import STAFF_ROLES, Role
from gridcity.domain.coords import wgs84_to_gcj02
from gridcity.web.app import create_app
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import COMM_A1, COMM_B1, DISTRICT, SUB_A, SmallCity, browser_login

TILES = "http://tiles.invalid/{z}/{x}/{y}.png"


def map_config(html: str) -> dict[str, Any]:
    """The JSON the page hands to map.js."""
    match = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', html, re.S)
    assert match, "page has no map configuration"
    return json.loads(match.group(1))


def codes(collection: dict[str, Any]) -> list[str]:
    """Division codes of a GeoJSON FeatureCollection."""
    return [f["properties"]["code"] for f in collection["features"]]


def first_point(collection: dict[str, Any]) -> tuple[float, float]:
    """The first vertex of the first feature (a MultiPolygon)."""
    lon, lat = collection["features"][0]["geometry"]["coordinates"][0][0][0]
    return lon, lat


@pytest.fixture
def gcj02_client(container: Container, city: SmallCity) -> Iterator[TestClient]:
    """A client of an app whose basemap tiles are in GCJ-02, on the same database."""
    settings = settings_for(container.settings.database_url, basemap_crs="GCJ02", basemap_url=TILES)
    shifted = bootstrap(settings, hasher=FAST_HASHER)
    with TestClient(create_app(shifted)) as client:
        yield client
    shifted.db.engine.dispose()


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/map?focus=110101", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/map")


@pytest.mark.parametrize("role", STAFF_ROLES, ids=lambda r: r.value)
def test_every_staff_role_gets_the_map_with_leaflet_from_our_server(
    client: TestClient, city: SmallCity, role: Role
) -> None:
    browser_login(client, role.value.replace("_", "-"))
    response = client.get("/map")
    assert response.status_code == 200
    html = response.text
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">' in html
    assert '<script src="/static/map.js"></script>' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing may come from elsewhere"
    config = map_config(html)
    assert config["source"] == "/api/v1/divisions/geojson"
    assert config["levels"] == ["district", "subdistrict", "community"]
    assert config["basemap"] is None
    assert config["text"]["subdistrict"] == "街道/乡镇"


def test_the_map_script_is_served(client: TestClient) -> None:
    response = client.get("/static/map.js")
    assert response.status_code == 200
    assert "L.geoJSON" in response.text and "map-config" in response.text


def test_a_supervisor_sees_only_their_subdistrict_and_the_district_around_it(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "supervisor")
    for source in ("/api/v1/divisions/geojson", "/map/divisions.geojson"):
        by_level = {
            level: codes(client.get(source, params={"level": level}).json())
            for level in ("district", "subdistrict", "community")
        }
        assert by_level == {
            "district": [DISTRICT],
            "subdistrict": [SUB_A],
            "community": [COMM_A1, "110101001002"],
        }


def test_focus_names_the_division_and_hands_its_code_to_the_script(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "admin")
    html = client.get(f"/map?focus={COMM_A1}").text
    assert map_config(html)["focus"] == COMM_A1
    assert "多福巷社区" in html


def test_focus_outside_the_data_scope_is_refused_with_a_notice(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "supervisor")
    response = client.get(f"/map?focus={COMM_B1}")
    assert response.status_code == 200
    assert map_config(response.text)["focus"] == ""
    assert f"区划 {COMM_B1} 不在您的数据范围内" in response.text
    assert "不是有效的区划代码" in client.get("/map?focus=abc").text


def test_a_wgs84_basemap_is_drawn_without_shifting(client: TestClient, city: SmallCity) -> None:
    browser_login(client, "admin")
    plain = client.get("/api/v1/divisions/geojson", params={"level": "district"}).json()
    same = client.get("/map/divisions.geojson", params={"level": "district"}).json()
    assert same == plain


def test_gcj02_basemap_shifts_our_boundaries_for_display(gcj02_client: TestClient) -> None:
    browser_login(gcj02_client, "admin")
    config = map_config(gcj02_client.get("/map").text)
    assert config["basemap"] == {"url": TILES, "attribution": ""}
    assert config["source"] == "/map/divisions.geojson?crs=GCJ02"
    stored = gcj02_client.get("/api/v1/divisions/geojson", params={"level": "district"}).json()
    shown = gcj02_client.get(
        "/map/divisions.geojson", params={"level": "district", "crs": "GCJ02"}
    ).json()
    assert codes(shown) == codes(stored) == [DISTRICT]
    expected = wgs84_to_gcj02(*first_point(stored))
    assert first_point(shown) == pytest.approx(expected, abs=2e-7)
    assert first_point(shown) != pytest.approx(first_point(stored), abs=1e-3)
    assert shown["features"][0]["properties"] == stored["features"][0]["properties"]


def test_the_boundary_endpoint_needs_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/map/divisions.geojson", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"
