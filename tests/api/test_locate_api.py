"""Locating points through the API: one point or many, in four coordinate systems, now or at
a past moment; unit grids read back as they are or were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box

from gridcity.bootstrap import Container
from gridcity.domain.coords import wgs84_to_bd09, wgs84_to_gcj02
from gridcity.services import grids
from tests.factories import (
    COMM_A1,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SUB_B,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    api_token,
)

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)
IN_A1_NORTH_EAST = (116.4075, 39.9075)
IN_B1 = (116.415, 39.915)
OUTSIDE = (116.50, 39.95)
only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _quarters_then_halves(container: Container) -> None:
    """Community A1 in four grids from January, re-divided into two halves from June."""
    x0, y0, x1, y1 = 116.40, 39.90, 116.41, 39.91
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    quarters = [
        (None, box(x0, y0, xm, ym), {}),
        (None, box(xm, y0, x1, ym), {}),
        (None, box(x0, ym, xm, y1), {}),
        (None, box(xm, ym, x1, y1), {"name": "东北片"}),
    ]
    halves = [(None, box(x0, y0, xm, y1), {}), (None, box(xm, y0, x1, y1), {"name": "东片"})]
    for cells, start in ((quarters, JAN), (halves, JUN)):
        grids.replace_community_grids(
            container.deps, SYSTEM, COMM_A1, cells, valid_from=start, info=TEST_INFO
        )


@pytest.fixture
def gridded(container: Container, city: SmallCity) -> SmallCity:
    """The small city with unit grids (and their history) in community A1."""
    _quarters_then_halves(container)
    return city


def test_a_point_is_located_in_its_district_subdistrict_community_and_grid(
    client: TestClient, gridded: SmallCity
) -> None:
    headers = api_token(client, "supervisor")

    body = client.get(
        "/api/v1/locate",
        params={"lon": IN_A1_NORTH_EAST[0], "lat": IN_A1_NORTH_EAST[1]},
        headers=headers,
    ).json()

    assert body["district"] == {"code": DISTRICT, "name": "东城区"}
    assert body["subdistrict"] == {"code": SUB_A, "name": "东华门街道"}
    assert body["community"] == {"code": COMM_A1, "name": "多福巷社区"}
    assert body["grid"] == {"code": f"{COMM_A1}002", "name": "东片"}
    assert body["layers"] == []


def test_a_point_in_a_community_without_grids_gets_its_divisions_and_no_grid(
    client: TestClient, gridded: SmallCity
) -> None:
    body = client.get(
        "/api/v1/locate",
        params={"lon": IN_B1[0], "lat": IN_B1[1]},
        headers=api_token(client, "handler"),
    ).json()

    assert body["subdistrict"]["code"] == SUB_B
    assert body["community"]["code"] == COMM_B1
    assert body["grid"] is None


def test_a_point_outside_every_district_is_a_404_with_its_own_code(
    client: TestClient, gridded: SmallCity
) -> None:
    response = client.get(
        "/api/v1/locate",
        params={"lon": OUTSIDE[0], "lat": OUTSIDE[1]},
        headers=api_token(client, "operator"),
    )

    assert response.status_code == 404
    assert response.json()["code"] == "outside_managed_area"


def test_a_location_asked_for_a_date_before_the_redivision_answers_the_old_grid(
    client: TestClient, gridded: SmallCity
) -> None:
    headers = api_token(client, "operator")
    point = {"lon": IN_A1_NORTH_EAST[0], "lat": IN_A1_NORTH_EAST[1]}

    in_march = client.get(
        "/api/v1/locate", params={**point, "at": "2026-03-15T09:30:00+08:00"}, headers=headers
    ).json()
    today = client.get("/api/v1/locate", params=point, headers=headers).json()

    assert in_march["grid"] == {"code": f"{COMM_A1}004", "name": "东北片"}
    assert today["grid"]["code"] == f"{COMM_A1}002"


@pytest.mark.parametrize(
    ("crs", "shift"), [("wgs84", None), ("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
)
def test_points_from_chinese_map_apps_land_in_the_grid_of_their_true_position(
    client: TestClient, gridded: SmallCity, crs: str, shift: object
) -> None:
    # Near a grid corner: the GCJ-02 offset in Beijing (~500 m) is larger than a grid, so an
    # unconverted point would land in another grid or community.
    true_lon, true_lat = 116.4030, 39.9030
    lon, lat = shift(true_lon, true_lat) if callable(shift) else (true_lon, true_lat)

    body = client.get(
        "/api/v1/locate",
        params={"lon": lon, "lat": lat, "crs": crs},
        headers=api_token(client, "supervisor"),
    ).json()

    assert body["grid"]["code"] == f"{COMM_A1}001"
    assert body["lon"] == pytest.approx(true_lon, abs=1e-8)
    assert body["lat"] == pytest.approx(true_lat, abs=1e-8)


def test_a_batch_answers_one_row_per_point_in_order_with_null_outside(
    client: TestClient, gridded: SmallCity
) -> None:
    points = [list(IN_B1), list(OUTSIDE), list(IN_A1_NORTH_EAST)]

    response = client.post(
        "/api/v1/locate/batch",
        json={"points": points, "at": "2026-03-15T00:00:00Z"},
        headers=api_token(client, "dispatcher"),
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["count"], body["located"]) == (3, 2)
    first, outside, last = body["results"]
    assert first == {
        "district": DISTRICT,
        "subdistrict": SUB_B,
        "community": COMM_B1,
        "grid": None,
        "layers": {},
    }
    assert outside is None
    assert last["grid"] == f"{COMM_A1}004"
    assert body["names"][f"{COMM_A1}004"] == "东北片"
    assert body["names"][COMM_B1] == "景山东街社区"


@only_sqlite
def test_a_batch_over_the_limit_is_refused(client: TestClient, city: SmallCity) -> None:
    response = client.post(
        "/api/v1/locate/batch",
        json={"points": [[116.4, 39.9]] * 100_001},
        headers=api_token(client, "admin"),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


@only_sqlite
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"at": "2026-03-15T09:30:00"}, "time_zone_missing"),
        ({"crs": "mars"}, "crs_unknown"),
        ({"lon": "200"}, "invalid_request"),
    ],
    ids=["naive time", "unknown system", "longitude out of range"],
)
def test_ambiguous_or_impossible_input_is_refused(
    client: TestClient, city: SmallCity, params: dict[str, str], code: str
) -> None:
    response = client.get(
        "/api/v1/locate",
        params={"lon": "116.405", "lat": "39.905", **params},
        headers=api_token(client, "admin"),
    )

    assert response.status_code == 422
    assert response.json()["code"] == code


@only_sqlite
def test_locating_needs_a_signed_in_user(client: TestClient, city: SmallCity) -> None:
    response = client.get("/api/v1/locate", params={"lon": 116.405, "lat": 39.905})

    assert response.status_code == 401


# --- reading grids ---------------------------------------------------------------------------


def test_grids_are_listed_now_or_at_a_past_moment(client: TestClient, gridded: SmallCity) -> None:
    headers = api_token(client, "supervisor")

    now = client.get("/api/v1/grids", params={"community": COMM_A1}, headers=headers).json()
    then = client.get(
        "/api/v1/grids",
        params={"community": COMM_A1, "at": "2026-02-01T00:00:00+08:00"},
        headers=headers,
    ).json()

    assert [g["code"] for g in now["items"]] == [f"{COMM_A1}001", f"{COMM_A1}002"]
    assert then["total"] == 4
    assert {g["valid_to"] for g in then["items"]} == {"2026-06-01T00:00:00Z"}


def test_one_grid_and_the_map_layer_of_a_community(client: TestClient, gridded: SmallCity) -> None:
    headers = api_token(client, "leader")

    grid = client.get(f"/api/v1/grids/{COMM_A1}002", headers=headers).json()
    layer = client.get("/api/v1/grids/geojson", params={"parent": COMM_A1}, headers=headers).json()

    assert grid["name"] == "东片" and grid["area_m2"] > 400_000
    assert layer["type"] == "FeatureCollection"
    assert [f["id"] for f in layer["features"]] == [f"{COMM_A1}001", f"{COMM_A1}002"]
    everything = client.get("/api/v1/grids/geojson", headers=headers).json()
    assert everything["features"] == layer["features"]


def test_a_grid_outside_the_users_scope_is_not_found(
    client: TestClient, container: Container, gridded: SmallCity
) -> None:
    x0, y0, x1, y1 = 116.41, 39.90, 116.42, 39.92
    grids.replace_community_grids(
        container.deps,
        SYSTEM,
        COMM_B1,
        [(None, box(x0, y0, x1, y1), {})],
        valid_from=JAN,
        info=TEST_INFO,
    )

    response = client.get(f"/api/v1/grids/{COMM_B1}001", headers=api_token(client, "supervisor"))

    assert response.status_code == 404
    assert response.json()["code"] == "grid_not_found"
