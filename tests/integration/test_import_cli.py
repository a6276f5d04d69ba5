"""``gridcity grid import|export`` and ``gridcity divisions import|export``, run as separate
processes the way an operator runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import mapping

from gridcity.adapters.feature_io import read_file, write_file
from gridcity.bootstrap import bootstrap
from gridcity.services import layers
from gridcity.services.layer_drawing import CellInput, replace_layer_cells
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import (
    COMM_A1,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    add_quarter_grids,
    build_small_city,
)
from tests.integration.test_cli import Run, assert_one_error_line
from tests.integration.test_feature_io import Rows
from tests.services.test_grid_import import BOWTIE, grid_features

Gridcity = Callable[..., Run]
JUNE = "2026-06-01T00:00:00+08:00"


@pytest.fixture
def gridcity(tmp_path: Path) -> Gridcity:
    """Runs ``python -m gridcity`` in tmp_path against the given database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCITY_")}

    def run(*args: str | Path, url: str) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "gridcity", *map(str, args)],
            env=clean | {"GRIDCITY_LOG_LEVEL": "WARNING", "GRIDCITY_DATABASE_URL": url},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


def small_city(url: str) -> str:
    """The small test city in the database at ``url``; returns the url."""
    container = bootstrap(settings_for(url), hasher=FAST_HASHER)
    build_small_city(container)
    container.db.engine.dispose()
    return url


