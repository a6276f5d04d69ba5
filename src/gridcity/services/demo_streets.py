"""The demo city's street network, in metres (EPSG:4548), for placing its components.

Arterials (主干道) about every 1.1 km and secondary streets (次干道) about every 380 m run
north–south and east–west across the district, each a little tilted and bent; east–west
hutong lanes (胡同) about every 80 m fill the old city (the northern two thirds), in pieces
150–600 m long. Everything is clipped to the district outline. Positions along the lines are
computed with numpy on the lines' vertices, for hundreds of thousands of points at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.random import Generator
from numpy.typing import NDArray
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from gridcity.services.demo_data import PLACES, STREETS

ARTERIAL_SPACING_M = 1_100.0
SECONDARY_SPACING_M = 380.0
HUTONG_SPACING_M = 80.0
KINDS = ("arterial", "secondary", "hutong")


@dataclass(frozen=True)
class Polylines:
    """Lines as arrays: their vertices and the distance of each vertex along its line."""

    xy: NDArray[np.float64]  # (V, 2) every vertex, line after line
    first: NDArray[np.int64]  # (L + 1,) index of each line's first vertex, then V
    along: NDArray[np.float64]  # (V,) distance of the vertex from its line's start

    @classmethod
    def of(cls, lines: NDArray[np.object_]) -> Polylines:
        """The arrays of some LineStrings."""
        xy, owner = shapely.get_coordinates(lines, return_index=True)
        first = np.searchsorted(owner, np.arange(len(lines) + 1)).astype(np.int64)
        step = np.zeros(len(xy))
        step[1:] = np.hypot(*np.diff(xy, axis=0).T)
        step[first[:-1][first[:-1] < len(xy)]] = 0.0  # a line starts at 0
        total = np.cumsum(step)
        along = total - total[first[owner]] if len(xy) else step
        return cls(xy, first, along)

    @property
    def lengths(self) -> NDArray[np.float64]:
        """Length of each line."""
        last = self.first[1:] - 1
        return np.where(last >= self.first[:-1], self.along[last.clip(min=0)], 0.0)

    def at(
        self, line: NDArray[np.int64], distance: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Points at ``distance`` along each ``line``, and the unit direction there."""
        start, stop = self.first[line], self.first[line + 1] - 1
        # The vertex before each point: search the lines' distances shifted apart by line.
        key = self.along + np.repeat(np.arange(len(self.first) - 1), np.diff(self.first)) * 1e9
        i = np.searchsorted(key, distance + line * 1e9, side="right") - 1
        i = np.clip(i, start, np.maximum(stop - 1, start))
        seg = self.xy[i + 1] - self.xy[i]
        length = np.maximum(np.hypot(seg[:, 0], seg[:, 1]), 1e-9)
        t = np.clip((distance - self.along[i]) / length, 0.0, 1.0)
        return self.xy[i] + seg * t[:, None], seg / length[:, None]


@dataclass(frozen=True)
class Streets:
    """The street network: lines, their kind and name, and the crossings of bigger streets."""

    lines: NDArray[np.object_]  # LineStrings
    kinds: NDArray[np.str_]
    names: NDArray[np.object_]
    signalised: NDArray[np.float64]  # (n, 2) where an arterial crosses an arterial or a street
    crossings: NDArray[np.float64]  # (n, 2) where two secondary streets cross

    @property
    def arrays(self) -> Polylines:
        """The lines as arrays."""
        return Polylines.of(self.lines)


def street_network(outline: BaseGeometry, rng: Generator) -> Streets:
    """Arterials, secondary streets and hutong lanes clipped to a projected outline."""
    arterial = _family(outline, rng, ARTERIAL_SPACING_M, 4.0)
    secondary = _family(outline, rng, SECONDARY_SPACING_M, 6.0)
    # A secondary street that runs within 60 m of an arterial is that arterial.
    secondary = secondary[_share_near(secondary, arterial, 60.0) < 0.5]
    hutongs = _hutongs(outline, rng)
    hutongs = hutongs[_share_near(hutongs, secondary, 25.0) < 0.3]
    lines, kinds = [], []
    for kind, found in zip(KINDS, (arterial, secondary, hutongs), strict=True):
        clipped = shapely.get_parts(shapely.intersection(found, outline))
        clipped = clipped[(shapely.get_type_id(clipped) == 1) & (shapely.length(clipped) > 30.0)]
        lines.append(clipped)
        kinds.extend([kind] * len(clipped))
    all_lines = np.concatenate(lines)
    kind_arr = np.asarray(kinds)
    big = kind_arr != "hutong"
    return Streets(
        lines=all_lines,
        kinds=kind_arr,
        names=np.asarray([street_name(k, rng) for k in kinds], dtype=object),
        signalised=_crossings(all_lines[kind_arr == "arterial"], all_lines[big]),
        crossings=_crossings(*[all_lines[kind_arr == "secondary"]] * 2),
    )


