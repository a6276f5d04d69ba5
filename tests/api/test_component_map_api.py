"""The component map over HTTP: compact column-wise JSON, gzip, an ETag that holds until the
inventory changes (and differs by filter and data scope), repeated filter parameters, the
picker's nearest components, and refusals in our error format."""

from __future__ import annotations

import numpy as np
import pytest

from gridcity.adapters.component_tiling import STATES
from tests.factories import SUB_A, SmallCity, api_token
from tests.services.test_component_map import CENTRE, add_at, build_inventory, in_tile, stored
from tests.unit.test_component_index import tile_of

Z16 = (16, *tile_of(116.4150, 39.9150, 16))


@pytest.fixture
def inventory(container, city: SmallCity) -> SmallCity:
    """The small city with 240 components over its district."""
    build_inventory(container)
    return city


def tile_url(z: int, x: int, y: int) -> str:
    return f"/api/v1/components/tiles/{z}/{x}/{y}"


def test_a_street_tile_answers_its_components_column_by_column(client, container, inventory):
    headers = api_token(client, "admin")
    response = client.get(tile_url(*Z16), headers=headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["etag"].startswith('"')
    body = response.json()
    assert body["kind"] == "points" and body["state_order"] == list(STATES)
    expected = {r.identifier: r for r in in_tile(stored(container), *Z16) if r.state != "removed"}
    points = body["points"]
    assert sorted(points["identifier"]) == sorted(expected) and body["total"] == len(expected)
    for k, identifier in enumerate(points["identifier"]):
        row = expected[identifier]
        assert points["lon"][k] == pytest.approx(row.x, abs=1e-7)
        assert points["lat"][k] == pytest.approx(row.y, abs=1e-7)
        assert (points["class_code"][k], points["state"][k]) == (row.class_code, row.state)


def test_a_busy_city_tile_answers_clusters_and_big_answers_come_gzipped(
    client, container, inventory
):
    rng = np.random.default_rng(3)
    many = np.column_stack((rng.uniform(116.401, 116.419, 2100), rng.uniform(39.910, 39.919, 2100)))
    add_at(container, many, ["01037"] * 2100)
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    headers = {**api_token(client, "admin"), "Accept-Encoding": "gzip"}
    response = client.get(tile_url(z, x, y), headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "clusters" and body["cells"] == 4
    clusters = body["clusters"]
    expected = [r for r in in_tile(stored(container), z, x, y) if r.state != "removed"]
    assert sum(clusters["count"]) == body["total"] == len(expected) > 2000
    assert len(clusters["lon"]) == len(clusters["lat"]) == len(clusters["states"])
    assert all(sum(s) == n for s, n in zip(clusters["states"], clusters["count"], strict=True))
    assert all(c[0][0] == "01037" for c in clusters["classes"] if c[0][1] > 200)
    street = client.get(tile_url(*Z16), headers=headers)  # ~120 points: worth compressing
    assert street.headers["content-encoding"] == "gzip" and street.json()["kind"] == "points"
    plain = client.get(tile_url(*Z16), headers={**headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(street.headers["content-length"]) < len(plain.content) / 2


def test_a_tile_is_revalidated_with_its_etag_until_the_inventory_changes(
    client, container, inventory
):
    headers = api_token(client, "admin")
    first = client.get(tile_url(*Z16), headers=headers)
    etag = first.headers["etag"]
    again = client.get(tile_url(*Z16), headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(tile_url(*Z16), headers={**headers, "If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    filtered = client.get(tile_url(*Z16), params={"class": "01037"}, headers=headers)
    assert filtered.headers["etag"] != etag
    add_at(container, np.array([[116.4150, 39.9150]]), ["03005"])
    changed = client.get(tile_url(*Z16), headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["total"] == first.json()["total"] + 1


def test_filters_are_repeated_parameters(client, container, inventory):
    headers = api_token(client, "admin")
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    response = client.get(
        tile_url(z, x, y),
        params=[("class", "01037"), ("class", "03005"), ("state", "破损"), ("state", "lost")],
        headers=headers,
    )
    assert response.status_code == 200
    expected = {
        r.identifier
        for r in in_tile(stored(container), z, x, y)
        if r.class_code in ("01037", "03005") and r.state in ("damaged", "lost")
    }
    assert set(response.json()["points"]["identifier"]) == expected and expected
    second = inventory.department_ids["区市政管理委员会"]
    by_department = client.get(
        tile_url(z, x, y), params={"department": second, "include_removed": "true"}, headers=headers
    ).json()
    assert set(by_department["points"]["state"]) == {"intact", "damaged", "lost", "removed"}


def test_each_user_sees_their_data_scope_and_gets_their_own_etag(client, container, inventory):
    z, (x, y) = 12, tile_of(*CENTRE, 12)
    admin = client.get(tile_url(z, x, y), headers=api_token(client, "admin"))
    supervisor = client.get(tile_url(z, x, y), headers=api_token(client, "supervisor"))
    mine = {
        r.identifier
        for r in in_tile(stored(container), z, x, y)
        if r.state != "removed" and (r.community_code or "").startswith(SUB_A)
    }
    assert set(supervisor.json()["points"]["identifier"]) == mine
    assert supervisor.json()["total"] < admin.json()["total"]
    assert supervisor.headers["etag"] != admin.headers["etag"]
    handler = client.get(tile_url(z, x, y), headers=api_token(client, "handler")).json()
    assert handler["total"] == 0  # no data scope: nothing, not an error


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/components/tiles/23/0/0", {}, "invalid_tile"),
        ("/api/v1/components/tiles/12/4096/0", {}, "invalid_tile"),
        ("/api/v1/components/tiles/12/3372/1552", {"cells": 5}, "invalid_cells"),
        ("/api/v1/components/tiles/12/3372/1552", {"class": "0 1"}, "invalid_class_filter"),
        ("/api/v1/components/tiles/12/3372/1552", {"state": "broken"}, "invalid_component_state"),
        ("/api/v1/components/tiles/12/3372/1552", {"crs": "BD09"}, "invalid_request"),
        ("/api/v1/components/near", {"lon": 116.4, "lat": 39.9, "radius": 900}, "invalid_radius"),
        ("/api/v1/components/near", {"lon": 116.4, "lat": 39.9, "limit": 99}, "invalid_limit"),
        ("/api/v1/components/near", {"lon": 116.4}, "invalid_request"),
    ],
)
def test_a_request_that_breaks_a_rule_is_refused(client, city, path, params, code):
    response = client.get(path, params=params, headers=api_token(client, "operator"))
    assert response.status_code == 422
    assert response.json()["code"] == code and response.json()["message"]


def test_anonymous_callers_must_sign_in(client, city):
    for path in (tile_url(12, 3372, 1552), "/api/v1/components/near?lon=116.4&lat=39.9"):
        response = client.get(path)
        assert response.status_code == 401 and response.json()["code"] == "login_required"


def test_the_picker_gets_the_nearest_components(client, container, inventory):
    lon, lat = CENTRE
    response = client.get(
        "/api/v1/components/near",
        params={"lon": lon, "lat": lat, "radius": 200, "limit": 3},
        headers=api_token(client, "dispatcher"),
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert 1 <= len(items) <= 3
    distances = [i["distance_m"] for i in items]
    assert distances == sorted(distances) and distances[-1] <= 200
    by_id = {r.identifier: r for r in stored(container)}
    for item in items:
        row = by_id[item["identifier"]]
        assert (item["class_code"], item["state"]) == (row.class_code, row.state)
        assert item["name"] in ("供水井盖", "路灯", "垃圾箱")
