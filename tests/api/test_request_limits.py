"""Oversized requests are refused with 413 before anything reads them, for everyone."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.factories import SmallCity, browser_login, csrf_of

MB = 1024 * 1024


def test_an_anonymous_oversized_json_body_is_refused_before_it_is_read(client: TestClient) -> None:
    body = json.dumps({"username": "x", "password": "y" * (7 * MB)})
    response = client.post(
        "/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"code": "payload_too_large", "message": "请求内容过大（最多 6 MB）"}


def test_a_chunked_body_without_a_length_is_counted_as_it_streams(client: TestClient) -> None:
    def chunks():
        for _ in range(8):
            yield b"x" * MB

    response = client.post(
        "/api/v1/auth/token", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_an_oversized_upload_is_refused_even_with_a_valid_csrf_token(
    client: TestClient, city: SmallCity
) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/admin/divisions/new",
        data={"csrf_token": token, "code": "110101001009", "name": "x", "level": "community"},
        files={"boundary_file": ("big.geojson", b"0" * (26 * MB), "application/geo+json")},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 413


def test_a_pasted_boundary_over_one_megabyte_is_accepted(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "admin")
    token = csrf_of(client.get("/admin/divisions/new").text)
    # ~1.6 MB of GeoJSON: a square whose edges carry many vertices, like a surveyed boundary.
    n = 20_000
    west, south, side = 116.401, 39.901, 0.004
    ring = [[west + side * i / n, south] for i in range(n)]
    ring += [[west + side, south + side * i / n] for i in range(n)]
    ring += [[west + side * (1 - i / n), south + side] for i in range(n)]
    ring += [[west, south + side * (1 - i / n)] for i in range(n)]
    ring.append(ring[0])
    text = json.dumps({"type": "Polygon", "coordinates": [ring]})
    assert len(text) > 1.5 * MB
    response = client.post(
        "/admin/divisions/new",
        files={
            "csrf_token": (None, token),
            "code": (None, "110101001009"),
            "name": (None, "测量边界社区"),
            "level": (None, "community"),
            "boundary_text": (None, text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
