"""The import and export page (/admin/import), driven as a browser would: a dry run shows what
a file would write or every problem in it and writes nothing; the confirmation writes it
through the same service; uploads are bounded, sniffed and cleaned up; exports follow scope."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from shapely.geometry import Polygon, mapping

from gridcity.adapters.db.tables import AuditLog, GridCell
from gridcity.bootstrap import Container, bootstrap
from gridcity.services.data_versions import data_versions
from gridcity.web.app import create_app
from gridcity.web.ui.admin_import import upload_fingerprint
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    SUB_A,
    SmallCity,
    add_quarter_grids,
    browser_login,
    csrf_of,
)
from tests.services.test_grid_import import grid_features

GEOJSON = "application/geo+json"


def geojson_of(features: list[dict[str, Any]]) -> bytes:
    """A GeoJSON FeatureCollection file's bytes."""
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def grid_file(bad_index: int | None = None) -> bytes:
    """The six test grids of A1 and A2; optionally one of them a self-crossing bow tie."""
    features = []
    for f in grid_features():
        geometry = mapping(f.geometry)
        if f.index == bad_index:
            x0, y0, x1, y1 = f.geometry.bounds  # type: ignore[union-attr]
            geometry = mapping(Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)]))
        features.append({"type": "Feature", "geometry": geometry, "properties": f.properties})
    return geojson_of(features)


@pytest.fixture
def admin(client: TestClient, city: SmallCity) -> TestClient:
    """A browser signed in as the administrator."""
    browser_login(client, "admin")
    return client


@pytest.fixture
def uploads_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where uploads and exports are staged during the test (to see that they are removed)."""
    folder = tmp_path / "staging"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def post(client: TestClient, path: str, data: bytes, name: str, **fields: str) -> Response:
    """Post the import form with a file, as the page's script or confirm button does."""
    token = csrf_of(client.get("/admin/import").text)
    form = {"csrf_token": token, "kind": "grids", "crs": "", "encoding": "", "valid_from": ""}
    return client.post(
        path,
        data={**form, **fields},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def fingerprint_of(report: str) -> str:
    """The fingerprint the dry run's confirm button carries."""
    match = re.search(r'name="fingerprint" value="([0-9a-f.]+)"', report)
    assert match, "the report has no confirm button"
    return match.group(1)


def signed(container: Container, data: bytes, *, ago: timedelta = timedelta(0)) -> str:
    """A fingerprint the app would have issued ``ago`` for ``data`` as grids with no options."""
    issued = int((container.deps.clock() - ago).timestamp())
    digest = hashlib.sha256(data).hexdigest()
    return upload_fingerprint(
        container.settings.secret_key, digest, "grids", "", "", "",
        issued=issued, versions=data_versions(container.deps),
    )  # fmt: skip


def audit_actions(container: Container, action: str) -> int:
    """How many audit rows record ``action``."""
    with container.db.read() as session:
        return session.scalars(sa.select(AuditLog.action)).all().count(action)


def grid_count(container: Container) -> int:
    """Stored grid versions: what a dry run or a refused import must leave alone."""
    with container.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(GridCell)) or 0)


def test_the_page_offers_import_to_admins_and_export_to_every_staff_member(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "admin")
    page = client.get("/admin/import").text
    assert 'data-testid="import-form"' in page and 'data-testid="export-form"' in page
    assert "导入与导出" in page and "EPSG:4548" in page and "gcj02" in page

    client.cookies.clear()
    browser_login(client, "supervisor")
    page = client.get("/admin/import").text
    assert 'data-testid="import-form"' not in page and 'data-testid="export-form"' in page


def test_a_dry_run_shows_counts_per_community_and_writes_nothing(
    admin: TestClient, container: Container, uploads_dir: Path
) -> None:
    response = post(admin, "/admin/import/check", grid_file(), "grids.geojson")

    assert response.status_code == 200, response.text
    report = response.text
    assert 'data-testid="import-summary"' in report and "grids.geojson" in report
    rows = re.findall(
        r'<td class="mono">(\d{12})</td><td>([^<]*)</td><td class="num">(\d+)</td>', report
    )
    assert rows == [(COMM_A1, "多福巷社区", "4"), (COMM_A2, "银闸社区", "2")]
    assert 'id="import-preview"' in report
    assert grid_count(container) == 0
    assert list(uploads_dir.iterdir()) == []


