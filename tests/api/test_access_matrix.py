"""Roles × protected endpoints: every forbidden pair answers 403 (or sends the anonymous visitor
to the login page / answers 401), every allowed pair succeeds. Deny by default."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shapely.geometry import box

from gridcity.adapters.storage import LocalStorage
from gridcity.bootstrap import Container
from gridcity.domain.access import STAFF_ROLES, Role
from gridcity.services.grid_generation import proposal_fingerprint
from tests.calendar_files import csv_of, seed_rows
from tests.factories import (
    COMM_A1,
    DISTRICT,
    SUB_A,
    SmallCity,
    add_quarter_grids,
    api_token,
    browser_login,
    build_small_city,
    csrf_of,
)

EVERY_STAFF = frozenset(STAFF_ROLES)
ADMIN = frozenset({Role.ADMIN})
OVERSIGHT = frozenset({Role.ADMIN, Role.LEADER})
RESPONSIBILITY = frozenset({Role.ADMIN, Role.DUTY_CHIEF})
_DAYS = itertools.count(1)


def _assignment_form(city: SmallCity) -> dict[str, Any]:
    """A grid-worker post on its own day, so that every allowed role's post is new."""
    day = f"2026-03-{next(_DAYS):02d}"
    return {
        "user_id": str(city.user_ids["supervisor"]),
        "post": "grid_worker",
        "layer": "unit",
        "target": f"{COMM_A1}001",
        "shift": "day",
        "starts_on": day,
        "ends_on": day,
    }


def _patrol_cell(grid: str) -> dict[str, Any]:
    """The fixture's patrol area, re-drawn on another unit grid."""
    return {"code": "ZR11010100101", "grids": [grid]}


def _cells_file(grid: str) -> bytes:
    """A GeoJSON file of the patrol layer's one cell."""
    feature = {"type": "Feature", "geometry": None, "properties": _patrol_cell(grid)}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


USERNAME = {role: role.value.replace("_", "-") for role in STAFF_ROLES}


@dataclass(frozen=True)
class Endpoint:
    """One protected endpoint and the roles allowed to use it."""

    method: str
    path: str
    allowed: frozenset[Role]
    body: Callable[[SmallCity], dict[str, Any]] | None = None
    files: Callable[[], dict[str, Any]] | None = None  # uploads, posted with the form as multipart
    signed: Callable[[Container], dict[str, Any]] | None = None  # fields the app itself issues

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _grid_upload() -> dict[str, Any]:
    """A GeoJSON file of six good unit grids (communities A1 and A2), for the import page."""
    return {"file": ("grids.geojson", _grid_file(), "application/geo+json")}


