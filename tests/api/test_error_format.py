"""Every API error is {"code", "message"}; people get an error page instead."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import SmallCity, api_token, browser_login


def test_invalid_json_fields_answer_422_with_code_and_message(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")
    response = client.post("/api/v1/divisions", json={"code": "abc"}, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request" and body["message"]
    assert {e["field"] for e in body["errors"]} >= {"code", "name", "level"}


def test_a_domain_refusal_answers_with_its_stable_code(client: TestClient, city: SmallCity) -> None:
    headers = api_token(client, "admin")
    body = {"code": "110101001001", "name": "重复", "level": "community"}
    response = client.post("/api/v1/divisions", json=body, headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        "code": "division_code_taken",
        "message": "区划代码 110101001001 已存在",
    }


def test_an_unknown_api_path_answers_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_unknown_page_shows_the_error_page(client: TestClient, city: SmallCity) -> None:
    browser_login(client, "leader")
    response = client.get("/admin/divisions/999999")
    assert response.status_code == 404
    assert 'data-testid="error-message"' in response.text
    assert "代码为 999999 的区划不存在" in response.text


def test_an_anonymous_api_call_gets_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/divisions")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "login_required"
