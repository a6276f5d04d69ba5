"""Checks shared by the importers: a feature's geometry, read and validated, or a problem."""

from __future__ import annotations

from collections.abc import Callable

from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from gridcity.adapters.geojson_files import Feature
from gridcity.domain.errors import InvalidInput
from gridcity.domain.imports import N_, Problem


def checked_geometry(
    feature: Feature,
    code: str,
    problems: list[Problem],
    check: Callable[[BaseGeometry], MultiPolygon],
) -> MultiPolygon | None:
    """The feature's geometry passed through ``check``, or None with the problem recorded."""
    if feature.geometry is None:
        problems.append(
            Problem(
                feature.index,
                code,
                N_("The geometry cannot be read: %(why)s"),
                {"why": feature.problem or "no geometry"},
            )
        )
        return None
    try:
        return check(feature.geometry)
    except InvalidInput as exc:
        problems.append(Problem.of(feature.index, code, exc))
        return None
