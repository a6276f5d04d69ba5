"""The demo city's component inventory (部件普查): the facilities a census finds along a
seeded street network (``demo_streets``), added through ``add_components`` like any census file.

Facilities follow the streets at the spacings a city survey shows: manhole covers of six
networks every few tens of metres, lamps on both sides of arterials, street trees every 7–8 m,
hydrants, bins, benches, shop signs, house-number plates and poles in the hutongs, public
toilets …; traffic lights, signs and street-name plates stand at crossings; green spaces and
car parks are polygons (with trees, benches and fitness equipment inside), guardrails and
green-space fences are lines. Spacings are scaled so that the district gets Dongcheng's density
(about 170,000 components per 25 km²); ``scale`` thins it for tests. A few percent are
damaged, lost, occupied or abandoned; census dates spread over five years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from numpy.random import Generator
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gridcity.adapters.crs import transform, transformer
from gridcity.domain.access import Actor
from gridcity.services import catalog
from gridcity.services.component_writes import (
    AddResult,
    ImportSource,
    NewComponents,
    add_components,
)
from gridcity.services.demo_streets import Streets, segments, street_network
from gridcity.services.deps import RequestInfo, ServiceDeps

PROJECTED_EPSG = 4548  # CGCS2000 / 3-degree Gauss-Kruger CM 117E, as the demo city
STORED_EPSG = 4490
DENSITY_PER_KM2 = 170_000 / 25.0  # Dongcheng: about 170,000 components over 25 km²
SOURCE = ImportSource("演示部件普查", "demo", reason="演示城市的部件普查数据（合成）")
CENSUS_YEARS = 5  # census dates spread over the last five years

# Departments (demo_data.DEPARTMENTS) by role.
CITY = "东城区城市管理委员会"
WATER = "北京市自来水集团东城分公司"
WATER_AUTHORITY = "东城区水务局"
POWER = "国网北京市电力公司东城供电公司"
GAS = "北京市燃气集团东城分公司"
TRAFFIC = "北京市公安局公安交通管理局东城交通支队"
GARDENS = "东城区园林绿化局"
SANITATION = "东城区环境卫生服务中心"
MUNICIPAL = "东城区市政设施养护管理中心"
MARKET = "东城区市场监督管理局"

# Class code → (competent department, maintainer or "").
DEPARTMENT_OF: dict[str, tuple[str, str]] = {
    "01001": (WATER, ""),
    "01002": (WATER_AUTHORITY, MUNICIPAL),
    "01003": (WATER_AUTHORITY, MUNICIPAL),
    "01004": (WATER_AUTHORITY, MUNICIPAL),
    "01005": (POWER, ""),
    "01006": (CITY, MUNICIPAL),
    "01007": (CITY, ""),
    "01010": (CITY, ""),
    "01011": (GAS, ""),
    "01013": (WATER, ""),
    "01015": (TRAFFIC, ""),
    "01027": (CITY, ""),
    "01028": (POWER, ""),
    "01030": (POWER, ""),
    "01031": (CITY, ""),
    "01037": (CITY, MUNICIPAL),
    "01040": (CITY, ""),
    "01044": (MARKET, ""),
    "01046": (GARDENS, ""),
    "01048": (POWER, ""),
    "01050": (TRAFFIC, ""),
    "01054": (POWER, ""),
    "01059": (CITY, SANITATION),
    "01060": (CITY, MUNICIPAL),
    "01075": (MARKET, ""),
    "02001": (TRAFFIC, ""),
    "02004": (CITY, ""),
    "02010": (TRAFFIC, ""),
    "02012": (CITY, MUNICIPAL),
    "02014": (TRAFFIC, ""),
    "02015": (TRAFFIC, ""),
    "02017": (TRAFFIC, MUNICIPAL),
    "02021": (CITY, MUNICIPAL),
    "02025": (CITY, ""),
    "02027": (CITY, ""),
    "02038": (CITY, ""),
    "03001": (CITY, SANITATION),
    "03002": (CITY, SANITATION),
    "03005": (CITY, SANITATION),
    "03006": (CITY, ""),
    "03007": (CITY, ""),
    "03008": (CITY, ""),
    "03014": (SANITATION, ""),
    "04001": (GARDENS, ""),
    "04002": (GARDENS, ""),
    "04003": (GARDENS, ""),
    "04005": (GARDENS, ""),
    "04007": (GARDENS, ""),
    "04008": (GARDENS, ""),
    "04009": (GARDENS, ""),
    "04011": (GARDENS, ""),
    "04013": (GARDENS, ""),
}


@dataclass(frozen=True)
class Along:
    """Facilities of one class along one kind of street: every ``spacing_m`` metres, at
    ``offset_m`` from the centre line (negative: the other side), on one side or both."""

    code: str
    kind: str  # arterial, secondary, hutong
    spacing_m: float
    offset_m: float
    both_sides: bool = False
    share: float = 1.0  # of the streets of that kind (shop signs only on shopping streets)


ALONG: tuple[Along, ...] = (
    # manhole covers (井盖): in the carriageway or the pavement, a few tens of metres apart
    Along("01002", "arterial", 45, 2.0),
    Along("01002", "secondary", 45, 1.0),
    Along("01002", "hutong", 35, 0.0),
    Along("01003", "arterial", 45, -2.5),
    Along("01003", "secondary", 50, -1.5),
    Along("01003", "hutong", 60, 0.5),
    Along("01004", "arterial", 32, 7.5, both_sides=True),
    Along("01004", "secondary", 40, 5.0, both_sides=True),
    Along("01001", "arterial", 70, 4.0),
    Along("01001", "secondary", 70, 2.5),
    Along("01001", "hutong", 60, -0.8),
    Along("01005", "arterial", 60, 6.0),
    Along("01005", "secondary", 80, 3.5),
    Along("01007", "arterial", 60, -6.0),
    Along("01007", "secondary", 80, -3.5),
    Along("01007", "hutong", 90, 1.2),
    Along("01011", "arterial", 90, -4.5),
    Along("01011", "secondary", 100, -2.5),
    Along("01011", "hutong", 70, -1.2),
    Along("01010", "arterial", 100, 3.0),
    Along("01006", "arterial", 33, 11.0, both_sides=True),
    # lamps, trees and street furniture
    Along("01037", "arterial", 33, 12.0, both_sides=True),
    Along("01037", "secondary", 35, 7.0),
    Along("01037", "hutong", 40, 3.0),
    Along("04002", "arterial", 7, 10.0, both_sides=True),
    Along("04002", "secondary", 8, 6.0, both_sides=True),
    Along("04011", "arterial", 14, 10.0, both_sides=True),
    Along("04005", "arterial", 90, 8.5, both_sides=True),
    Along("01013", "arterial", 120, 8.0),
    Along("01013", "secondary", 120, -5.5),
    Along("03005", "arterial", 60, 9.0, both_sides=True),
    Along("03005", "secondary", 80, 5.5),
    Along("03005", "hutong", 120, 2.5),
    Along("04007", "arterial", 150, 10.5, both_sides=True),
    Along("02004", "arterial", 450, 9.0, both_sides=True),
    Along("02010", "arterial", 180, 9.5, both_sides=True),
    Along("01028", "arterial", 220, 7.0),
    Along("01028", "secondary", 220, -6.0),
    Along("01048", "secondary", 400, 6.5),
    Along("01048", "hutong", 400, 3.0),
    Along("01027", "secondary", 250, 6.0),
    Along("01030", "hutong", 40, 2.2),
    Along("01031", "hutong", 45, -2.2),
    Along("03007", "arterial", 20, 14.0, both_sides=True, share=0.5),
    Along("03007", "secondary", 15, 8.5, share=0.4),
    Along("03006", "arterial", 200, 13.0),
    Along("02027", "secondary", 120, 6.0),
    Along("02025", "arterial", 250, 10.0, both_sides=True),
    Along("02021", "arterial", 40, 8.0, both_sides=True),
    Along("02021", "secondary", 60, 5.0),
    Along("01060", "arterial", 600, 11.5),
    Along("03001", "hutong", 220, 3.0),
    Along("03001", "secondary", 600, 6.5),
    Along("03002", "hutong", 220, -3.0),
    Along("01040", "arterial", 700, 9.5),
    Along("01044", "arterial", 900, -9.5),
    Along("03008", "secondary", 350, 6.5),
    Along("03008", "hutong", 350, 3.0),
    Along("01075", "hutong", 600, 3.0),
    Along("01059", "hutong", 700, -3.0),
    Along("01054", "secondary", 500, 6.5),
    Along("04001", "hutong", 500, 3.5),
    Along("02038", "hutong", 20, 3.5, both_sides=True),
    Along("03014", "hutong", 900, 3.0),
)
# At crossings: (class, how many, metres from the crossing).
SIGNALISED = (("02014", 4, 12.0), ("02015", 1, 14.0), ("01015", 1, 8.0), ("01050", 1, 15.0))
AT_CROSSINGS = (("02010", 2, 10.0), ("02012", 2, 11.0))
# Green spaces and car parks per km², their sides (m); what stands inside a green space.
AREAS = (("04013", 9.0, (25.0, 140.0)), ("02001", 3.0, (20.0, 70.0)))
IN_GREEN = (("04003", 8), ("04009", 2), ("04007", 2), ("01046", 1))
FENCED_GREEN = 0.3  # share of green spaces with a fence (绿地护栏, a line)
RAIL_EVERY_M = 400.0  # a 80–200 m guardrail (交通护栏, a line) on arterials
STATES = (("完好", 0.955), ("破损", 0.022), ("丢失", 0.006), ("占用", 0.012), ("废弃", 0.005))
ACCURACY = (("A", 0.6), ("B", 0.3), ("C", 0.1))


@dataclass(frozen=True)
class DemoInventory:
    """A planned inventory: the streets it follows and the batch for ``add_components``."""

    streets: Streets
    batch: NewComponents


def plan_inventory(
    district: MultiPolygon | Polygon, seed: int, today: date, scale: float = 1.0
) -> DemoInventory:
    """The inventory of a district (lon/lat) for a seed; ``scale`` 1 is Dongcheng's density."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale is in (0, 1], got {scale}")
    rng = np.random.default_rng(seed)
    outline = transform(district, STORED_EPSG, PROJECTED_EPSG)
    inner = outline.buffer(-1.5)  # nothing on the district's very edge
    shapely.prepare(inner)
    streets = street_network(outline, rng)
    target = DENSITY_PER_KM2 * outline.area / 1e6
    stretch = _planned_count(streets, outline.area) / target  # spacings × stretch hit the target
    xy, codes, texts = _along_streets(streets, rng, stretch / scale)
    for crossings, kinds in (
        (streets.signalised, SIGNALISED + AT_CROSSINGS),
        (streets.crossings, AT_CROSSINGS),
    ):
        more_xy, more_codes = _at_crossings(crossings, kinds, rng, scale)
        xy, codes = np.vstack((xy, more_xy)), np.concatenate((codes, more_codes))
        texts = np.concatenate((texts, np.full(len(more_codes), "路口", dtype=object)))
    xy = xy + rng.normal(0.0, 0.25, xy.shape)  # survey scatter
    inside = shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
    xy, codes, texts = xy[inside], codes[inside], texts[inside]
    shapes, shape_codes = _areas_and_lines(inner, streets, rng, scale)
    geoms = np.concatenate((shapely.points(_to_lonlat(xy)), _shapes_to_lonlat(shapes)))
    codes = np.concatenate((codes, shape_codes))
    texts = np.concatenate((texts, np.full(len(shapes), "", dtype=object)))
    return DemoInventory(streets, _batch(geoms, codes, texts, today, rng))


