"""``gridcity grid locate LON LAT``: the divisions, unit grid and layer cells of a point."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from gridcity.cli.support import SYSTEM, container_or_fail, fail
from gridcity.domain.errors import DomainError, NotFound
from gridcity.services import locate
from gridcity.services.locate import Location, Place

CRS_HELP = "System of LON/LAT: wgs84, cgcs2000, gcj02 or bd09"
AT_HELP = (
    "Answer the grids in force at this moment (ISO 8601 with offset, e.g. 2026-03-01T08:00+08:00)"
)


def _moment(text: str | None) -> datetime | None:
    """The --at value as a datetime, or one clear line."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        fail(f"grid locate: --at {text!r} is not an ISO 8601 date and time")


def _line(label: str, place: Place | None) -> str:
    """One aligned line of the answer."""
    shown = f"{place.code} {place.name}".strip() if place else "-"
    return f"{label:<12} {shown}"


def render(found: Location) -> str:
    """The answer as aligned lines: divisions, unit grid, then each further layer."""
    lines = [
        _line("district", found.district),
        _line("subdistrict", found.subdistrict),
        _line("community", found.community),
        _line("grid", found.grid),
    ]
    lines += [_line(f"{cell.layer}", cell.cell) for cell in found.layers]
    lines.append(f"{'at':<12} {found.at.isoformat()}")
    return "\n".join(lines)


def locate_command(
    lon: Annotated[float, typer.Argument(help="Longitude")],
    lat: Annotated[float, typer.Argument(help="Latitude")],
    crs: Annotated[str, typer.Option(help=CRS_HELP)] = "cgcs2000",
    at: Annotated[str | None, typer.Option(help=AT_HELP)] = None,
) -> None:
    """Print the divisions, unit grid and layer cells of a point (exit 1 outside the managed area)."""
    container = container_or_fail()
    moment = _moment(at)
    try:
        found = locate.locate_point(container.deps, SYSTEM, lon, lat, crs=crs, at=moment)
    except NotFound as exc:
        print(f"gridcity: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    except DomainError as exc:
        fail(f"grid locate: {exc}")
    print(render(found))
