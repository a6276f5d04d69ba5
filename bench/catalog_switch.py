"""Switching the active code set with components: the dry-run report and the re-coding switch.

A district with one community split into 100 unit grids, the standard catalog, and ``--n``
components (default 100,000) added through ``add_components`` in the 65 GB/T 47678.5-2026
component classes that map to CJ/T 214-2007 by name. Then, timed: the dry run 2026 → 2007 (the
per-class report), the switch 2026 → 2007 (17 → 16 digits: new class, identifier, version, one
history row each, counter, audit) and the switch back 2007 → 2026. On SQLite (a temporary file),
and on PostgreSQL when ``--database-url`` names a server (a scratch database, dropped after).
Prints one JSON line.

    .venv/bin/python bench/catalog_switch.py [--n 100000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from scratch import scratch_database
from shapely.geometry import box

from gridcity.adapters.db import migrate
from gridcity.bootstrap import bootstrap
from gridcity.catalog_data import seed_entries
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.catalog_mapping import derive_mapping
from gridcity.domain.departments import DepartmentKind
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import catalog, catalog_switch, departments, divisions, grids
from gridcity.services.component_writes import ImportSource, NewComponents, add_components
from gridcity.services.deps import RequestInfo

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
EXTENT = (116.40, 39.90, 116.42, 39.92)  # ~1.7 km × 2.2 km
SIDE = 10  # 10 × 10 unit grids


def _city(deps: Any) -> None:
    """District, subdistrict and community over EXTENT, 100 unit grids, one department."""
    x0, y0, x1, y1 = EXTENT
    for code, name, level in (
        ("110101", "东城区", DivisionLevel.DISTRICT),
        ("110101001", "东华门街道", DivisionLevel.SUBDISTRICT),
        ("110101001001", "多福巷社区", DivisionLevel.COMMUNITY),
    ):
        divisions.create_division(
            deps, SYSTEM, code=code, name=name, level=level, boundary=box(*EXTENT), info=INFO
        )
    dx, dy = (x1 - x0) / SIDE, (y1 - y0) / SIDE
    cells = [
        (None, box(x0 + i * dx, y0 + j * dy, x0 + (i + 1) * dx, y0 + (j + 1) * dy), {})
        for i in range(SIDE)
        for j in range(SIDE)
    ]
    grids.replace_community_grids(
        deps, SYSTEM, "110101001001", cells, valid_from=datetime(2026, 1, 1, tzinfo=UTC), info=INFO
    )
    departments.create_department(
        deps,
        SYSTEM,
        departments.DepartmentInput(name="区市政管理委员会", kind=DepartmentKind.GOVERNMENT),
        info=INFO,
    )


def _components(deps: Any, n: int) -> tuple[int, float]:
    """``n`` components in the 2026 classes that map to 2007 by name; (classes, seconds)."""
    rows, _ = derive_mapping(seed_entries("cjt214_2007"), seed_entries("gbt47678_5_2026"))
    codes = sorted(r.target.code for r in rows if r.target.kind == "component")
    rng = np.random.default_rng(2026)
    x0, y0, x1, y1 = EXTENT
    xy = np.column_stack(
        (rng.uniform(x0 + 1e-5, x1 - 1e-5, n), rng.uniform(y0 + 1e-5, y1 - 1e-5, n))
    )
    batch = NewComponents(
        rows=list(range(1, n + 1)),
        class_code=[codes[i % len(codes)] for i in range(n)],
        geometry=shapely.points(xy),
        competent=["区市政管理委员会"] * n,
    )
    started = time.perf_counter()
    add_components(
        deps, SYSTEM, batch, source=ImportSource("bench.csv", "csv"), info=INFO,
        duplicate_distance_m=0,
    )  # fmt: skip
    return len(codes), time.perf_counter() - started


def run(url: str, n: int) -> dict[str, Any]:
    """Set up, then time the dry run and both switches."""
    settings = Settings(env="test", database_url=url, run_jobs_in_process=False)  # type: ignore[arg-type]
    container = bootstrap(settings)
    migrate.upgrade(container.db.engine)
    deps = container.deps
    catalog.load_standard_catalog(deps, SYSTEM, info=INFO)
    _city(deps)
    classes, add_s = _components(deps, n)

    def timed(to_set: str, dry_run: bool) -> tuple[float, catalog_switch.SwitchResult]:
        started = time.perf_counter()
        result = catalog_switch.switch_code_set(deps, SYSTEM, to_set, dry_run=dry_run, info=INFO)
        return time.perf_counter() - started, result

    dry_s, dry = timed("cjt214_2007", True)
    there_s, there = timed("cjt214_2007", False)
    back_s, back = timed("gbt47678_5_2026", False)
    assert dry.report.components_moved == there.recoded == back.recoded == n
    with container.db.read() as session:
        digits = session.scalar(sa.text("SELECT min(length(identifier)) FROM component"))
        history = session.scalar(sa.text("SELECT count(*) FROM component_version"))
    assert digits == 17 and history == 2 * n
    dialect = container.db.engine.dialect.name
    container.db.engine.dispose()
    return {
        "database": dialect,
        "components": n,
        "classes": classes,
        "add_components_s": round(add_s, 2),
        "dry_run_s": round(dry_s, 3),
        "switch_2026_to_2007_s": round(there_s, 2),
        "switch_2007_to_2026_s": round(back_s, 2),
        "recoded_per_s": round(n / max(there_s, back_s)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (admin URL)")
    args = parser.parse_args()
    results = {"bench": "catalog_switch"}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = run(f"sqlite:///{folder}/bench.db", args.n)  # type: ignore[assignment]
    if args.database_url:
        with scratch_database(args.database_url) as url:
            results["postgresql"] = run(url, args.n)  # type: ignore[assignment]
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
