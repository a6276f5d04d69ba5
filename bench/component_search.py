"""The component registry's reads on 1,000,000 components: list pages with each filter and
search, one component and its history, for an administrator and for scoped staff.

The demo city (its ~3,600 unit grids, departments) is loaded, then ``--rows`` components are
added through ``component_writes.add_components`` (the one write path) at random points inside
the managed area: 20 classes, 5 % with a name of their own ("<n>号<class name>"), 2 % damaged,
30 % with a maintainer. Each query runs ``--runs`` times; the figure is the median in ms. The
same run times two references: a bare ``SELECT count(*) FROM component`` and a bare first page
``ORDER BY identifier LIMIT 20``, so ratios survive a busy machine. On SQLite, and on PostgreSQL
(a scratch database created and dropped here) when reachable.

    .venv/bin/python bench/component_search.py [--rows 1000000] [--runs 5]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from scratch import scratch_database

from gridcity.adapters.db import migrate
from gridcity.adapters.db.tables import Component, Department
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.services import catalog, demo_city
from gridcity.services.component_lists import list_components
from gridcity.services.component_queries import component_history, get_component
from gridcity.services.component_writes import ImportSource, NewComponents, add_components
from gridcity.services.deps import RequestInfo
from gridcity.services.locate import locate_points

SYSTEM = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1/postgres"
CLASSES = ("01001", "01002", "01003", "01004", "01005", "01007", "01011", "01013", "01027",
           "01030", "01037", "01042", "02012", "02014", "02017", "03001", "03005", "04002",
           "04006", "04007")  # fmt: skip
CHUNK = 200_000


def _located_points(container: Container, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random points inside the managed area (drawn in its box, kept where located)."""
    x0, y0, x1, y1 = demo_bounds(container)
    kept: list[np.ndarray] = []
    total = 0
    while total < n:
        xy = np.column_stack((rng.uniform(x0, x1, 100_000), rng.uniform(y0, y1, 100_000)))
        inside = xy[locate_points(container.deps, SYSTEM, xy).located]
        kept.append(inside)
        total += len(inside)
    return np.concatenate(kept)[:n]


def demo_bounds(container: Container) -> tuple[float, float, float, float]:
    """The bounding box of the demo district."""
    from gridcity.adapters.db.tables import Division

    with container.db.read() as session:
        geom = session.scalar(sa.select(Division.geom).where(Division.level == "district"))
    assert geom is not None
    x0, y0, x1, y1 = geom.bounds
    return float(x0), float(y0), float(x1), float(y1)


def fill(container: Container, rows: int, rng: np.random.Generator) -> dict[str, Any]:
    """The demo city, the catalog and ``rows`` components; returns what the load took."""
    started = time.perf_counter()
    demo_city.load_demo_city(container.deps, SYSTEM, info=INFO, inventory_scale=0)
    catalog.load_standard_catalog(container.deps, SYSTEM, info=INFO)
    with container.db.read() as session:
        depts = [
            str(n) for n in session.scalars(sa.select(Department.name).order_by(Department.id))
        ]
    city_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        xy = _located_points(container, n, rng)
        classes = rng.choice(CLASSES, n)
        own_name = rng.random(n) < 0.05
        names = [f"{i % 97}号" if own else "" for i, own in enumerate(own_name)]
        batch = NewComponents(
            rows=list(range(1, n + 1)),
            class_code=classes.tolist(),
            geometry=shapely.points(xy),
            name=[
                f"{p}{c}" if p else ""
                for p, c in zip(names, _class_names(container, classes), strict=True)
            ],
            competent=rng.choice(depts, n).tolist(),
            maintainer=[
                d if r < 0.3 else ""
                for d, r in zip(rng.choice(depts, n), rng.random(n), strict=True)
            ],
            state=np.where(rng.random(n) < 0.02, "damaged", "intact").tolist(),
            census_date=["2026-03-01"] * n,
        )
        add_components(
            container.deps,
            SYSTEM,
            batch,
            source=ImportSource(f"bench-{start}.csv", "csv"),
            info=INFO,
            duplicate_distance_m=0,
        )
    return {"city_s": round(city_s, 1), "components_s": round(time.perf_counter() - started, 1)}