def test_the_confirmation_writes_what_the_dry_run_showed(
    admin: TestClient, container: Container, uploads_dir: Path
) -> None:
    data = grid_file()
    checked = post(admin, "/admin/import/check", data, "grids.geojson", valid_from="2026-07-01")

    done = post(
        admin, "/admin/import", data, "grids.geojson",
        valid_from="2026-07-01", fingerprint=fingerprint_of(checked.text),
    )  # fmt: skip

    assert done.status_code == 303
    assert done.headers["location"].startswith("/admin/import?done=grids&created=6")
    page = admin.get(done.headers["location"]).text
    assert "已导入：2 个社区的单元网格 6 个" in page
    assert grid_count(container) == 6
    with container.db.read() as session:
        actions = session.scalars(sa.select(AuditLog.action)).all()
    assert actions.count("grid.imported") == 1
    assert list(uploads_dir.iterdir()) == []


def test_a_confirmation_of_another_file_than_the_one_checked_is_refused(
    admin: TestClient, container: Container
) -> None:
    checked = post(admin, "/admin/import/check", grid_file(), "grids.geojson")
    other = grid_file(bad_index=None).replace(b"\\u591a", b"\\u5c11")  # another name

    refused = post(
        admin, "/admin/import", other, "grids.geojson", fingerprint=fingerprint_of(checked.text)
    )

    assert refused.status_code == 409
    assert "文件或选项在检查后已改变" in refused.text
    assert grid_count(container) == 0


def test_a_file_with_one_bad_feature_is_reported_by_feature_and_nothing_is_written(
    admin: TestClient, container: Container
) -> None:
    response = post(admin, "/admin/import/check", grid_file(bad_index=2), "grids.geojson")

    assert response.status_code == 422
    problems = response.text.split('data-testid="import-problems"', 1)[1]
    cells = re.findall(
        r'<td class="num">(\d+)</td><td class="mono">(\d+)</td><td>([^<]*)</td>', problems
    )
    assert [(i, c) for i, c, _ in cells] == [("2", f"{COMM_A1}003")]
    assert "Self-intersection" in cells[0][2]
    assert "无法导入：共 1 个问题" in response.text
    assert 'name="fingerprint"' not in response.text
    assert grid_count(container) == 0


def test_a_confirmed_bad_file_is_refused_again_by_the_service_and_nothing_is_written(
    admin: TestClient, container: Container
) -> None:
    data = grid_file(bad_index=2)

    response = post(
        admin, "/admin/import", data, "grids.geojson", fingerprint=signed(container, data)
    )

    assert response.status_code == 422
    assert 'data-testid="import-problems"' in response.text and "Self-intersection" in response.text
    assert grid_count(container) == 0


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            "grids.png",
            "不是 GeoJSON、Shapefile 压缩包、GeoPackage 或 CSV 文件",
        ),
        (
            b"PK\x05\x06" + b"\x00" * 18,
            "grids.geojson",
            "grids.geojson 的扩展名是 .geojson，内容却是zip 压缩包",
        ),
        (b"SQLite format 3\x00" + b"\x00" * 84, "grids.csv", "内容却是SQLite 数据库"),
        (b"", "grids.geojson", "grids.geojson 是空文件"),
    ],
    ids=["png", "zip-named-geojson", "sqlite-named-csv", "empty"],
)
def test_a_file_of_the_wrong_type_is_refused_with_a_clear_message(
    admin: TestClient, container: Container, uploads_dir: Path, data: bytes, name: str, message: str
) -> None:
    response = post(admin, "/admin/import/check", data, name)

    assert response.status_code == 415
    assert message in response.text
    assert grid_count(container) == 0
    assert list(uploads_dir.iterdir()) == []


def test_a_file_without_extension_is_read_as_what_it_holds(admin: TestClient) -> None:
    response = post(admin, "/admin/import/check", grid_file(), "grids")

    assert response.status_code == 200
    assert "6" in response.text.split('data-testid="import-summary"', 1)[1]


