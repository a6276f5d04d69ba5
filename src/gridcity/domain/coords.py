"""WGS-84 ↔ GCJ-02 ("Mars coordinates"), for showing our data on GCJ-02 basemap tiles.

Our geometries are stored in CGCS2000 (EPSG:4490), which agrees with WGS-84 to a few
centimetres, so the WGS-84 formulas apply to them unchanged. The forward formula is the
widely published one (Krasovsky ellipsoid constants, polynomial + sine series); the inverse
has no closed form and is found by fixed-point iteration. Points outside the rectangle
that the published formula uses for mainland China are returned unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid, as the formula uses it
_EE = 0.00669342162296594323  # its first eccentricity squared
# Longitude/latitude rectangle within which the shift is applied (west, south, east, north).
CHINA_RECT = (73.66, 3.86, 135.05, 53.55)
# Iteration stops when a step moves the point less than this (degrees, ≈ 0.1 mm).
_INVERSE_STEP = 1e-9
_INVERSE_MAX_ROUNDS = 30

FloatArray = NDArray[np.float64]


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (degrees of longitude, latitude) at WGS-84 points."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    waves = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += waves
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += waves
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _inside(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """True where a point lies in the rectangle in which GCJ-02 differs from WGS-84."""
    west, south, east, north = CHINA_RECT
    return (lon > west) & (lon < east) & (lat > south) & (lat < north)


def wgs84_to_gcj02_array(xy: FloatArray) -> FloatArray:
    """GCJ-02 coordinates of an (n, 2) array of WGS-84 lon/lat; outside China unchanged."""
    lon, lat = xy[:, 0], xy[:, 1]
    d_lon, d_lat = _offset(lon, lat)
    inside = _inside(lon, lat)
    return np.column_stack((np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)))


def gcj02_to_wgs84_array(xy: FloatArray) -> FloatArray:
    """WGS-84 coordinates of an (n, 2) array of GCJ-02 lon/lat, by fixed-point iteration."""
    target = np.asarray(xy, dtype=np.float64)
    guess = target.copy()
    for _ in range(_INVERSE_MAX_ROUNDS):
        step = wgs84_to_gcj02_array(guess) - target
        guess = guess - step
        if not np.any(np.abs(step) >= _INVERSE_STEP):
            break
    # A point whose answer lies outside the rectangle was never shifted.
    return np.where(_inside(guess[:, 0], guess[:, 1])[:, None], guess, target)


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 lon/lat of a WGS-84 (or CGCS2000) point; outside China unchanged."""
    out = wgs84_to_gcj02_array(np.array([[lon, lat]], dtype=np.float64))
    return float(out[0, 0]), float(out[0, 1])


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 lon/lat of a GCJ-02 point, accurate to well under a centimetre."""
    out = gcj02_to_wgs84_array(np.array([[lon, lat]], dtype=np.float64))
    return float(out[0, 0]), float(out[0, 1])
