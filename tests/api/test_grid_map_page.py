"""The grid map page and the grid generation screen over HTTP: who may open them, the details
fragment, search by code, the lean GeoJSON and figures, and preview → save with its refusals."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from shapely.geometry import box

from gridcity.adapters.db.tables import AuditLog, GridCell
from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import STAFF_ROLES, Role
from gridcity.domain.coords import wgs84_to_gcj02
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import assignments, divisions, grids, shifts
from gridcity.web.app import create_app
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import (
    COMM_A1,
    COMM_B1,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    browser_login,
    csrf_of,
)
from tests.services.test_grid_queries import PATROL, staff

A1 = (116.40, 39.90, 116.41, 39.91)
B1 = (116.41, 39.90, 116.42, 39.92)
HTMX = {"HX-Request": "true"}
TARGET = "100000"  # community A1 is ~0.95 km²: about ten grids
TILES = "http://tiles.invalid/{z}/{x}/{y}.png"


def grid_config(html: str) -> dict[str, Any]:
    """The JSON the page hands to grid_map.js."""
    found = re.search(r'<script type="application/json" id="grid-map-config">(.*?)</script>', html)
    assert found, "page has no grid map configuration"
    return json.loads(found.group(1))


def stored_grids(container: Container) -> int:
    """How many grid versions the database holds."""
    with container.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(GridCell)) or 0)


def audit_actions(container: Container, action: str) -> int:
    """How many audit rows have this action."""
    with container.db.read() as session:
        query = sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == action)
        return int(session.scalar(query) or 0)


@pytest.fixture
def gridded(container: Container, city: SmallCity) -> SmallCity:
    """The small city with four unit grids in A1 and four in B1 (from 2026-01-01)."""
    add_quarter_grids(container, COMM_A1, A1)
    add_quarter_grids(container, COMM_B1, B1)
    return city


@pytest.fixture
def admin(client: TestClient, gridded: SmallCity) -> TestClient:
    """A client signed in as the administrator."""
    browser_login(client, "admin")
    return client


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/grids", f"/grids?code={COMM_A1}001", "/admin/grids/generate"])
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_the_data_endpoints_answer_401_to_anonymous_scripts(client: TestClient) -> None:
    for path in ("/grids/cells.geojson", "/grids/figures.json"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.json()["code"] == "login_required"


@pytest.mark.parametrize("role", STAFF_ROLES, ids=lambda r: r.value)
def test_every_staff_role_opens_the_grid_map_from_our_server_only(
    client: TestClient, gridded: SmallCity, role: Role
) -> None:
    browser_login(client, role.value.replace("_", "-"))
    response = client.get("/grids")
    assert response.status_code == 200
    html = response.text
    assert '<script src="/static/map_kit.js"></script>' in html
    assert '<script src="/static/grid_map.js"></script>' in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing may come from elsewhere"
    assert '<a href="/grids" class="active">网格</a>' in html
    config = grid_config(html)
    assert config["layers"] == [
        {
            "code": "unit",
            "name": "单元网格",
            "kind": "unit",
            "source": "/grids/cells.geojson?layer=unit",
        }
    ]
    assert config["basemap"] is None
    assert config["text"]["loading"] == "正在加载网格…"
    generate_link = 'href="/admin/grids/generate"' in html
    assert generate_link == (role is Role.ADMIN)


def test_only_administrators_may_generate(client: TestClient, gridded: SmallCity) -> None:
    browser_login(client, "leader")
    assert client.get("/admin/grids/generate").status_code == 403
    preview = client.get(
        "/admin/grids/generate/preview.geojson",
        params={"community": COMM_A1},
        headers={"Accept": "application/json"},
    )
    assert preview.status_code == 403
    token = csrf_of(client.get("/grids").text)
    post = client.post(
        "/admin/grids/generate",
        data={"csrf_token": token, "community": COMM_A1, "target_area": TARGET},
    )
    assert post.status_code == 403


# --- details and search ----------------------------------------------------------------------


def test_the_details_fragment_shows_code_community_area_and_history(admin: TestClient) -> None:
    response = admin.get(f"/grids/{COMM_A1}001/detail", headers=HTMX)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html  # a fragment for the panel, not a page
    assert f'data-code="{COMM_A1}001"' in html
    assert "多福巷社区" in html and "东华门街道" in html
    assert "现行" in html and "2026-01-01" in html
    area = grids.get_grid(admin.app.state.container.deps, SYSTEM, f"{COMM_A1}001").area_m2
    assert f"{area:,.0f} m²" in html
    assert 'data-testid="grid-versions"' in html


def test_the_details_of_an_earlier_version_are_reachable_from_the_history(
    admin: TestClient, container: Container
) -> None:
    x0, y0, x1, y1 = A1
    grids.replace_community_grids(
        container.deps,
        SYSTEM,
        COMM_A1,
        [(None, box(x0, y0, (x0 + x1) / 2, y1), {}), (None, box((x0 + x1) / 2, y0, x1, y1), {})],
        valid_from=datetime(2026, 6, 1, tzinfo=UTC),
        info=TEST_INFO,
    )
    now = admin.get(f"/grids/{COMM_A1}001/detail", headers=HTMX).text
    assert 'data-testid="grid-replaced"' in now  # the quarters it replaced
    link = re.search(r'hx-get="(/grids/\d{15}/detail\?at=2026-01-01T00%3A00%3A00%2B00%3A00)"', now)
    assert link, "the history links the January version"
    then = admin.get(link.group(1), headers=HTMX).text
    assert 'data-testid="grid-replaced-by"' in then
    retired = admin.get(f"/grids/{COMM_A1}004/detail", headers=HTMX).text
    assert "已于 2026-06-01 停用" in retired


def test_a_browser_asking_for_the_fragment_is_sent_to_the_page(admin: TestClient) -> None:
    response = admin.get(f"/grids/{COMM_A1}001/detail", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/grids?code={COMM_A1}001"


def test_searching_a_code_answers_the_panel_and_tells_the_script_what_to_show(
    admin: TestClient,
) -> None:
    response = admin.get("/grids", params={"code": f"{COMM_B1}003"}, headers=HTMX)
    assert response.status_code == 200
    assert f'data-code="{COMM_B1}003"' in response.text and "景山东街社区" in response.text
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger == {
        "grid-search": {
            "query": f"{COMM_B1}003",
            "codes": [f"{COMM_B1}003"],
            "exact": f"{COMM_B1}003",
        }
    }


def test_a_history_restore_gets_the_whole_page(admin: TestClient) -> None:
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    html = admin.get("/grids", params={"code": f"{COMM_A1}002"}, headers=headers).text
    assert 'id="grid-map-config"' in html and "HX-Trigger" not in html


def test_opening_the_page_with_a_code_shows_its_details_and_focuses_the_map(
    admin: TestClient,
) -> None:
    html = admin.get("/grids", params={"code": f"{COMM_A1}002"}).text
    assert f'data-code="{COMM_A1}002"' in html
    assert grid_config(html)["found"]["exact"] == f"{COMM_A1}002"
    assert f'value="{COMM_A1}002"' in html  # the search box keeps the code


def test_a_code_prefix_lists_its_grids(admin: TestClient) -> None:
    response = admin.get("/grids", params={"code": SUB_A}, headers=HTMX)
    assert 'data-testid="grid-matches"' in response.text
    assert "共 4 个网格匹配“110101001”" in response.text
    found = json.loads(response.headers["HX-Trigger"])["grid-search"]
    assert found["codes"] == [f"{COMM_A1}00{n}" for n in (1, 2, 3, 4)] and found["exact"] == ""


def test_searching_outside_the_scope_or_for_nothing_says_so(
    client: TestClient, gridded: SmallCity
) -> None:
    browser_login(client, "supervisor")  # scope: subdistrict A
    outside = client.get("/grids", params={"code": f"{COMM_B1}001"}, headers=HTMX)
    assert f"没有编码为 {COMM_B1}001 的单元网格" in outside.text
    assert 'data-testid="grid-problem"' in outside.text
    assert json.loads(outside.headers["HX-Trigger"])["grid-search"]["codes"] == []
    none = client.get("/grids", params={"code": "99"}, headers=HTMX)
    assert "没有匹配的现行网格" in none.text


def test_names_from_data_are_escaped(admin: TestClient, container: Container) -> None:
    evil = "<img src=x onerror=alert(1)>"
    x0, y0, x1, y1 = A1
    grids.replace_community_grids(
        container.deps,
        SYSTEM,
        COMM_A1,
        [(None, box(x0, y0, x1, y1), {"name": evil, "land_use": evil})],
        valid_from=datetime(2026, 6, 1, tzinfo=UTC),
        info=TEST_INFO,
    )
    html = admin.get(f"/grids/{COMM_A1}001/detail", headers=HTMX).text
    assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    listed = admin.get("/grids", params={"code": "img"}, headers=HTMX).text
    assert evil not in listed


# --- data for the script ------------------------------------------------------------------------


def test_cells_are_lean_scoped_and_gzipped(client: TestClient, gridded: SmallCity) -> None:
    browser_login(client, "supervisor")
    response = client.get("/grids/cells.geojson", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    collection = response.json()
    assert [f["id"] for f in collection["features"]] == [f"{COMM_A1}00{n}" for n in (1, 2, 3, 4)]
    assert collection["features"][0]["properties"] == {"code": f"{COMM_A1}001", "name": ""}
    ring = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert all(len(str(v).split(".")[-1]) <= 6 for point in ring for v in point)
    plain = client.get("/grids/cells.geojson", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == collection
    under = client.get("/grids/cells.geojson", params={"parent": f"{COMM_A1}001"}).json()
    assert [f["id"] for f in under["features"]] == [f"{COMM_A1}001"]


def test_cells_are_shifted_for_gcj02_tiles(container: Container, gridded: SmallCity) -> None:
    settings = settings_for(container.settings.database_url, basemap_crs="GCJ02", basemap_url=TILES)
    shifted = bootstrap(settings, hasher=FAST_HASHER)
    with TestClient(create_app(shifted)) as gcj:
        browser_login(gcj, "admin")
        config = grid_config(gcj.get("/grids").text)
        assert config["layers"][0]["source"] == "/grids/cells.geojson?layer=unit&crs=GCJ02"
        assert config["basemap"] == {"url": TILES, "attribution": ""}
        plain = gcj.get("/grids/cells.geojson").json()["features"][0]
        moved = gcj.get("/grids/cells.geojson", params={"crs": "GCJ02"}).json()["features"][0]
    shifted.db.engine.dispose()
    lon, lat = plain["geometry"]["coordinates"][0][0][0]
    assert moved["geometry"]["coordinates"][0][0][0] == pytest.approx(
        wgs84_to_gcj02(lon, lat), abs=2e-6
    )


def test_figures_carry_values_and_labelled_classes(admin: TestClient) -> None:
    area = admin.get("/grids/figures.json", params={"figure": "area_m2"}).json()
    assert area["label"] == "面积（m²）" and area["kind"] == "sequential"
    assert len(area["values"]) == 8
    assert area["classes"][-1]["upper"] is None
    deviation = admin.get("/grids/figures.json", params={"figure": "area_deviation"}).json()
    assert [c["label"] for c in deviation["classes"]] == [
        "≤ −50%",
        "−50% – −20%",
        "−20% – +20%",
        "+20% – +50%",
        "> +50%",
    ]
    redivisions = admin.get("/grids/figures.json", params={"figure": "redivisions"}).json()
    assert set(redivisions["values"].values()) == {0.0}
    assert admin.get("/grids/figures.json", params={"figure": "made_up"}).status_code == 422


# --- other layers and responsibility ---------------------------------------------------------


@pytest.fixture
def staffed(client: TestClient, container: Container, city: SmallCity) -> TestClient:
    """The admin's client on a city with a patrol layer, a supervisor, a grid worker, a leader."""
    staff(container, city)
    browser_login(client, "admin")
    return client


