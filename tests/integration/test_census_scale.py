"""Census files at city scale (no database): their own limits (not a grid file's), GeoJSON
read as it streams with every behaviour of the whole-file reader, and Excel read with
python-calamine giving the same text as openpyxl did, cell type by cell type."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, mapping

from gridcity.adapters import file_support
from gridcity.adapters.component_files import ComponentFile, ReadOptions, read_components
from gridcity.adapters.component_tables import (
    _flat,
    read_excel_table,
    read_feature_table,
    text_of,
)
from gridcity.adapters.crs import transform
from gridcity.adapters.feature_io import read_file, write_file
from gridcity.adapters.geojson_files import stream_features
from gridcity.domain.errors import InvalidInput
from gridcity.services.component_writes import MAX_ROWS

OPTIONS = ReadOptions(class_digits=5, attribute_names=frozenset({"material"}))


def read(path: Path, **options: Any) -> ComponentFile:
    return read_components(path, ReadOptions(**{**OPTIONS.__dict__, **options}))


def problems(found: ComponentFile) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in found.problems]


def xy(found: ComponentFile, i: int) -> tuple[float, float]:
    geom = found.geometry[i]
    return round(geom.x, 7), round(geom.y, 7)


def no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


def feature(geometry: Any, properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def write_json(path: Path, data: Any, *, bom: bool = False) -> Path:
    text = json.dumps(data, ensure_ascii=False)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def point_lines(path: Path, n: int, *, tail: str = "") -> Path:
    """A compact census GeoJSON of ``n`` points, one feature per line (as our export writes)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        for i in range(n):
            x, y = 116.3 + (i % 1000) * 1e-4, 39.8 + (i // 1000) * 1e-5
            fh.write(
                f'{{"type":"Feature","properties":{{"GLBJMC":"垃圾箱","ZGBMMC":"区环卫中心",'
                f'"GLBJBSM":"1101010401300{i:04d}"}},'
                f'"geometry":{{"type":"Point","coordinates":[{x:.6f},{y:.6f}]}}}}'
                + (",\n" if i < n - 1 else "\n")
            )
        fh.write(f"]{tail}}}\n")
    return path


# --- the limits of a census file -------------------------------------------------------------


def test_a_census_takes_as_many_rows_as_add_components() -> None:
    assert file_support.MAX_CENSUS_ROWS == MAX_ROWS
    assert file_support.MAX_CENSUS_BYTES == 1024 * 2**20
    assert ReadOptions().max_rows == MAX_ROWS and ReadOptions().max_bytes == 1024 * 2**20


def test_more_than_a_grid_files_200000_features_are_read_for_a_census(tmp_path: Path) -> None:
    n = file_support.MAX_FEATURES + 1
    path = point_lines(tmp_path / "全区部件.geojson", n)
    with pytest.raises(InvalidInput) as grid:  # a grid file keeps its limit
        read_file(path)
    assert grid.value.code == "file_too_many_features" and "200000" in str(grid.value)
    seen: list[tuple[str, int, int]] = []
    found = read_components(
        path, ReadOptions(class_digits=5), lambda *step: seen.append((step[0], step[1], step[2]))
    )
    assert len(found.rows) == n and found.rows[0] == 1 and found.rows[-1] == n
    assert not found.problems and found.crs == "EPSG:4490"
    assert found.values["identifier"][-1] == f"1101010401300{n - 1:04d}"
    assert xy(found, n - 1) == (116.3 + ((n - 1) % 1000) * 1e-4, 39.8 + ((n - 1) // 1000) * 1e-5)
    size = path.stat().st_size
    moved = [done for stage, done, total in seen if stage == "read" and total == size]
    assert len(moved) > 3 and moved == sorted(moved) and moved[-1] == size  # the bar moves


@pytest.mark.parametrize("suffix", [".geojson", ".zip", ".gpkg"])
def test_a_geo_file_over_the_census_row_limit_is_refused_naming_file_and_limit(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"部件{suffix}"
    points = [
        (Point(116.4 + i * 1e-4, 39.9), {"GLBJMC": "垃圾箱", "ZGBMMC": "甲"}) for i in range(6)
    ]
    write_file(path, points)
    assert len(read(path, max_rows=6).rows) == 6
    with pytest.raises(InvalidInput) as refused:
        read(path, max_rows=5)
    assert refused.value.code == "file_too_many_features"
    assert f"部件{suffix}" in str(refused.value) and "more than 5 features" in str(refused.value)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".zip"])
def test_a_census_file_over_the_census_size_is_refused_naming_file_and_limit(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"big{suffix}"
    if suffix == ".csv":
        path.write_text("GLBJMC,ZGBMMC,lon,lat\n" + "垃圾箱,甲,116.4,39.9\n" * 60_000, "utf-8")
    elif suffix == ".xlsx":
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["GLBJMC", "ZGBMMC", "lon", "lat"])
        for i in range(50_000):
            sheet.append(["垃圾箱", f"部门{i}", 116.4 + i * 1e-7, 39.9 - i * 1e-7])
        book.save(path)
    else:
        rng = np.random.default_rng(1)
        notes = [rng.bytes(100).hex() for _ in range(12_000)]  # compresses little
        write_file(path, [(Point(116.4, 39.9), {"GLBJMC": "垃圾箱", "BZ": n}) for n in notes])
    assert path.stat().st_size > 2**20
    assert len(read(path, ignore_unknown=True).rows) > 0  # within the census limit
    with pytest.raises(InvalidInput) as refused:
        read(path, max_bytes=2**20)
    assert refused.value.code == "file_too_large"
    assert f"big{suffix}" in str(refused.value) and "more than the 1 MB" in str(refused.value)


def test_a_workbook_that_unpacks_beyond_four_times_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<a/>" + " " * (5 * 2**20))
    assert path.stat().st_size < 2**20
    with pytest.raises(InvalidInput) as refused:
        read(path, max_bytes=2**20)
    assert refused.value.code == "file_too_large" and "bomb.xlsx" in str(refused.value)
    assert "more than the 4 MB" in str(refused.value)


def test_a_census_shapefile_may_unpack_to_four_times_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "部件.zip"
    rows = [(Point(116.4, 39.9), {"GLBJMC": "垃圾箱", "BZ": "备注"}) for _ in range(3000)]
    write_file(path, rows)
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
    limit = unpacked // 3  # the zip is far smaller; its parts are three times the limit
    assert path.stat().st_size < limit
    assert len(read(path, max_bytes=limit).rows) == 3000
    with pytest.raises(InvalidInput) as refused:
        read(path, max_bytes=unpacked // 5)
    assert refused.value.code == "file_too_large" and "部件.zip" in str(refused.value)


def test_a_grid_file_keeps_its_own_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_json(
        tmp_path / "grids.geojson",
        {"type": "FeatureCollection", "features": [feature(mapping(Point(116.4, 39.9)), {})] * 3},
    )
    monkeypatch.setattr(file_support, "MAX_FEATURES", 2)
    with pytest.raises(InvalidInput) as refused:
        read_file(path)
    assert refused.value.code == "file_too_many_features" and "more than 2" in str(refused.value)
    assert len(read(path).rows) == 3  # the census limit is its own


# --- GeoJSON streamed ------------------------------------------------------------------------------


def test_a_crs_member_after_the_features_is_honoured(tmp_path: Path) -> None:
    metres = transform(Point(116.4012, 39.9012), 4490, 4548)
    path = tmp_path / "a.geojson"
    text = (
        '{"features":[{"type":"Feature","properties":{"GLBJMC":"井盖","ZGBMMC":"甲"},'
        f'"geometry":{{"type":"Point","coordinates":[{metres.x!r},{metres.y!r}]}}}}],'
        '"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4548"}},'
        '"type":"FeatureCollection"}'
    )
    path.write_text(text, "utf-8")
    found = read(path)
    assert found.crs == "EPSG:4548" and xy(found, 0) == (116.4012, 39.9012)
    with pytest.raises(InvalidInput) as refused:
        read(path, crs="EPSG:4326")
    assert refused.value.code == "file_crs_contradiction"
    path.write_text(text.replace("urn:ogc:def:crs:EPSG::4548", "本地坐标"), "utf-8")
    with pytest.raises(InvalidInput) as unknown:
        read(path)
    assert unknown.value.code == "file_crs_unknown" and "本地坐标" in str(unknown.value)


def test_a_crs_before_the_features_and_none_at_all_both_work(tmp_path: Path) -> None:
    metres = transform(Point(116.4012, 39.9012), 4490, 4548)
    data = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:4548"}},
        "features": [feature(mapping(metres), {"GLBJMC": "井盖", "ZGBMMC": "甲"})],
    }
    found = read(write_json(tmp_path / "a.geojson", data))
    assert found.crs == "EPSG:4548" and xy(found, 0) == (116.4012, 39.9012)
    del data["crs"]
    data["features"] = [feature(mapping(Point(116.4012, 39.9012)), {"GLBJMC": "井盖"})]
    found = read(write_json(tmp_path / "b.geojson", data))
    assert found.crs == "EPSG:4490" and xy(found, 0) == (116.4012, 39.9012)
    found = read(tmp_path / "b.geojson", crs="EPSG:4326")  # said by --crs when the file cannot
    assert found.crs == "EPSG:4326"


def mixed_collection() -> dict[str, Any]:
    """Every kind of feature the whole-file reader handles, keys varying from one to the next."""
    return {
        "type": "FeatureCollection",
        "name": "部件",
        "bbox": [116, 39, 117, 40],
        "features": [
            feature(mapping(Point(116.4, 39.9)), {"GLBJMC": "井盖", "ZGBMMC": "甲", "n": 1}),
            feature(mapping(Point(116.41, 39.91)), {"GLBJMC": "井盖", "ZGBMMC": "甲", "n": 2}),
            feature(
                mapping(LineString([(116.4, 39.9), (116.5, 40.0)])),
                {"ZGBMMC": "乙", "GLBJMC": "护栏", "attributes": {"material": "钢", "h": 1.2}},
            ),
            feature(None, {"GLBJMC": "垃圾箱", "BZ": None}),
            {"type": "NotAFeature", "properties": {"GLBJMC": "x"}},
            feature({"type": "Point"}, {"GLBJMC": "坏点"}),
            feature({"type": "Point", "coordinates": [116.4, 39.9, 12.5]}, {"GLBJMC": "三维"}),
            feature({"type": "Point", "coordinates": [116, 40]}, {"GLBJMC": "整数", "n": 3}),
            feature({"type": "Point", "coordinates": ["116", "39"]}, {"GLBJMC": "文字坐标"}),
            feature({"type": "Point", "coordinates": [True, 39]}, {}),
            feature({"type": "Point", "coordinates": []}, {"GLBJMC": "空点"}),
            feature(
                mapping(Polygon([(116.4, 39.9), (116.5, 39.9), (116.5, 40.0)])),
                "properties that are not an object",
            ),
            feature(mapping(Point(200.0, 39.9)), {"GLBJMC": "经度越界"}),
            feature({"type": "Point", "coordinates": [116.42, 39.92]}, None),
            "a string in the features",
            feature(
                mapping(Point(116.43, 39.93)),
                {"GLBJMC": "井盖", "big": 123456789012345678, "f": 0.1, "ok": True, "l": [1]},
            ),
        ],
    }


def whole_file_table(path: Path) -> tuple[list[str], list[list[Any]], list[Any], dict[int, str]]:
    """What the census read before streaming: the whole-file reader's features as columns."""
    found = read_file(path, max_features=10**9)
    props = [_flat(f.properties) for f in found.features]
    names = list(dict.fromkeys(k for p in props for k in p))
    reasons = {
        i: str(f.problem)
        for i, f in enumerate(found.features)
        if f.problem is not None and f.problem != "no geometry"
    }
    return (
        names,
        [[p.get(n) for p in props] for n in names],
        [f.geometry for f in found.features],
        reasons,
    )


@pytest.mark.parametrize("bom", [False, True])
def test_streaming_reads_what_the_whole_file_reader_reads(tmp_path: Path, bom: bool) -> None:
    path = write_json(tmp_path / "mixed.json", mixed_collection(), bom=bom)
    names, cells, geometries, reasons = whole_file_table(path)
    table = read_feature_table(path, None, None, no_progress)
    assert table.headers == names
    assert table.cells == cells
    assert table.rows == list(range(1, len(geometries) + 1))
    assert {i: str(r) for i, r in table.reasons.items()} == reasons
    assert reasons[4] == "not a GeoJSON Feature" and "unreadable geometry" in reasons[5]
    assert "coordinates not in EPSG:4490" in reasons[12]
    assert table.geometries is not None
    for got, want in zip(table.geometries, geometries, strict=True):
        assert (got is None and want is None) or shapely.equals_exact(got, want, 1e-12)
    assert [table.cells[names.index("n")][i] for i in (0, 1, 7)] == [1, 2, 3]
    assert table.cells[names.index("attr_material")][2] == "钢"


def test_bad_features_are_problems_of_their_numbers(tmp_path: Path) -> None:
    path = write_json(tmp_path / "mixed.geojson", mixed_collection())
    found = read(path, ignore_unknown=True)
    bad = [(row, code) for row, _column, code in problems(found)]
    assert (5, "unreadable_geometry") in bad and (6, "unreadable_geometry") in bad
    assert (13, "unreadable_geometry") in bad and (15, "unreadable_geometry") in bad
    assert found.geometry_rows >= {5, 6, 13, 15}
    assert found.attributes is not None and found.attributes[2] == {"material": "钢", "h": "1.2"}


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'[{"type": "Feature"}]', "file_not_feature_collection"),
        (b'{"type": "Feature", "geometry": null, "properties": {}}', "file_not_feature_collection"),
        (b'{"type": "FeatureCollection"}', "file_not_feature_collection"),
        (b'{"type": "FeatureCollection", "features": {}}', "file_not_feature_collection"),
        (b'{"features": [], "type": "GeometryCollection"}', "file_not_feature_collection"),
        (b'{"features": []}', "file_not_feature_collection"),
        (b'{"type": "FeatureCollection", "features": [', "file_not_json"),
        (b'{"type": "FeatureCollection", "features": []} trailing', "file_not_json"),
        (
            '{"type": "FeatureCollection", "features": [], "name": "部件"}'.encode("gbk"),
            "file_not_json",
        ),
        (b"", "file_not_json"),
    ],
)
def test_a_file_that_is_not_a_utf8_feature_collection_is_refused_by_name(
    tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "坏文件.geojson"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as refused:
        read(path)
    assert refused.value.code == code and "坏文件.geojson" in str(refused.value)


def test_an_empty_collection_holds_no_rows(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.geojson", {"type": "FeatureCollection", "features": []})
    found = stream_features(path, max_features=10, progress=no_progress)
    assert (found.count, found.headers, len(found.geometries)) == (0, [], 0)


def test_numbers_beyond_64_bits_are_read_as_json_reads_them(tmp_path: Path) -> None:
    data = {
        "type": "FeatureCollection",
        "features": [feature(mapping(Point(116.4, 39.9)), {"id": 12345678901234567890123})],
    }
    found = stream_features(
        write_json(tmp_path / "a.geojson", data), max_features=10, progress=no_progress
    )
    assert found.cells == [[12345678901234567890123]]


# --- Excel through python-calamine, as openpyxl gave it -----------------------------------------------

CELLS: list[tuple[str, Any]] = [
    ("text", "  井盖 "),
    ("int", 1001),
    ("negative", -5),
    ("zero", 0),
    ("float", 116.4012),
    ("whole float", 3.0),
    ("15 digits", 110101010010000),
    ("17 digits", 11010101001000002),
    ("huge", 1e20),
    ("tiny", 1e-07),
    ("date", date(2026, 1, 17)),
    ("midnight", datetime(2026, 1, 17)),
    ("datetime", datetime(2026, 1, 17, 8, 30, 15)),
    ("microseconds", datetime(2026, 1, 17, 8, 30, 15, 500000)),
    ("time", time(8, 30)),
    ("duration", timedelta(days=1, hours=2, minutes=3)),
    ("true", True),
    ("false", False),
    ("empty", None),
    ("blank text", "   "),
    ("formula", "=1+1"),
    ("percent", 0.25),
]


def openpyxl_cells(path: Path) -> list[tuple[Any, ...]]:
    """The sheet as the census read it before python-calamine: openpyxl, read-only, values."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def number_checked(value: Any) -> bool:
    """What ``identifier_not_text`` looks at."""
    return isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15)


def test_every_cell_type_gives_the_text_openpyxl_gave(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["GLBJMC", "CSRQ"])
    for row, (name, value) in enumerate(CELLS, start=2):
        sheet.append([name, value])
        if name == "percent":
            sheet.cell(row, 2).number_format = "0%"
    path = tmp_path / "types.xlsx"
    book.save(path)
    before = [row[1] for row in openpyxl_cells(path)[1:]]
    table = read_excel_table(path, no_progress)
    after = table.cells[1]
    assert table.rows == list(range(2, len(CELLS) + 2))
    assert [text_of(v) for v in after] == [text_of(v) for v in before]
    assert [number_checked(v) for v in after] == [number_checked(v) for v in before]
    for (name, _), got, want in zip(CELLS, after, before, strict=True):
        if text_of(want):  # the same kind of value, not only the same text
            assert type(got) is type(want), name
    texts = dict(zip((n for n, _ in CELLS), (text_of(v) for v in after), strict=True))
    assert texts["text"] == "井盖" and texts["int"] == "1001" and texts["whole float"] == "3"
    assert texts["date"] == texts["midnight"] == "2026-01-17"
    assert texts["datetime"] == "2026-01-17T08:30:15"
    assert texts["microseconds"] == "2026-01-17T08:30:15.500000"
    assert texts["time"] == "08:30:00" and texts["duration"] == "26:03:00"
    assert (texts["true"], texts["false"]) == ("true", "false")
    assert texts["empty"] == texts["blank text"] == texts["formula"] == ""  # no cached value
    assert texts["15 digits"] == "110101010010000" and texts["tiny"] == "1e-07"


def test_a_census_sheet_reads_the_same_values_and_problems_as_with_openpyxl(
    tmp_path: Path,
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["东城区部件普查表"])
    sheet.append([])
    sheet.append(["GLBJBSM", "部件类别代码", "ZGBMMC", "CSRQ", "PointX", "PointY", "material"])
    sheet.append(["11010101001000001", 1001, "甲", 20260115, 116.4012, 39.9012, "铸铁"])
    sheet.append([None] * 7)
    sheet.append([11010101001000002, "01001", "甲", "2026-01-16", 116.4, 39.9, None])
    sheet.append([110101010010000, "03005", " 乙 ", datetime(2026, 1, 17), 116, 40, 3.5])
    sheet.append([None, "03005", "乙", date(2026, 1, 18), "东经116", 39.9, True])
    path = tmp_path / "普查.xlsx"
    book.save(path)
    found = read(path)
    assert found.rows == [4, 6, 7, 8]
    assert found.values["class_code"] == ["01001", "01001", "03005", "03005"]
    assert found.values["census_date"] == ["20260115", "2026-01-16", "2026-01-17", "2026-01-18"]
    assert found.values["identifier"] == ["11010101001000001", "", "110101010010000", ""]
    assert found.values["competent"] == ["甲", "甲", "乙", "乙"]
    assert found.attributes == [{"material": "铸铁"}, {}, {"material": "3.5"}, {"material": "true"}]
    assert problems(found) == [
        (6, "GLBJBSM", "identifier_not_text"),
        (8, "PointX", "invalid_coordinate"),
    ]
    assert xy(found, 2) == (116.0, 40.0)


def test_a_header_below_empty_rows_and_right_of_empty_columns_is_found(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "GLBJMC"
    sheet["D3"] = "ZGBMMC"
    sheet["E3"] = "lon"
    sheet["F3"] = "lat"
    sheet.append([None, None, "井盖", "甲", 116.4, 39.9])
    sheet.append([None, None, "井盖", "甲", 116.5, 39.8])
    path = tmp_path / "offset.xlsx"
    book.save(path)
    reference = openpyxl_cells(path)
    table = read_excel_table(path, no_progress)
    assert table.headers == [text_of(v) for v in reference[2]]
    assert table.rows == [4, 5]
    found = read(path, ignore_unknown=True)
    assert found.values["name"] == ["井盖", "井盖"] and xy(found, 1) == (116.5, 39.8)


def test_a_sheet_without_a_known_header_takes_its_first_filled_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([])
    sheet.append(["名称", "经度值", "纬度值"])
    sheet.append(["井盖", 116.4, 39.9])
    path = tmp_path / "unknown.xlsx"
    book.save(path)
    table = read_excel_table(path, no_progress)
    assert table.headers == ["名称", "经度值", "纬度值"]
    assert table.rows == [3] and table.cells[0] == ["井盖"]


def test_an_error_cell_reads_as_empty(tmp_path: Path) -> None:
    """python-calamine gives no error values: #DIV/0! is an empty cell (openpyxl gave the
    text), so a coordinate that is an error is a row without a position."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["GLBJMC", "ZGBMMC", "lon", "lat"])
    sheet.append(["井盖", "甲", 116.4, 39.9])
    path = tmp_path / "errors.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    start = xml.index('<c r="C2"')
    end = xml.index("</c>", start) + len("</c>")
    parts["xl/worksheets/sheet1.xml"] = (
        xml[:start] + '<c r="C2" t="e"><v>#DIV/0!</v></c>' + xml[end:]
    ).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert openpyxl_cells(path)[1][2] == "#DIV/0!"
    table = read_excel_table(path, no_progress)
    assert table.cells[2] == [""]
    assert list(read(path).geometry) == [None]


def test_a_zip_that_is_no_workbook_is_refused_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(InvalidInput) as refused:
        read(path)
    assert refused.value.code == "file_unreadable" and "a.xlsx" in str(refused.value)


def test_excel_reports_its_progress_by_sheet_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["GLBJMC", "ZGBMMC", "lon", "lat"])
    for i in range(120_000):
        sheet.append(["垃圾箱", "甲", 116.4 + (i % 100) * 1e-4, 39.9])
    path = tmp_path / "big.xlsx"
    book.save(path)
    seen: list[tuple[int, int]] = []
    table = read_excel_table(path, lambda _s, done, total: seen.append((done, total)))
    assert len(table.rows) == 120_000 and table.rows[-1] == 120_001
    assert [done for done, _ in seen] == [50_001, 100_001]
    assert {total for _, total in seen} == {120_001}


def test_geometries_of_a_stream_are_an_array_of_points_and_others(tmp_path: Path) -> None:
    path = write_json(tmp_path / "mixed.geojson", mixed_collection())
    found = stream_features(path, max_features=100, progress=no_progress)
    kinds = [None if g is None else g.geom_type for g in found.geometries]
    assert kinds[:4] == ["Point", "Point", "LineString", None]
    assert isinstance(found.geometries, np.ndarray) and found.count == len(kinds)
