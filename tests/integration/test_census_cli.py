"""``gridcity components import|export``, run as separate processes the way an operator runs
them: exit 0 imported, 1 refused (a row-level table, ``--report`` for all), 2 a bad file."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from gridcity.bootstrap import bootstrap
from tests.conftest import FAST_HASHER, settings_for
from tests.integration.test_cli import Run, assert_one_error_line
from tests.services.test_census import GARDENS, MUNICIPAL, census_city, good_rows, write_csv

Gridcity = Callable[..., Run]


@pytest.fixture
def gridcity(tmp_path: Path) -> Gridcity:
    """Runs ``python -m gridcity`` in tmp_path against the given database."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRIDCITY_", "TTY_", "FORCE_COLOR"))
    }

    def run(*args: str | Path, url: str, env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "gridcity", *map(str, args)],
            env=clean
            | {"GRIDCITY_LOG_LEVEL": "WARNING", "GRIDCITY_DATABASE_URL": url}
            | (env or {}),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def url(sqlite_url: str) -> str:
    """A database holding the census test city (grids, catalog, departments)."""
    container = bootstrap(settings_for(sqlite_url), hasher=FAST_HASHER)
    census_city(container)
    container.db.engine.dispose()
    return sqlite_url


def components(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM component")).scalar_one())
    finally:
        engine.dispose()


def test_a_good_file_imports_and_says_what_it_did(
    gridcity: Gridcity, url: str, tmp_path: Path
) -> None:
    lines = good_rows()
    lines.append(f"供水井盖,{MUNICIPAL},完好,20260115,116.401205,39.9012,")
    write_csv(tmp_path, lines, "census.csv")
    run = gridcity("components", "import", "census.csv", "--reason", "2026 普查", url=url)
    assert run.code == 0, run
    out = run.out.splitlines()
    assert out[0] == (
        "census.csv: 4 components imported (read in EPSG:4490); 4 identifiers drawn; import 1"
    )
    assert "by class: 01001 ×3, 03005 ×1" in out
    assert "1 likely duplicates:" in out
    assert "  row 2 and row 5: class 01001, 0.43 m apart" in out
    assert run.err == ""  # no bars when not on a terminal
    assert components(url) == 4


def test_a_dry_run_writes_nothing_and_shows_progress_on_a_terminal(
    gridcity: Gridcity, url: str, tmp_path: Path
) -> None:
    write_csv(tmp_path, good_rows(), "census.csv")
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    run = gridcity("components", "import", "census.csv", "--dry-run", url=url, env=terminal)
    assert run.code == 0, run
    assert "3 components checked" in run.out and "nothing written (dry run)" in run.out
    assert "checking" in run.err and "locating" in run.err  # the bars
    assert components(url) == 0


def test_a_refused_file_prints_its_problems_exits_1_and_writes_the_report(
    gridcity: Gridcity, url: str, tmp_path: Path
) -> None:
    lines = good_rows()
    lines += [f"供水井盖,区水务局{i},完好,20260115,116.4012,39.9{i:03d},," for i in range(60)]
    write_csv(tmp_path, lines, "census.csv")
    run = gridcity("components", "import", "census.csv", "--report", "problems.csv", url=url)
    assert run.code == 1, run
    assert "census.csv: nothing imported, 60 problems" in run.out
    assert "│ 5   │ ZGBMMC" in run.out
    assert "No active department 区水务局0" in run.out
    assert "and 10 more" in run.out
    with (tmp_path / "problems.csv").open(encoding="utf-8-sig", newline="") as fh:
        report = list(csv.DictReader(fh))
    assert len(report) == 60
    assert report[0] == {
        "row": "5",
        "column": "ZGBMMC",
        "code": "unknown_department",
        "reason": "No active department 区水务局0 (give its credit code or its name)",
    }
    assert components(url) == 0


def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(
    gridcity: Gridcity, url: str, tmp_path: Path
) -> None:
    write_csv(
        tmp_path,
        ["GLBJMC,ZGBMMC,SetLoc,PointX,PointY", f"垃圾箱,{GARDENS},人行道,116.4,39.9"],
        "x.csv",
    )
    run = gridcity("components", "import", "x.csv", url=url)
    line = assert_one_error_line(run, "gridcity: error: x.csv: unknown columns SetLoc")
    assert "--ignore-unknown" in line
    ignored = gridcity("components", "import", "x.csv", "--ignore-unknown", url=url)
    assert ignored.code == 0, ignored
    assert "unknown columns left out: SetLoc" in ignored.out
    (tmp_path / "x.kml").write_text("<kml/>")
    assert_one_error_line(
        gridcity("components", "import", "x.kml", url=url), "gridcity: error: x.kml"
    )
    assert_one_error_line(
        gridcity("components", "import", "x.csv", "--crs", "mars", url=url),
        "gridcity: error: --crs",
    )


def test_export_writes_the_standard_or_our_names(
    gridcity: Gridcity, url: str, tmp_path: Path
) -> None:
    write_csv(tmp_path, good_rows(), "census.csv")
    assert gridcity("components", "import", "census.csv", url=url).code == 0
    standard = gridcity("components", "export", "out.xlsx", "--standard", url=url)
    assert standard.code == 0, standard
    assert standard.out.strip() == (
        "out.xlsx: 3 components written (xlsx, GB/T 47678.5 abbreviations, EPSG:4490)"
    )
    ours = gridcity(
        "components", "export", "out.txt", "--format", "geojson", "--class", "03005", url=url
    )
    assert ours.code == 0, ours
    assert '"class_code":"03005"' in (tmp_path / "out.txt").read_text("utf-8")
    assert_one_error_line(
        gridcity("components", "export", "out.kml", url=url), "gridcity: error: out.kml"
    )
