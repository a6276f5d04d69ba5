"""Layers and responsibility over HTTP: administrators draw layers, a point is located in a cell
of every layer, and anyone on staff asks who answers for a grid and which grids nobody covers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from gridcity.bootstrap import Container
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SUB_B,
    SmallCity,
    add_quarter_grids,
    api_token,
)

JAN = "2026-01-02T00:00:00+08:00"
NOON = "2026-03-02T12:00:00+08:00"
NIGHT = "2026-03-02T23:00:00+08:00"
IN_A1_NORTH_WEST = (116.4025, 39.9075)
A1_WEST, A1_EAST = box(116.40, 39.90, 116.405, 39.91), box(116.405, 39.90, 116.41, 39.91)
LAYERS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "patrol": ("responsibility", [
        {"division": SUB_A, "name": "东华门1号", "grids": [f"{COMM_A1}{n:03d}" for n in (1, 2, 3, 4)]},
        {"division": SUB_B, "grids": [f"{COMM_B1}{n:03d}" for n in (1, 2, 3, 4)]},
    ]),
    "social": ("social", [{"division": COMM_A1, "geometry": mapping(A1_WEST)}]),
    "enforcement": ("enforcement", [{"division": DISTRICT, "geometry": mapping(box(116.40, 39.90, 116.42, 39.92))}]),
    "sanitation": ("sanitation", [{"code": "HW110101007", "geometry": mapping(box(116.40, 39.90, 116.41, 39.92))}]),
    "fire-big": ("fire_big", [{"division": SUB_A}, {"division": SUB_B}]),
    "fire-medium": ("fire_medium", [{"division": c} for c in (COMM_A1, COMM_A2, COMM_B1)]),
    "fire-small": ("fire_small", [{"division": COMM_A1, "geometry": mapping(g)} for g in (A1_WEST, A1_EAST)]),
}  # fmt: skip
EXPECTED_CELLS = {
    "patrol": "ZR11010100101",
    "social": "SH110101001001001",
    "enforcement": "ZF110101001",
    "sanitation": "HW110101007",
    "fire-big": "XF110101001",
    "fire-medium": "XF110101001001",
    "fire-small": "XF11010100100101",
}


def draw_everything(client: TestClient, container: Container) -> dict[str, str]:
    """Quarter grids in A1 and B1, then every layer through the API; returns the admin header."""
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    add_quarter_grids(container, COMM_B1, (116.41, 39.90, 116.42, 39.92))
    admin = api_token(client, "admin")
    for code, (scheme, cells) in LAYERS.items():
        created = client.post(
            "/api/v1/layers", json={"code": code, "name": code, "scheme": scheme}, headers=admin
        )
        assert created.status_code == 201, created.text
        drawn = client.put(
            f"/api/v1/layers/{code}/cells", json={"valid_from": JAN, "cells": cells}, headers=admin
        )
        assert drawn.status_code == 200, drawn.text
    return admin


def test_a_point_resolves_to_one_cell_in_every_layer(
    client: TestClient, container: Container, city: SmallCity
) -> None:
    draw_everything(client, container)
    headers = api_token(client, "supervisor")

    body = client.get(
        "/api/v1/locate",
        params={"lon": IN_A1_NORTH_WEST[0], "lat": IN_A1_NORTH_WEST[1]},
        headers=headers,
    ).json()

    assert body["grid"]["code"] == f"{COMM_A1}001"
    found = {item["layer"]: item["cell"]["code"] for item in body["layers"] if item["cell"]}
    assert found == EXPECTED_CELLS
    assert {item["layer"]: item["kind"] for item in body["layers"]}["fire-small"] == "fire"


def test_a_layers_cells_are_read_as_geojson_now_or_before_the_drawing(
    client: TestClient, container: Container, city: SmallCity
) -> None:
    draw_everything(client, container)
    headers = api_token(client, "leader")

    listed = {
        layer["code"]: layer for layer in client.get("/api/v1/layers", headers=headers).json()
    }
    now = client.get("/api/v1/layers/patrol/cells", headers=headers).json()
    before = client.get(
        "/api/v1/layers/patrol/cells", params={"at": "2026-01-01T12:00:00+08:00"}, headers=headers
    ).json()

    assert listed["patrol"]["scheme"] == "responsibility" and listed["patrol"]["cells"] == 2
    assert [f["id"] for f in now["features"]] == ["ZR11010100101", "ZR11010100201"]
    assert now["features"][0]["properties"]["name"] == "东华门1号"
    assert before["features"] == []
    naive = client.get("/api/v1/layers/patrol/cells", params={"at": "2026-03-01T12:00:00"}, headers=headers)  # fmt: skip
    assert naive.status_code == 422 and naive.json()["code"] == "time_zone_missing"


def test_responsibility_is_assigned_asked_and_ended_over_http(
    client: TestClient, container: Container, city: SmallCity
) -> None:
    admin = draw_everything(client, container)
    ids = city.user_ids
    made = client.post(
        "/api/v1/responsibility/assignments",
        json={"user_id": ids["supervisor"], "post": "supervisor", "layer": "patrol", "cell": "ZR11010100101", "shift": "day", "starts_on": "2026-01-01"},
        headers=admin,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    leader = client.post(
        "/api/v1/responsibility/assignments",
        json={"user_id": ids["leader"], "post": "leader", "division": SUB_A, "starts_on": "2026-01-01"},
        headers=admin,
    )  # fmt: skip
    assert leader.status_code == 201, leader.text
    reader = api_token(client, "operator")

    asked = client.get(f"/api/v1/grids/{COMM_A1}002/responsible", params={"at": NOON}, headers=reader)  # fmt: skip
    night = client.get(f"/api/v1/grids/{COMM_A1}002/responsible", params={"at": NIGHT}, headers=reader)  # fmt: skip
    gaps = client.get("/api/v1/responsibility/uncovered", params={"at": NOON}, headers=reader)
    shapes = client.get("/api/v1/responsibility/uncovered", params={"at": NOON, "format": "geojson"}, headers=reader)  # fmt: skip

    assert [(p["via"], p["assignment"]["username"]) for p in asked.json()["people"]] == [
        ("responsibility", "supervisor"),
        ("subdistrict", "leader"),
    ]
    assert [p["via"] for p in night.json()["people"]] == ["subdistrict"]
    assert gaps.json()["grids"] == [f"{COMM_B1}{n:03d}" for n in (1, 2, 3, 4)]
    assert gaps.json()["count"] == 4
    assert [f["id"] for f in shapes.json()["features"]] == gaps.json()["grids"]

    ended = client.post(
        f"/api/v1/responsibility/assignments/{made.json()['id']}/end",
        json={"ends_on": "2026-03-01"},
        headers=admin,
    )
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-03-01"
    assert len(client.get("/api/v1/responsibility/uncovered", params={"at": NOON}, headers=reader).json()["grids"]) == 8  # fmt: skip
    gone = client.delete(f"/api/v1/responsibility/assignments/{leader.json()['id']}", headers=admin)
    assert gone.status_code == 204
    left = client.get("/api/v1/responsibility/assignments", headers=reader).json()
    assert [a["post"] for a in left] == ["supervisor"]


def test_only_administrators_draw_and_duty_chiefs_schedule_grid_posts(
    client: TestClient, container: Container, city: SmallCity
) -> None:
    add_quarter_grids(container, COMM_B1, (116.41, 39.90, 116.42, 39.92))
    supervisor = api_token(client, "supervisor")
    chief = api_token(client, "duty-chief")
    body = {"code": "sanitation", "name": "环卫", "scheme": "sanitation"}

    assert client.post("/api/v1/layers", json=body, headers=supervisor).status_code == 403
    on_grid = {"user_id": city.user_ids["dispatcher"], "post": "grid_worker", "cell": f"{COMM_B1}001", "starts_on": "2026-01-01"}  # fmt: skip
    assert client.post("/api/v1/responsibility/assignments", json=on_grid, headers=chief).status_code == 201  # fmt: skip
    on_division = {"user_id": city.user_ids["leader"], "post": "leader", "division": SUB_B, "starts_on": "2026-01-01"}  # fmt: skip
    refused = client.post("/api/v1/responsibility/assignments", json=on_division, headers=chief)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