def test_an_oversized_upload_is_refused_with_413_and_nothing_is_written(
    database_url: str,
) -> None:
    container = bootstrap(settings_for(database_url, max_upload_mb=1), hasher=FAST_HASHER)
    from tests.factories import build_small_city

    build_small_city(container)
    big = grid_file()[:-2] + b"," + b" " * (1024 * 1024) + b"]}"
    with TestClient(create_app(container)) as client:
        browser_login(client, "admin")
        response = post(client, "/admin/import/check", big, "grids.geojson")

    assert response.status_code == 413
    assert "1 MB" in response.text
    assert grid_count(container) == 0
    container.db.engine.dispose()


@pytest.mark.parametrize(("fmt", "encoding"), [("zip", "gbk"), ("gpkg", ""), ("csv", "")])
def test_an_export_checks_clean_when_uploaded_again(
    admin: TestClient, container: Container, fmt: str, encoding: str
) -> None:
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    exported = admin.get(
        "/admin/import/export", params={"kind": "grids", "format": fmt, "encoding": encoding}
    )

    response = post(
        admin, "/admin/import/check", exported.content, f"grids.{fmt}",
        encoding=encoding, valid_from="2026-07-01",
    )  # fmt: skip

    assert response.status_code == 200, response.text
    assert re.search(
        rf"<td class=\"mono\">{COMM_A1}</td><td>多福巷社区</td><td class=\"num\">4</td><td class=\"num\">4</td>",
        response.text,
    )


def test_the_upload_fingerprint_covers_the_file_every_option_the_time_and_the_data() -> None:
    digest = hashlib.sha256(b"file").hexdigest()

    def fingerprint(
        secret: str = "s", sha: str = digest, kind: str = "grids", crs: str = "",
        encoding: str = "", valid_from: str = "", issued: int = 1, versions: tuple[int, int] = (1, 1),
    ) -> str:  # fmt: skip
        return upload_fingerprint(
            secret, sha, kind, crs, encoding, valid_from, issued=issued, versions=versions
        )

    base = fingerprint()
    assert base == fingerprint()
    changed = [
        fingerprint(sha=hashlib.sha256(b"other").hexdigest()),
        fingerprint(kind="divisions"),
        fingerprint(crs="EPSG:4548"),
        fingerprint(encoding="gbk"),
        fingerprint(valid_from="2026-07-01"),
        fingerprint(secret="another secret"),
        fingerprint(issued=2),
        fingerprint(versions=(2, 1)),
        fingerprint(versions=(1, 2)),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    assert len({f.rsplit(".", 1)[1] for f in [base, *changed]}) == len(changed) + 1


def test_a_division_file_dry_run_counts_new_and_changed_divisions(admin: TestClient) -> None:
    boundary = mapping(
        Polygon([(116.41, 39.90), (116.42, 39.90), (116.42, 39.91), (116.41, 39.91)])
    )
    data = geojson_of(
        [
            {
                "type": "Feature",
                "geometry": boundary,
                "properties": {"code": "110101002009", "name": "新社区"},
            }
        ]
    )

    response = post(admin, "/admin/import/check", data, "divisions.geojson", kind="divisions")

    assert response.status_code == 200, response.text
    assert "新增区划 1 个，修改 0 个，未变 0 个" in response.text


def test_an_unknown_crs_choice_is_refused(admin: TestClient) -> None:
    response = post(admin, "/admin/import/check", grid_file(), "grids.geojson", crs="EPSG:3857")

    assert response.status_code == 422
    assert "未知的坐标系 EPSG:3857" in response.text


# --- export ----------------------------------------------------------------------------------


def test_the_export_gives_the_grids_in_the_users_scope_and_cleans_up(
    client: TestClient, container: Container, city: SmallCity, uploads_dir: Path
) -> None:
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    add_quarter_grids(container, COMM_B1, (116.41, 39.90, 116.42, 39.92))
    browser_login(client, "supervisor")  # scope: subdistrict A only

    response = client.get("/admin/import/export", params={"kind": "grids", "format": "csv"})

    assert response.status_code == 200
    assert re.search(r'filename="grids-\d{8}\.csv"', response.headers["content-disposition"])
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["grid_code"] for r in rows) == [f"{COMM_A1}00{i}" for i in range(1, 5)]
    assert list(uploads_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "magic"), [("zip", b"PK"), ("gpkg", b"SQLite format 3"), ("geojson", b"{")]
)
def test_the_export_writes_every_format(
    admin: TestClient, container: Container, fmt: str, magic: bytes
) -> None:
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))

    response = admin.get("/admin/import/export", params={"kind": "divisions", "format": fmt})

    assert response.status_code == 200
    assert response.content.startswith(magic)
    if fmt == "zip":
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert any(n.endswith(".shp") for n in names)


