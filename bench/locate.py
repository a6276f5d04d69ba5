"""Point → grid location: our bucket-raster index against PostGIS, and one location over HTTP.

1. 1,000,000 random points against 20,000 irregular polygons (a jittered Voronoi tiling in
   lon/lat, ~10,000 m² each): ``PolygonLocator`` (build time, points/s, best of 3 runs; a sample
   checked against a brute-force covers-test). In the same run, when PostgreSQL + PostGIS is
   reachable, the same polygons and the first ``--pg-points`` points through
   ``SELECT count(*) FROM pts JOIN cells ON ST_Contains(cells.geom, pts.geom)`` with a GiST index
   (jit off, best of 2), in a scratch database created and dropped here. Ratio = ours / PostGIS.
2. ``GET /api/v1/locate`` over HTTP against ``gridcity serve`` (its own process, one worker)
   on the demo city (~3,600 unit grids), with a keep-alive client and a bearer token: p50/p99
   over ``--requests`` random points in the district's bounding box, against ``GET /healthz``
   (no identity) and ``GET /api/v1/auth/me`` (the same bearer-token check, no location) in the
   same run; plus one ``POST /api/v1/locate/batch`` of 100,000 points. On SQLite, and on
   PostgreSQL when reachable.

    .venv/bin/python bench/locate.py [--points 1000000] [--polygons 20000] [--pg-points 100000]
        [--requests 2000] [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import shapely
import sqlalchemy as sa
from scratch import pg_reachable, scratch_database
from shapely.geometry import box

from gridcity.adapters.db import migrate
from gridcity.adapters.spatial_index import PolygonLocator
from gridcity.bootstrap import bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import demo_city, divisions
from gridcity.services.deps import RequestInfo

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
PASSWORD = "Bench#Pass2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/postgres"
ORIGIN = (116.30, 39.80)
CELL_DEG = 0.0011  # ≈ 94 m × 122 m at 40°N: ~11,500 m² per cell


def jittered_voronoi(count: int, rng: np.random.Generator) -> np.ndarray:
    """About ``count`` irregular cells tiling a lon/lat rectangle (jittered-lattice Voronoi)."""
    # Lattice points moved by up to 40 % of the spacing; the cells are clipped to the rectangle.
    columns = max(1, round(np.sqrt(count * 2)))
    rows = max(1, count // columns)
    gx, gy = np.meshgrid(np.arange(columns) + 0.5, np.arange(rows) + 0.5, indexing="ij")
    jitter = rng.uniform(-0.4, 0.4, (2, gx.size))
    x0, y0 = ORIGIN
    seeds = np.column_stack(
        (x0 + (gx.ravel() + jitter[0]) * CELL_DEG, y0 + (gy.ravel() + jitter[1]) * CELL_DEG)
    )
    frame = box(x0, y0, x0 + columns * CELL_DEG, y0 + rows * CELL_DEG)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame)
    return shapely.intersection(shapely.get_parts(cells), frame)


def brute_force(polygons: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Lowest index of the polygons covering each point, -1 where none (the reference answer)."""
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(shapely.points(xy), predicate="intersects")
    answer = np.full(len(xy), len(polygons), dtype=np.int64)
    np.minimum.at(answer, point_idx, poly_idx)
    answer[answer == len(polygons)] = -1
    return answer


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Shortest wall time of ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


# --- 1. in-process index vs PostGIS ---------------------------------------------------------


def ours(polygons: np.ndarray, xy: np.ndarray) -> dict[str, Any]:
    """Build and query our locator; check a sample against the brute-force answer."""
    build_s, locator = best_of(1, lambda: PolygonLocator(polygons))
    locate_s, found = best_of(3, lambda: locator.locate(xy))
    sample = slice(0, 50_000)
    mismatches = int((found[sample] != brute_force(polygons, xy[sample])).sum())
    strtree_s, _ = best_of(
        1, lambda: shapely.STRtree(polygons).query(shapely.points(xy), predicate="within")
    )
    return {
        "ours_build_s": round(build_s, 3),
        "ours_locate_s": round(locate_s, 3),
        "ours_points_per_s": round(len(xy) / locate_s),
        "ours_located": int((found >= 0).sum()),
        "ours_sample_mismatches": mismatches,
        "plain_strtree_within_points_per_s": round(len(xy) / strtree_s),
    }


