"""The catalog over HTTP: code sets, search, one class, edits and extensions by administrators,
the mapping, and switching with a dry-run report; errors are {"code", "message"}."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gridcity.bootstrap import Container
from gridcity.services import catalog
from tests.factories import SYSTEM, TEST_INFO, SmallCity, api_token

BASE = "/api/v1/catalog"


@pytest.fixture
def admin(client: TestClient, container: Container, city: SmallCity) -> dict[str, str]:
    """The administrator's bearer header, on a database with the catalog loaded."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return api_token(client, "admin")


def test_staff_search_classes_by_pinyin_initials(client: TestClient, admin: dict[str, str]) -> None:
    staff = api_token(client, "supervisor")
    sets = client.get(f"{BASE}/code-sets", headers=staff).json()
    assert [s["key"] for s in sets if s["active"]] == ["gbt47678_5_2026"]
    found = client.get(f"{BASE}/classes", params={"kind": "matter", "q": "bllj"}, headers=staff)
    assert found.status_code == 200
    assert "06010" in {c["code"] for c in found.json()}  # 暴露垃圾
    one = client.get(f"{BASE}/classes/gbt47678_5_2026/matter/06010", headers=staff).json()
    assert one["name_zh"] == "暴露垃圾" and one["confidence"] == "🟡"
    assert one["time_limits"][0]["unit"] == "working_days"