def test_an_unknown_export_format_is_refused(admin: TestClient) -> None:
    response = admin.get("/admin/import/export", params={"kind": "grids", "format": "xlsx"})

    assert response.status_code == 422
    assert "未知的导出格式 xlsx" in response.text


def test_an_upload_without_the_csrf_token_is_refused(
    admin: TestClient, container: Container
) -> None:
    response = admin.post(
        "/admin/import/check",
        data={"kind": "grids"},
        files={"file": ("grids.geojson", grid_file(), GEOJSON)},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert grid_count(container) == 0


# --- a confirmation is signed, fresh and of the data as checked -------------------------------


def test_a_replayed_confirmation_is_refused_and_writes_nothing_more(
    admin: TestClient, container: Container
) -> None:
    data = grid_file()
    fingerprint = fingerprint_of(post(admin, "/admin/import/check", data, "grids.geojson").text)
    first = post(admin, "/admin/import", data, "grids.geojson", fingerprint=fingerprint)
    assert first.status_code == 303

    again = post(admin, "/admin/import", data, "grids.geojson", fingerprint=fingerprint)

    assert again.status_code == 409
    assert "检查之后网格或区划已有变动" in again.text and "请重新检查文件" in again.text
    assert grid_count(container) == 6
    assert audit_actions(container, "grid.imported") == 1


def test_a_confirmation_after_the_grids_changed_is_refused(
    admin: TestClient, container: Container
) -> None:
    data = grid_file()
    fingerprint = fingerprint_of(post(admin, "/admin/import/check", data, "grids.geojson").text)
    add_quarter_grids(container, COMM_B1, (116.41, 39.90, 116.42, 39.92))  # someone else's edit

    refused = post(admin, "/admin/import", data, "grids.geojson", fingerprint=fingerprint)

    assert refused.status_code == 409
    assert "检查之后网格或区划已有变动" in refused.text
    assert audit_actions(container, "grid.imported") == 0


@pytest.mark.parametrize(
    "tamper",
    [
        lambda f: "9" + f,  # another check time, same signature
        lambda f: f[:-1] + ("0" if f[-1] != "0" else "1"),  # another signature
        lambda f: f.rsplit(".", 1)[1],  # the signature alone
        lambda f: "",
    ],
    ids=["time", "signature", "no-stamp", "empty"],
)
def test_a_tampered_fingerprint_is_refused(
    admin: TestClient, container: Container, tamper: Any
) -> None:
    data = grid_file()
    fingerprint = fingerprint_of(post(admin, "/admin/import/check", data, "grids.geojson").text)

    refused = post(admin, "/admin/import", data, "grids.geojson", fingerprint=tamper(fingerprint))

    assert refused.status_code == 409
    assert "文件或选项在检查后已改变" in refused.text
    assert grid_count(container) == 0


def test_a_fingerprint_signed_with_another_secret_is_refused(
    admin: TestClient, container: Container
) -> None:
    data = grid_file()
    issued = int(container.deps.clock().timestamp())
    forged = upload_fingerprint(
        "not the secret", hashlib.sha256(data).hexdigest(), "grids", "", "", "",
        issued=issued, versions=data_versions(container.deps),
    )  # fmt: skip

    refused = post(admin, "/admin/import", data, "grids.geojson", fingerprint=forged)

    assert refused.status_code == 409
    assert grid_count(container) == 0


def test_a_confirmation_more_than_30_minutes_after_the_check_is_refused(
    admin: TestClient, container: Container
) -> None:
    data = grid_file()
    fresh = signed(container, data, ago=timedelta(minutes=29))

    refused = post(
        admin, "/admin/import", data, "grids.geojson",
        fingerprint=signed(container, data, ago=timedelta(minutes=31)),
    )  # fmt: skip

    assert refused.status_code == 409
    assert "检查已超过 30 分钟" in refused.text
    assert grid_count(container) == 0
    done = post(admin, "/admin/import", data, "grids.geojson", fingerprint=fresh)
    assert done.status_code == 303 and grid_count(container) == 6


# --- uploads ---------------------------------------------------------------------------------


def test_the_import_file_limit_refuses_in_staging_below_the_request_limit(
    database_url: str,
) -> None:
    container = bootstrap(settings_for(database_url, max_import_mb=1), hasher=FAST_HASHER)
    from tests.factories import build_small_city

    build_small_city(container)
    big = grid_file()[:-2] + b"," + b" " * (1024 * 1024) + b"]}"
    with TestClient(create_app(container)) as client:
        browser_login(client, "admin")
        page = client.get("/admin/import").text
        response = post(client, "/admin/import/check", big, "grids.geojson")

    assert "不超过 1 MB" in page  # the page states the import limit, not the request limit
    assert response.status_code == 413
    assert "grids.geojson 超过 1 MB" in response.text  # staging's message names the file
    assert grid_count(container) == 0
    container.db.engine.dispose()


@pytest.mark.parametrize("name", ["grids.txt", "grids.exe", "grids.geojson.txt"])
def test_a_file_with_an_extension_we_do_not_read_is_refused_whatever_it_holds(
    admin: TestClient, container: Container, uploads_dir: Path, name: str
) -> None:
    response = post(admin, "/admin/import/check", grid_file(), name)

    assert response.status_code == 415
    suffix = name.rsplit(".", 1)[1]
    assert f"{name} 的扩展名是 .{suffix}，请上传 .geojson、.json、.zip、.gpkg 或 .csv 文件" in (
        response.text
    )
    assert 'name="fingerprint"' not in response.text
    assert list(uploads_dir.iterdir()) == []


def test_the_page_sends_the_csrf_token_as_a_header_so_the_body_is_not_read_for_it() -> None:
    script = (
        Path(__file__).resolve().parents[2] / "src/gridcity/web/ui/static/import_page.js"
    ).read_text("utf-8")

    assert script.count("headers: csrfHeaders(form)") == 2  # the check and the confirmation
    assert '"X-CSRF-Token"' in script


def test_an_upload_with_the_csrf_header_instead_of_the_field_is_accepted(
    admin: TestClient,
) -> None:
    token = csrf_of(admin.get("/admin/import").text)

    response = admin.post(
        "/admin/import/check",
        data={"kind": "grids"},
        files={"file": ("grids.geojson", grid_file(), GEOJSON)},
        headers={"X-CSRF-Token": token},
    )

    assert response.status_code == 200, response.text


# --- refusals in Chinese, exports without ancestors ------------------------------------------


def test_an_ewkt_row_with_an_unknown_srid_is_refused_in_chinese(admin: TestClient) -> None:
    (first,) = [f for f in grid_features() if f.index == 0]
    rows = (
        "grid_code,wkt\n" + f'{first.properties["grid_code"]},"SRID=999999;{first.geometry.wkt}"\n'
    )

    response = post(admin, "/admin/import/check", rows.encode(), "grids.csv")

    assert response.status_code == 422
    problems = response.text.split('data-testid="import-problems"', 1)[1]
    assert "SRID=999999 不是可读取的坐标系：" in problems
    assert "is not a coordinate system we can read" not in problems


def test_a_contradicting_ewkt_srid_is_refused_in_chinese(admin: TestClient) -> None:
    (first,) = [f for f in grid_features() if f.index == 0]
    rows = "grid_code,wkt\n" + f'{first.properties["grid_code"]},"SRID=4326;{first.geometry.wkt}"\n'

    response = post(admin, "/admin/import/check", rows.encode(), "grids.csv", crs="EPSG:4548")

    assert response.status_code == 422
    assert "该行 SRID=4326 表示 EPSG:4326，但所选坐标系（--crs）为 EPSG:4548" in response.text


def test_a_division_export_holds_the_users_scope_without_its_ancestors(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "supervisor")  # scope: subdistrict A, inside district 110101

    response = client.get("/admin/import/export", params={"kind": "divisions", "format": "csv"})

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["code"] for r in rows) == [SUB_A, COMM_A1, COMM_A2]