def postgis(url: str, polygons: np.ndarray, xy: np.ndarray) -> dict[str, Any]:
    """The same polygons and points through an ST_Contains join with a GiST index."""
    engine = sa.create_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            _load_postgis(cursor, polygons, xy)
            raw.commit()
            cursor.execute("SET jit = off")
            query = "SELECT count(*) FROM pts p JOIN cells c ON ST_Contains(c.geom, p.geom)"

            def run() -> int:
                """The join, once."""
                cursor.execute(query)
                return int(cursor.fetchone()[0])

            seconds, matched = best_of(2, run)
            cursor.execute("SELECT postgis_lib_version()")
            version = cursor.fetchone()[0]
        finally:
            raw.close()
    finally:
        engine.dispose()
    return {
        "postgis_version": version,
        "postgis_points": len(xy),
        "postgis_s": round(seconds, 3),
        "postgis_points_per_s": round(len(xy) / seconds),
        "postgis_matched": matched,
    }


def _load_postgis(cursor: Any, polygons: np.ndarray, xy: np.ndarray) -> None:
    """Tables ``cells`` (GiST) and ``pts`` loaded with COPY, analysed."""
    cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    cursor.execute("CREATE TABLE cells_in (id int, wkb text)")
    with cursor.copy("COPY cells_in (id, wkb) FROM STDIN") as copy:
        for i, wkb in enumerate(shapely.to_wkb(polygons, hex=True)):
            copy.write_row((i, wkb))
    cursor.execute(
        "CREATE TABLE cells AS SELECT id, ST_SetSRID(ST_GeomFromWKB(decode(wkb, 'hex')), 4490)"
        "::geometry(Polygon, 4490) AS geom FROM cells_in"
    )
    cursor.execute("CREATE INDEX cells_gix ON cells USING gist (geom)")
    cursor.execute("CREATE TABLE pts_in (id int, x float8, y float8)")
    with cursor.copy("COPY pts_in (id, x, y) FROM STDIN") as copy:
        for i, (x, y) in enumerate(xy.tolist()):
            copy.write_row((i, x, y))
    cursor.execute(
        "CREATE TABLE pts AS SELECT id, ST_SetSRID(ST_MakePoint(x, y), 4490)::geometry(Point, 4490)"
        " AS geom FROM pts_in"
    )
    cursor.execute("ANALYZE cells")
    cursor.execute("ANALYZE pts")


# --- 2. HTTP on the demo city, through a real server ----------------------------------------


def load_demo(url: str) -> tuple[float, float, float, float]:
    """Migrate a fresh database and load the demo city (with its unit grids) into it."""
    settings = Settings(env="test", database_url=url, run_jobs_in_process=False)  # type: ignore[arg-type]
    container = bootstrap(settings)
    migrate.upgrade(container.db.engine)
    demo_city.load_demo_city(container.deps, SYSTEM, info=INFO, inventory_scale=0)
    bounds = divisions.boundaries_geojson(container.deps, SYSTEM, level=DivisionLevel.DISTRICT)
    district = shapely.geometry.shape(bounds["features"][0]["geometry"])
    container.db.engine.dispose()
    return district.bounds


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
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gridcity", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def _latencies(client: httpx.Client, requests: list[dict[str, Any]]) -> list[float]:
    """Milliseconds of each GET, after 50 warm-up requests."""
    for request in requests[:50]:
        assert client.get(**request).status_code == 200
    samples = []
    for request in requests:
        started = time.perf_counter()
        response = client.get(**request)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return samples


def _pct(samples: list[float], q: float) -> float:
    return round(float(np.percentile(samples, q)), 3)