def test_the_other_active_layers_are_offered_with_their_own_source(staffed: TestClient) -> None:
    config = grid_config(staffed.get("/grids").text)
    assert config["layers"][1] == {
        "code": "patrol",
        "name": "责任网格",
        "kind": "responsibility",
        "source": "/grids/cells.geojson?layer=patrol",
    }
    cells = staffed.get("/grids/cells.geojson", params={"layer": "patrol"}).json()
    assert cells["features"][0]["properties"] == {"code": PATROL, "name": "东华门1号"}
    unknown = staffed.get(
        "/grids/cells.geojson", params={"layer": "nope"}, headers={"Accept": "application/json"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "layer_not_found"


def test_the_details_name_who_is_responsible_and_the_cells_of_other_layers(
    staffed: TestClient,
) -> None:
    html = staffed.get(f"/grids/{COMM_A1}001/detail", headers=HTMX).text
    responsible = html[html.index('data-testid="grid-responsible"') :]
    assert "监督员" in responsible and "Supervisor" in responsible  # the post, the person
    assert "所属责任网格" in responsible and PATROL in responsible
    assert "包片领导" in responsible and "所属社区" in responsible
    assert 'data-testid="grid-uncovered"' not in html
    assert "东华门1号" in html[html.index('data-testid="grid-layer-cells"') :]
    bare = staffed.get(f"/grids/{COMM_B1}002/detail", headers=HTMX).text
    assert "该网格当前无在岗监督员或网格员。" in bare


def test_the_people_figure_and_the_uncovered_grids_agree(staffed: TestClient) -> None:
    people = staffed.get("/grids/figures.json", params={"figure": "people"}).json()
    assert people["label"] == "在岗监督员和网格员人数"
    assert [c["label"] for c in people["classes"]] == ["0", "1", "2", "3", "≥ 4"]
    config = grid_config(staffed.get("/grids").text)
    uncovered = staffed.get(config["uncovered"], params={"format": "json"}).json()
    assert uncovered["grids"] == [f"{COMM_B1}00{n}" for n in (2, 3, 4)]
    assert sorted(c for c, n in people["values"].items() if n == 0) == uncovered["grids"]


# --- generation: preview, save, refusals ----------------------------------------------------------


def preview(client: TestClient, community: str = COMM_A1, target: str = TARGET) -> httpx.Response:
    """Ask for the preview as the page's script does."""
    return client.get(
        "/admin/grids/generate/preview.geojson",
        params={"community": community, "target_area": target},
        headers={"Accept": "application/json"},
    )


def save(client: TestClient, **fields: str) -> httpx.Response:
    """Post the generation form with a fresh CSRF token."""
    token = csrf_of(client.get("/admin/grids/generate").text)
    data = {"csrf_token": token, "community": COMM_A1, "target_area": TARGET, **fields}
    return client.post("/admin/grids/generate", data=data, follow_redirects=False)


def test_the_generation_page_offers_communities_with_the_standard_target(
    admin: TestClient,
) -> None:
    html = admin.get(f"/admin/grids/generate?community={COMM_B1}").text
    assert f'<option value="{COMM_B1}" selected' in html
    assert 'value="10000"' in html
    assert 'x-data="gridGenerator"' in html and '<script src="/static/grid_generate.js">' in html


def test_a_preview_shows_the_proposed_grids_and_writes_nothing(
    admin: TestClient, container: Container
) -> None:
    before, audited = stored_grids(container), audit_actions(container, "grid.redivided")
    response = preview(admin)
    assert response.status_code == 200
    body = response.json()
    summary = body["summary"]
    assert summary["count"] == len(body["features"]) >= 5
    assert summary["current_count"] == 4 and summary["community_name"] == "多福巷社区"
    assert summary["min_area_m2"] <= summary["mean_area_m2"] <= summary["max_area_m2"]
    assert body["features"][0]["properties"]["code"] == f"{COMM_A1}001"
    assert stored_grids(container) == before
    assert audit_actions(container, "grid.redivided") == audited


def test_saving_the_preview_replaces_the_grids_and_is_audited(
    admin: TestClient, container: Container
) -> None:
    summary = preview(admin).json()["summary"]
    audited = audit_actions(container, "grid.redivided")

    response = save(admin, fingerprint=summary["fingerprint"], valid_from="2026-07-01")

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/admin/grids/generate?community={COMM_A1}&done=redivided"
    )
    now = grids.list_grids(container.deps, SYSTEM, community=COMM_A1, per_page=200)
    assert now.total == summary["count"]
    assert {g.valid_from for g in now.items} == {datetime(2026, 6, 30, 16, 0, tzinfo=UTC)}
    assert audit_actions(container, "grid.redivided") == audited + 1
    assert "已保存：该社区的单元网格已更新" in admin.get(response.headers["location"]).text


def test_saving_without_a_date_starts_now(admin: TestClient, container: Container) -> None:
    summary = preview(admin).json()["summary"]
    assert save(admin, fingerprint=summary["fingerprint"]).status_code == 303
    now = grids.list_grids(container.deps, SYSTEM, community=COMM_A1, per_page=200)
    started = now.items[0].valid_from
    assert abs((datetime.now(UTC) - started).total_seconds()) < 60


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "请先预览网格再保存"),
        ({"fingerprint": "0" * 32}, "预览之后该社区已发生变化"),
        ({"fingerprint": "x", "target_area": "5"}, "目标面积应在 100 至 1,000,000 m² 之间"),
        ({"fingerprint": "x", "valid_from": "2026-13-01"}, "2026-13-01 不是有效日期"),
    ],
    ids=["no-preview", "stale-preview", "target-range", "bad-date"],
)
def test_refused_saves_write_nothing_and_say_why(
    admin: TestClient, container: Container, fields: dict[str, str], message: str
) -> None:
    before = stored_grids(container)
    response = save(admin, **fields)
    assert response.status_code == 422
    assert message in response.text
    assert f'<option value="{COMM_A1}" selected' in response.text  # the choice is kept
    assert stored_grids(container) == before


