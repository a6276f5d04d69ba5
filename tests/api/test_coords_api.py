"""GET/POST /api/v1/coords/convert: one point or a batch, between named and EPSG systems."""

from __future__ import annotations

import numpy as np
import pytest
from coord_convert.transform import bd2wgs, wgs2bd, wgs2gcj
from fastapi.testclient import TestClient

from tests.factories import SmallCity, api_token

URL = "/api/v1/coords/convert"
TIANANMEN = {"lon": 116.391275, "lat": 39.906217}


@pytest.fixture
def headers(client: TestClient, city: SmallCity) -> dict[str, str]:
    """A handler's bearer token: converting needs a login, not a particular role."""
    return api_token(client, "handler")


def convert(client: TestClient, headers: dict[str, str], **params: object) -> dict[str, object]:
    """GET one conversion that must succeed."""
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_anonymous_callers_must_sign_in(client: TestClient) -> None:
    single = client.get(URL, params={"from": "wgs84", "to": "gcj02", **TIANANMEN})
    batch = client.post(URL, json={"from": "wgs84", "to": "gcj02", "points": [[116.4, 39.9]]})
    assert (single.status_code, single.json()["code"]) == (401, "login_required")
    assert (batch.status_code, batch.json()["code"]) == (401, "login_required")


def test_one_point_from_wgs84_to_gcj02_matches_the_oracle(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = convert(client, headers, **{"from": "WGS84", "to": "GCJ-02"}, **TIANANMEN)
    assert body.keys() == {"lon", "lat", "from", "to"}
    assert (body["from"], body["to"]) == ("wgs84", "gcj02")
    assert (body["lon"], body["lat"]) == pytest.approx(wgs2gcj(*TIANANMEN.values()), abs=1e-9)


def test_a_baidu_point_comes_back_to_wgs84_more_exactly_than_the_oracle_inverse(
    client: TestClient, headers: dict[str, str]
) -> None:
    bd_lon, bd_lat = wgs2bd(*TIANANMEN.values())
    body = convert(client, headers, **{"from": "bd09", "to": "wgs84"}, lon=bd_lon, lat=bd_lat)
    assert (body["lon"], body["lat"]) == pytest.approx(tuple(TIANANMEN.values()), abs=1e-9)
    # The oracle's one-step BD-09 inverse is off by decimetres; ours is not.
    assert bd2wgs(bd_lon, bd_lat) != pytest.approx(tuple(TIANANMEN.values()), abs=1e-7)


def test_cgcs2000_to_a_gauss_kruger_zone_gives_metres_and_comes_back(
    client: TestClient, headers: dict[str, str]
) -> None:
    there = convert(client, headers, **{"from": "cgcs2000", "to": "epsg:4548"}, **TIANANMEN)
    assert there["to"] == "EPSG:4548"
    assert (there["lon"], there["lat"]) == pytest.approx((447_947.406, 4_419_293.348), abs=0.01)
    back = convert(
        client,
        headers,
        **{"from": "EPSG:4548", "to": "cgcs2000"},
        lon=there["lon"],
        lat=there["lat"],
    )
    assert (back["lon"], back["lat"]) == pytest.approx(tuple(TIANANMEN.values()), abs=1e-9)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "mars", "to": "wgs84", **TIANANMEN}, "crs_unknown"),
        ({"from": "wgs84", "to": "EPSG:99999", **TIANANMEN}, "crs_unknown"),
        ({"from": "wgs84", "to": "EPSG:4978", **TIANANMEN}, "crs_unsupported"),
        ({"from": "wgs84", "to": "gcj02", "lon": 116.4, "lat": 95.0}, "coordinate_out_of_range"),
        (
            {"from": "EPSG:4548", "to": "wgs84", "lon": 9e7, "lat": 9e7},
            "coordinate_not_convertible",
        ),
        ({"from": "wgs84", "to": "gcj02", "lon": "nan", "lat": 39.9}, "invalid_request"),
        ({"from": "wgs84", "to": "gcj02", "lon": 1e9, "lat": 39.9}, "invalid_request"),
        ({"to": "gcj02", **TIANANMEN}, "invalid_request"),
    ],
    ids=[
        "unknown-name",
        "unknown-epsg",
        "geocentric",
        "lat-95",
        "far-off",
        "nan",
        "huge",
        "no-from",
    ],
)
def test_refusals_answer_422_with_a_stable_code(
    client: TestClient, headers: dict[str, str], params: dict[str, object], code: str
) -> None:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and response.json()["message"]


def test_an_unknown_system_is_explained_in_chinese(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get(URL, params={"from": "mars", "to": "wgs84", **TIANANMEN}, headers=headers)
    assert response.json()["message"] == (
        "未知的坐标系 mars：请使用 wgs84、cgcs2000、gcj02、bd09 或 EPSG:nnnn"
    )


def test_a_batch_converts_every_point_in_order(client: TestClient, headers: dict[str, str]) -> None:
    rng = np.random.default_rng(3)
    points = np.column_stack((rng.uniform(116.2, 116.6, 500), rng.uniform(39.7, 40.1, 500)))
    body = {"from": "wgs84", "to": "bd09", "points": points.tolist()}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert (out["from"], out["to"]) == ("wgs84", "bd09")
    expected = [wgs2bd(lon, lat) for lon, lat in points]
    np.testing.assert_allclose(out["points"], expected, rtol=0, atol=1e-9)


def test_a_batch_of_ten_thousand_points_is_accepted_and_one_more_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    points = [[116.4, 39.9]] * 10_000
    full = client.post(
        URL, json={"from": "gcj02", "to": "wgs84", "points": points}, headers=headers
    )
    assert full.status_code == 200 and len(full.json()["points"]) == 10_000
    over = {"from": "gcj02", "to": "wgs84", "points": [*points, [116.4, 39.9]]}
    refused = client.post(URL, json=over, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_request"
    assert refused.json()["errors"][0]["field"] == "points"


def test_one_bad_point_refuses_the_batch_and_names_it(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = {"from": "gcj02", "to": "wgs84", "points": [[116.4, 39.9], [116.4, 91.0]]}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "coordinate_out_of_range"
    assert response.json()["message"].startswith("下标为 1 的点（116.4, 91.0）")


@pytest.mark.parametrize("points", [[[116.4]], [[116.4, 39.9, 10.0]], [["a", 39.9]]])
def test_a_batch_point_must_be_a_pair_of_numbers(
    client: TestClient, headers: dict[str, str], points: list[list[object]]
) -> None:
    body = {"from": "gcj02", "to": "wgs84", "points": points}
    response = client.post(URL, json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")


def test_a_batch_with_an_unknown_system_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = {"from": "gcj02", "to": "utm", "points": [[116.4, 39.9]]}
    response = client.post(URL, json=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "crs_unknown")
