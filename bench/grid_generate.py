"""Generating the unit grids of a 42 km² district (issue 3: < 10 s), vs a naive loop.

The district is the demo city (seed 2004: Dongcheng-sized, 41.84 km², ~204 communities),
projected to its CGCS2000 Gauss-Krüger zone. Ours is ``domain.gridgen.generate_all`` (lattice
lines noded and polygonized with each community in one GEOS call, slivers merged on arrays).
The reference does the same job the obvious way: for each lattice square,
``square.intersection(community)`` one by one, then each sliver joins the cell it shares the
longest boundary with (found by looping over the community's cells), then numbering. A second
figure times ours with a synthetic street network (``--lines``); a third runs both on the 17
subdistricts taken as single areas (~2.5 km², ~250 cells each), where the naive sliver loop
(each sliver against every cell) starts to show. Prints one JSON line.

    .venv/bin/python bench/grid_generate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.crs import gk_zone_epsg, transform
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.gridgen import MIN_SHARE, generate_all, reading_order
from gridcity.services.demo_city import plan_city

TARGET = 10_000.0
LIMIT_S = 10.0


def district(seed: int, level: DivisionLevel) -> list[tuple[str, BaseGeometry]]:
    """The demo city's communities (or subdistricts, coded as if they were communities) in
    metres, in the Gauss-Krüger zone of the district."""
    plan = plan_city(seed)
    zone = gk_zone_epsg(plan.divisions[0].boundary.centroid.x)
    return [
        (
            d.code if level is DivisionLevel.COMMUNITY else d.code + "001",
            transform(d.boundary, 4490, zone),
        )
        for d in plan.divisions
        if d.level is level
    ]


def streets(communities: list[tuple[str, BaseGeometry]], spacing: float = 400.0) -> MultiLineString:
    """A slightly irregular street grid over the district, every ``spacing`` metres."""
    rng = np.random.default_rng(7)
    min_x, min_y, max_x, max_y = shapely.total_bounds([g for _, g in communities])
    lines = [
        LineString([(x + rng.normal(0, 30), min_y - 10), (x + rng.normal(0, 30), max_y + 10)])
        for x in np.arange(min_x + spacing / 2, max_x, spacing)
    ] + [
        LineString([(min_x - 10, y + rng.normal(0, 30)), (max_x + 10, y + rng.normal(0, 30))])
        for y in np.arange(min_y + spacing / 2, max_y, spacing)
    ]
    return MultiLineString(lines)


# --- the reference: one square at a time -----------------------------------------------------


def naive_grids(code: str, area: BaseGeometry, target: float) -> list[tuple[str, Polygon]]:
    """The same division, written as per-square and per-sliver Python loops."""
    side = math.sqrt(target)
    min_x, min_y, max_x, max_y = area.bounds
    cells: list[BaseGeometry] = []
    for x in np.arange(min_x, max_x, side):
        for y in np.arange(min_y, max_y, side):
            piece = box(x, y, x + side, y + side).intersection(area)
            cells.extend(
                p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and p.area > 0
            )
    changed = True
    while changed:
        changed = False
        for i, cell in enumerate(cells):
            if cell.area >= MIN_SHARE * target:
                continue
            shared = [
                (cell.boundary.intersection(other.boundary).length, j)
                for j, other in enumerate(cells)
                if j != i
            ]
            length, j = max(shared, default=(0.0, -1))
            if length > 0:
                cells[j] = cells[j].union(cell)
                del cells[i]
                changed = True
                break
    order = reading_order(cells, row_height=side)
    return [(f"{code}{n:03d}", cells[i]) for n, i in enumerate(order, 1)]


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median seconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    """Time both generators on the same district and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2004)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    communities = district(args.seed, DivisionLevel.COMMUNITY)
    subdistricts = district(args.seed, DivisionLevel.SUBDISTRICT)
    roads = streets(communities)
    ours_s, ours = timed(lambda: generate_all(communities, target_area_m2=TARGET), args.repeat)
    lines_s, with_lines = timed(
        lambda: generate_all(communities, target_area_m2=TARGET, lines=roads), args.repeat
    )
    naive_s, naive = timed(
        lambda: [cell for code, area in communities for cell in naive_grids(code, area, TARGET)], 1
    )
    big_s, _ = timed(lambda: generate_all(subdistricts, target_area_m2=TARGET), args.repeat)
    big_naive_s, _ = timed(
        lambda: [c for code, area in subdistricts for c in naive_grids(code, area, TARGET)], 1
    )
    areas = np.array([c.area_m2 for c in ours])  # type: ignore[attr-defined]
    print(
        json.dumps(
            {
                "bench": "grid_generate",
                "district_km2": round(sum(a.area for _, a in communities) / 1e6, 2),
                "communities": len(communities),
                "target_m2": TARGET,
                "cells": len(ours),  # type: ignore[arg-type]
                "cell_area_min_max_share": [
                    round(float(areas.min()) / TARGET, 3),
                    round(float(areas.max()) / TARGET, 3),
                ],
                "ours_s": round(ours_s, 3),
                "cells_with_streets": len(with_lines),  # type: ignore[arg-type]
                "ours_with_streets_s": round(lines_s, 3),
                "naive_cells": len(naive),  # type: ignore[arg-type]
                "naive_s": round(naive_s, 3),
                "naive_vs_ours": round(naive_s / ours_s, 1),
                "subdistricts_as_areas": len(subdistricts),
                "ours_subdistricts_s": round(big_s, 3),
                "naive_subdistricts_s": round(big_naive_s, 3),
                "naive_vs_ours_subdistricts": round(big_naive_s / big_s, 1),
                "under_10_s": max(ours_s, lines_s) < LIMIT_S,
            }
        )
    )


if __name__ == "__main__":
    main()