def _grid_file() -> bytes:
    import json

    from shapely.geometry import mapping

    from tests.services.test_grid_import import grid_features

    features = [
        {"type": "Feature", "geometry": mapping(f.geometry), "properties": f.properties}
        for f in grid_features()
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _confirmed_import(container: Container) -> dict[str, Any]:
    """The fingerprint a dry run of the grid file issues now, as the confirmation carries it."""
    import hashlib

    from gridcity.services.data_versions import data_versions
    from gridcity.web.ui.admin_import import upload_fingerprint

    digest = hashlib.sha256(_grid_file()).hexdigest()
    issued = int(container.deps.clock().timestamp())
    fingerprint = upload_fingerprint(
        container.settings.secret_key, digest, "grids", "", "", "",
        issued=issued, versions=data_versions(container.deps),
    )  # fmt: skip
    return {"fingerprint": fingerprint}


# The fixture's 供水井盖 in community A1 (see _component), at version 2 after its photo.
COMPONENT = f"{DISTRICT}01001000001"


PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 32  # a JPEG's first bytes are all a photo is checked for


def _photo_upload() -> dict[str, Any]:
    """A PNG photo (the fixture's component already has the JPEG one)."""
    return {"file": ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png")}


def _new_component(city: SmallCity) -> dict[str, Any]:
    """A 垃圾箱 in community A1."""
    department = next(iter(city.department_ids.values()))
    return {
        "class_code": "03005",
        "lon": 116.405,
        "lat": 39.905,
        "competent_department_id": department,
    }


def _new_component_form(city: SmallCity) -> dict[str, Any]:
    """The new-component page's form for a 垃圾箱 in community A1."""
    return {key: str(value) for key, value in _new_component(city).items()}


def _census_upload() -> dict[str, Any]:
    """A census CSV of one manhole cover in the fixture's gridded community (GB/T 47678.5 names)."""
    text = "GLBJMC,ZGBMMC,PointX,PointY\n供水井盖,区市政管理委员会,116.4012,39.9012\n"
    return {"file": ("普查.csv", text.encode(), "text/csv")}


def _division(_city: SmallCity) -> dict[str, Any]:
    return {"code": "110101001003", "name": "新社区", "level": "community"}


def _department(_city: SmallCity) -> dict[str, Any]:
    return {"name": "区水务局", "kind": "government"}


def _user(_city: SmallCity) -> dict[str, Any]:
    return {
        "username": "new-user",
        "password": "Another#Pass99",
        "display_name": "新用户",
        "roles": ["supervisor"],
        "scope_divisions": [SUB_A],
    }


def _user_update(city: SmallCity) -> dict[str, Any]:
    return {"display_name": "改名", "roles": ["supervisor"], "scope_divisions": [SUB_A]}


API = [
    Endpoint("GET", "/api/v1/auth/me", EVERY_STAFF),
    Endpoint("GET", "/api/v1/divisions", EVERY_STAFF),
    Endpoint("GET", "/api/v1/divisions/geojson", EVERY_STAFF),
    Endpoint("POST", "/api/v1/divisions", ADMIN, _division),
    Endpoint("PATCH", f"/api/v1/divisions/{COMM_A1}", ADMIN, lambda c: {"name": "改名社区"}),
    Endpoint("GET", "/api/v1/departments", EVERY_STAFF),
    Endpoint("GET", "/api/v1/departments/{department}", EVERY_STAFF),
    Endpoint("POST", "/api/v1/departments", ADMIN, _department),
    Endpoint(
        "PUT",
        "/api/v1/departments/{department}",
        ADMIN,
        lambda c: {"name": "区园林绿化局", "kind": "government", "contact_phone": "110"},
    ),
    Endpoint("GET", "/api/v1/centers", EVERY_STAFF),
    Endpoint("GET", "/api/v1/users", OVERSIGHT),
    Endpoint("GET", "/api/v1/users/{supervisor}", OVERSIGHT | {Role.SUPERVISOR}),
    Endpoint("POST", "/api/v1/users", ADMIN, _user),
    Endpoint("PUT", "/api/v1/users/{supervisor}", ADMIN, _user_update),
    Endpoint("POST", "/api/v1/users/{supervisor}/unlock", ADMIN),
    Endpoint(
        "POST",
        "/api/v1/users/{supervisor}/password",
        ADMIN | {Role.SUPERVISOR},
        lambda c: {"new_password": "Brand#New2026", "current_password": "Test#Pass2026"},
    ),
    Endpoint("GET", "/api/v1/audit", OVERSIGHT),
    Endpoint("GET", f"/api/v1/divisions/{SUB_A}", EVERY_STAFF - {Role.HANDLER}),
    Endpoint("DELETE", "/api/v1/auth/token", EVERY_STAFF),
    Endpoint("GET", "/api/v1/coords/convert?from=wgs84&to=gcj02&lon=116.4&lat=39.9", EVERY_STAFF),
    Endpoint("GET", "/api/v1/locate?lon=116.405&lat=39.905", EVERY_STAFF),
    Endpoint(
        "POST", "/api/v1/locate/batch", EVERY_STAFF, lambda c: {"points": [[116.405, 39.905]]}
    ),
    Endpoint("GET", "/api/v1/components/tiles/12/3372/1552", EVERY_STAFF),
    Endpoint("GET", "/api/v1/components/near?lon=116.405&lat=39.905", EVERY_STAFF),
    Endpoint("GET", "/api/v1/grids", EVERY_STAFF),
    Endpoint("GET", "/api/v1/grids/geojson", EVERY_STAFF),
    Endpoint("GET", "/api/v1/grids/{grid}", EVERY_STAFF - {Role.HANDLER}),
    Endpoint("GET", "/api/v1/layers", EVERY_STAFF),
    Endpoint("GET", "/api/v1/layers/{layer}", EVERY_STAFF),
    Endpoint("GET", "/api/v1/layers/{layer}/cells", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/layers",
        ADMIN,
        lambda c: {"code": "sanitation", "name": "环卫网格", "scheme": "sanitation"},
    ),
    Endpoint("PATCH", "/api/v1/layers/{layer}", ADMIN, lambda c: {"description": "巡查责任区"}),
    Endpoint(
        "PUT",
        "/api/v1/layers/{layer}/cells",
        ADMIN,
        lambda c: {
            "valid_from": "2026-02-01T00:00:00+08:00",
            "cells": [{"division": SUB_A, "grids": [f"{COMM_A1}002"]}],
        },
    ),
    Endpoint("GET", "/api/v1/layers/{layer}/stale", EVERY_STAFF),
    Endpoint("GET", "/api/v1/grids/{grid}/responsible", EVERY_STAFF - {Role.HANDLER}),
    Endpoint("GET", "/api/v1/responsibility/uncovered?format=geojson", EVERY_STAFF),
    Endpoint("GET", "/api/v1/responsibility/assignments", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/responsibility/assignments",
        ADMIN,
        lambda c: {
            "user_id": c.user_ids["leader"],
            "post": "leader",
            "division": SUB_A,
            "starts_on": "2026-01-01",
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/responsibility/assignments/{grid_post}/end",
        ADMIN | {Role.DUTY_CHIEF},
        lambda c: {"ends_on": "2026-12-31"},
    ),
    Endpoint("DELETE", "/api/v1/responsibility/assignments/{leader_post}", ADMIN),
    Endpoint("GET", "/api/v1/layer-schemes", EVERY_STAFF),
    Endpoint("GET", "/api/v1/layer-schemes/{scheme}", EVERY_STAFF),
    Endpoint(
        "PATCH", "/api/v1/layer-schemes/{scheme}", ADMIN, lambda c: {"name_zh": "巡查责任网格"}
    ),
    Endpoint(
        "PATCH",
        "/api/v1/layer-schemes",
        ADMIN,
        lambda c: {"schemes": {"sanitation": {"name_en": "Sanitation zone"}}},
    ),
    Endpoint("GET", "/api/v1/shifts", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/shifts",
        ADMIN,
        lambda c: {
            "name": "early",
            "starts_at": "06:00",
            "ends_at": "14:00",
            "name_zh": "早班",
            "name_en": "early shift",
        },
    ),
    Endpoint("PATCH", "/api/v1/shifts/{shift}", ADMIN, lambda c: {"name_zh": "白天班"}),
    Endpoint("DELETE", "/api/v1/shifts/{spare_shift}", ADMIN),
    Endpoint("GET", "/api/v1/catalog/code-sets", EVERY_STAFF),
    Endpoint("GET", "/api/v1/catalog/classes?q=gsjg", EVERY_STAFF),
    Endpoint("GET", "/api/v1/catalog/classes/{code_set}/{kind}/{code}", EVERY_STAFF),
    Endpoint(
        "PATCH",
        "/api/v1/catalog/classes/{code_set}/{kind}/{code}",
        ADMIN,
        lambda c: {"closing_criteria": "清除干净"},
    ),
    Endpoint(
        "POST",
        "/api/v1/catalog/classes",
        ADMIN,
        lambda c: {
            "code_set": "gbt47678_5_2026",
            "kind": "component",
            "level": "major",
            "code": "21",
            "name_zh": "扩展部件",
        },
    ),
    Endpoint("GET", "/api/v1/catalog/mapping", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/catalog/mapping",
        ADMIN,
        lambda c: {
            "source": {"code_set": "gbt47678_5_2026", "kind": "component", "code": "01001"},
            "target": {"code_set": "cjt214_2007", "kind": "component", "code": "0101"},
        },
    ),
    Endpoint("DELETE", "/api/v1/catalog/mapping/{manual_mapping}", ADMIN),
    Endpoint("GET", "/api/v1/catalog/unmapped?to_set=cjt214_2007", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/catalog/switch",
        ADMIN,
        lambda c: {"code_set": "cjt214_2007", "dry_run": True},
    ),
    Endpoint("GET", "/api/v1/components?q=gsjg", EVERY_STAFF),
    Endpoint("GET", "/api/v1/components/{component}", EVERY_STAFF),
    Endpoint("GET", "/api/v1/components/{component}/history", EVERY_STAFF),
    Endpoint("GET", "/api/v1/components/{component}/photos/{photo}", EVERY_STAFF),
    Endpoint("POST", "/api/v1/components/{component}/photos", ADMIN, lambda c: {}, _photo_upload),
    Endpoint("POST", "/api/v1/components", ADMIN, lambda c: _new_component(c)),
    Endpoint(
        "DELETE",
        "/api/v1/components/{component}/photos/{photo}",
        ADMIN,
        lambda c: {"reason": "拍错"},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/components/{component}",
        ADMIN,
        lambda c: {"expected_version": 2, "note": "复核"},
    ),
    Endpoint(
        "POST",
        "/api/v1/components/state",
        ADMIN,
        lambda c: {"identifiers": [COMPONENT], "state": "damaged", "reason": "破损"},
    ),
    Endpoint("POST", "/api/v1/census/import", ADMIN, lambda c: {}, _census_upload),
    Endpoint("GET", "/api/v1/census/export?format=geojson", EVERY_STAFF),
    Endpoint(
        "POST",
        "/api/v1/coords/convert",
        EVERY_STAFF,
        lambda c: {"from": "wgs84", "to": "gcj02", "points": [[116.4, 39.9]]},
    ),
    Endpoint("GET", "/api/v1/calendar/years", EVERY_STAFF),
    Endpoint("GET", "/api/v1/calendar/days?from=2026-02-01&to=2026-02-28", EVERY_STAFF),
    Endpoint(
        "GET",
        "/api/v1/calendar/deadline?start=2026-02-13T16:00&limit=4&unit=working_hours",
        EVERY_STAFF,
    ),
    Endpoint(
        "POST",
        "/api/v1/calendar/years",
        ADMIN,
        lambda c: {"source": "chinesecalendar"},
        lambda: {"file": ("2026.csv", csv_of(seed_rows(2026)), "text/csv")},
    ),
    Endpoint("GET", "/api/v1/calendar/settings", EVERY_STAFF),
    Endpoint("PUT", "/api/v1/calendar/settings", ADMIN, lambda c: {"office_hours": "08:30-12:00"}),
]

PAGES = [
    Endpoint("GET", "/home/{role}", EVERY_STAFF),
    Endpoint("GET", "/home/admin", ADMIN),
    Endpoint("GET", "/home/leader", frozenset({Role.LEADER})),
    Endpoint("GET", "/home/supervisor", frozenset({Role.SUPERVISOR})),
    Endpoint("GET", "/home/handler", frozenset({Role.HANDLER})),
    Endpoint("GET", "/admin/divisions", EVERY_STAFF),
    Endpoint("GET", f"/admin/divisions/{DISTRICT}", EVERY_STAFF - {Role.HANDLER}),  # see below
    Endpoint("GET", "/admin/divisions/new", ADMIN),
    Endpoint(
        "POST",
        "/admin/divisions/new",
        ADMIN,
        lambda c: {"code": "110101002002", "name": "新社区", "level": "community"},
    ),
    Endpoint(
        "POST",
        f"/admin/divisions/{COMM_A1}",
        ADMIN,
        lambda c: {"name": "改名", "is_active": "true"},
    ),
    Endpoint("GET", "/account/password", EVERY_STAFF),
    Endpoint("GET", "/map", EVERY_STAFF),
    Endpoint("GET", "/map/divisions.geojson", EVERY_STAFF),
    Endpoint("GET", "/admin/departments", EVERY_STAFF),
    Endpoint("GET", "/admin/departments/{department}", EVERY_STAFF),
    Endpoint("GET", "/admin/departments/new", ADMIN),
    Endpoint(
        "POST",
        "/admin/departments/new",
        ADMIN,
        lambda c: {"name": "区水务局", "kind": "government"},
    ),
    Endpoint("GET", "/admin/centers", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/centers",
        ADMIN,
        lambda c: {"district_code": DISTRICT, "kind": "command_center", "name": "指挥中心"},
    ),
    Endpoint("GET", "/admin/users", OVERSIGHT),
    Endpoint("GET", "/admin/users/new", ADMIN),
    Endpoint("GET", "/admin/users/{supervisor}", OVERSIGHT),
    Endpoint("POST", "/admin/users/{supervisor}/unlock", ADMIN, lambda c: {}),
    Endpoint(
        "POST",
        "/admin/users/{supervisor}/password",
        ADMIN,
        lambda c: {"new_password": "Brand#New2026"},
    ),
    Endpoint("GET", "/admin/audit", OVERSIGHT),
    Endpoint("GET", "/admin/responsibility", EVERY_STAFF),
    Endpoint("POST", "/admin/responsibility", RESPONSIBILITY, lambda c: _assignment_form(c)),
    Endpoint("POST", "/admin/responsibility/{grid_post}/end", RESPONSIBILITY, lambda c: {}),
    Endpoint("POST", "/admin/responsibility/{leader_post}/delete", ADMIN, lambda c: {}),
    Endpoint("GET", "/admin/layer-schemes", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/layer-schemes/{scheme}",
        ADMIN,
        lambda c: {
            "name_zh": "巡查责任网格",
            "name_en": "Patrol area",
            "marker": "ZR",
            "division_level": "subdistrict",
            "sequence_digits": "2",
        },
    ),
    Endpoint("POST", "/admin/layer-schemes/fire-marker", ADMIN, lambda c: {"marker": "XF"}),
    Endpoint("GET", "/admin/census", EVERY_STAFF),
    Endpoint("GET", "/admin/census/export?format=csv&standard=false", EVERY_STAFF),
    Endpoint("POST", "/admin/census/import", ADMIN, lambda c: {"dry_run": "true"}, _census_upload),
    Endpoint("GET", "/admin/catalog?q=gsjg", EVERY_STAFF),
    Endpoint("GET", "/admin/catalog/unmapped?to_set=cjt214_2007", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/catalog/mapping",
        ADMIN,
        lambda c: {
            "source_set": "gbt47678_5_2026",
            "source_kind": "component",
            "source_code": "01001",
            "target_set": "cjt214_2007",
            "target_kind": "component",
            "target_code": "0101",
        },
    ),
    Endpoint(
        "POST",
        "/admin/catalog/mapping/delete",
        ADMIN,
        lambda c: {"mapping_id": str(CATALOG_IDS["manual_mapping"])},
    ),
    Endpoint("GET", "/admin/catalog/{code_set}/{kind}/{code}", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/catalog/{code_set}/{kind}/{code}",
        ADMIN,
        lambda c: {"closing_criteria": "清除干净", "time_limits_sent": "1"},
    ),
    Endpoint(
        "POST",
        "/admin/catalog/classes",
        ADMIN,
        lambda c: {
            "code_set": "gbt47678_5_2026",
            "kind": "component",
            "level": "major",
            "code": "21",
            "name_zh": "扩展部件",
        },
    ),
    Endpoint("GET", "/admin/components?q=gsjg", EVERY_STAFF),
    Endpoint("GET", "/admin/components/{component}", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/components/{component}",
        ADMIN,
        lambda c: {"expected_version": "2", "note": "复核", "reason": "复核"},
    ),
    Endpoint("POST", "/admin/components/{component}/photos", ADMIN, lambda c: {}, _photo_upload),
    Endpoint(
        "POST",
        "/admin/components/{component}/photos/{photo}/delete",
        ADMIN,
        lambda c: {"reason": "拍错"},
    ),
    Endpoint("GET", "/admin/components/new", ADMIN),
    Endpoint("GET", "/admin/components/new/fields?class_code=03005", ADMIN),
    Endpoint("POST", "/admin/components/new", ADMIN, lambda c: _new_component_form(c)),
    Endpoint("GET", "/admin/catalog/switch?to_set=cjt214_2007", ADMIN),
    Endpoint(
        "POST",
        "/admin/catalog/switch",
        ADMIN,
        # Switching to the active set: allowed roles get the page back, nothing is re-coded.
        lambda c: {
            "to_set": "gbt47678_5_2026",
            "from_set": "gbt47678_5_2026",
            "confirmation": "GB/T 47678.5-2026",
            "reason": "核对",
        },
    ),
    Endpoint(
        "POST",
        "/admin/components/{component}/state",
        ADMIN,
        lambda c: {"expected_version": "2", "state": "damaged", "reason": "破损"},
    ),
    Endpoint(
        "POST",
        "/admin/components/state",
        ADMIN,
        lambda c: {"identifier": COMPONENT, "state": "damaged", "reason": "破损"},
    ),
    Endpoint("GET", "/admin/shifts", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/shifts",
        ADMIN,
        lambda c: {
            "name": "early",
            "starts_at": "06:00",
            "ends_at": "14:00",
            "name_zh": "早班",
            "name_en": "early shift",
        },
    ),
    Endpoint(
        "POST",
        "/admin/shifts/{shift}",
        ADMIN,
        lambda c: {"starts_at": "08:00", "ends_at": "20:00", "name_zh": "白班", "name_en": "day"},
    ),
    Endpoint("POST", "/admin/shifts/{spare_shift}/delete", ADMIN, lambda c: {}),
    Endpoint("GET", "/grids", EVERY_STAFF),
    Endpoint("GET", "/grids/cells.geojson", EVERY_STAFF),
    Endpoint("GET", "/grids/figures.json", EVERY_STAFF),
    Endpoint("GET", "/grids/{grid}/detail", EVERY_STAFF),  # without HX-Request: 303 to the map
    Endpoint("GET", "/admin/grids/generate", ADMIN),
    Endpoint("GET", f"/admin/grids/generate/preview.geojson?community={COMM_A1}", ADMIN),
    Endpoint(
        "POST",
        "/admin/grids/generate",
        ADMIN,
        lambda c: {
            "community": COMM_A1,
            "target_area": "100000",
            "fingerprint": proposal_fingerprint(
                COMM_A1, box(116.40, 39.90, 116.41, 39.91), target_area_m2=100_000
            ),
        },
    ),
    Endpoint("GET", "/admin/layers", EVERY_STAFF),
    Endpoint(
        "POST",
        "/admin/layers",
        ADMIN,
        lambda c: {"code": "zones", "name": "执法网格", "scheme": "enforcement"},
    ),
    Endpoint("GET", "/admin/layers/{layer}", EVERY_STAFF),
    Endpoint("POST", "/admin/layers/{layer}", ADMIN, lambda c: {"name": "巡查责任区"}),
    Endpoint("POST", "/admin/layers/{layer}/active", ADMIN, lambda c: {"is_active": "false"}),
    Endpoint(
        "POST",
        "/admin/layers/{layer}/cells",
        ADMIN,
        lambda c: {"drawing": json.dumps({"cells": [_patrol_cell(f"{COMM_A1}002")]})},
    ),
    Endpoint(
        "POST",
        "/admin/layers/{layer}/upload",
        ADMIN,
        lambda c: {"valid_from": ""},
        files=lambda: {
            "file": ("cells.geojson", _cells_file(f"{COMM_A1}003"), "application/geo+json")
        },
    ),
    Endpoint("GET", "/admin/import", EVERY_STAFF),
    Endpoint("GET", "/admin/import/export?kind=grids&format=geojson", EVERY_STAFF),
    Endpoint("POST", "/admin/import/check", ADMIN, lambda c: {"kind": "grids"}, _grid_upload),
    Endpoint(
        "POST", "/admin/import", ADMIN, lambda c: {"kind": "grids"}, _grid_upload, _confirmed_import
    ),
    Endpoint("POST", "/admin/users/new", ADMIN, lambda c: {**_user(c), "roles": "supervisor"}),
    Endpoint(
        "POST",
        "/admin/users/{supervisor}",
        ADMIN,
        lambda c: {"display_name": "改名", "roles": "supervisor", "locale": "zh_CN"},
    ),
    Endpoint(
        "POST",
        "/admin/departments/{department}",
        ADMIN,
        lambda c: {"name": "区园林绿化局", "kind": "government"},
    ),
    Endpoint(
        "POST",
        "/account/password",
        EVERY_STAFF,
        lambda c: {"current_password": "Test#Pass2026", "new_password": "Brand#New2027"},
    ),
]

# Routes that need no role: the public surface, or ones every visitor may call.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/lang"),
    ("GET", "/home"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("POST", "/api/v1/auth/token"),
}


@pytest.fixture
def city(container, request: pytest.FixtureRequest) -> SmallCity:
    """The small city, with unit grids in one community (so grid routes have something to show),
    and the standard catalog for the catalog routes (loading it for every route costs ~20%)."""
    built = build_small_city(container)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    _patrol_area_with_people(container, built)
    _spare_shift(container)
    callspec = getattr(request.node, "callspec", None)
    endpoint = str(callspec.params.get("endpoint", "")) if callspec is not None else ""
    if callspec is None or any(part in endpoint for part in ("/catalog", "/census", "/components")):
        _catalog(container)
    if callspec is None or "/components" in endpoint:
        storage = LocalStorage(request.getfixturevalue("tmp_path") / "files")
        request.getfixturevalue("app").state.storage = storage
        _component(container, built, storage)
    return built


# Ids the catalog fixture made, for paths and forms that name a row.
CATALOG_IDS: dict[str, int] = {}


def _catalog(container) -> None:  # type: ignore[no-untyped-def]
    """The standard catalog, as ``gridcity init`` loads it, and one pair made by hand."""
    from gridcity.domain.catalog_mapping import ClassRef
    from gridcity.services import catalog, catalog_mappings
    from tests.factories import SYSTEM, TEST_INFO

    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    pair = catalog_mappings.add_manual_mapping(
        container.deps,
        SYSTEM,
        ClassRef("gbt47678_5_2026", "component", "01023"),  # 不明井盖
        ClassRef("cjt214_2007", "component", "0114"),  # 无主井盖 (BJ 不明井盖)
        info=TEST_INFO,
    )
    CATALOG_IDS["manual_mapping"] = pair.id


def _component(container, city: SmallCity, storage: LocalStorage) -> None:  # type: ignore[no-untyped-def]
    """One 供水井盖 in community A1, looked after by the handler's department (``COMPONENT``),
    with one photo."""
    from shapely.geometry import Point

    from gridcity.services.component_photos import add_photo
    from gridcity.services.components import NewComponent, create_component
    from tests.factories import SYSTEM, TEST_INFO

    department = next(iter(city.department_ids.values()))
    data = NewComponent("01001", Point(116.402, 39.902), competent_department_id=department)
    assert create_component(container.deps, SYSTEM, data, info=TEST_INFO).identifier == COMPONENT
    add_photo(container.deps, storage, SYSTEM, COMPONENT, PHOTO, info=TEST_INFO)


def _spare_shift(container) -> None:  # type: ignore[no-untyped-def]
    """A named shift nobody uses, so that deleting one can succeed."""
    from gridcity.services import shifts
    from tests.factories import SYSTEM, TEST_INFO

    shifts.create_shift(
        container.deps,
        SYSTEM,
        name="spare",
        starts_at="10:00",
        ends_at="16:00",
        name_zh="备用班",
        name_en="spare shift",
        info=TEST_INFO,
    )


def _patrol_area_with_people(container, city: SmallCity) -> None:  # type: ignore[no-untyped-def]
    """A patrol layer with one area, a grid worker on it (assignment 1) and a leader (2)."""
    from datetime import UTC, date, datetime

    from gridcity.services import assignments, layers
    from gridcity.services.layer_drawing import CellInput, replace_layer_cells
    from tests.factories import SYSTEM, TEST_INFO

    deps = container.deps
    layers.create_layer(
        deps, SYSTEM, code="patrol", name="责任网格", scheme="responsibility", info=TEST_INFO
    )
    replace_layer_cells(
        deps,
        SYSTEM,
        "patrol",
        [CellInput(division=SUB_A, grids=(f"{COMM_A1}001",))],
        valid_from=datetime(2026, 1, 2, tzinfo=UTC),
        info=TEST_INFO,
    )
    for post, target in (
        ("grid_worker", {"layer": "patrol", "cell": "ZR11010100101"}),
        ("leader", {"division": COMM_A1}),
    ):
        assignments.create_assignment(
            deps,
            SYSTEM,
            user_id=city.user_ids["operator"],
            post=post,
            starts_on=date(2026, 1, 1),
            info=TEST_INFO,
            **target,
        )


def _resolve(path: str, city: SmallCity, role: Role) -> str:
    return path.format(
        grid=f"{COMM_A1}001",
        layer="patrol",
        grid_post=1,
        leader_post=2,
        department=next(iter(city.department_ids.values())),
        supervisor=city.user_ids["supervisor"],
        role=role.value,
        scheme="responsibility",
        shift="day",
        spare_shift="spare",
        code_set="gbt47678_5_2026",
        kind="matter",
        code="06010",
        manual_mapping=CATALOG_IDS.get("manual_mapping", 0),
        component=COMPONENT,
        photo=hashlib.sha256(PHOTO).hexdigest()[:32] + ".jpg",
    )


def _ok(status: int) -> bool:
    return status in (200, 201, 204, 303)


@pytest.mark.parametrize("endpoint", API, ids=str)
def test_api_endpoint_allows_exactly_its_roles(
    endpoint: Endpoint, client: TestClient, city: SmallCity
) -> None:
    wrong: list[str] = []
    anonymous = client.request(
        endpoint.method, _resolve(endpoint.path, city, Role.PUBLIC), **_payload(endpoint, city)
    )
    # An anonymous multipart post carries neither a bearer token nor a CSRF token: the CSRF
    # check refuses it before authentication does.
    if endpoint.files and anonymous.status_code == 403:
        assert anonymous.json()["code"] == "csrf_failed"
    elif anonymous.status_code != 401:
        wrong.append(f"anonymous → {anonymous.status_code}")
    for role in STAFF_ROLES:
        headers = api_token(client, USERNAME[role])
        client.cookies.clear()
        response = client.request(
            endpoint.method,
            _resolve(endpoint.path, city, role),
            headers=headers,
            **_payload(endpoint, city),
        )
        if role in endpoint.allowed and not _ok(response.status_code):
            wrong.append(f"{role} allowed but got {response.status_code}: {response.text[:120]}")
        if role not in endpoint.allowed and response.status_code != _refusal(endpoint, role):
            wrong.append(f"{role} forbidden but got {response.status_code}")
        if response.status_code == 403:
            assert response.json()["code"] in ("permission_denied", "role_home_forbidden")
    assert not wrong, f"{endpoint}: " + "; ".join(wrong)


def _payload(endpoint: Endpoint, city: SmallCity) -> dict[str, Any]:
    """The request body: JSON, or a multipart form with its upload."""
    body = endpoint.body(city) if endpoint.body else None
    if endpoint.files:
        return {"data": body, "files": endpoint.files()}
    return {"json": body}


@pytest.mark.parametrize("endpoint", PAGES, ids=str)
def test_page_allows_exactly_its_roles(endpoint: Endpoint, app, city: SmallCity) -> None:
    wrong: list[str] = []
    with TestClient(app) as anonymous:
        page = anonymous.get("/login")
        data = {"csrf_token": csrf_of(page.text), **(endpoint.body(city) if endpoint.body else {})}
        response = anonymous.request(
            endpoint.method,
            _resolve(endpoint.path, city, Role.ADMIN),
            data=data if endpoint.method == "POST" else None,
            files=endpoint.files() if endpoint.files else None,
            follow_redirects=False,
        )
        if response.status_code != 303 or not response.headers["location"].startswith("/login"):
            wrong.append(f"anonymous → {response.status_code}")
    for role in STAFF_ROLES:
        with TestClient(app) as browser:
            browser_login(browser, USERNAME[role])
            path = _resolve(endpoint.path, city, role)
            if endpoint.method == "POST":
                token = csrf_of(browser.get("/account/password").text)
                response = browser.post(
                    path,
                    data={"csrf_token": token, **endpoint.body(city), **_signed(endpoint, app)},
                    files=endpoint.files() if endpoint.files else None,
                    follow_redirects=False,
                )
            else:
                response = browser.get(path, follow_redirects=False)
        if role in endpoint.allowed and not _ok(response.status_code):
            wrong.append(f"{role} allowed but got {response.status_code}")
        if role not in endpoint.allowed and response.status_code != _refusal(endpoint, role):
            wrong.append(f"{role} forbidden but got {response.status_code}")
    assert not wrong, f"{endpoint}: " + "; ".join(wrong)


def _signed(endpoint: Endpoint, app: FastAPI) -> dict[str, Any]:
    """The fields the app issues for this endpoint (a dry run's fingerprint), issued now."""
    return endpoint.signed(app.state.container) if endpoint.signed else {}


def _refusal(endpoint: Endpoint, role: Role) -> int:
    """403 for a role refusal; 404 where only the data scope keeps the user out (the handler's
    scope is its department, so a division is invisible to it rather than forbidden)."""
    if role is Role.HANDLER and endpoint.path in (
        f"/admin/divisions/{DISTRICT}",
        f"/api/v1/divisions/{SUB_A}",
        "/api/v1/grids/{grid}",
        "/api/v1/grids/{grid}/responsible",
    ):
        return 404
    return 403


def _shape(path: str) -> str:
    """A path with its variable parts (ids, codes, role names) replaced by {}."""
    roles = {r.value for r in Role}
    path = path.split("?", 1)[0]
    parts = [
        "{}" if p.startswith("{") or p.isdigit() or (p in roles and i > 0) else p
        for i, p in enumerate(path.split("/"))
    ]
    return "/".join(parts)


def _served_routes() -> list[tuple[str, str]]:
    """(method, path) of every route our routers declare (the app mounts these routers)."""
    import importlib
    import pkgutil

    from fastapi import APIRouter
    from fastapi.routing import APIRoute

    from gridcity.web import api, ops, ui

    found: list[tuple[str, str]] = []
    routers: list[tuple[APIRouter, str]] = [(ops.router, "")]
    for package, prefix in ((api, "/api/v1"), (ui, "")):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            router = getattr(module, "router", None)
            if isinstance(router, APIRouter):
                routers.append((router, prefix))
    for router, prefix in routers:
        for route in router.routes:
            # A router included into a module's router would hide its routes from this walk.
            assert isinstance(route, APIRoute), f"{route!r} is not walked: keep routers flat"
            found += [(m, prefix + route.path) for m in route.methods - {"HEAD"}]
    return found


def test_every_route_of_the_app_is_in_this_matrix() -> None:
    served = _served_routes()
    assert len(served) > 40  # the walk itself works
    listed = {(e.method, _shape(e.path)) for e in API + PAGES}
    public = {(m, _shape(p)) for m, p in PUBLIC}
    missing = sorted(
        f"{method} {path}"
        for method, path in served
        if (method, _shape(path)) not in listed | public
    )
    assert not missing, "routes without an access test: " + ", ".join(missing)