def _wavy(
    start: NDArray[np.float64], end: NDArray[np.float64], rng: Generator, wobble: float
) -> LineString:
    """A street from start to end, bending gently sideways every ~150 m."""
    steps = max(2, int(np.hypot(*(end - start)) // 150.0) + 1)
    t = np.linspace(0.0, 1.0, steps)
    normal = np.array([-(end - start)[1], (end - start)[0]]) / np.hypot(*(end - start))
    bend = np.cumsum(rng.normal(0.0, wobble, steps))
    bend -= np.linspace(bend[0], bend[-1], steps)  # the ends stay where they are
    return LineString(start + np.outer(t, end - start) + np.outer(bend, normal))


def _family(
    outline: BaseGeometry, rng: Generator, spacing: float, wobble: float
) -> NDArray[np.object_]:
    """North–south and east–west streets about ``spacing`` apart across the outline's box."""
    min_x, min_y, max_x, max_y = outline.bounds
    lines = []
    for vertical in (True, False):
        lo, hi = (min_x, max_x) if vertical else (min_y, max_y)
        a, b = (min_y - 200, max_y + 200) if vertical else (min_x - 200, max_x + 200)
        for pos in np.arange(lo + rng.uniform(0.2, 0.8) * spacing, hi, spacing):
            p = pos + rng.normal(0.0, spacing * 0.08)
            tilt = rng.normal(0.0, 0.03) * (b - a)
            ends = ([p, a], [p + tilt, b]) if vertical else ([a, p], [b, p + tilt])
            lines.append(_wavy(np.array(ends[0]), np.array(ends[1]), rng, wobble))
    return np.asarray(lines, dtype=object)


def _hutongs(outline: BaseGeometry, rng: Generator) -> NDArray[np.object_]:
    """East–west lanes every ~80 m in the northern two thirds, in pieces 150–600 m long."""
    min_x, min_y, max_x, max_y = outline.bounds
    south = min_y + (max_y - min_y) / 3.0
    lanes = []
    for y in np.arange(south + rng.uniform(0, HUTONG_SPACING_M), max_y, HUTONG_SPACING_M):
        x = min_x + rng.uniform(0, 200)
        while x < max_x:
            length = rng.uniform(150.0, 600.0)
            if rng.random() < 0.8:
                y0 = y + rng.normal(0.0, 6.0)
                end = np.array([x + length, y0 + rng.normal(0.0, 8.0)])
                lanes.append(_wavy(np.array([x, y0]), end, rng, 2.0))
            x += length + rng.uniform(10.0, 60.0)
    return np.asarray(lanes, dtype=object)


def _share_near(
    lines: NDArray[np.object_], others: NDArray[np.object_], metres: float
) -> NDArray[np.float64]:
    """Share of each line (sampled every 20 m) lying within ``metres`` of any other line."""
    arrays = Polylines.of(lines)
    counts = np.maximum((arrays.lengths // 20.0).astype(np.int64), 1)
    line = np.repeat(np.arange(len(lines)), counts)
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    xy, _ = arrays.at(line, (step + 0.5) * 20.0)
    tree = shapely.STRtree(segments(others))
    hit = np.zeros(len(xy), dtype=bool)
    hit[np.unique(tree.query(shapely.points(xy), predicate="dwithin", distance=metres)[0])] = True
    return np.bincount(line, weights=hit, minlength=len(lines)) / counts


def segments(lines: NDArray[np.object_]) -> NDArray[np.object_]:
    """Every straight piece of the lines (small boxes make a quick tree)."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    pairs = np.stack((xy[:-1][same], xy[1:][same]), axis=1)
    pieces: NDArray[np.object_] = shapely.linestrings(pairs)
    return pieces


def _crossings(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.float64]:
    """Points where a line of ``a`` crosses a line of ``b``, each crossing once."""
    if len(a) == 0 or len(b) == 0:
        return np.empty((0, 2))
    ia, ib = shapely.STRtree(b).query(a, predicate="crosses")
    points = shapely.get_parts(shapely.intersection(a[ia], b[ib]))
    xy = shapely.get_coordinates(points[shapely.get_type_id(points) == 0])
    return np.unique(np.round(xy, 1), axis=0) if len(xy) else np.empty((0, 2))


def street_name(kind: str, rng: Generator) -> str:
    """A plausible name for a street of its kind (大街 for arterials, 胡同 for lanes)."""
    if kind == "arterial":
        return str(STREETS[int(rng.integers(len(STREETS)))])
    place = str(PLACES[int(rng.integers(len(PLACES)))])
    if kind == "hutong":
        return place if place[-1] in "同巷条" else place + "胡同"
    return place + ("街" if rng.random() < 0.6 else "路")
