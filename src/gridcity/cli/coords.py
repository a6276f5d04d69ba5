"""``gridcity coords …``: coordinate conversion, no database needed."""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
import typer

from gridcity.adapters.crs import convert_points, is_projected, parse_system
from gridcity.cli.support import fail
from gridcity.domain.errors import DomainError

SYSTEMS = "wgs84, cgcs2000, gcj02, bd09 or EPSG:nnnn"

coords_app = typer.Typer(
    help="Convert coordinates between WGS84, CGCS2000, GCJ-02, BD-09 and EPSG systems.",
    no_args_is_help=True,
)


def _number(name: str, text: str) -> float:
    """A finite number from the command line, or one clear line."""
    try:
        value = float(text)
    except ValueError:
        fail(f"{name} must be a number, got {text!r}")
    if not math.isfinite(value):
        fail(f"{name} must be a finite number, got {text!r}")
    return value


# Unknown "options" reach the arguments, so that a negative number such as -0.12 is a value.
@coords_app.command(context_settings={"ignore_unknown_options": True})
def convert(
    lon: Annotated[str, typer.Argument(metavar="LON", help="Longitude (or x in metres)")],
    lat: Annotated[str, typer.Argument(metavar="LAT", help="Latitude (or y in metres)")],
    source: Annotated[str, typer.Option("--from", help=f"System of the input: {SYSTEMS}")],
    target: Annotated[str, typer.Option("--to", help=f"System of the output: {SYSTEMS}")],
) -> None:
    """Print the point in another system: `lon lat` (8 decimals) or `x y` in metres (3)."""
    xy = np.array([[_number("LON", lon), _number("LAT", lat)]])
    try:
        projected = is_projected(parse_system(target))
        (x, y), *_ = convert_points(xy, source, target).tolist()
    except DomainError as exc:
        fail(f"coords convert: {exc}")
    decimals = 3 if projected else 8
    print(f"{x:.{decimals}f} {y:.{decimals}f}")
