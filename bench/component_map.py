"""Component map tiles at city scale: the in-process index (decision 0011) against PostGIS.

1. A scratch database — a SQLite file, and PostgreSQL + PostGIS when reachable — migrated to
   head, with the standard catalog and 12 departments (through the services), then
   ``--components`` components written straight into the table (executemany on SQLite, COPY on
   PostgreSQL: the bench seeds its own data; the product writes only through add_components).
   They lie along a jittered street network over ~12 × 12 km (Dongcheng's density, ~6,800 per
   km²), 70 % on streets, 30 % inside blocks, 40 classes with manhole covers the most common,
   1 % removed.
2. The index build (first request: every row read, encoded, sorted): seconds and bytes.
3. ``component_tile`` through the service at zoom 11, 12, 14, 16 and 18, ``--tiles`` tiles per
   zoom (the tiles of randomly drawn components, so busy tiles come up as often as users look at
   them): no filter, a class filter (two classes, ~14 % of components) and a user scoped to one
   subdistrict; p50/p95/max in ms, each including its counter query.
4. 100 edits (state changes written directly, each bumping the counter and stamping its row, as
   the edit service does), then the next request: the patch time against the full build.
5. The PostGIS reference in the same run: ST_AsMVT of the same tiles (``--pg-tiles`` per zoom),
   clustered with ST_SnapToGrid on the same 4 × 4 cells per tile below zoom 16, points from 16
   on, with and without the class filter: p50/p95 and the ratio PostGIS p95 / ours p95. On
   SQLite, the plain-SQL alternative (a bounding-box query on x/y, which have no index) for a
   few street tiles.
6. HTTP: ``--http`` requests at zoom 14 and 16 through the app (Starlette's TestClient, a
   bearer token, gzip) against the same tiles through the service.

    .venv/bin/python bench/component_map.py [--components 1000000] [--tiles 200]
        [--pg-tiles 40] [--http 200] [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
import numpy as np
import shapely
import sqlalchemy as sa
from scratch import pg_reachable, scratch_database

from gridcity.adapters.component_tiling import lonlat_of, tile_units
from gridcity.adapters.db import migrate
from gridcity.adapters.db.tables import CatalogClass
from gridcity.adapters.spatial_index import bump_version, read_versions
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.departments import DepartmentKind
from gridcity.services import catalog, component_map, departments, users
from gridcity.services.component_writes import COMPONENTS_STATE
from gridcity.services.deps import RequestInfo

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
PASSWORD = "Bench#Pass2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/postgres"
BOX = (116.33, 39.85, 116.47, 39.96)  # ~12 km × 12 km
ZOOMS = (11, 12, 14, 16, 18)
POINT_ZOOM = 16  # the PostGIS reference answers points from here on, clusters below
CELLS = 4
FILTER = ("01001", "01037")  # 供水井盖 and 路灯
STATE_SHARES = {
    "intact": 0.90,
    "damaged": 0.05,
    "lost": 0.02,
    "occupied": 0.01,
    "abandoned": 0.01,
    "removed": 0.01,
}


# --- data ----------------------------------------------------------------------------------


def street_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` lon/lat anchors: 70 % along a jittered street grid, 30 % inside its blocks."""
    x0, y0, x1, y1 = BOX
    streets = 120  # per direction: one every ~100 m
    on_street = int(n * 0.7)
    horizontal = rng.random(on_street) < 0.5
    which = rng.integers(0, streets, on_street)
    along = rng.random(on_street)
    offset = rng.normal(0, 0.00008, on_street)  # ~8 m from the centre line
    ys = y0 + (which + 0.5) / streets * (y1 - y0) + offset
    xs = x0 + (which + 0.5) / streets * (x1 - x0) + offset
    px = np.where(horizontal, x0 + along * (x1 - x0), xs)
    py = np.where(horizontal, ys, y0 + along * (y1 - y0))
    rest = n - on_street
    inner = np.column_stack((rng.uniform(x0, x1, rest), rng.uniform(y0, y1, rest)))
    xy = np.vstack((np.column_stack((px, py)), inner))
    xy[:, 0] = np.clip(xy[:, 0], x0, x1)
    xy[:, 1] = np.clip(xy[:, 1], y0, y1)
    return xy[rng.permutation(n)]


