"""Census import speed: 1,000,000 components over the demo city through ``add_components``.

The demo city (divisions, ~3,600 unit grids, departments, the standard catalog; no inventory)
is loaded into a scratch database, and the rows come from the demo inventory generator
(``demo_components.plan_inventory``): the same district planned with several seeds — each a
different street network — until there are ``--rows`` components, all along streets, in
survey order. ``add_components`` runs end to end (checks, duplicates within 2 m, grid
assignment, identifiers, the write and the commit), timed in wall-clock and CPU seconds
(the machine is shared: CPU seconds drift less), with its stage times (check, locate — a part
of check — and write). In the same run, the reference: the very rows it wrote, read back, are
written into a bare table (no types, constraints or indexes) by a plain ``executemany``
(SQLite) or a COPY of their text (PostgreSQL), and the ratio ours / reference is reported.
SQLite always; PostgreSQL + PostGIS when reachable (a scratch database, dropped afterwards).

    .venv/bin/python bench/components.py [--rows 1000000] [--no-postgres]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from scratch import pg_reachable, scratch_database

from gridcity.adapters.db import migrate
from gridcity.bootstrap import bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.services import catalog, demo_city
from gridcity.services.component_writes import ImportSource, NewComponents, add_components
from gridcity.services.demo_components import plan_inventory
from gridcity.services.deps import RequestInfo

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/postgres"
TARGET_ROWS_PER_S = 50_000
COLUMNS = (
    "identifier, code_set, class_id, class_code, name, geom, x, y, grid_code, community_code, "
    "competent_department_id, owner_department_id, maintainer_department_id, state, "
    "census_date, changed_on, data_source, accuracy, position_text, photos, note, attributes, "
    "import_id, version, change_seq, created_at, created_by, updated_at"
)


def census_rows(rows: int, seed: int) -> NewComponents:
    """``rows`` components along the demo city's streets: the inventory planned with seeds
    seed, seed + 1, … (each a different street network), concatenated and renumbered."""
    district = demo_city.plan_city(2004).divisions[0].boundary
    today = datetime.now(UTC).date()
    parts: list[NewComponents] = []
    while sum(len(p) for p in parts) < rows:
        parts.append(plan_inventory(district, seed + len(parts), today).batch)
    merged: dict[str, Any] = {}
    for f in fields(NewComponents):
        values = [getattr(p, f.name) for p in parts]
        if values[0] is None:
            merged[f.name] = None
        elif f.name == "geometry":
            merged[f.name] = np.concatenate(values)[:rows]
        else:
            merged[f.name] = [v for part in values for v in part][:rows]
    merged["rows"] = list(range(1, rows + 1))
    return NewComponents(**merged)


def run_one(url: str, batch: NewComponents) -> dict[str, Any]:
    """The demo city without inventory, then the batch through add_components; the reference."""
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    container = bootstrap(Settings(env="test", database_url=url, run_jobs_in_process=False))  # type: ignore[arg-type]
    migrate.upgrade(container.db.engine)
    demo_city.load_demo_city(container.deps, SYSTEM, info=INFO, inventory_scale=0)

    catalog.load_standard_catalog(container.deps, SYSTEM, info=INFO)
    stages: dict[str, list[float]] = {}

    def progress(stage: str, _done: int, _total: int) -> None:
        """Note when each stage starts and last reports."""
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    started, cpu = time.perf_counter(), time.process_time()
    result = add_components(
        container.deps,
        SYSTEM,
        batch,
        source=ImportSource("bench.csv", "csv"),
        info=INFO,
        progress=progress,
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    n = len(batch)
    out: dict[str, Any] = {
        f"{dialect}_rows": result.added,
        f"{dialect}_s": round(wall, 2),
        f"{dialect}_cpu_s": round(cpu, 2),
        f"{dialect}_rows_per_s": round(n / wall),
        f"{dialect}_rows_per_cpu_s": round(n / cpu),
        f"{dialect}_check_s": round(stages["check"][1] - stages["check"][0], 2),
        f"{dialect}_locate_s": round(stages["locate"][1] - stages["locate"][0], 2),
        f"{dialect}_write_s": round(stages["write"][1] - stages["write"][0], 2),
        # between the stages: duplicates, identifiers drawn, the import record
        f"{dialect}_other_s": round(stages["write"][0] - stages["check"][1], 2),
        f"{dialect}_duplicates": len(result.duplicates),
        f"{dialect}_classes": len(result.by_class),
    }
    ref_s, ref_cpu = reference(container.db.engine, dialect)
    out[f"{dialect}_reference_s"] = round(ref_s, 2)
    out[f"{dialect}_reference_rows_per_s"] = round(n / ref_s)
    out[f"{dialect}_ratio_ours_vs_reference"] = round(ref_s / wall, 2)
    if dialect == "sqlite":  # in-process: CPU seconds compare; PostgreSQL works in the server
        out[f"{dialect}_cpu_ratio_ours_vs_reference"] = round(ref_cpu / cpu, 2)
    out[f"{dialect}_target_met"] = n / wall >= TARGET_ROWS_PER_S
    container.db.engine.dispose()
    return out


def reference(engine: sa.Engine, dialect: str) -> tuple[float, float]:
    """The rows just written, read back and written into a bare table: (wall s, CPU s)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if dialect == "sqlite":
            rows = cursor.execute(f"SELECT {COLUMNS} FROM component").fetchall()
            cursor.execute(f"CREATE TABLE bench_bare ({COLUMNS})")
            started, cpu = time.perf_counter(), time.process_time()
            cursor.executemany(
                f"INSERT INTO bench_bare VALUES ({', '.join('?' * len(COLUMNS.split(',')))})", rows
            )
            raw.commit()
            return time.perf_counter() - started, time.process_time() - cpu
        with tempfile.TemporaryFile() as buffer:
            with cursor.copy(f"COPY (SELECT {COLUMNS} FROM component) TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            cursor.execute(
                "CREATE TABLE bench_bare ("
                + ", ".join(f"{c.strip()} text" for c in COLUMNS.split(","))
                + ")"
            )
            raw.commit()
            buffer.seek(0)
            started, cpu = time.perf_counter(), time.process_time()
            with cursor.copy(f"COPY bench_bare ({COLUMNS}) FROM STDIN") as copy:
                while block := buffer.read(1 << 20):
                    copy.write(block)
            raw.commit()
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        raw.close()


def main() -> None:
    """Parse the options, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--database-url", default=DEFAULT_PG)
    args = parser.parse_args()
    started = time.perf_counter()
    batch = census_rows(args.rows, args.seed)
    result: dict[str, Any] = {
        "bench": "components",
        "rows": len(batch),
        "generate_s": round(time.perf_counter() - started, 2),
        "python": sys.version.split()[0],
        "sqlite": __import__("sqlite3").sqlite_version,
    }
    with tempfile.TemporaryDirectory() as folder:
        result.update(run_one(f"sqlite:///{Path(folder) / 'bench.db'}", batch))
    if args.no_postgres:
        result["postgresql"] = "skipped"
    elif pg_reachable(args.database_url):
        with scratch_database(args.database_url) as url:
            result.update(run_one(url, batch))
    else:
        result["postgresql"] = f"unreachable: {sa.engine.make_url(args.database_url).host}"
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