def _to_lonlat(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Projected metres to stored lon/lat."""
    lon, lat = transformer(PROJECTED_EPSG, STORED_EPSG).transform(xy[:, 0], xy[:, 1])
    return np.column_stack((lon, lat))


def _shapes_to_lonlat(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Projected lines and polygons to stored lon/lat."""
    moved: NDArray[np.object_] = shapely.transform(geoms, _to_lonlat)
    return moved


def _planned_count(streets: Streets, area_m2: float) -> float:
    """How many components the rules give at their nominal spacings (before any scaling)."""
    lengths = shapely.length(streets.lines)
    along = sum(
        lengths[streets.kinds == rule.kind].sum()
        * rule.share
        * (2 if rule.both_sides else 1)
        / rule.spacing_m
        for rule in ALONG
    )
    at_crossings = len(streets.signalised) * sum(n for _c, n, _d in SIGNALISED + AT_CROSSINGS)
    at_crossings += len(streets.crossings) * sum(n for _c, n, _d in AT_CROSSINGS)
    greens = AREAS[0][1] * area_m2 / 1e6
    in_areas = sum(per for _c, per, _s in AREAS) * area_m2 / 1e6
    in_areas += greens * (sum(n for _c, n in IN_GREEN) + FENCED_GREEN)
    return float(along + at_crossings + in_areas)


def _along_streets(
    streets: Streets, rng: Generator, stretch: float
) -> tuple[NDArray[np.float64], NDArray[np.object_], NDArray[np.object_]]:
    """Points of every ``ALONG`` rule (spacings × ``stretch``): positions, classes, texts."""
    arrays = streets.arrays
    lengths = arrays.lengths
    parts_xy, parts_code, parts_text = [], [], []
    for rule in ALONG:
        chosen = np.flatnonzero(streets.kinds == rule.kind)
        if rule.share < 1.0:
            chosen = chosen[rng.random(len(chosen)) < rule.share]
        spacing = rule.spacing_m * stretch
        for side in (1.0, -1.0) if rule.both_sides else (1.0,):
            # A line shorter than the spacing gets one with the right probability.
            counts = np.floor(lengths[chosen] / spacing + rng.random(len(chosen))).astype(np.int64)
            line = np.repeat(chosen, counts)
            slack = np.maximum(lengths[chosen] - (counts - 1) * spacing, 0.0)
            step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            distance = np.repeat(rng.random(len(chosen)) * slack, counts) + step * spacing
            at, direction = arrays.at(line, distance)
            left = np.column_stack((-direction[:, 1], direction[:, 0])) * rule.offset_m * side
            parts_xy.append(at + left)
            parts_code.append(np.full(len(at), rule.code, dtype=object))
            parts_text.append(streets.names[line] + _side_names(left))
    return np.vstack(parts_xy), np.concatenate(parts_code), np.concatenate(parts_text)


def _side_names(offset: NDArray[np.float64]) -> NDArray[np.object_]:
    """Which side of its street a point stands on (东侧, 南侧 …; 路中 in the carriageway)."""
    east_west = np.abs(offset[:, 0]) > np.abs(offset[:, 1])
    side = np.where(
        east_west,
        np.where(offset[:, 0] > 0, "东侧", "西侧"),
        np.where(offset[:, 1] > 0, "北侧", "南侧"),
    )
    side[np.hypot(offset[:, 0], offset[:, 1]) < 0.1] = "路中"
    return side.astype(object)


def _at_crossings(
    crossings: NDArray[np.float64],
    kinds: tuple[tuple[str, int, float], ...],
    rng: Generator,
    scale: float,
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Signals, signs and name plates at the corners of a share ``scale`` of the crossings."""
    xy_parts, code_parts = [np.empty((0, 2))], [np.empty(0, dtype=object)]
    for code, count, distance in kinds:
        chosen = crossings[rng.random(len(crossings)) < scale]
        angle = rng.uniform(0, 2 * np.pi, (len(chosen), 1)) + np.arange(count) * 2 * np.pi / count
        corner = np.stack((np.cos(angle), np.sin(angle)), axis=-1) * distance
        xy_parts.append((chosen[:, None, :] + corner).reshape(-1, 2))
        code_parts.append(np.full(len(chosen) * count, code, dtype=object))
    return np.vstack(xy_parts), np.concatenate(code_parts)


def _areas_and_lines(
    inner: BaseGeometry, streets: Streets, rng: Generator, scale: float
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Green spaces and car parks (polygons) clear of the streets, what stands in the green
    spaces (points), their fences and the arterials' guardrails (lines)."""
    area_km2 = inner.area / 1e6
    tree = shapely.STRtree(segments(streets.lines[streets.kinds != "hutong"]))
    shapes: list[NDArray[np.object_]] = []
    codes: list[NDArray[np.object_]] = []

    def add(geoms: NDArray[np.object_], code: str) -> None:
        """Keep some shapes of one class."""
        shapes.append(geoms)
        codes.append(np.full(len(geoms), code, dtype=object))

    for code, per_km2, (small, big) in AREAS:
        count = int(round(per_km2 * area_km2 * scale))
        centre = _random_in(inner, count * 3, rng)
        w = rng.uniform(small, big, len(centre))
        h = w * rng.uniform(0.4, 1.0, len(centre))
        boxes = shapely.box(
            *(centre - np.column_stack((w, h)) / 2).T, *(centre + np.column_stack((w, h)) / 2).T
        )
        clear = np.ones(len(boxes), dtype=bool)
        clear[tree.query(boxes, predicate="dwithin", distance=12.0)[0]] = False
        boxes = boxes[clear & shapely.within(boxes, inner)][:count]
        add(boxes, code)
        if code != "04013":
            continue
        for inside, per in IN_GREEN:
            add(shapely.points(_random_in_each(boxes, per, 2.0, rng)), inside)
        fenced = boxes[rng.random(len(boxes)) < FENCED_GREEN]
        rings = shapely.get_exterior_ring(shapely.buffer(fenced, -1.0, join_style="mitre"))
        add(shapely.linestrings(shapely.get_coordinates(rings).reshape(-1, 5, 2)[:, :-1]), "04008")
    rails = []
    for line in streets.lines[streets.kinds == "arterial"]:
        for start in np.arange(
            rng.uniform(50, RAIL_EVERY_M), line.length - 200.0, RAIL_EVERY_M / scale
        ):
            rail = substring(line, start, start + rng.uniform(80.0, 200.0))
            if isinstance(rail, LineString) and shapely.within(rail, inner):
                rails.append(rail)
    add(np.asarray(rails, dtype=object), "02017")
    return np.concatenate(shapes), np.concatenate(codes)


def _random_in(area: BaseGeometry, count: int, rng: Generator) -> NDArray[np.float64]:
    """``count`` uniform points inside a prepared area (rejection sampling)."""
    min_x, min_y, max_x, max_y = area.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        xy = np.column_stack(
            (rng.uniform(min_x, max_x, count * 2), rng.uniform(min_y, max_y, count * 2))
        )
        found = np.vstack((found, xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]))
    return found[:count]


def _random_in_each(
    boxes: NDArray[np.object_], per: int, margin: float, rng: Generator
) -> NDArray[np.float64]:
    """``per`` uniform points inside each axis-aligned box, ``margin`` metres from its edge."""
    bounds = np.repeat(shapely.bounds(boxes), per, axis=0)
    u = rng.random((len(bounds), 2))
    low, high = bounds[:, :2] + margin, bounds[:, 2:] - margin
    return low + u * np.maximum(high - low, 0.0)


def _pick(choices: tuple[tuple[str, float], ...], n: int, rng: Generator) -> NDArray[np.object_]:
    """``n`` values drawn with the given shares."""
    values = np.asarray([value for value, _share in choices], dtype=object)
    shares = np.asarray([share for _value, share in choices], dtype=np.float64)
    picked: NDArray[np.object_] = values[rng.choice(len(values), n, p=shares / shares.sum())]
    return picked


def _batch(
    geoms: NDArray[np.object_],
    codes: NDArray[np.object_],
    texts: NDArray[np.object_],
    today: date,
    rng: Generator,
) -> NewComponents:
    """Census columns: departments by class, a few percent not intact, dates over five years."""
    n = len(geoms)
    order = rng.permutation(n)  # a census file is in survey order, not by class
    geoms, codes, texts = geoms[order], codes[order], texts[order]
    states = _pick(STATES, n, rng)
    last = today - timedelta(days=7)
    first = last.replace(year=last.year - CENSUS_YEARS)
    days = (last - first).days
    census = rng.integers(0, days + 1, n)
    # A component found broken, lost or occupied was surveyed again after its census.
    later = census + (rng.random(n) * (days + 1 - census)).astype(np.int64)
    changed = np.where(states != "完好", later, -1)
    day_text = [date.fromordinal(first.toordinal() + d).isoformat() for d in range(days + 1)]
    accuracy = _pick(ACCURACY, n, rng)
    return NewComponents(
        rows=list(range(1, n + 1)),
        class_code=codes.tolist(),
        geometry=geoms,
        competent=[DEPARTMENT_OF[c][0] for c in codes],
        maintainer=[DEPARTMENT_OF[c][1] for c in codes],
        state=states.tolist(),
        census_date=[day_text[d] for d in census],
        changed_on=[day_text[d] if d >= 0 else "" for d in changed],
        data_source=["实测"] * n,
        accuracy=accuracy.tolist(),
        position_text=texts.tolist(),
    )


def create_demo_inventory(
    deps: ServiceDeps,
    actor: Actor,
    district: MultiPolygon | Polygon,
    *,
    seed: int,
    scale: float,
    info: RequestInfo,
    progress: Callable[[str, int, int], None] | None = None,
) -> AddResult:
    """Plan the inventory and add it through ``add_components`` (one census batch)."""
    planned = plan_inventory(district, seed, deps.clock().date(), scale)
    return add_components(
        deps,
        actor,
        planned.batch,
        source=SOURCE,
        info=info,
        progress=progress or (lambda _stage, _done, _total: None),
    )


def load_demo_inventory(
    deps: ServiceDeps,
    actor: Actor,
    district: MultiPolygon | Polygon,
    *,
    seed: int,
    scale: float,
    info: RequestInfo,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> int:
    """The demo city's inventory, with the standard catalog it needs; returns its size (0 for
    ``scale`` 0). ``progress`` is the demo's bar factory (label, total) → advance(step)."""
    if scale <= 0:
        return 0
    catalog.load_standard_catalog(deps, actor, info=info)  # adds only what is missing
    bar: list[Callable[[int], None]] = []
    written = [0]

    def step(stage: str, done: int, total: int) -> None:
        """Advance the demo's bar as rows are written."""
        if progress is None or stage != "write":
            return
        if not bar:
            bar.append(progress("components 部件", total))
        bar[0](done - written[0])
        written[0] = done

    result = create_demo_inventory(
        deps, actor, district, seed=seed, scale=scale, info=info, progress=step
    )
    return result.added
