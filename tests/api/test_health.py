"""Operations endpoints."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridcity.bootstrap import bootstrap
from gridcity.web.app import create_app
from tests.conftest import FAST_HASHER, settings_for


def test_healthz_answers_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_is_gone(tmp_path) -> None:
    container = bootstrap(
        settings_for("postgresql+psycopg://nobody@127.0.0.1:1/none"), hasher=FAST_HASHER
    )
    with TestClient(create_app(container)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unreachable"


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics").text
    assert 'gridcity_http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/divisions" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()


def test_database_has_the_tables_after_migration(container) -> None:
    with container.db.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {"division", "department", "center", "user_account", "audit_log"} <= names