def grid_count(url: str) -> int:
    """Rows of grid_cell."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM grid_cell")).scalar_one())
    finally:
        engine.dispose()


def grids_geojson(path: Path, *, spoil: dict[int, object] | None = None) -> Path:
    """The six test grids as GeoJSON, some geometries replaced by ``spoil``."""
    features = []
    for feature in grid_features():
        geometry = (spoil or {}).get(feature.index, feature.geometry)
        features.append(
            {"type": "Feature", "properties": feature.properties, "geometry": mapping(geometry)}
        )
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_a_gbk_gauss_kruger_shapefile_imports_without_crs_and_exports_again(
    gridcity: Gridcity, database_url: str, tmp_path: Path
) -> None:
    url = small_city(database_url)
    rows: Rows = [(f.geometry, f.properties) for f in grid_features()]  # type: ignore[misc]
    write_file(tmp_path / "grids.zip", rows, crs="EPSG:4548", encoding="gbk")

    imported = gridcity("grid", "import", "grids.zip", "--valid-from", JUNE, url=url)
    exported = gridcity("grid", "export", "out.gpkg", "--community", COMM_A1, url=url)

    assert imported.code == 0, imported
    assert imported.out.strip() == (
        "grids.zip: 6 unit grids in 2 communities imported (read in EPSG:4548), "
        "valid from 2026-06-01T00:00:00+08:00; 0 earlier grids ended"
    )
    assert exported.code == 0, exported
    assert exported.out.strip() == "out.gpkg: 4 unit grids written in EPSG:4490"
    back = read_file(tmp_path / "out.gpkg").features
    assert [f.properties["grid_code"] for f in back] == [f"{COMM_A1}00{i}" for i in range(1, 5)]
    assert back[0].properties["name"] == "多福巷东片"
    assert back[1].properties["responsible_party"] == "东华门街道办事处"


def test_one_bad_feature_is_one_line_naming_it_and_nothing_is_written(
    gridcity: Gridcity, database_url: str, tmp_path: Path
) -> None:
    url = small_city(database_url)
    grids_geojson(tmp_path / "grids.geojson", spoil={2: BOWTIE})

    run = gridcity("grid", "import", "grids.geojson", url=url)

    line = assert_one_error_line(
        run, f"gridcity: error: grids.geojson: nothing imported: feature 2 (code {COMM_A1}003): "
    )
    assert "is not a valid polygon" in line and "more problem" not in line
    assert grid_count(url) == 0


def test_a_dry_run_lists_every_problem_and_writes_nothing(
    gridcity: Gridcity, sqlite_url: str, tmp_path: Path
) -> None:
    url = small_city(sqlite_url)
    grids_geojson(tmp_path / "bad.geojson", spoil={2: BOWTIE, 5: BOWTIE})
    grids_geojson(tmp_path / "good.geojson")

    bad = gridcity("grid", "import", "bad.geojson", "--dry-run", url=url)
    not_dry = gridcity("grid", "import", "bad.geojson", url=url)
    good = gridcity("grid", "import", "good.geojson", "--dry-run", url=url)

    assert bad.code == 2
    assert [line.split(":")[1] for line in bad.out.splitlines()] == [
        f" feature 2 (code {COMM_A1}003)",
        " feature 5 (code 110101001002002)",
    ]
    assert bad.err_lines[0].endswith("(and 1 more problem)")
    assert not_dry.err_lines[0].endswith("(and 1 more problem; --dry-run lists them all)")
    assert good.code == 0, good
    assert good.out.strip() == (
        "good.geojson: 6 unit grids in 2 communities checked (read in EPSG:4490); importing "
        "would end 0 grids in force; nothing written (dry run)"
    )
    assert grid_count(url) == 0


def test_divisions_export_then_import_into_another_database(
    gridcity: Gridcity, sqlite_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    source = small_city(sqlite_url)
    shutil.copy(sqlite_template, tmp_path / "other.db")
    target = f"sqlite:///{tmp_path / 'other.db'}"

    exported = gridcity("divisions", "export", "divisions.csv", url=source)
    first = gridcity("divisions", "import", "divisions.csv", url=target)
    again = gridcity("divisions", "import", "divisions.csv", url=target)
    communities = gridcity("divisions", "export", "c.geojson", "--level", "community", url=target)

    assert exported.out.strip() == "divisions.csv: 6 divisions written in EPSG:4490", exported
    assert first.out.strip() == (
        "divisions.csv: 6 new, 0 changed, 0 unchanged divisions imported (read in EPSG:4490)"
    ), first
    assert "0 new, 0 changed, 6 unchanged" in again.out, again
    names = [f.properties["name"] for f in read_file(tmp_path / "c.geojson").features]
    assert names == ["多福巷社区", "银闸社区", "景山东街社区"], communities


@pytest.mark.parametrize(
    ("args", "starting"),
    [
        (["grid", "import", "x.geojson", "--crs", "mars"], "gridcity: error: --crs: Unknown"),
        (["grid", "import", "missing.zip"], "gridcity: error: Cannot read missing.zip"),
        (
            ["grid", "import", "x.geojson", "--valid-from", "2026-06-01"],
            "gridcity: error: --valid-from '2026-06-01' needs a time zone offset",
        ),
        (["grid", "export", "out.kml"], "gridcity: error: out.kml: unknown file type"),
        (["divisions", "import", "x.txt"], "gridcity: error: x.txt: unknown file type"),
    ],
)
def test_bad_arguments_are_one_clear_line(
    gridcity: Gridcity, sqlite_url: str, args: list[str], starting: str
) -> None:
    assert_one_error_line(gridcity(*args, url=sqlite_url), starting)


def test_an_import_names_the_responsibility_cells_it_leaves_stale(
    gridcity: Gridcity, sqlite_url: str, tmp_path: Path
) -> None:
    url = small_city(sqlite_url)
    container = bootstrap(settings_for(url), hasher=FAST_HASHER)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    layers.create_layer(
        container.deps, SYSTEM, code="patrol", name="巡查", scheme="responsibility", info=TEST_INFO
    )
    replace_layer_cells(
        container.deps,
        SYSTEM,
        "patrol",
        [CellInput(division=SUB_A, grids=(f"{COMM_A1}001",))],
        valid_from=datetime(2026, 1, 2, tzinfo=UTC),
        info=TEST_INFO,
    )
    container.db.engine.dispose()
    grids_geojson(tmp_path / "grids.geojson")

    dry = gridcity("grid", "import", "grids.geojson", "--dry-run", "--valid-from", JUNE, url=url)
    done = gridcity("grid", "import", "grids.geojson", "--valid-from", JUNE, url=url)

    assert dry.code == 0 and done.code == 0, done
    assert dry.out.splitlines()[-1] == (
        "1 cells made of unit grids would hold replaced grids: patrol:ZR11010100101"
    )
    assert done.out.splitlines()[-1] == (
        "1 cells made of unit grids now hold replaced grids; re-draw them: patrol:ZR11010100101"
    )
