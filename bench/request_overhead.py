"""What authentication, scope checks and rendering cost per request, measured in-process.

Reference: ``GET /healthz`` (one trivial SELECT, no identity). Compared against it in the same run:
``GET /api/v1/auth/me`` with a bearer token (token lookup + user + scope), a paginated scoped
``GET /api/v1/divisions`` (count + page), and the HTML list page ``GET /admin/divisions`` with a
session cookie (session lookup + query + Jinja2). Uses the demo city on SQLite, or PostgreSQL
with ``--database-url``. Prints one JSON line; the ratios are what to compare across machines.

    .venv/bin/python bench/request_overhead.py [--n 400] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time

from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gridcity.adapters.db import migrate
from gridcity.bootstrap import bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.services import demo_city
from gridcity.services.deps import RequestInfo
from gridcity.web.app import create_app

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)


def _time(client: TestClient, path: str, n: int, **kwargs: object) -> float:
    """Median milliseconds of n requests (after 20 warm-up requests)."""
    for _ in range(20):
        assert client.get(path, **kwargs).status_code == 200  # type: ignore[arg-type]
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(path, **kwargs)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run(n: int, url: str | None) -> dict[str, object]:
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(
        env="test",
        database_url=url,
        run_jobs_in_process=False,  # type: ignore[arg-type]
        log_level="WARNING",
        warm_component_index=False,  # no background build competing with the requests timed
    )
    hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    container = bootstrap(settings, hasher=hasher)
    if migrate.current_revision(container.db.engine):
        migrate.downgrade(container.db.engine, "base")
    migrate.upgrade(container.db.engine)
    demo_city.load_demo_city(
        container.deps, SYSTEM, info=RequestInfo(ip="bench"), inventory_scale=0
    )
    with TestClient(create_app(container)) as client:
        token = client.post(
            "/api/v1/auth/token",
            json={"username": "supervisor", "password": demo_city.DEMO_PASSWORD},
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        health = _time(client, "/healthz", n)
        me = _time(client, "/api/v1/auth/me", n, headers=bearer)
        listing = _time(client, "/api/v1/divisions?per_page=20", n, headers=bearer)
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={"username": "admin", "password": demo_city.DEMO_PASSWORD, "csrf_token": csrf},
        )
        html = _time(client, "/admin/divisions", n)
    dialect = container.db.engine.dialect.name
    container.db.engine.dispose()
    return {
        "bench": "request_overhead",
        "database": dialect,
        "requests_each": n,
        "healthz_ms": round(health, 3),
        "api_me_ms": round(me, 3),
        "api_divisions_page_ms": round(listing, 3),
        "html_divisions_page_ms": round(html, 3),
        "me_vs_healthz": round(me / health, 2),
        "divisions_api_vs_healthz": round(listing / health, 2),
        "divisions_html_vs_healthz": round(html / health, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL scratch database (its gridcity tables are dropped)",
    )
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.database_url), ensure_ascii=False))


if __name__ == "__main__":
    main()
