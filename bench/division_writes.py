"""Cost of writing divisions through the service layer vs raw inserts of the same rows.

The service path validates codes and boundaries (inside-parent check), computes geodesic areas,
appends an audit row and commits once per division — what the admin UI, the API, importers and
the demo generator all use. The reference inserts the same rows (WKB + bbox) with one
executemany in a single transaction. Prints one JSON line.

    .venv/bin/python bench/division_writes.py [--n 400] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime

import shapely
import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from shapely.geometry import MultiPolygon, box

from gridcity.adapters.db import migrate
from gridcity.adapters.db.engine import Database, create_db_engine
from gridcity.adapters.db.tables import Division
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import divisions
from gridcity.services.deps import RequestInfo, ServiceDeps

ADMIN = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
SIDE = 0.002  # degrees: ~170 m × 220 m cells at Beijing's latitude


def _cells(n: int) -> list[tuple[str, shapely.Polygon]]:
    per_row = 20
    return [
        (
            f"110101001{i + 1:03d}",
            box(
                116.40 + (i % per_row) * SIDE,
                39.90 + (i // per_row) * SIDE,
                116.40 + (i % per_row + 1) * SIDE,
                39.90 + (i // per_row + 1) * SIDE,
            ),
        )
        for i in range(n)
    ]


def _fresh(url: str | None, name: str) -> Database:
    engine = create_db_engine(url or f"sqlite:///{tempfile.mkdtemp()}/{name}.db")
    if url:
        migrate.downgrade(engine, "base") if migrate.current_revision(engine) else None
    migrate.upgrade(engine)
    return Database(engine)


def _parents(deps: ServiceDeps, extent: shapely.Polygon) -> None:
    divisions.create_division(
        deps,
        ADMIN,
        code="110101",
        name="区",
        level=DivisionLevel.DISTRICT,
        boundary=extent.buffer(0.01),
        info=INFO,
    )
    divisions.create_division(
        deps,
        ADMIN,
        code="110101001",
        name="街道",
        level=DivisionLevel.SUBDISTRICT,
        boundary=extent,
        info=INFO,
    )


def run(n: int, url: str | None) -> dict[str, object]:
    cells = _cells(n)
    extent = shapely.union_all([g for _, g in cells]).envelope
    hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))

    db = _fresh(url, "service")
    deps = ServiceDeps(db=db, hasher=hasher)
    _parents(deps, extent)
    started = time.perf_counter()
    for code, geom in cells:
        divisions.create_division(
            deps,
            ADMIN,
            code=code,
            name=f"社区{code[-3:]}",
            level=DivisionLevel.COMMUNITY,
            boundary=geom,
            info=INFO,
        )
    service_s = time.perf_counter() - started
    db.engine.dispose()

    db = _fresh(url, "raw")
    deps = ServiceDeps(db=db, hasher=hasher)
    _parents(deps, extent)
    now = datetime.now(UTC)
    rows = [
        {
            "code": code,
            "level": "community",
            "name": f"社区{code[-3:]}",
            "parent_id": 2,
            "area_m2": 0.0,
            "is_active": True,
            "geom": MultiPolygon([geom]),
            "created_at": now,
            "updated_at": now,
            **dict(zip(("min_x", "min_y", "max_x", "max_y"), geom.bounds, strict=True)),
        }
        for code, geom in cells
    ]
    started = time.perf_counter()
    with db.transaction() as session:
        session.execute(sa.insert(Division), rows)
    raw_s = time.perf_counter() - started
    dialect = db.engine.dialect.name
    db.engine.dispose()
    return {
        "bench": "division_writes",
        "database": dialect,
        "divisions": n,
        "service_s": round(service_s, 3),
        "service_per_division_ms": round(service_s / n * 1000, 2),
        "raw_insert_s": round(raw_s, 4),
        "service_vs_raw": round(service_s / raw_s, 1),
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
