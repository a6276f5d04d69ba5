"""``gridcity coords convert``, run as a separate process the way an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from coord_convert.transform import wgs2bd, wgs2gcj

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/x"
TIANANMEN = ("116.391275", "39.906217")


@dataclass(frozen=True)
class Run:
    """What one ``gridcity`` process did."""

    code: int
    out: str
    err: str


def coords(tmp_path: Path, *args: str) -> Run:
    """``python -m gridcity coords …`` with a database that cannot be reached: none is needed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCITY_")}
    env |= {"GRIDCITY_DATABASE_URL": UNREACHABLE, "GRIDCITY_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "gridcity", "coords", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def test_wgs84_to_gcj02_prints_lon_lat_with_eight_decimals(tmp_path: Path) -> None:
    run = coords(tmp_path, "convert", "--from", "wgs84", "--to", "gcj02", *TIANANMEN)
    assert run.code == 0, run.err
    lon, lat = wgs2gcj(*map(float, TIANANMEN))
    assert run.out == f"{lon:.8f} {lat:.8f}\n"


def test_bd09_back_to_wgs84_recovers_the_point(tmp_path: Path) -> None:
    bd_lon, bd_lat = wgs2bd(*map(float, TIANANMEN))
    run = coords(tmp_path, "convert", "--from", "bd09", "--to", "wgs84", str(bd_lon), str(bd_lat))
    assert run.code == 0, run.err
    assert run.out.split() == ["116.39127500", "39.90621700"]


def test_a_gauss_kruger_zone_prints_metres_with_three_decimals(tmp_path: Path) -> None:
    run = coords(tmp_path, "convert", "--from", "cgcs2000", "--to", "EPSG:4548", *TIANANMEN)
    assert run.code == 0, run.err
    assert run.out == "447947.406 4419293.348\n"


def test_a_negative_coordinate_is_a_value_not_an_option(tmp_path: Path) -> None:
    run = coords(tmp_path, "convert", "--from", "wgs84", "--to", "gcj02", "-0.1276", "51.5072")
    assert (run.code, run.out) == (0, "-0.12760000 51.50720000\n"), run.err


@pytest.mark.parametrize(
    ("args", "starting"),
    [
        (
            ["--from", "mars", "--to", "wgs84", *TIANANMEN],
            "gridcity: error: coords convert: Unknown coordinate system mars",
        ),
        (
            ["--from", "wgs84", "--to", "gcj02", "east", "39.9"],
            "gridcity: error: LON must be a number",
        ),
        (
            ["--from", "wgs84", "--to", "gcj02", "116.4", "inf"],
            "gridcity: error: LAT must be a finite number",
        ),
        (
            ["--from", "wgs84", "--to", "gcj02", "116.4", "95"],
            "gridcity: error: coords convert: Point 0 (116.4, 95.0) is not a longitude/latitude",
        ),
        (
            ["--from", "wgs84", "--to", "EPSG:4978", *TIANANMEN],
            "gridcity: error: coords convert: EPSG:4978 (WGS 84) is neither a geographic",
        ),
    ],
    ids=["unknown-system", "not-a-number", "infinite", "lat-95", "geocentric"],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], starting: str) -> None:
    run = coords(tmp_path, "convert", *args)
    assert run.code == 2, run
    assert run.out == ""
    assert len(run.err.splitlines()) == 1, run.err
    assert run.err.startswith(starting), run.err
