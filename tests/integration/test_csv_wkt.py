"""CSV with WKT: text cells cannot become spreadsheet formulas, yet round trips stay exact;
EWKT rows say their own coordinate system, which must agree with --crs."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from gridcity.adapters.crs import transform
from gridcity.adapters.csv_wkt import guard, unguard
from gridcity.adapters.feature_io import read_file, write_file
from gridcity.bootstrap import Container
from gridcity.domain.imports import ImportRefused
from gridcity.services import grid_import
from tests.factories import COMM_A1, SYSTEM, TEST_INFO, SmallCity
from tests.services.test_grid_import import grid_features

JUN = datetime(2026, 6, 1, tzinfo=UTC)
SEP = datetime(2026, 9, 1, tzinfo=UTC)
DANGEROUS = ["=SUM(A1)", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "'=already", "''+x"]
HARMLESS = ["银闸西", "a=b", "-3.5", "+1", "1e5", "'quoted", ""]


def raw_cells(path: Path) -> list[list[str]]:
    """The cells of a CSV file exactly as a spreadsheet would get them."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text: str) -> None:
    assert guard(text) == "'" + text
    assert unguard(guard(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_text_and_plain_numbers_are_left_alone(text: str) -> None:
    assert guard(text) == text
    assert unguard(guard(text)) == text


def test_the_export_guards_text_but_not_codes_numbers_or_wkt(tmp_path: Path) -> None:
    path = tmp_path / "grids.csv"
    shape = box(116.40, 39.90, 116.405, 39.905)
    props = {"grid_code": f"{COMM_A1}001", "name": "=SUM(A1)", "level": -1, "area_m2": -0.5}

    write_file(path, [(shape, props)])

    header, row = raw_cells(path)
    cells = dict(zip(header, row, strict=True))
    assert cells["name"] == "'=SUM(A1)"
    assert (cells["grid_code"], cells["level"], cells["area_m2"]) == (f"{COMM_A1}001", "-1", "-0.5")
    assert cells["wkt"].startswith("MULTIPOLYGON") or cells["wkt"].startswith("POLYGON")
    assert read_file(path).features[0].properties["name"] == "=SUM(A1)"


def test_a_formula_like_name_survives_export_and_import_exactly(
    container: Container, city: SmallCity, tmp_path: Path
) -> None:
    features = grid_features()
    for feature, name in zip(features, DANGEROUS, strict=False):
        feature.properties["name"] = name
    grid_import.import_grids(
        container.deps, SYSTEM, features, valid_from=JUN, info=TEST_INFO, source="t"
    )
    before = grid_import.export_grids(container.deps, SYSTEM)
    path = tmp_path / "grids.csv"
    write_file(path, before)

    source = read_file(path)
    grid_import.import_grids(
        container.deps, SYSTEM, source.features, valid_from=SEP, info=TEST_INFO, source=str(path)
    )
    after = grid_import.export_grids(container.deps, SYSTEM)

    names = [p["name"] for _, p in after]
    assert names == [p["name"] for _, p in before]
    assert names[0] == "=SUM(A1)" and raw_cells(path)[1][2] == "'=SUM(A1)"


# --- EWKT ----------------------------------------------------------------------------------------

LONLAT = box(116.40, 39.90, 116.405, 39.905)
GK = transform(LONLAT, 4490, 4548)  # CGCS2000 / 3-degree Gauss-Krüger CM 117E


def ewkt_file(tmp_path: Path, *rows: str) -> Path:
    """A CSV of grids whose geometry cells are the given (E)WKT texts."""
    path = tmp_path / "ewkt.csv"
    lines = ["grid_code,wkt"] + [f'{COMM_A1}00{i + 1},"{text}"' for i, text in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_ewkt_srid_decides_the_crs_when_none_is_given(tmp_path: Path) -> None:
    path = ewkt_file(tmp_path, f"SRID=4548;{GK.wkt}", f"srid=4490; {LONLAT.wkt}")

    source = read_file(path)

    assert source.crs == "EPSG:4490, EPSG:4548"
    for feature in source.features:
        assert feature.problem is None and feature.geometry is not None
        assert feature.geometry.hausdorff_distance(LONLAT) < 1e-9


def test_an_ewkt_srid_that_agrees_with_the_crs_is_read_in_it(tmp_path: Path) -> None:
    path = ewkt_file(tmp_path, f"SRID=4548;{GK.wkt}", GK.wkt)

    source = read_file(path, crs="EPSG:4548")

    assert source.crs == "EPSG:4548"
    assert all(
        f.geometry is not None and f.geometry.hausdorff_distance(LONLAT) < 1e-9
        for f in source.features
    )


def test_an_ewkt_srid_that_contradicts_the_crs_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = ewkt_file(tmp_path, GK.wkt, f"SRID=4326;{LONLAT.wkt}", f"SRID=999999;{GK.wkt}")

    first, second, third = read_file(path, crs="EPSG:4548").features

    assert first.geometry is not None and first.problem is None
    assert second.geometry is None
    assert second.problem == (
        "SRID=4326 says EPSG:4326, but --crs says EPSG:4548; leave --crs out or correct the row"
    )
    assert third.geometry is None and "SRID=999999 is not a coordinate system" in (
        third.problem or ""
    )


def test_gcj02_over_an_ewkt_labelled_wgs84_is_no_contradiction(tmp_path: Path) -> None:
    path = ewkt_file(tmp_path, f"SRID=4326;{LONLAT.wkt}")

    (feature,) = read_file(path, crs="gcj02").features

    assert feature.problem is None and feature.geometry is not None
    assert 100 < feature.geometry.centroid.distance(LONLAT.centroid) * 111_000 < 1000  # the offset


def test_a_contradicting_srid_row_is_named_by_the_grid_import(
    container: Container, city: SmallCity, tmp_path: Path
) -> None:
    path = ewkt_file(tmp_path, f"SRID=4326;{LONLAT.wkt}")

    with pytest.raises(ImportRefused) as refused:
        grid_import.import_grids(
            container.deps,
            SYSTEM,
            read_file(path, crs="EPSG:4548").features,
            valid_from=JUN,
            info=TEST_INFO,
            source=str(path),
        )

    (problem,) = refused.value.problems
    assert problem.index == 0 and "but --crs says EPSG:4548" in problem.text
