"""Census files at city scale: reading a census CSV, importing it (read + add_components),
exporting the inventory to each format, with the peak memory of each export, and reading the
exported GeoJSON, Excel and Shapefile back as census files, each beside a reference in the same
run (orjson.loads of the same GeoJSON file; openpyxl read-only over the first
``--reference-rows`` rows of the same workbook, as the census read Excel before).

The demo city (its divisions, unit grids and departments) and the standard catalog are loaded
into a fresh database, then a CSV of ``--n`` random points inside the city (GB/T 47678.5
abbreviations, three classes, two departments) is written, read, and imported; each export
then runs in a process of its own, so its peak RSS is its own (a streamed export stays flat
however many rows it writes), and so does each read-back and reference. Prints one JSON line.

    .venv/bin/python bench/census.py [--n 1000000] [--formats csv,geojson,shapefile,xlsx]
        [--reads geojson,xlsx,shapefile] [--reference-rows 200000] [--database-url URL]
    .venv/bin/python bench/census.py --read FILE   # only: read a census file (rows/s, peak)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from gridcity.adapters.component_columns import Abbreviations
from gridcity.adapters.component_export import ExportFormat
from gridcity.adapters.component_files import ReadOptions, read_components
from gridcity.adapters.db import migrate
from gridcity.adapters.db.tables import Department, Division
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import Settings
from gridcity.domain.access import Actor, Role, Scope
from gridcity.services import catalog, census, demo_city
from gridcity.services.deps import RequestInfo

ADMIN = Actor(
    user_id=None, username="bench", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
)
INFO = RequestInfo(ip="bench")
CLASSES = ("供水井盖", "路灯", "垃圾箱")


def _container(url: str) -> Container:
    settings = Settings(
        env="test", database_url=url, run_jobs_in_process=False, log_level="WARNING"
    )  # type: ignore[arg-type]
    return bootstrap(settings)


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    process that started this one)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _census_csv(container: Container, path: Path, n: int, seed: int) -> None:
    """``n`` rows at random points inside the city's districts."""
    import sqlalchemy as sa

    with container.db.read() as session:
        districts = session.scalars(
            sa.select(Division.geom).where(Division.level == "district")
        ).all()
        names = session.scalars(sa.select(Department.name).order_by(Department.id).limit(2)).all()
    area = shapely.union_all([g for g in districts if g is not None])
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = area.bounds
    points: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        inside = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        points.append(inside)
        have += len(inside)
    xy = np.concatenate(points)[:n]
    classes = rng.integers(0, len(CLASSES), n)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("GLBJMC,ZGBMMC,GLBJZT,CSRQ,PointX,PointY,BZ\n")
        for i in range(n):
            fh.write(
                f"{CLASSES[classes[i]]},{names[i % len(names)]},完好,20260115,"
                f"{xy[i, 0]:.7f},{xy[i, 1]:.7f},\n"
            )


def _export_child(url: str, fmt: str, target: str) -> None:
    """One export in this process; prints its seconds and peak memory."""
    container = _container(url)
    started = time.perf_counter()
    rows = census.export_components(
        container.deps,
        ADMIN,
        Path(target),
        format=ExportFormat(fmt),
        abbreviations=Abbreviations.GBT47678,
    )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_mb": _peak_mb(),
                "bytes": Path(target).stat().st_size,
            }
        )
    )


def _read_child(target: str) -> None:
    """One census read in this process; prints its rows, seconds and peak memory."""
    started = time.perf_counter()
    found = read_components(Path(target), ReadOptions(class_digits=5))
    seconds = time.perf_counter() - started
    rows = len(found.rows)
    problems = found.problem_total
    del found
    print(
        json.dumps({"rows": rows, "problems": problems, "seconds": seconds, "peak_mb": _peak_mb()})
    )


def _reference_child(target: str, limit: int) -> None:
    """The reference for one format: orjson.loads of a whole GeoJSON file (bytes to objects,
    no geometry), or openpyxl's read-only rows of a workbook (at most ``limit``)."""
    started = time.perf_counter()
    if target.endswith(".geojson"):
        import orjson

        data = orjson.loads(Path(target).read_bytes())
        rows = len(data["features"])
    else:
        import openpyxl

        book = openpyxl.load_workbook(target, read_only=True, data_only=True)
        rows = -1  # the header
        for _ in book.worksheets[0].iter_rows(values_only=True):
            rows += 1
            if rows >= limit:
                break
        book.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": _peak_mb()}))


