"""Data scope: users see the divisions of their scope (plus ancestors for context), nothing else."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import COMM_A1, COMM_A2, COMM_B1, DISTRICT, SUB_A, SUB_B, SmallCity, api_token


def _codes(client: TestClient, headers: dict[str, str], **params: str) -> set[str]:
    body = client.get("/api/v1/divisions", params={"per_page": "200", **params}, headers=headers)
    assert body.status_code == 200
    return {item["code"] for item in body.json()["items"]}


def test_a_supervisor_sees_their_subdistrict_its_communities_and_the_district(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "supervisor")
    assert _codes(client, headers) == {DISTRICT, SUB_A, COMM_A1, COMM_A2}


def test_a_division_outside_the_scope_is_not_found_rather_than_revealed(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "supervisor")
    response = client.get(f"/api/v1/divisions/{SUB_B}", headers=headers)
    assert response.status_code == 404
    assert response.json()["code"] == "division_not_found"
    assert client.get(f"/api/v1/divisions/{SUB_A}", headers=headers).status_code == 200


def test_the_map_layer_of_a_supervisor_holds_only_their_scope(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "supervisor")
    body = client.get("/api/v1/divisions/geojson", params={"level": "community"}, headers=headers)
    assert {f["properties"]["code"] for f in body.json()["features"]} == {COMM_A1, COMM_A2}


def test_a_handler_without_divisions_in_scope_sees_none(
    client: TestClient, city: SmallCity
) -> None:
    assert _codes(client, api_token(client, "handler")) == set()


def test_an_administrator_sees_everything(client: TestClient, city: SmallCity) -> None:
    assert _codes(client, api_token(client, "admin")) == {
        DISTRICT,
        SUB_A,
        SUB_B,
        COMM_A1,
        COMM_A2,
        COMM_B1,
    }


def test_search_and_pagination_of_divisions(client: TestClient, city: SmallCity) -> None:
    headers = api_token(client, "admin")
    assert _codes(client, headers, q="景山") == {SUB_B, COMM_B1}
    assert _codes(client, headers, q="110101001") == {SUB_A, COMM_A1, COMM_A2}
    first = client.get("/api/v1/divisions", params={"per_page": "4"}, headers=headers).json()
    second = client.get(
        "/api/v1/divisions", params={"per_page": "4", "page": "2"}, headers=headers
    ).json()
    assert (first["total"], first["pages"], len(first["items"]), len(second["items"])) == (
        6,
        2,
        4,
        2,
    )
    assert not {i["code"] for i in first["items"]} & {i["code"] for i in second["items"]}


def test_search_wildcards_are_taken_literally(client: TestClient, city: SmallCity) -> None:
    headers = api_token(client, "admin")
    assert _codes(client, headers, q="_") == set()
    assert _codes(client, headers, q="%") == set()
    users = client.get("/api/v1/users", params={"q": "_"}, headers=headers).json()
    assert users["total"] == 0


def test_division_codes_in_other_scripts_digits_are_refused(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")
    body = {"code": "110101٠٠٩", "name": "x", "level": "subdistrict"}
    assert client.post("/api/v1/divisions", json=body, headers=headers).status_code == 422
