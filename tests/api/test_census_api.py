"""The census over HTTP: the JSON API (import, export) and the admin page's streamed import."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridcity.adapters.db.tables import Component
from gridcity.bootstrap import Container
from gridcity.domain.access import Role
from tests.factories import SmallCity, api_token, browser_login, csrf_of, make_user
from tests.services.test_census import MUNICIPAL, census_city, good_rows


@pytest.fixture
def town(container: Container) -> SmallCity:
    return census_city(container)


def upload(lines: list[str], name: str = "普查.csv") -> dict[str, Any]:
    return {"file": (name, ("\n".join(lines) + "\n").encode(), "text/csv")}


def components(container: Container) -> int:
    with container.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Component)) or 0)


def test_the_api_checks_then_imports_a_census_file(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    admin = api_token(client, "admin")
    dry = client.post(
        "/api/v1/census/import?dry_run=true", files=upload(good_rows()), headers=admin
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["added"] == 3
    assert components(container) == 0
    done = client.post(
        "/api/v1/census/import",
        files=upload(good_rows()),
        data={"reason": "普查", "duplicate_distance": "1.5"},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["dry_run"], body["added"], body["identifiers_drawn"]) == (False, 3, 3)
    assert body["file"] == "普查.csv" and body["by_class"] == {"01001": 2, "03005": 1}
    assert components(container) == 3


def test_a_refused_file_answers_422_with_every_problem(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    lines = good_rows()
    lines[2] = "垃圾箱,区水务局,破损,20260115,116.4022,39.9022,"
    lines.append(f"供水井盖,{MUNICIPAL},完好,2099-01-01,116.4032,39.9032,")
    response = client.post(
        "/api/v1/census/import", files=upload(lines), headers=api_token(client, "admin")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "census_refused" and body["total"] == 2
    assert body["message"]
    assert [(p["row"], p["column"], p["code"]) for p in body["problems"]] == [
        (3, "ZGBMMC", "unknown_department"),
        (5, "CSRQ", "census_date_in_future"),
    ]
    assert "区水务局" in body["problems"][0]["message"]
    assert components(container) == 0


def test_uploads_of_another_type_are_refused_before_reading(
    client: TestClient, town: SmallCity
) -> None:
    admin = api_token(client, "admin")
    text = client.post(
        "/api/v1/census/import", files=upload(good_rows(), "普查.txt"), headers=admin
    )
    assert text.status_code == 415 and text.json()["code"] == "upload_type_not_taken"
    assert ".xlsx" in text.json()["message"]
    fake = client.post(
        "/api/v1/census/import", files=upload(good_rows(), "普查.xlsx"), headers=admin
    )
    assert fake.status_code == 415 and fake.json()["code"] == "upload_type_mismatch"
    missing = client.post("/api/v1/census/import", data={"reason": "x"}, headers=admin)
    assert missing.status_code == 422 and missing.json()["code"] == "upload_missing"
    bad_option = client.post(
        "/api/v1/census/import",
        files=upload(good_rows()),
        data={"encoding": "latin9"},
        headers=admin,
    )
    assert bad_option.status_code == 422
    assert bad_option.json()["code"] == "import_encoding_unknown"


def test_the_api_exports_every_format_in_the_callers_scope(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    admin = api_token(client, "admin")
    client.post("/api/v1/census/import", files=upload(good_rows()), headers=admin)
    types = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "geojson": "application/geo+json",
        "shapefile": "application/zip",
    }
    for format, media in types.items():
        response = client.get(f"/api/v1/census/export?format={format}", headers=admin)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        assert "components-" in response.headers["content-disposition"]
    geojson = client.get("/api/v1/census/export?format=geojson&standard=false", headers=admin)
    features = geojson.json()["features"]
    assert len(features) == 3 and "identifier" in features[0]["properties"]
    supervisor = api_token(client, "supervisor")  # subdistrict A only
    mine = client.get("/api/v1/census/export?format=geojson", headers=supervisor).json()
    assert len(mine["features"]) == 2 and "GLBJBSM" in mine["features"][0]["properties"]
    unknown = client.get("/api/v1/census/export?format=kml", headers=admin)
    assert unknown.status_code == 422 and unknown.json()["code"] == "export_format_unknown"


def test_a_handler_without_division_scope_exports_an_empty_file(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    client.post(
        "/api/v1/census/import", files=upload(good_rows()), headers=api_token(client, "admin")
    )
    response = client.get(
        "/api/v1/census/export?format=geojson", headers=api_token(client, "handler")
    )
    assert response.status_code == 200 and response.json()["features"] == []


# --- the page -------------------------------------------------------------------------------------


def stream(client: TestClient, lines: list[str], **fields: str) -> list[dict[str, Any]]:
    """Post the page's form and read its NDJSON answer line by line."""
    token = csrf_of(client.get("/admin/census").text)
    response = client.post(
        "/admin/census/import",
        data=fields,
        files=upload(lines),
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_the_page_streams_progress_then_the_result(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    browser_login(client, "admin")
    page = client.get("/admin/census")
    assert page.status_code == 200
    assert "部件普查" in page.text and 'data-testid="census-form"' in page.text
    lines = stream(client, good_rows(), dry_run="true")
    stages = [line["stage"] for line in lines if "stage" in line]
    assert stages[0] == "read" and "check" in stages and "locate" in stages
    assert "write" not in stages  # a dry run writes nothing
    assert lines[-1]["result"]["dry_run"] is True and lines[-1]["result"]["added"] == 3
    done = stream(client, good_rows(), dry_run="false")
    assert "write" in [line.get("stage") for line in done]
    assert done[-1]["result"]["added"] == 3 and components(container) == 3


def test_the_page_streams_a_refusal_with_its_rows_in_chinese(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    browser_login(client, "admin")
    lines = good_rows()
    lines[1] = f"供水井盖,{MUNICIPAL},完好,20260115,东经116度,39.9012,"
    last = stream(client, lines, dry_run="true")[-1]
    problems = last["refused"]["problems"]
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [
        (2, "PointX", "invalid_coordinate")
    ]
    assert problems[0]["message"] == "坐标应为数字：东经116度"


def test_the_page_streams_a_bad_file_as_an_error_line(client: TestClient, town: SmallCity) -> None:
    browser_login(client, "admin")
    last = stream(client, ["GLBJMC,ZGBMMC,SetLoc,lon,lat", "垃圾箱,甲,人行道,116.4,39.9"])[-1]
    assert last["error"]["code"] == "census_unknown_columns"
    assert "SetLoc" in last["error"]["message"]


def test_only_editors_see_the_import_form(
    client: TestClient, container: Container, town: SmallCity
) -> None:
    make_user(container, "viewer", {Role.LEADER})
    browser_login(client, "viewer")
    page = client.get("/admin/census")
    assert page.status_code == 200
    assert 'data-testid="census-form"' not in page.text
    assert 'data-testid="census-export"' in page.text
    download = client.get("/admin/census/export?format=xlsx&standard=true")
    assert download.status_code == 200
    assert download.content[:2] == b"PK"