def community_codes(xy: np.ndarray) -> np.ndarray:
    """A synthetic division: 16 subdistricts in a 4 × 4 grid, each of 3 × 3 communities."""
    x0, y0, x1, y1 = BOX
    cx = np.clip(((xy[:, 0] - x0) / (x1 - x0) * 12).astype(int), 0, 11)
    cy = np.clip(((xy[:, 1] - y0) / (y1 - y0) * 12).astype(int), 0, 11)
    sub = (cy // 3) * 4 + cx // 3 + 1
    comm = (cy % 3) * 3 + cx % 3 + 1
    return np.array([f"110101{s:03d}{c:03d}" for s, c in zip(sub, comm, strict=True)])


def prepare(url: str) -> Container:
    """A migrated database with the catalog, 12 departments and an admin who can sign in."""
    settings = Settings(  # type: ignore[arg-type]
        env="test", database_url=url, run_jobs_in_process=False, log_level="WARNING"
    )
    container = bootstrap(settings)
    migrate.upgrade(container.db.engine)
    catalog.load_standard_catalog(container.deps, SYSTEM, info=INFO)
    for i in range(12):
        departments.create_department(
            container.deps,
            SYSTEM,
            departments.DepartmentInput(name=f"部门{i + 1:02d}", kind=DepartmentKind.GOVERNMENT),
            info=INFO,
        )
    users.create_user(
        container.deps,
        SYSTEM,
        username="bench-admin",
        password=PASSWORD,
        data=users.UserInput(display_name="Bench", roles=frozenset({Role.ADMIN})),
        info=INFO,
    )
    return container


def seed(container: Container, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """``n`` components written straight into the table; returns what was written."""
    with container.db.read() as session:
        classes = session.execute(
            sa.select(CatalogClass.id, CatalogClass.code, CatalogClass.name_zh)
            .where(
                CatalogClass.code_set == "gbt47678_5_2026",
                CatalogClass.kind == "component",
                CatalogClass.level == "minor",
            )
            .order_by(CatalogClass.code)
        ).all()
        dept_ids = [int(i) for (i,) in session.execute(sa.text("SELECT id FROM department"))]
    picked = [c for c in classes if c.code in FILTER] + [
        c for c in classes if c.code not in FILTER
    ][:38]
    weights = np.array([6.0, 4.0] + [1.0] * 38)
    weights /= weights.sum()
    cls = rng.choice(len(picked), n, p=weights)
    states = rng.choice(list(STATE_SHARES), n, p=list(STATE_SHARES.values()))
    xy = street_points(n, rng)
    communities = community_codes(xy)
    depts = np.array(dept_ids)[cls % len(dept_ids)]
    geoms = shapely.points(xy)
    now = datetime.now(UTC)
    postgres = container.db.engine.dialect.name == "postgresql"
    started = time.perf_counter()
    serial = np.zeros(len(picked), dtype=np.int64)
    rows = []
    wkb = (
        shapely.to_wkb(shapely.set_srid(geoms, 4490), hex=True, include_srid=True)
        if postgres
        else shapely.to_wkb(geoms)
    )
    for i in range(n):
        k = int(cls[i])
        serial[k] += 1
        c = picked[k]
        rows.append(
            (
                f"110101{c.code}{serial[k]:06d}",
                "gbt47678_5_2026",
                c.id,
                c.code,
                c.name_zh,
                wkb[i],
                float(xy[i, 0]),
                float(xy[i, 1]),
                str(communities[i]),
                int(depts[i]),
                str(states[i]),
                1,
            )
        )
    if postgres:
        _copy(container, rows, now)
    else:
        _executemany(container, rows, now)
    with container.db.transaction() as session:
        bump_version(session, COMPONENTS_STATE, now)
    return {
        "seed_s": round(time.perf_counter() - started, 1),
        "xy": xy,
        "classes": [c.code for c in picked],
    }


_COLUMNS = (
    "identifier, code_set, class_id, class_code, name, geom, x, y, community_code, "
    "competent_department_id, state, change_seq, census_date, data_source, accuracy, "
    "position_text, photos, note, attributes, version, created_at, updated_at"
)


def _executemany(container: Container, rows: list[tuple[Any, ...]], now: datetime) -> None:
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    day = date(2026, 6, 1).isoformat()
    raw = container.db.engine.raw_connection()
    try:
        conn: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        conn.execute("PRAGMA synchronous=OFF")
        sql = f"INSERT INTO component ({_COLUMNS}) VALUES ({', '.join('?' * 22)})"
        extra = (day, "实测", "", "", "[]", "", "{}", 1, stamp, stamp)
        for start in range(0, len(rows), 50_000):
            conn.executemany(sql, [r + extra for r in rows[start : start + 50_000]])
        conn.commit()
    finally:
        raw.close()


def _copy(container: Container, rows: list[tuple[Any, ...]], now: datetime) -> None:
    raw = container.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        extra = (date(2026, 6, 1), "实测", "", "", "[]", "", "{}", 1, now, now)
        with cursor.copy(f"COPY component ({_COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for r in rows:
                copy.write_row(r + extra)
        raw.commit()
        cursor.execute("ANALYZE component")
        raw.commit()
    finally:
        raw.close()


# --- measuring -----------------------------------------------------------------------------


def _ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(float(np.percentile(samples, 50)), 2),
        "p95": round(float(np.percentile(samples, 95)), 2),
        "max": round(float(np.max(samples)), 2),
    }


def _timed(calls: list[Callable[[], Any]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def sample_tiles(
    xy: np.ndarray, z: int, count: int, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """The tiles of ``count`` randomly drawn components."""
    pick = rng.integers(0, len(xy), count)
    tx, ty = tile_units(xy[pick, 0], xy[pick, 1], z)
    return list(
        zip(np.floor(tx).astype(int).tolist(), np.floor(ty).astype(int).tolist(), strict=True)
    )


def ours(container: Container, tiles: dict[int, list[tuple[int, int]]]) -> dict[str, Any]:
    """Index build, then tiles through the service: no filter, class filter, scoped user."""
    deps = container.deps
    deps.component_maps.clear()
    started = time.perf_counter()
    index = component_map.component_index(deps)
    build_s = time.perf_counter() - started
    scoped = Actor(
        user_id=1,
        username="supervisor",
        roles=frozenset({Role.SUPERVISOR}),
        scope=Scope(divisions=frozenset({"110101006"})),
    )
    result: dict[str, Any] = {
        "indexed": len(index),
        "build_s": round(build_s, 2),
        "index_mb": round(index.nbytes / 1e6, 1),
    }
    kinds: dict[str, int] = {}
    for z, chosen in tiles.items():
        for name, actor, filters in (
            ("all", SYSTEM, {}),
            ("class", SYSTEM, {"class_codes": FILTER}),
            ("scoped", scoped, {}),
        ):

            def call(
                x: int, y: int, actor: Actor = actor, filters: Any = filters, z: int = z
            ) -> Any:
                view = component_map.component_tile(deps, actor, z, x, y, **filters)
                kinds[f"z{z}_{view.kind}"] = kinds.get(f"z{z}_{view.kind}", 0) + 1
                return view

            samples = _timed([lambda x=x, y=y: call(x, y) for x, y in chosen])
            result[f"z{z}_{name}_ms"] = _ms(samples)
    result["answers"] = kinds
    where = index.where(states=[s for s in STATE_SHARES if s != "removed"])
    for z in (11, 16):
        only = [lambda x=x, y=y, z=z: index.tile(z, x, y, where) for x, y in tiles[z]]
        result[f"z{z}_all_index_only_ms"] = _ms(_timed(only))
    result["counter_query_ms"] = _ms(_timed([lambda: component_map.component_index(deps)] * 200))
    return result


def refresh(container: Container, edits: int, rng: np.random.Generator) -> dict[str, Any]:
    """``edits`` state changes, each in its own transaction as an edit does, then the patch."""
    deps = container.deps
    component_map.component_index(deps)  # up to date first
    with container.db.read() as session:
        top = int(session.scalar(sa.text("SELECT max(id) FROM component")) or 0)
    ids = rng.choice(np.arange(1, top + 1), edits, replace=False).tolist()
    for component_id in ids:
        now = datetime.now(UTC)
        with container.db.transaction() as session:
            bump_version(session, COMPONENTS_STATE, now)
            session.flush()
            seq = read_versions(session)[COMPONENTS_STATE]
            session.execute(
                sa.text(
                    "UPDATE component SET state = 'damaged', version = version + 1, "
                    "change_seq = :seq WHERE id = :id"
                ),
                {"seq": seq, "id": component_id},
            )
    started = time.perf_counter()
    index = component_map.component_index(deps)
    patch_s = time.perf_counter() - started
    started = time.perf_counter()
    component_map.component_index(deps)
    fresh_s = time.perf_counter() - started
    return {
        "refresh_after_edits": edits,
        "refresh_patch_ms": round(patch_s * 1000, 1),
        "refresh_unchanged_check_ms": round(fresh_s * 1000, 2),
        "refresh_seq": index.seq,
    }


# --- the PostGIS reference -------------------------------------------------------------------

# Clusters snapped in lon/lat (cells as wide and, at the tile's latitude, as high as the
# Mercator cells of ours), so that only the cluster centres are transformed, not every point.
CLUSTER_SQL = """
SELECT ST_AsMVT(t, 'components') FROM (
  SELECT count(*) AS n,
         ST_AsMVTGeom(ST_Transform(ST_Centroid(ST_Collect(c.geom)), 3857),
                      ST_TileEnvelope(%(z)s, %(x)s, %(y)s)) AS geom
  FROM component c
  WHERE c.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490)
    AND c.state <> 'removed' {filter}
  GROUP BY ST_SnapToGrid(c.geom, %(x0)s, %(y0)s, %(cell_lon)s, %(cell_lat)s)
) t
"""
POINT_SQL = """
SELECT ST_AsMVT(t, 'components') FROM (
  SELECT c.identifier, c.class_code, c.state,
         ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(c.x, c.y), 4490), 3857),
                      ST_TileEnvelope(%(z)s, %(x)s, %(y)s)) AS geom
  FROM component c
  WHERE c.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490)
    AND c.state <> 'removed' {filter}
) t
"""


def tile_params(z: int, x: int, y: int) -> dict[str, Any]:
    """The tile, its lon/lat bounds and the clustering cell in Web-Mercator metres."""
    lon, lat = lonlat_of(np.array([x, x + 1]), np.array([y + 1, y]), z)
    return {
        "z": z,
        "x": x,
        "y": y,
        "x0": float(lon[0]),
        "y0": float(lat[0]),
        "x1": float(lon[1]),
        "y1": float(lat[1]),
        "cell_lon": float(lon[1] - lon[0]) / CELLS,
        "cell_lat": float(lat[1] - lat[0]) / CELLS,
    }


def postgis(
    container: Container, tiles: dict[int, list[tuple[int, int]]], count: int
) -> dict[str, Any]:
    """ST_AsMVT of the same tiles, clustered below POINT_ZOOM; p50/p95 per zoom and filter."""
    raw = container.db.engine.raw_connection()
    result: dict[str, Any] = {}
    try:
        cursor = raw.cursor()
        cursor.execute("SET jit = off")
        for z, chosen in tiles.items():
            sql = POINT_SQL if z >= POINT_ZOOM else CLUSTER_SQL
            for name, where in (("all", ""), ("class", "AND c.class_code = ANY(%(classes)s)")):
                query = sql.format(filter=where)
                sizes: list[int] = []

                def run(
                    x: int, y: int, query: str = query, z: int = z, sizes: list[int] = sizes
                ) -> None:
                    cursor.execute(query, {**tile_params(z, x, y), "classes": list(FILTER)})
                    sizes.append(len(cursor.fetchone()[0] or b""))

                samples = _timed([lambda x=x, y=y: run(x, y) for x, y in chosen[:count]])
                result[f"postgis_z{z}_{name}_ms"] = _ms(samples)
                result[f"postgis_z{z}_{name}_mean_mvt_bytes"] = round(float(np.mean(sizes)))
        cursor.execute("SELECT postgis_lib_version()")
        result["postgis_version"] = cursor.fetchone()[0]
    finally:
        raw.close()
    return result


def sqlite_sql(container: Container, tiles: list[tuple[int, int]], z: int) -> dict[str, Any]:
    """The plain-SQL alternative on SQLite: a bounding-box query on x/y (no index there)."""
    samples = []
    with container.db.read() as session:
        for x, y in tiles:
            p = tile_params(z, x, y)
            started = time.perf_counter()
            session.execute(
                sa.text(
                    "SELECT identifier, x, y, class_code, state FROM component "
                    "WHERE x >= :x0 AND x < :x1 AND y >= :y0 AND y < :y1 AND state <> 'removed'"
                ),
                p,
            ).all()
            samples.append((time.perf_counter() - started) * 1000)
    return {f"sqlite_bbox_sql_z{z}_ms": _ms(samples)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(url: str) -> Iterator[str]:
    """``gridcity serve`` in its own process on the database; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "GRIDCITY_DATABASE_URL": url,
        "GRIDCITY_RUN_JOBS_IN_PROCESS": "false",
        "GRIDCITY_LOG_LEVEL": "WARNING",
        # the first-tile figure includes the index build: no warm-up at start-up
        "GRIDCITY_WARM_COMPONENT_INDEX": "false",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    server = subprocess.Popen(
        [sys.executable, "-m", "gridcity", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("gridcity serve did not start: " + log.read()[-2000:].decode())
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def http(url: str, tiles: dict[int, list[tuple[int, int]]], count: int) -> dict[str, Any]:
    """The same tiles over HTTP (a real server process, keep-alive, gzip, a bearer token)."""
    result: dict[str, Any] = {}
    with served(url) as base, httpx.Client(base_url=base, timeout=120) as client:
        token = client.post(
            "/api/v1/auth/token", json={"username": "bench-admin", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        x, y = tiles[14][0]
        assert client.get(f"/api/v1/components/tiles/14/{x}/{y}", headers=headers).is_success
        result["http_first_tile_with_index_build_s"] = round(time.perf_counter() - started, 2)
        me = [lambda: client.get("/api/v1/auth/me", headers=headers)] * count
        result["http_auth_me_ms"] = _ms(_timed(me))
        for z in (14, 16):
            chosen = tiles[z][:count]
            sizes: list[int] = []

            def get(x: int, y: int, z: int = z, sizes: list[int] = sizes) -> httpx.Response:
                response = client.get(f"/api/v1/components/tiles/{z}/{x}/{y}", headers=headers)
                assert response.status_code == 200, response.text[:200]
                sizes.append(int(response.headers.get("content-length", len(response.content))))
                return response

            result[f"http_z{z}_ms"] = _ms(_timed([lambda x=x, y=y: get(x, y) for x, y in chosen]))
            result[f"http_z{z}_mean_gzip_bytes"] = round(float(np.mean(sizes)))
            x, y = chosen[0]
            again = {**headers, "If-None-Match": get(x, y).headers["etag"]}
            path = f"/api/v1/components/tiles/{z}/{x}/{y}"
            revalidated = [lambda path=path, again=again: client.get(path, headers=again)] * 50
            result[f"http_z{z}_304_ms"] = _ms(_timed(revalidated))
    return result


# --- main ----------------------------------------------------------------------------------


def one_database(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure on one database."""
    rng = np.random.default_rng(2026)
    container = prepare(url)
    try:
        seeded = seed(container, args.components, rng)
        tiles = {z: sample_tiles(seeded["xy"], z, args.tiles, rng) for z in ZOOMS}
        dialect = container.db.engine.dialect.name
        out: dict[str, Any] = {"seed_s": seeded["seed_s"]}
        out.update(ours(container, tiles))
        out.update(refresh(container, 100, rng))
        if dialect == "postgresql":
            out.update(postgis(container, tiles, args.pg_tiles))
            for z in ZOOMS:
                for name in ("all", "class"):
                    theirs = out[f"postgis_z{z}_{name}_ms"]["p95"]
                    out[f"ratio_postgis_vs_ours_p95_z{z}_{name}"] = round(
                        theirs / max(out[f"z{z}_{name}_ms"]["p95"], 1e-3), 1
                    )
        else:
            out.update(sqlite_sql(container, tiles[16][:20], 16))
        if args.http:
            out.update(http(url, tiles, args.http))
            for z in (14, 16):
                out[f"http_overhead_p50_ms_z{z}"] = round(
                    out[f"http_z{z}_ms"]["p50"] - out[f"z{z}_all_ms"]["p50"], 2
                )
        return {f"{dialect}_{k}": v for k, v in out.items()}
    finally:
        container.db.engine.dispose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of this benchmark, in one dict."""
    result: dict[str, Any] = {
        "bench": "component_map",
        "components": args.components,
        "tiles_per_zoom": args.tiles,
        "cells_per_tile": f"{CELLS}x{CELLS}",
        "max_points": component_map.MAX_POINTS,
        "extent_km": "12 x 12",
    }
    folder = tempfile.mkdtemp()
    try:
        result.update(one_database(f"sqlite:///{folder}/bench.db", args))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if pg_reachable(args.database_url):
        with scratch_database(args.database_url) as url:
            result.update(one_database(url, args))
    else:
        result["postgresql"] = f"unreachable: {sa.engine.make_url(args.database_url).host}"
    return result


def main() -> None:
    """Parse the options, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=200, help="tiles per zoom (ours)")
    parser.add_argument("--pg-tiles", type=int, default=40, help="tiles per zoom (PostGIS)")
    parser.add_argument("--http", type=int, default=200, help="requests per zoom; 0 skips HTTP")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_PG,
        help="PostgreSQL server with PostGIS; a scratch database is created and dropped on it",
    )
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False))


if __name__ == "__main__":
    main()
