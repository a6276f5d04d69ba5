"""Start-up of ``gridcity serve`` with and without the component index warm-up (0011).

On a database that already holds an inventory — by default the one ``make run`` creates
(``var/gridcity.db``, the demo city) — ``--starts`` times each:

1. warm-up on: seconds from launching the process to ``/healthz`` answering and to the index
   being ready (``gridcity_component_index_ready`` on ``/metrics``), the build's own seconds (the
   gauge), then the first and second tile at zoom 12 over the inventory's centre;
2. warm-up off (``GRIDCITY_WARM_COMPONENT_INDEX=false``, the reference): the same two tiles, the
   first of which pays the build;
3. how long the process takes to exit after SIGTERM sent as soon as ``/healthz`` answers, with the
   warm-up on (``build_running_at_stop`` says whether the index was still being built then).

Medians in seconds or ms, one JSON line.

    .venv/bin/python bench/warm_start.py [--database-url sqlite:///var/gridcity.db] [--starts 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa

from gridcity.services.demo_city import DEMO_PASSWORD

READY = 'gridcity_component_index_ready{crs="wgs84"} 1.0'
BUILD = 'gridcity_component_index_build_seconds{crs="wgs84"} '


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _until(check: Any, what: str, limit: float = 180.0) -> float:
    """Poll ``check()`` until true; the monotonic time it became true."""
    deadline = time.monotonic() + limit
    while True:
        try:
            if check():
                return time.monotonic()
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def served(url: str, warm: bool) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes], float]]:
    """``gridcity serve`` on the database; yields a client for it, the process and its launch
    time."""
    port = _free_port()
    env = {
        **os.environ,
        "GRIDCITY_DATABASE_URL": url,
        "GRIDCITY_RUN_JOBS_IN_PROCESS": "false",
        "GRIDCITY_WARM_COMPONENT_INDEX": "true" if warm else "false",
        "GRIDCITY_LOG_LEVEL": "WARNING",
    }
    launched = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "gridcity", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            yield client, server, launched
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(30)


def _tiles(client: httpx.Client, tiles: list[str], password: str) -> list[float]:
    token = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": password}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    took = []
    for path in tiles:
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        took.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:200]
    return took


def main() -> None:
    """Run the starts and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///var/gridcity.db")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--password", default=DEMO_PASSWORD, help="of the account 'admin'")
    args = parser.parse_args()
    engine = sa.create_engine(args.database_url)
    try:
        with engine.connect() as conn:
            n, lon, lat = conn.execute(
                sa.text("SELECT count(*), avg(x), avg(y) FROM component")
            ).one()
    except sa.exc.SQLAlchemyError as exc:
        sys.exit(
            f"{args.database_url}: no inventory to read ({str(exc).splitlines()[0]}); "
            "run `make run` (or gridcity init && gridcity demo) first"
        )
    finally:
        engine.dispose()
    if not n:
        sys.exit(f"{args.database_url}: the inventory is empty; load the demo city first")
    x, y = _tile(float(lon), float(lat), 12)
    tiles = [f"/api/v1/components/tiles/12/{x}/{y}", f"/api/v1/components/tiles/12/{x}/{y + 1}"]
    runs: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        runs.setdefault(key, []).append(value)

    for _ in range(args.starts):
        with served(args.database_url, warm=True) as (client, _server, launched):
            up = _until(lambda: client.get("/healthz").status_code == 200, "/healthz")
            ready = _until(lambda: READY in client.get("/metrics").text, "the index")
            text = client.get("/metrics").text
            build = next(
                float(line[len(BUILD) :]) for line in text.splitlines() if line.startswith(BUILD)
            )
            first, second = _tiles(client, tiles, args.password)
        note("warm_healthz_after_launch_s", up - launched)
        note("warm_index_ready_after_launch_s", ready - launched)
        note("warm_build_s", build)
        note("warm_first_tile_ms", first * 1000)
        note("warm_second_tile_ms", second * 1000)
        with served(args.database_url, warm=False) as (client, _server, launched):
            up = _until(lambda: client.get("/healthz").status_code == 200, "/healthz")
            first, second = _tiles(client, tiles, args.password)
        note("cold_healthz_after_launch_s", up - launched)
        note("cold_first_tile_with_build_ms", first * 1000)
        note("cold_second_tile_ms", second * 1000)
        with served(args.database_url, warm=True) as (client, server, _launched):
            _until(lambda: client.get("/healthz").status_code == 200, "/healthz")
            running = READY not in client.get("/metrics").text
            stopping = time.monotonic()
            server.terminate()
            server.wait(60)
            note("exit_after_sigterm_s", time.monotonic() - stopping)
        note("build_running_at_stop", float(running))
    result: dict[str, Any] = {
        "bench": "warm_start",
        "database": sa.engine.make_url(args.database_url).get_backend_name(),
        "components": int(n),
        "starts": args.starts,
    }
    for key, values in runs.items():
        digits = 1 if key.endswith("_ms") else 3
        if key == "build_running_at_stop":
            result[key] = int(sum(values))
        else:
            result[key] = round(statistics.median(values), digits)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