def _child(*args: str) -> dict[str, float]:
    """Run this script with ``args`` in a process of its own; its last JSON line."""
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,geojson,shapefile,xlsx")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reads", default="geojson,xlsx,shapefile")
    parser.add_argument("--reference-rows", type=int, default=200_000)
    parser.add_argument("--export-child", nargs=3, metavar=("URL", "FORMAT", "TARGET"))
    parser.add_argument("--read-child", metavar="FILE")
    parser.add_argument("--reference-child", nargs=2, metavar=("FILE", "LIMIT"))
    parser.add_argument("--read", metavar="FILE", help="only time reading this census file")
    args = parser.parse_args()
    if args.export_child:
        _export_child(*args.export_child)
        return
    if args.read_child:
        _read_child(args.read_child)
        return
    if args.reference_child:
        _reference_child(args.reference_child[0], int(args.reference_child[1]))
        return
    if args.read:
        started = time.perf_counter()
        found = read_components(Path(args.read), ReadOptions(class_digits=5))
        seconds = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "bench": "census-read",
                    "file": Path(args.read).name,
                    "rows": len(found.rows),
                    "problems": found.problem_total,
                    "rows_per_s": round(len(found.rows) / seconds),
                    "peak_mb": _peak_mb(),
                }
            )
        )
        return
    folder = Path(tempfile.mkdtemp(prefix="gridcity-bench-census-"))
    url = args.database_url or f"sqlite:///{folder}/census.db"
    container = _container(url)
    migrate.upgrade(container.db.engine)
    demo_city.load_demo_city(container.deps, ADMIN, seed=2004, info=INFO, inventory_scale=0)
    catalog.load_standard_catalog(container.deps, ADMIN, info=INFO)
    source = folder / "census.csv"
    _census_csv(container, source, args.n, args.seed)

    started = time.perf_counter()
    read = read_components(source, ReadOptions(class_digits=5))
    read_s = time.perf_counter() - started
    assert len(read.rows) == args.n and not read.problems
    del read

    started = time.perf_counter()
    result = census.import_census(
        container.deps,
        ADMIN,
        source,
        options=census.CensusOptions(duplicate_distance_m=0),
        info=INFO,
    )
    import_s = time.perf_counter() - started
    assert result.added.added == args.n

    exports: dict[str, dict[str, float]] = {}
    for fmt in args.formats.split(","):
        target = folder / f"export{ExportFormat(fmt).suffix}"
        done = subprocess.run(
            [sys.executable, __file__, "--export-child", url, fmt, str(target)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert figures["rows"] == args.n
        exports[fmt] = {
            "seconds": round(figures["seconds"], 2),
            "rows_per_s": round(args.n / figures["seconds"]),
            "peak_mb": figures["peak_mb"],
            "mb": round(figures["bytes"] / 2**20, 1),
        }
    reads: dict[str, dict[str, float]] = {}
    for fmt in args.reads.split(",") if args.reads else []:
        target = folder / f"export{ExportFormat(fmt).suffix}"
        if not target.exists():
            continue
        figures = _child("--read-child", str(target))
        assert figures["rows"] == args.n and not figures["problems"], figures
        reads[fmt] = {
            "seconds": round(figures["seconds"], 1),
            "rows_per_s": round(args.n / figures["seconds"]),
            "peak_mb": figures["peak_mb"],
        }
        if fmt in ("geojson", "xlsx"):
            ref = _child("--reference-child", str(target), str(args.reference_rows))
            name = "orjson_loads" if fmt == "geojson" else "openpyxl_read_only"
            reads[fmt][f"reference_{name}_rows"] = ref["rows"]
            reads[fmt][f"reference_{name}_rows_per_s"] = round(ref["rows"] / ref["seconds"])
            reads[fmt][f"reference_{name}_peak_mb"] = ref["peak_mb"]
            reads[fmt]["ratio"] = round(
                reads[fmt]["rows_per_s"] / (ref["rows"] / ref["seconds"]), 2
            )
    print(
        json.dumps(
            {
                "bench": "census",
                "database": url.split(":", 1)[0],
                "rows": args.n,
                "csv_mb": round(source.stat().st_size / 2**20, 1),
                "read_csv_rows_per_s": round(args.n / read_s),
                "import_rows_per_s": round(args.n / import_s),
                "import_seconds": round(import_s, 1),
                "import_peak_mb": _peak_mb(),
                "export": exports,
                "read_back": reads,
            }
        )
    )


if __name__ == "__main__":
    main()