_NAMES: dict[str, str] = {}


def _class_names(container: Container, codes: np.ndarray) -> list[str]:
    if not _NAMES:
        for view in catalog.list_classes(container.deps, SYSTEM, kind="component", level="minor"):
            _NAMES[view.code] = view.name_zh
    return [_NAMES[str(c)] for c in codes]


def timed(runs: int, work: Callable[[], Any]) -> float:
    """Median wall time of ``runs`` calls, in ms (one warm-up call first)."""
    work()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1000, 1)


def measure(container: Container, runs: int) -> dict[str, Any]:
    """Every query's median time."""
    deps = container.deps
    with container.db.read() as session:
        sample = session.execute(
            sa.select(
                Component.identifier,
                Component.grid_code,
                Component.community_code,
                Component.competent_department_id,
            )
            .where(Component.grid_code.is_not(None))
            .order_by(Component.id)
            .limit(1)
            .offset(12_345)
        ).one()
        total = session.scalar(sa.select(sa.func.count()).select_from(Component))
    subdistrict = sample.community_code[:9]
    supervisor = Actor(
        1, "sv", frozenset({Role.SUPERVISOR}), Scope(divisions=frozenset({subdistrict}))
    )
    handler = Actor(
        2,
        "h",
        frozenset({Role.HANDLER}),
        Scope(departments=frozenset({sample.competent_department_id})),
    )

    def raw(sql: str) -> Callable[[], Any]:
        def run() -> Any:
            with container.db.read() as session:
                return session.execute(sa.text(sql)).all()

        return run

    def page(actor: Actor = SYSTEM, **kw: Any) -> Callable[[], Any]:
        return lambda: list_components(deps, actor, **kw)

    queries: dict[str, Callable[[], Any]] = {
        "ref_count_all": raw("SELECT count(*) FROM component"),
        "ref_first_page": raw(
            "SELECT identifier, name FROM component ORDER BY identifier LIMIT 20"
        ),
        "list_all": page(),
        "list_page_500": page(page=500),
        "q_identifier_prefix": page(q=sample.identifier[:13]),
        "q_class_initials_gsjg": page(q="gsjg"),
        "q_class_name_jinggai": page(q="井盖"),
        "q_own_name_3hao": page(q="3号"),
        "q_rare_text": page(q="没有这个名字"),
        "class_code": page(class_code="03005"),
        "state_damaged": page(state="damaged"),
        "subdistrict": page(community_code=subdistrict),
        "community": page(community_code=sample.community_code),
        "grid": page(grid_code=sample.grid_code),
        "department_any_role": page(department_id=sample.competent_department_id),
        "supervisor_scope": page(supervisor),
        "supervisor_q_gsjg": page(supervisor, q="gsjg"),
        "handler_scope": page(handler),
        "get_component": lambda: get_component(deps, SYSTEM, sample.identifier),
        "history": lambda: component_history(deps, SYSTEM, sample.identifier),
    }
    out: dict[str, Any] = {"rows": total}
    for name, work in queries.items():
        out[f"{name}_ms"] = timed(runs, work)
    return out


def one_backend(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fill a fresh database and measure it."""
    settings = Settings(env="test", database_url=url, run_jobs_in_process=False)  # type: ignore[arg-type]
    container = bootstrap(settings)
    migrate.upgrade(container.db.engine)
    try:
        loaded = fill(container, args.rows, np.random.default_rng(7))
        if container.db.engine.dialect.name == "postgresql":
            with container.db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        return {**loaded, **measure(container, args.runs)}
    finally:
        container.db.engine.dispose()


def main() -> None:
    """Parse the options, run, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"bench": "component_search"}
    result["sqlite"] = one_backend(f"sqlite:///{tempfile.mkdtemp()}/bench.db", args)
    if not args.skip_postgres:
        with scratch_database(args.database_url) as url:
            result["postgres"] = one_backend(url, args)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
