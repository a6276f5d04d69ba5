"""Census files in and out (no database): every format, encodings, coordinate systems, the
standard's abbreviations, and row numbers as a person sees them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping

from gridcity.adapters.component_columns import Abbreviations, export_columns
from gridcity.adapters.component_export import ExportFormat, open_writer, parse_format
from gridcity.adapters.component_files import ComponentFile, ReadOptions, read_components
from gridcity.adapters.crs import convert_points, transform
from gridcity.domain.errors import InvalidInput

PLAIN = ReadOptions(class_digits=5, attribute_names=frozenset({"material"}))
HEADER = "GLBJMC,ZGBMDM,ZGBMMC,GLBJZT,CSRQ,PointX,PointY,BZ"
ROW = "供水井盖,11110101MB12345677,区园林绿化局,完好,20260115,116.4012,39.9012,东口"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path, **options: Any) -> ComponentFile:
    return read_components(path, ReadOptions(**{**PLAIN.__dict__, **options}))


def problems(found: ComponentFile) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in found.problems]


def xy(found: ComponentFile, i: int) -> tuple[float, float]:
    geom = found.geometry[i]
    return round(geom.x, 7), round(geom.y, 7)


# --- CSV -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_is_read_in_utf_8_with_or_without_bom_and_in_gb18030(
    tmp_path: Path, encoding: str
) -> None:
    found = read(write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n", encoding))
    assert found.values["name"] == ["供水井盖"]
    assert found.values["competent"] == ["11110101MB12345677"]
    assert found.values["note"] == ["东口"]
    assert xy(found, 0) == (116.4012, 39.9012)


def test_an_encoding_given_that_does_not_fit_is_refused_by_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", f"{HEADER}\n{ROW}\n", "gb18030")
    with pytest.raises(InvalidInput) as refused:
        read(path, encoding="utf-8")
    assert refused.value.code == "file_encoding_wrong" and "a.csv" in str(refused.value)


def test_csv_rows_are_sheet_rows_blank_lines_and_quoted_line_breaks_counted(tmp_path: Path) -> None:
    text = f'{HEADER}\n{ROW}\n\n供水井盖,,"两\n行",坏,20260115,116.4,39.9,\n{ROW}\n'
    found = read(write(tmp_path / "a.csv", text))
    assert found.rows == [2, 4, 5]  # row 3 is blank; row 4 spans two lines and is one row
    assert found.values["competent"][1] == "两\n行"  # the code is empty: the name is used
    assert found.by_name["competent"] == {4}


def test_a_department_given_by_code_and_name_is_taken_by_its_code(tmp_path: Path) -> None:
    text = f"{HEADER}\n{ROW}\n供水井盖,,区市政管理委员会,完好,20260115,116.4,39.9,\n"
    found = read(write(tmp_path / "a.csv", text))
    assert found.values["competent"] == ["11110101MB12345677", "区市政管理委员会"]
    assert found.column_of("competent", 2, {}) == "ZGBMDM"
    assert found.column_of("competent", 3, {}) == "ZGBMMC"


def test_the_cjt_214_names_and_our_own_names_are_understood(tmp_path: Path) -> None:
    cjt = (
        "ObjID,ObjName,DeptCode1,DeptName1,DeptCode2,DeptName2,DeptCode3,DeptName3,BGID,"
        "ObjState,ORDate,CHDate,DataSource,Note,PointX,PointY,LocateDSC\n"
        "3205080101000001,上水井盖,A1,甲,A2,乙,A3,丙,320508001001001,丢失,2013-05-01,"
        "2014-01-01,实测,备注,120.6,31.3,福利村十四组东北约83米\n"
    )
    found = read(write(tmp_path / "cjt.csv", cjt))
    v = found.values
    assert (v["identifier"], v["name"], v["state"]) == (
        ["3205080101000001"],
        ["上水井盖"],
        ["丢失"],
    )
    assert (v["competent"], v["owner"], v["maintainer"]) == (["A1"], ["A2"], ["A3"])
    assert (v["census_date"], v["changed_on"]) == (["2013-05-01"], ["2014-01-01"])
    assert (v["data_source"], v["note"]) == (["实测"], ["备注"])
    assert v["position_text"] == ["福利村十四组东北约83米"]
    assert found.columns.derived == ("BGID",)
    ours = (
        "identifier,class_code,name,competent,owner,maintainer,state,census_date,changed_on,"
        "data_source,accuracy,position_text,note,lon,lat,grid_code\n"
        "11010101001000001,01001,井盖,甲,乙,丙,intact,2026-01-01,,实测,A,东口,,116.4,39.9,x\n"
    )
    found = read(write(tmp_path / "ours.csv", ours))
    assert found.values["class_code"] == ["01001"] and found.values["accuracy"] == ["A"]
    assert found.columns.derived == ("grid_code",)


def test_headers_match_without_regard_to_case_and_chinese_field_names_too(tmp_path: Path) -> None:
    text = "管理部件名称,主管部门名称,OBJSTATE,经度,纬度\n垃圾箱,区园林绿化局,破损,116.41,39.91\n"
    found = read(write(tmp_path / "a.csv", text))
    assert found.values["name"] == ["垃圾箱"] and found.values["state"] == ["破损"]
    assert found.values["competent"] == ["区园林绿化局"]
    assert xy(found, 0) == (116.41, 39.91)


def test_unknown_columns_refuse_the_file_or_are_left_out_when_asked(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", f"{HEADER},Material2,SetLoc\n{ROW},铸铁,人行道\n")
    with pytest.raises(InvalidInput) as refused:
        read(path)
    assert refused.value.code == "census_unknown_columns"
    assert "Material2, SetLoc" in str(refused.value) and "a.csv" in str(refused.value)
    found = read(path, ignore_unknown=True)
    assert found.columns.ignored == ("Material2", "SetLoc")


def test_two_columns_for_one_field_refuse_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        read(write(tmp_path / "a.csv", "GLBJBSM,ObjID,lon,lat\n1,2,116,39\n"))
    assert refused.value.code == "census_duplicate_column"
    assert "GLBJBSM" in str(refused.value) and "ObjID" in str(refused.value)


def test_a_file_without_a_position_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        read(write(tmp_path / "a.csv", "GLBJMC,ZGBMMC,PointX\n井盖,甲,116\n"))
    assert refused.value.code == "census_position_columns_missing"


def test_an_empty_file_and_an_unknown_extension_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as empty:
        read(write(tmp_path / "empty.csv", ""))
    assert empty.value.code == "empty_census_file" and "empty.csv" in str(empty.value)
    with pytest.raises(InvalidInput) as unknown:
        read(write(tmp_path / "a.xls", "x"))
    assert unknown.value.code == "census_file_format_unknown"


def test_extension_attributes_are_columns_named_after_a_field_or_prefixed(tmp_path: Path) -> None:
    text = "class_code,competent,lon,lat,material,attr_diameter\n01001,甲,116.4,39.9,铸铁,600\n01001,甲,116.4,39.9,,\n"
    found = read(write(tmp_path / "a.csv", text))
    assert found.attributes == [{"material": "铸铁", "diameter": "600"}, {}]
    assert found.column_of("attributes", 2, {"name": "diameter"}) == "attr_diameter"


def test_cells_that_are_not_coordinates_are_problems_of_their_row_and_column(
    tmp_path: Path,
) -> None:
    text = "name,competent,lon,lat\n甲,甲,东经116,39.9\n乙,甲,116.4,\n丙,甲,,\n丁,甲,200,39.9\n"
    found = read(write(tmp_path / "a.csv", text))
    assert problems(found) == [
        (2, "lon", "invalid_coordinate"),
        (5, "lon+lat", "coordinates_not_in_crs"),
    ]
    assert list(found.geometry) == [None, None, None, None]  # rows 3 and 4: add_components says
    assert found.geometry_rows == {2, 5}


def test_wkt_gives_lines_and_polygons_and_wins_over_lon_lat(tmp_path: Path) -> None:
    line = "LINESTRING (116.41 39.90, 116.42 39.91)"
    text = (
        "name,competent,lon,lat,wkt\n"
        f'甲,甲,116.4,39.9,"{line}"\n'
        "乙,甲,116.4,39.9,\n"
        '丙,甲,,,"SRID=4326;POINT (116.43 39.93)"\n'
        '丁,甲,,,"POINT (116.4"\n'
    )
    found = read(write(tmp_path / "a.csv", text))
    assert found.geometry[0].equals(shapely.from_wkt(line))
    assert xy(found, 1) == (116.4, 39.9)
    assert xy(found, 2) == (116.43, 39.93)  # WGS-84 = CGCS2000 at map precision
    assert problems(found) == [(5, "wkt", "unreadable_wkt")]
    assert found.column_of("geometry", 5, {}) == "wkt / lon+lat"


def test_lon_lat_columns_are_read_in_the_crs_given(tmp_path: Path) -> None:
    gcj = convert_points(np.array([[116.4012, 39.9012]]), "EPSG:4490", "gcj02")[0]
    text = f"name,competent,lon,lat\n甲,甲,{float(gcj[0])!r},{float(gcj[1])!r}\n"
    found = read(write(tmp_path / "a.csv", text), crs="gcj02")
    assert found.crs == "gcj02"
    assert xy(found, 0) == (116.4012, 39.9012)
    metres = transform(Point(116.4012, 39.9012), 4490, 4548)
    text = f"name,competent,PointX,PointY\n甲,甲,{metres.x!r},{metres.y!r}\n"
    found = read(write(tmp_path / "b.csv", text), crs="EPSG:4548")
    assert xy(found, 0) == (116.4012, 39.9012)
    found = read(write(tmp_path / "c.csv", text))  # metres are no lon/lat: said so
    assert problems(found) == [(2, "PointX+PointY", "coordinates_not_in_crs")]


# --- Excel ---------------------------------------------------------------------------------------


def test_excel_rows_are_sheet_rows_below_a_title_and_numbers_are_handled(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["东城区部件普查表"])  # a title above the header
    sheet.append(["GLBJBSM", "部件类别代码", "ZGBMMC", "CSRQ", "PointX", "PointY"])
    sheet.append(["11010101001000001", 1001, "甲", 20260115, 116.4012, 39.9012])
    sheet.append([None, None, None, None, None, None])
    sheet.append([11010101001000002, "01001", "甲", "2026-01-16", 116.4, 39.9])
    from datetime import datetime

    sheet.append([None, "03005", "甲", datetime(2026, 1, 17), 116.41, 39.91])
    book.save(tmp_path / "普查.xlsx")
    found = read(tmp_path / "普查.xlsx")
    assert found.rows == [3, 5, 6]
    assert found.values["class_code"] == ["01001", "01001", "03005"]  # the lost zero put back
    assert found.values["census_date"] == ["20260115", "2026-01-16", "2026-01-17"]
    assert found.values["identifier"] == ["11010101001000001", "", ""]
    assert problems(found) == [(5, "GLBJBSM", "identifier_not_text")]
    assert xy(found, 0) == (116.4012, 39.9012)


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        read(write(tmp_path / "a.xlsx", "GLBJMC,lon,lat\n"))
    assert refused.value.code == "file_unreadable" and "a.xlsx" in str(refused.value)


# --- GeoJSON, Shapefile ----------------------------------------------------------------------------


def collection(
    features: list[tuple[Any, dict[str, Any]]], crs: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(g) if g is not None else None, "properties": p}
            for g, p in features
        ],
    }
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return data


def test_geojson_features_are_numbered_from_1_and_their_crs_honoured(tmp_path: Path) -> None:
    metres = transform(Point(116.4012, 39.9012), 4490, 4548)
    data = collection(
        [
            (
                metres,
                {
                    "GLBJMC": "供水井盖",
                    "ZGBMMC": "甲",
                    "lon": 1.0,
                    "attributes": {"material": "铸铁"},
                },
            ),
            (None, {"GLBJMC": "垃圾箱", "ZGBMMC": "甲"}),
        ],
        crs="urn:ogc:def:crs:EPSG::4548",
    )
    path = write(tmp_path / "a.geojson", json.dumps(data, ensure_ascii=False))
    found = read(path)
    assert found.rows == [1, 2]
    assert found.crs == "EPSG:4548"
    assert xy(found, 0) == (116.4012, 39.9012)
    assert found.geometry[1] is None  # add_components reports it ("no position")
    assert found.attributes == [{"material": "铸铁"}, {}]
    assert found.columns.derived == ("lon",)  # the geometry is the position
    with pytest.raises(InvalidInput) as refused:
        read(path, crs="EPSG:4326")
    assert refused.value.code == "file_crs_contradiction"


def test_a_geojson_feature_with_an_unusable_geometry_is_a_problem_of_its_number(
    tmp_path: Path,
) -> None:
    data = collection([(Point(116.4, 39.9), {"name": "甲"})])
    data["features"].append(
        {"type": "Feature", "geometry": {"type": "Point"}, "properties": {"name": "乙"}}
    )
    found = read(write(tmp_path / "a.geojson", json.dumps(data)))
    assert problems(found) == [(2, "geometry", "unreadable_geometry")]


def test_a_zipped_shapefile_is_read_in_its_prj_crs(tmp_path: Path) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    metres = transform(Point(116.4012, 39.9012), 4490, 4548)
    fields = {"OBJNAME": ["上水井盖"], "DEPTNAME1": ["甲"], "ORDATE": ["20130501"]}
    _write_shapefile(folder / "部件.shp", [metres], fields, "EPSG:4548")
    archive = tmp_path / "部件.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    found = read(archive)
    assert found.values["name"] == ["上水井盖"] and found.values["competent"] == ["甲"]
    assert found.values["census_date"] == ["20130501"]
    assert xy(found, 0) == (116.4012, 39.9012)


def _write_shapefile(path: Path, geoms: list[Any], fields: dict[str, list[str]], crs: str) -> None:
    import pyogrio.raw

    wkb = np.empty(len(geoms), dtype=object)
    wkb[:] = [shapely.to_wkb(g) for g in geoms]
    columns = [np.array(v, dtype=object) for v in fields.values()]
    pyogrio.raw.write(
        path, wkb, columns, fields=list(fields), crs=crs, driver="ESRI Shapefile",
        geometry_type=geoms[0].geom_type, encoding="UTF-8",
    )  # fmt: skip


# --- out and back in -------------------------------------------------------------------------------


def exported_rows() -> tuple[np.ndarray, list[list[Any]]]:
    geoms = np.empty(4, dtype=object)
    geoms[:] = [
        Point(116.4012, 39.9012),
        Point(116.4022, 39.9022),
        LineString([(116.41, 39.90), (116.411, 39.901)]),
        Polygon([(116.402, 39.903), (116.403, 39.903), (116.403, 39.904), (116.402, 39.904)]),
    ]
    rows = [
        ["11010101001000001", "供水井盖", "", "区园林绿化局", "=1+1", "20260115", "铸铁"],
        ["11010101001000002", "供水井盖", "X1", "区市政", '含,逗号 "引号"', "20260115", ""],
        ["11010102017000001", "交通护栏", "", "区市政", "两\n行", "20260110", ""],
        ["11010104013000001", "绿地", "", "区园林绿化局", "", "20260110", ""],
    ]
    return geoms, rows


COLUMNS = ["GLBJBSM", "GLBJMC", "ZGBMDM", "ZGBMMC", "BZ", "CSRQ", "material"]


@pytest.mark.parametrize("format", list(ExportFormat))
def test_every_format_written_reads_back_the_same(tmp_path: Path, format: ExportFormat) -> None:
    geoms, rows = exported_rows()
    target = tmp_path / f"部件{format.suffix}"
    with open_writer(format, target, COLUMNS) as writer:
        writer.write(geoms[:2], rows[:2])  # in two chunks, as an export streams
        writer.write(geoms[2:], rows[2:])
    found = read(target)
    if format is ExportFormat.SHAPEFILE:  # one Shapefile per kind, read in name order
        with zipfile.ZipFile(target) as zf:
            stems = sorted({Path(n).stem for n in zf.namelist()})
        assert stems == ["部件_line", "部件_point", "部件_polygon"]
        assert found.layers == (("部件_line", 1, 1), ("部件_point", 2, 3), ("部件_polygon", 4, 4))
        order = [2, 0, 1, 3]
        geoms, rows = geoms[order], [rows[i] for i in order]
    assert found.values["identifier"] == [r[0] for r in rows]
    assert found.values["note"] == [r[4] for r in rows]  # a formula stays text, both ways
    assert found.values["competent"] == [r[2] or r[3] for r in rows]
    assert found.attributes == [{"material": "铸铁"} if r[6] else {} for r in rows]
    for got, want in zip(found.geometry, geoms, strict=True):
        assert shapely.normalize(got).equals_exact(shapely.normalize(want), 1e-9)


def test_a_shapefile_of_one_geometry_kind_is_named_like_its_zip(tmp_path: Path) -> None:
    geoms, rows = exported_rows()
    target = tmp_path / "points.zip"
    with open_writer(ExportFormat.SHAPEFILE, target, COLUMNS) as writer:
        writer.write(geoms[:2], rows[:2])
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == sorted(
            f"points{s}" for s in (".cpg", ".dbf", ".prj", ".shp", ".shx")
        )


def test_a_failed_export_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    geoms, rows = exported_rows()
    target = tmp_path / "a.geojson"
    target.write_text("old", "utf-8")
    with pytest.raises(RuntimeError), open_writer(ExportFormat.GEOJSON, target, COLUMNS) as writer:
        writer.write(geoms, rows)
        raise RuntimeError("the database went away")
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.geojson"]


def test_excel_refuses_a_cell_it_cannot_hold(tmp_path: Path) -> None:
    geoms, rows = exported_rows()
    rows[0][4] = "控制\x07字符"
    with (
        pytest.raises(InvalidInput) as refused,
        open_writer(ExportFormat.EXCEL, tmp_path / "a.xlsx", COLUMNS) as w,
    ):
        w.write(geoms, rows)
    assert refused.value.code == "export_cell_unfit" and "11010101001000001" in str(refused.value)


def test_export_formats_and_shapefile_names(tmp_path: Path) -> None:
    assert (
        parse_format("zip") is ExportFormat.SHAPEFILE
        and parse_format("Excel") is ExportFormat.EXCEL
    )
    with pytest.raises(InvalidInput) as refused:
        parse_format("kml")
    assert refused.value.code == "export_format_unknown"
    for abbreviations in Abbreviations:
        names = [c for c, _ in export_columns(abbreviations, shapefile=True)]
        assert all(len(n) <= 10 for n in names), names


def test_a_geopackage_is_read_in_its_own_crs(tmp_path: Path) -> None:
    from gridcity.adapters.feature_io import write_file

    target = tmp_path / "部件.gpkg"
    write_file(
        target, [(Point(116.4012, 39.9012), {"GLBJMC": "垃圾箱", "ZGBMMC": "甲"})], crs="EPSG:4548"
    )
    found = read(target)
    assert found.crs == "EPSG:4548" and found.values["name"] == ["垃圾箱"]
    assert xy(found, 0) == (116.4012, 39.9012)
