"""Feature files: round trips through all four formats keep geometry, codes and attributes
(Chinese text through a GBK Shapefile too), coordinate systems are read from the file or
from --crs, and a bad file is refused by name."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from gridcity.adapters import file_support
from gridcity.adapters.crs import from_stored_geometry
from gridcity.adapters.feature_io import read_file, write_file
from gridcity.adapters.geo import area_m2
from gridcity.bootstrap import Container
from gridcity.domain.errors import InvalidInput
from gridcity.services import grid_import
from tests.factories import COMM_A1, COMM_A2, SYSTEM, TEST_INFO, SmallCity
from tests.services.test_grid_import import grid_features

JUN = datetime(2026, 6, 1, tzinfo=UTC)
SEP = datetime(2026, 9, 1, tzinfo=UTC)
FORMATS = ["grids.geojson", "grids.zip", "grids.gpkg", "grids.csv"]
Rows = list[tuple[BaseGeometry, dict[str, Any]]]
_GEOD = Geod(ellps="GRS80")


def exported(container: Container) -> Rows:
    """The grids in force now, as the export service gives them."""
    return grid_import.export_grids(container.deps, SYSTEM)


def max_offset_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """How far apart two lon/lat shapes are at most (Hausdorff distance), in metres."""
    lat = a.centroid.y
    kx = _GEOD.inv(a.centroid.x, lat, a.centroid.x + 0.01, lat)[2] / 0.01
    ky = _GEOD.inv(a.centroid.x, lat, a.centroid.x, lat + 0.01)[2] / 0.01

    def metres(g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda xy: xy * (kx, ky))

    return float(metres(a).hausdorff_distance(metres(b)))


def assert_same_grids(before: Rows, after: Rows, *, tolerance_deg: float = 1e-7) -> None:
    """Codes, attributes (validity aside) and geometry within 1e-7° and 0.01 m²."""
    assert [p["grid_code"] for _, p in after] == [p["grid_code"] for _, p in before]
    for (g0, p0), (g1, p1) in zip(before, after, strict=True):
        keep = [c for c in grid_import.EXPORT_COLUMNS if c not in ("valid_from", "area_m2")]
        assert {c: p1[c] for c in keep} == {c: p0[c] for c in keep}
        assert g1.hausdorff_distance(g0) < tolerance_deg
        assert abs(area_m2(g1) - area_m2(g0)) < 0.01


@pytest.fixture
def rows() -> Rows:
    """The six grids as the export writes them, without a database."""
    found: Rows = []
    for feature in grid_features():
        props = dict.fromkeys(grid_import.EXPORT_COLUMNS)
        props.update(feature.properties, community_code=feature.properties["grid_code"][:12])
        props.update(area_m2=round(area_m2(feature.geometry), 2), valid_from=JUN.isoformat())  # type: ignore[arg-type]
        found.append((feature.geometry, props))  # type: ignore[arg-type]
    return found


@pytest.fixture
def stored(container: Container, city: SmallCity) -> Rows:
    """Six grids with attributes (Chinese names among them) imported into the database."""
    grid_import.import_grids(
        container.deps, SYSTEM, grid_features(), valid_from=JUN, info=TEST_INFO, source="t"
    )
    return exported(container)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_export_then_import_keeps_geometry_codes_and_attributes(
    container: Container, stored: Rows, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    assert write_file(path, stored) == 6

    source = read_file(path)
    result = grid_import.import_grids(
        container.deps, SYSTEM, source.features, valid_from=SEP, info=TEST_INFO, source=str(path)
    )

    assert (source.crs, result.created, result.ended) == ("EPSG:4490", 6, 6)
    assert_same_grids(stored, exported(container))


def test_a_gbk_shapefile_carries_chinese_attributes_and_says_so_in_its_cpg(
    rows: Rows, tmp_path: Path
) -> None:
    path = tmp_path / "grids.zip"
    write_file(path, rows, encoding="gbk")

    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == [
            f"grids.{e}" for e in ("cpg", "dbf", "prj", "shp", "shx")
        ]
        assert archive.read("grids.cpg").decode().strip() == "GBK"
        dbf = archive.read("grids.dbf")
    assert "多福巷东片".encode("gbk") in dbf and "多福巷东片".encode() not in dbf
    names = [f.properties["name"] for f in read_file(path).features]
    assert names[0] == "多福巷东片" and names[4] == "银闸西"
    assert read_file(path).features[1].properties["responsible_party"] == "东华门街道办事处"


def test_a_shapefile_without_cpg_needs_the_right_encoding(rows: Rows, tmp_path: Path) -> None:
    written = tmp_path / "gbk.zip"
    write_file(written, rows, encoding="gbk")
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(bare, "w") as dst:
        for member in src.namelist():
            if not member.endswith(".cpg"):
                dst.writestr(member, src.read(member))

    with pytest.raises(InvalidInput) as refused:
        read_file(bare)
    read = read_file(bare, encoding="gbk")

    assert str(bare) in str(refused.value) and "--encoding" in str(refused.value)
    assert read.features[0].properties["name"] == "多福巷东片"


def test_long_shapefile_field_names_come_back_long(rows: Rows, tmp_path: Path) -> None:
    path = tmp_path / "grids.zip"
    write_file(path, rows)

    props = read_file(path).features[0].properties

    assert {"management_level", "responsible_party", "community_code"} <= set(props)


def test_text_a_shapefile_field_cannot_hold_is_refused_naming_the_feature(tmp_path: Path) -> None:
    rows: Rows = [(box(116.40, 39.90, 116.41, 39.91), {"name": "网" * 90})]
    path = tmp_path / "long.zip"

    with pytest.raises(InvalidInput, match=r"long\.zip: feature 0: name needs more than the 254"):
        write_file(path, rows)
    assert not path.exists()
    write_file(path, rows, encoding="gbk")  # 180 bytes in GBK fit


# --- coordinate systems ------------------------------------------------------------------------


def test_a_gcj02_file_lands_where_the_cgcs2000_original_is(rows: Rows, tmp_path: Path) -> None:
    path = tmp_path / "gcj.geojson"
    write_file(path, rows, crs="gcj02")
    assert "crs" not in json.loads(path.read_text(encoding="utf-8"))
    shifted = shapely.get_coordinates(read_file(path, crs="EPSG:4490").features[0].geometry)
    assert np.abs(shifted - shapely.get_coordinates(rows[0][0])).max() > 1e-4  # ~100s of m

    back = read_file(path, crs="gcj02")

    assert back.crs == "gcj02"
    for (original, _), feature in zip(rows, back.features, strict=True):
        assert feature.geometry is not None
        assert max_offset_m(original, feature.geometry) < 0.01


def test_a_gauss_kruger_shapefile_is_read_from_its_prj_without_crs(
    rows: Rows, tmp_path: Path
) -> None:
    path = tmp_path / "gk.zip"
    write_file(path, rows, crs="EPSG:4548")
    with zipfile.ZipFile(path) as archive:
        prj = archive.read("gk.prj").decode()
    assert "CGCS2000_3_Degree_GK_CM_117E" in prj
    metres = read_file(path, crs="EPSG:4548")  # the same system: no contradiction

    back = read_file(path)

    assert back.crs == metres.crs == "EPSG:4548"
    for (original, _), feature in zip(rows, back.features, strict=True):
        assert feature.geometry is not None
        assert max_offset_m(original, feature.geometry) < 0.001


def test_a_crs_that_contradicts_the_file_is_refused(rows: Rows, tmp_path: Path) -> None:
    path = tmp_path / "gk.gpkg"
    write_file(path, rows, crs="EPSG:4548")

    with pytest.raises(InvalidInput) as refused:
        read_file(path, crs="wgs84")

    assert str(refused.value) == (
        f"{path} says its coordinates are in EPSG:4548, but --crs says wgs84; "
        "leave --crs out or correct the file"
    )


def test_gcj02_over_a_file_labelled_wgs84_is_no_contradiction(rows: Rows, tmp_path: Path) -> None:
    path = tmp_path / "labelled.gpkg"
    gcj = [(from_stored_geometry(g, "gcj02"), p) for g, p in rows]
    write_file(path, gcj, crs="EPSG:4326")  # what a converter that knows no GCJ-02 label writes

    back = read_file(path, crs="gcj02")

    assert back.crs == "gcj02"
    assert max_offset_m(rows[0][0], back.features[0].geometry) < 0.01  # type: ignore[arg-type]


def test_coordinates_that_are_not_lon_lat_are_a_problem_of_their_feature(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "grid_code,wkt\n"
        f'{COMM_A1}001,"POLYGON((116.4 39.9,116.41 39.9,116.41 39.91,116.4 39.9))"\n'
        f'{COMM_A2}001,"POLYGON((500000 4400000,500100 4400000,500100 4400100,500000 4400000))"\n',
        encoding="utf-8",
    )

    features = read_file(path).features

    assert features[0].geometry is not None and features[0].problem is None
    assert features[1].geometry is None
    assert "coordinates not in EPSG:4490" in (features[1].problem or "")


# --- CSV --------------------------------------------------------------------------------------


def test_a_gbk_csv_with_its_own_geometry_column(tmp_path: Path) -> None:
    path = tmp_path / "grids.csv"
    path.write_bytes("编码,name,shape\n1,银闸,POINT (116.4 39.9)\n2,景山,\n".encode("gbk"))

    with pytest.raises(InvalidInput, match="has no WKT geometry column wkt or geometry"):
        read_file(path, encoding="gbk")
    features = read_file(path, encoding="gbk", wkt_column="shape").features

    assert features[0].properties == {"编码": "1", "name": "银闸"}
    assert features[0].geometry is not None and features[0].geometry.geom_type == "Point"
    assert (features[1].geometry, features[1].problem) == (None, "no geometry")


# --- bad files ----------------------------------------------------------------------------------


def _file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _zip_without(tmp_path: Path, stored: Rows, suffix: str) -> Path:
    full = tmp_path / "full.zip"
    write_file(full, stored)
    path = tmp_path / f"no{suffix}.zip"
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(path, "w") as dst:
        for member in src.namelist():
            if not member.endswith(suffix):
                dst.writestr(member, src.read(member))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d, s: _file(d / "x.zip", "not a zip"),
            "is not a readable zip archive",
        ),
        (lambda d, s: _zip_without(d, s, ".dbf"), "the Shapefile has no .dbf file beside its .shp"),
        (lambda d, s: _zip_without(d, s, ".shp"), "holds no Shapefile (.shp)"),
        (lambda d, s: _file(d / "x.gpkg", "nope"), "Cannot read"),
        (lambda d, s: _file(d / "x.geojson", "{"), "is not UTF-8 JSON"),
        (lambda d, s: d / "missing.gpkg", "Cannot read"),
        (lambda d, s: _file(d / "x.kml", ""), "unknown file type"),
    ],
    ids=["not a zip", "no dbf", "no shp", "bad gpkg", "bad json", "missing", "unknown type"],
)
def test_a_bad_file_is_refused_by_name(rows: Rows, tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path, rows)

    with pytest.raises(InvalidInput) as refused:
        read_file(path)

    assert str(path) in str(refused.value)
    assert message in str(refused.value)


def test_an_oversized_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_support, "MAX_INPUT_BYTES", 100)
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [], "pad": "x" * 200}))

    with pytest.raises(InvalidInput, match=r"big\.geojson holds .* MB, more than the"):
        read_file(path)


def test_a_zip_with_several_shapefiles_asks_for_a_layer(rows: Rows, tmp_path: Path) -> None:
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    write_file(one, rows[:2])
    write_file(two, rows[2:])
    both = tmp_path / "both.zip"
    with zipfile.ZipFile(both, "w") as dst:
        for part in (one, two):
            with zipfile.ZipFile(part) as src:
                for member in src.namelist():
                    dst.writestr(member, src.read(member))

    with pytest.raises(
        InvalidInput, match=r"several Shapefiles \(one, two\); choose one with --layer"
    ):
        read_file(both)
    assert len(read_file(both, layer="two").features) == 4