def test_an_administrator_edits_a_class_and_bad_input_is_a_typed_error(
    client: TestClient, admin: dict[str, str], city: SmallCity
) -> None:
    path = f"{BASE}/classes/cjt214_2007/event/0104"
    department = next(iter(city.department_ids.values()))
    body = {
        "department_id": department,
        "time_limits": [{"amount": 5, "unit": "working_hours", "urgency": "normal"}],
        "filing_criteria": [{"code": "01", "text": "道路有明显污渍"}],
    }
    changed = client.patch(path, json=body, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["department_id"] == department
    cleared = client.patch(path, json={"department_id": None}, headers=admin).json()
    assert cleared["department_id"] is None and cleared["filing_criteria"][0]["code"] == "01"
    bad = client.patch(path, json={"time_limits": [{"amount": 1, "unit": "weeks"}]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_time_unit"
    missing = client.get(f"{BASE}/classes/cjt214_2007/event/0198", headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "class_not_found"


def test_extension_classes_and_the_switch_report(client: TestClient, admin: dict[str, str]) -> None:
    new = {"code_set": "cjt214_2007", "kind": "event", "level": "major", "code": "21",
           "name_zh": "扩展事件"}  # fmt: skip
    assert client.post(f"{BASE}/classes", json=new, headers=admin).status_code == 201
    again = client.post(f"{BASE}/classes", json=new, headers=admin)
    assert again.status_code == 422 and again.json()["code"] == "class_code_taken"
    mapping = client.get(f"{BASE}/mapping", headers=admin).json()
    assert {m["basis"] for m in mapping} == {"rule", "name_match"}
    dry = client.post(f"{BASE}/switch", json={"code_set": "cjt214_2007"}, headers=admin).json()
    assert not dry["switched"] and len(dry["mapped"]) == 92
    done = client.post(
        f"{BASE}/switch", json={"code_set": "cjt214_2007", "dry_run": False}, headers=admin
    ).json()
    assert done["switched"]
    sets = client.get(f"{BASE}/code-sets", headers=admin).json()
    assert [s["key"] for s in sets if s["active"]] == ["cjt214_2007"]


def test_closing_criteria_over_500_characters_get_the_service_s_typed_refusal(
    client: TestClient, admin: dict[str, str]
) -> None:
    path = f"{BASE}/classes/cjt214_2007/event/0104"
    long = client.patch(path, json={"closing_criteria": "清" * 501}, headers=admin)
    assert long.status_code == 422 and long.json()["code"] == "invalid_closing_criteria"
    fits = client.patch(path, json={"closing_criteria": "清" * 500}, headers=admin)
    assert fits.status_code == 200


def test_an_unknown_department_is_refused_by_its_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    path = f"{BASE}/classes/cjt214_2007/event/0104"
    missing = client.patch(path, json={"department_id": 999_999}, headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "department_not_found"


def test_switching_to_the_active_set_over_http_is_a_no_op(
    client: TestClient, admin: dict[str, str]
) -> None:
    same = client.post(f"{BASE}/switch", json={"code_set": "gbt47678_5_2026"}, headers=admin)
    assert same.status_code == 200, same.text
    body = same.json()
    assert not body["switched"] and body["unmapped"] == [] and body["lost"] == []
    assert all(p["source"] == p["target"] for p in body["mapped"])


WATER = {"code_set": "gbt47678_5_2026", "kind": "component", "code": "01001"}
UPPER = {"code_set": "cjt214_2007", "kind": "component", "code": "0101"}


def test_an_administrator_pairs_classes_by_hand_over_http(
    client: TestClient, admin: dict[str, str]
) -> None:
    added = client.post(
        f"{BASE}/mapping", json={"source": WATER, "target": UPPER, "note": "同一种"}, headers=admin
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["basis"], body["source_name"], body["target_name"]) == (
        "manual",
        "供水井盖",
        "上水井盖",
    )
    staff = api_token(client, "supervisor")
    manual = client.get(f"{BASE}/mapping", params={"basis": "manual"}, headers=staff).json()
    assert [m["id"] for m in manual] == [body["id"]]
    twice = client.post(f"{BASE}/mapping", json={"source": UPPER, "target": WATER}, headers=admin)
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate_mapping"
    event = {**UPPER, "kind": "event"}
    kinds = client.post(f"{BASE}/mapping", json={"source": WATER, "target": event}, headers=admin)
    assert kinds.status_code == 422 and kinds.json()["code"] == "mapping_kind_mismatch"
    same = client.post(
        f"{BASE}/mapping",
        json={"source": WATER, "target": {**WATER, "code": "01002"}},
        headers=admin,
    )
    assert same.status_code == 422 and same.json()["code"] == "mapping_same_code_set"
    missing = client.post(
        f"{BASE}/mapping",
        json={"source": WATER, "target": {**UPPER, "code": "0199"}},
        headers=admin,
    )
    assert missing.status_code == 404 and missing.json()["code"] == "class_not_found"
    derived = next(
        m for m in client.get(f"{BASE}/mapping", headers=admin).json() if m["basis"] == "rule"
    )
    refused = client.delete(f"{BASE}/mapping/{derived['id']}", headers=admin)
    assert refused.status_code == 409 and refused.json()["code"] == "mapping_not_manual"
    gone = client.delete(f"{BASE}/mapping/{body['id']}", headers=admin)
    assert gone.status_code == 204
    again = client.delete(f"{BASE}/mapping/{body['id']}", headers=admin)
    assert again.status_code == 404 and again.json()["code"] == "mapping_not_found"


def test_the_unmapped_classes_over_http_and_the_switch_report_s_component_counts(
    client: TestClient, admin: dict[str, str]
) -> None:
    staff = api_token(client, "supervisor")
    found = client.get(f"{BASE}/unmapped", params={"to_set": "cjt214_2007"}, headers=staff)
    assert found.status_code == 200 and len(found.json()) == 311
    first = found.json()[0]
    assert first["components"] is None and first["ref"]["code_set"] == "gbt47678_5_2026"
    counted = client.get(f"{BASE}/unmapped", params={"to_set": "cjt214_2007"}, headers=admin).json()
    assert {u["components"] for u in counted} == {0}
    bad = client.get(f"{BASE}/unmapped", params={"to_set": "gbt_1999"}, headers=staff)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_code_set"
    dry = client.post(f"{BASE}/switch", json={"code_set": "cjt214_2007"}, headers=admin).json()
    assert (dry["moves"], dry["components_moved"], dry["components_lost"], dry["recoded"]) == (
        [],
        0,
        0,
        0,
    )