def test_a_save_dated_before_the_last_division_is_refused(admin: TestClient) -> None:
    summary = preview(admin).json()["summary"]
    response = save(admin, fingerprint=summary["fingerprint"], valid_from="2025-06-01")
    assert response.status_code == 422
    assert "grid_redivision_order" not in response.text  # people read the message, not the code
    assert "社区 110101001001" in response.text


def test_preview_refusals_are_json_for_the_script(admin: TestClient, container: Container) -> None:
    divisions.create_division(
        container.deps,
        SYSTEM,
        code="110101002002",
        name="无边界社区",
        level=DivisionLevel.COMMUNITY,
        boundary=None,
        info=TEST_INFO,
    )
    undrawn = preview(admin, community="110101002002")
    assert undrawn.status_code == 422
    assert undrawn.json()["code"] == "community_without_boundary"
    assert preview(admin, target="5").json()["code"] == "grid_target_range"
    assert preview(admin, community="110101009009").status_code == 404


def test_the_details_name_a_shift_as_the_city_calls_it(
    staffed: TestClient, container: Container, city: SmallCity
) -> None:
    shifts.update_shift(container.deps, SYSTEM, "night", name_zh="晚班", info=TEST_INFO)
    assignments.create_assignment(
        container.deps, SYSTEM, user_id=city.user_ids["operator"], post="grid_worker",
        cell=f"{COMM_B1}002", shift="night", starts_on=date(2026, 1, 1), info=TEST_INFO,
    )  # fmt: skip
    html = staffed.get(
        f"/grids/{COMM_B1}002/detail", params={"at": "2026-03-02T22:00:00+08:00"}, headers=HTMX
    ).text
    responsible = html[html.index('data-testid="grid-responsible"') :]
    assert "网格员" in responsible and "· 晚班" in responsible and "夜班" not in responsible