def http(url: str, requests: int, rng: np.random.Generator) -> dict[str, Any]:
    """p50/p99 of single locations over HTTP (keep-alive) and one 100,000-point batch."""
    started = time.perf_counter()
    x0, y0, x1, y1 = load_demo(url)
    load_s = time.perf_counter() - started
    with served(url) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.post(
            "/api/v1/auth/token",
            json={"username": "operator", "password": demo_city.DEMO_PASSWORD},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        points = np.column_stack((rng.uniform(x0, x1, requests), rng.uniform(y0, y1, requests)))
        inside = points.tolist()
        locate = [
            {"url": "/api/v1/locate", "params": {"lon": x, "lat": y}, "headers": headers}
            for x, y in inside
        ]
        health = _latencies(client, [{"url": "/healthz"}] * requests)
        me = _latencies(client, [{"url": "/api/v1/auth/me", "headers": headers}] * requests)
        single = _timed_locates(client, locate)
        many = np.column_stack((rng.uniform(x0, x1, 100_000), rng.uniform(y0, y1, 100_000)))
        batch_s, response = best_of(
            1,
            lambda: client.post(
                "/api/v1/locate/batch", json={"points": many.tolist()}, headers=headers
            ),
        )
        assert response.status_code == 200, response.text[:200]
        grid_count = client.get("/api/v1/grids", params={"per_page": 1}, headers=headers).json()[
            "total"
        ]
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    return {
        f"http_{dialect}_demo_unit_grids": grid_count,
        f"http_{dialect}_demo_load_s": round(load_s, 2),
        f"http_{dialect}_healthz_p50_ms": _pct(health, 50),
        f"http_{dialect}_healthz_p99_ms": _pct(health, 99),
        f"http_{dialect}_auth_me_p50_ms": _pct(me, 50),
        f"http_{dialect}_auth_me_p99_ms": _pct(me, 99),
        f"http_{dialect}_locate_p50_ms": _pct(single, 50),
        f"http_{dialect}_locate_p99_ms": _pct(single, 99),
        f"http_{dialect}_locate_mean_ms": round(statistics.fmean(single), 3),
        f"http_{dialect}_batch_100k_s": round(batch_s, 3),
    }


def _timed_locates(client: httpx.Client, requests: list[dict[str, Any]]) -> list[float]:
    """Like _latencies, but points in the district's bounding box may fall outside it (404)."""
    for request in requests[:50]:
        client.get(**request)
    samples = []
    for request in requests:
        started = time.perf_counter()
        response = client.get(**request)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 404), response.text
    return samples


# --- main -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of this benchmark, in one dict."""
    rng = np.random.default_rng(42)
    polygons = jittered_voronoi(args.polygons, rng)
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    xy = np.column_stack((rng.uniform(x0, x1, args.points), rng.uniform(y0, y1, args.points)))
    result: dict[str, Any] = {
        "bench": "locate",
        "polygons": len(polygons),
        "mean_vertices_per_polygon": round(float(shapely.get_num_coordinates(polygons).mean()), 1),
        "points": len(xy),
    }
    result.update(ours(polygons, xy))
    reachable = pg_reachable(args.database_url)
    if reachable:
        with scratch_database(args.database_url) as url:
            result.update(postgis(url, polygons, xy[: args.pg_points]))
        result["ratio_ours_vs_postgis"] = round(
            result["ours_points_per_s"] / result["postgis_points_per_s"], 1
        )
    else:
        result["postgis"] = f"unreachable: {sa.engine.make_url(args.database_url).host}"
    if args.requests:
        result.update(http(f"sqlite:///{tempfile.mkdtemp()}/bench.db", args.requests, rng))
        if reachable:
            with scratch_database(args.database_url) as url:
                result.update(http(url, args.requests, rng))
    return result


def main() -> None:
    """Parse the options, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--polygons", type=int, default=20_000)
    parser.add_argument("--pg-points", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2_000, help="0 skips the HTTP part")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_PG,
        help="PostgreSQL server with PostGIS; scratch databases are created and dropped on it",
    )
    print(json.dumps(run(parser.parse_args()), ensure_ascii=False))


if __name__ == "__main__":
    main()
