"""Census import and export (部件普查): a file in through the one write path, the inventory out,
and back in again."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
import sqlalchemy as sa

from gridcity.adapters.component_columns import Abbreviations
from gridcity.adapters.component_export import ExportFormat
from gridcity.adapters.db.tables import AuditLog, Component, ComponentImport, Department
from gridcity.bootstrap import Container, bootstrap
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.census import CensusRefused
from gridcity.domain.errors import Forbidden, InvalidInput, NotFound
from gridcity.services import catalog, catalog_admin, census, census_export
from gridcity.services.census import CensusOptions, ExportFilters
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import (
    COMM_A1,
    COMM_A2,
    COMM_B1,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    build_small_city,
)

BOXES = {
    COMM_A1: (116.40, 39.90, 116.41, 39.91),
    COMM_A2: (116.40, 39.91, 116.41, 39.92),
    COMM_B1: (116.41, 39.90, 116.42, 39.92),
}
GARDENS, MUNICIPAL = "区园林绿化局", "区市政管理委员会"  # the first has a credit code
STANDARD_HEADER = "GLBJMC,ZGBMMC,GLBJZT,CSRQ,PointX,PointY,BZ"


def census_city(container: Container) -> SmallCity:
    """The small city with unit grids in its three communities and the standard catalog (the
    GB/T 47678.5-2026 code set is active: 17-digit identifiers)."""
    city = build_small_city(container)
    for community, box in BOXES.items():
        add_quarter_grids(container, community, box)
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return city


def give_attributes(container: Container, class_code: str, fields: list[dict[str, Any]]) -> None:
    """Extension attributes on a component class of the active set."""
    from gridcity.adapters.db.tables import CatalogClass

    with container.db.read() as session:
        class_id = session.scalar(
            sa.select(CatalogClass.id).where(
                CatalogClass.code_set == "gbt47678_5_2026",
                CatalogClass.kind == "component",
                CatalogClass.code == class_code,
            )
        )
    assert class_id is not None
    catalog_admin.update_class(
        container.deps,
        SYSTEM,
        class_id,
        catalog_admin.ClassEdit(form_fields=fields),
        info=TEST_INFO,
    )


def write_csv(
    folder: Path, lines: list[str], name: str = "普查.csv", encoding: str = "utf-8"
) -> Path:
    """A CSV file of the given lines."""
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def good_rows() -> list[str]:
    """Three good rows in the standard's abbreviations (class by its GLBJMC name)."""
    return [
        STANDARD_HEADER,
        f"供水井盖,{MUNICIPAL},完好,20260115,116.4012,39.9012,东口",
        f"垃圾箱,{GARDENS},破损,20260115,116.4022,39.9022,",
        f"供水井盖,{MUNICIPAL},完好,20260116,116.4152,39.9052,景山",
    ]


def count(container: Container, table: type) -> int:
    with container.db.read() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


@pytest.fixture
def census_town(container: Container) -> SmallCity:
    return census_city(container)


def test_a_census_file_with_one_bad_row_imports_nothing_and_names_its_row_column_and_reason(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    lines = good_rows()
    lines.insert(3, "供水井盖,区水务局,完好,20260115,116.4032,39.9032,")  # no such department
    with pytest.raises(CensusRefused) as refused:
        census.import_census(
            container.deps,
            SYSTEM,
            write_csv(tmp_path, lines),
            options=CensusOptions(),
            info=TEST_INFO,
        )
    problems = [(p.row, p.column, p.code) for p in refused.value.problems]
    assert problems == [(4, "ZGBMMC", "unknown_department")]
    assert "区水务局" in refused.value.problems[0].reason
    assert refused.value.total == 1
    assert "普查.csv" in str(refused.value)
    assert count(container, Component) == 0
    assert count(container, ComponentImport) == 0


def test_a_good_file_is_imported_with_drawn_identifiers_grids_and_an_audit_row(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    result = census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(reason="2026 普查"),
        info=TEST_INFO,
    )
    assert (result.added.added, result.added.identifiers_drawn) == (3, 3)
    assert result.added.by_class == {"01001": 2, "03005": 1}
    assert result.format == "csv" and result.crs == "EPSG:4490"
    with container.db.read() as session:
        rows = session.execute(
            sa.select(
                Component.identifier, Component.grid_code, Component.state, Component.note
            ).order_by(Component.identifier)
        ).all()
        reason = session.scalar(sa.select(ComponentImport.reason))
        actions = session.scalars(sa.select(AuditLog.action)).all()
    assert [r.identifier for r in rows] == [
        "11010101001000001",
        "11010101001000002",
        "11010103005000001",
    ]
    assert [r.grid_code[:12] for r in rows] == [COMM_A1, COMM_B1, COMM_A1]
    assert sorted(r.state for r in rows) == ["damaged", "intact", "intact"]
    assert reason == "2026 普查"
    assert actions.count("component.imported") == 1


def test_a_dry_run_checks_everything_and_writes_nothing(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    result = census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(dry_run=True),
        info=TEST_INFO,
    )
    assert result.added.dry_run and result.added.added == 3
    assert count(container, Component) == 0


def test_likely_duplicates_are_reported_by_row_and_can_refuse_the_file(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    lines = good_rows()
    lines.append(f"供水井盖,{MUNICIPAL},完好,20260115,116.401205,39.9012,")  # ~0.4 m from row 2
    path = write_csv(tmp_path, lines)
    with pytest.raises(CensusRefused) as refused:
        census.import_census(
            container.deps,
            SYSTEM,
            path,
            options=CensusOptions(refuse_duplicates=True),
            info=TEST_INFO,
        )
    assert [(p.row, p.column, p.code) for p in refused.value.problems] == [
        (2, "PointX+PointY", "likely_duplicate")
    ]
    result = census.import_census(
        container.deps, SYSTEM, path, options=CensusOptions(), info=TEST_INFO
    )
    [duplicate] = result.added.duplicates
    assert (duplicate.row, duplicate.other_row, duplicate.class_code) == (2, 5, "01001")
    assert 0.3 < duplicate.distance_m < 0.5
    assert result.as_dict()["duplicates"][0]["other_row"] == 5


def test_problems_of_the_file_and_of_the_rows_come_in_one_report(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    lines = good_rows()
    lines[1] = f"供水井盖,{MUNICIPAL},完好,20260115,东经116度,39.9012,"
    lines[2] = f"垃圾箱,{GARDENS},坏了,20260115,116.4022,39.9022,"
    with pytest.raises(CensusRefused) as refused:
        census.import_census(
            container.deps,
            SYSTEM,
            write_csv(tmp_path, lines),
            options=CensusOptions(),
            info=TEST_INFO,
        )
    assert [(p.row, p.column, p.code) for p in refused.value.problems] == [
        (2, "PointX", "invalid_coordinate"),  # and not also "no position"
        (3, "GLBJZT", "invalid_component_state"),
    ]
    assert refused.value.total == 2


def test_only_inventory_editors_import(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    leader = Actor(user_id=1, username="leader", roles=frozenset({Role.LEADER}))
    with pytest.raises(Forbidden):
        census.import_census(
            container.deps,
            leader,
            write_csv(tmp_path, good_rows()),
            options=CensusOptions(),
            info=TEST_INFO,
        )


def test_an_over_long_reason_is_refused(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as refused:
        census.import_census(
            container.deps,
            SYSTEM,
            write_csv(tmp_path, good_rows()),
            options=CensusOptions(reason="因" * 501),
            info=TEST_INFO,
        )
    assert refused.value.code == "invalid_reason"


# --- export and the round trip -------------------------------------------------------------------


def rich_rows(container: Container, city: SmallCity) -> list[str]:
    """Points, a line and a polygon, every column filled somewhere, attributes, awkward text."""
    give_attributes(
        container,
        "01001",
        [
            {
                "name": "material",
                "label_zh": "材质",
                "label_en": "material",
                "type": "choice",
                "choices": ["铸铁", "复合"],
            },
            {"name": "diameter", "label_zh": "直径", "label_en": "diameter", "type": "number"},
        ],
    )
    header = (
        "identifier,class_code,name,competent,owner,maintainer,state,census_date,changed_on,"
        "data_source,accuracy,position_text,note,lon,lat,wkt,material,diameter"
    )
    return [
        header,
        f'11010101001000007,01001,供水井盖,{GARDENS},{MUNICIPAL},{GARDENS},damaged,2026-01-15,2026-02-01,实测,A,东口北侧,"含,逗号 ""引号""",116.4012,39.9012,,铸铁,600',
        f",01001,,{MUNICIPAL},,,完好,20260115,,,,,=1+1,116.4052,39.9152,,,",
        f',02017,,{MUNICIPAL},,,,2026-01-10,,地形图,B,,"两行\n说明",,,"LINESTRING (116.4101 39.9011, 116.4111 39.9021)",,',
        f',04013,小绿地,{GARDENS},,,abandoned,2026-01-10,,,C,,,,,"POLYGON ((116.402 39.903, 116.403 39.903, 116.403 39.904, 116.402 39.904, 116.402 39.903))",,',
    ]


def snapshot(container: Container) -> list[tuple[Any, ...]]:
    """The inventory as comparable tuples (departments by name)."""
    with container.db.read() as session:
        names = dict(session.execute(sa.select(Department.id, Department.name)).all())
        rows = session.execute(sa.select(Component).order_by(Component.identifier)).scalars().all()
        return [
            (
                r.identifier,
                r.class_code,
                r.name,
                names[r.competent_department_id],
                names.get(r.owner_department_id),
                names.get(r.maintainer_department_id),
                r.state,
                r.census_date,
                r.changed_on,
                r.data_source,
                r.accuracy,
                r.position_text,
                r.note,
                r.attributes,
                r.grid_code,
                shapely.to_wkt(shapely.normalize(r.geom), rounding_precision=9),
            )
            for r in rows
        ]


@pytest.fixture
def empty_twin(tmp_path: Path, sqlite_template: Path) -> Iterator[Container]:
    """A second city like the first, with an empty inventory (a SQLite file of its own)."""
    target = tmp_path / "twin.db"
    shutil.copy(sqlite_template, target)
    twin = bootstrap(settings_for(f"sqlite:///{target}"), hasher=FAST_HASHER)
    census_city(twin)
    yield twin
    twin.db.engine.dispose()


@pytest.mark.parametrize("abbreviations", list(Abbreviations))
@pytest.mark.parametrize("format", list(ExportFormat))
def test_an_export_re_imports_into_an_empty_inventory_with_its_identifiers(
    container: Container,
    census_town: SmallCity,
    empty_twin: Container,
    tmp_path: Path,
    format: ExportFormat,
    abbreviations: Abbreviations,
) -> None:
    lines = rich_rows(container, census_town)
    census.import_census(
        container.deps, SYSTEM, write_csv(tmp_path, lines), options=CensusOptions(), info=TEST_INFO
    )
    target = tmp_path / f"部件{format.suffix}"
    written = census.export_components(
        container.deps, SYSTEM, target, format=format, abbreviations=abbreviations
    )
    assert written == 4
    give_attributes(
        empty_twin,
        "01001",
        [
            {
                "name": "material",
                "label_zh": "材质",
                "label_en": "material",
                "type": "choice",
                "choices": ["铸铁", "复合"],
            },
            {"name": "diameter", "label_zh": "直径", "label_en": "diameter", "type": "number"},
        ],
    )
    result = census.import_census(
        empty_twin.deps, SYSTEM, target, options=CensusOptions(), info=TEST_INFO
    )
    assert result.added.identifiers_drawn == 0
    assert snapshot(empty_twin) == snapshot(container)


def test_an_export_streams_in_chunks_and_keeps_to_the_data_scope(
    container: Container, census_town: SmallCity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(),
        info=TEST_INFO,
    )
    monkeypatch.setattr(census_export, "EXPORT_CHUNK", 1)
    seen: list[tuple[str, int, int]] = []
    everything = census.export_components(
        container.deps,
        SYSTEM,
        tmp_path / "all.csv",
        format=ExportFormat.CSV,
        progress=lambda s, d, t: seen.append((s, d, t)),
    )
    assert everything == 3
    assert seen == [("export", 0, 3), ("export", 1, 3), ("export", 2, 3), ("export", 3, 3)]
    supervisor = Actor(
        user_id=9,
        username="s",
        roles=frozenset({Role.SUPERVISOR}),
        scope=Scope(divisions=frozenset({SUB_A})),
    )
    target = tmp_path / "a.csv"
    assert (
        census.export_components(container.deps, supervisor, target, format=ExportFormat.CSV) == 2
    )
    text = target.read_text("utf-8-sig")
    assert "景山" not in text and "东口" in text
    assert (
        census.export_components(
            container.deps,
            SYSTEM,
            tmp_path / "b.csv",
            format=ExportFormat.CSV,
            filters=ExportFilters(under=COMM_B1),
        )
        == 1
    )
    assert (
        census.export_components(
            container.deps,
            SYSTEM,
            tmp_path / "c.csv",
            format=ExportFormat.CSV,
            filters=ExportFilters(states=("破损",)),
        )
        == 1
    )
    assert (
        census.export_components(
            container.deps,
            SYSTEM,
            tmp_path / "d.csv",
            format=ExportFormat.CSV,
            filters=ExportFilters(class_codes=("01001",)),
        )
        == 2
    )
    with pytest.raises(NotFound):
        census.export_components(
            container.deps,
            supervisor,
            tmp_path / "e.csv",
            format=ExportFormat.CSV,
            filters=ExportFilters(under=COMM_B1),
        )


def test_the_standard_export_writes_table_2_of_gbt_47678_5(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    import csv

    census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(),
        info=TEST_INFO,
    )
    target = tmp_path / "standard.csv"
    census.export_components(
        container.deps,
        SYSTEM,
        target,
        format=ExportFormat.CSV,
        abbreviations=Abbreviations.GBT47678,
    )
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first = next(r for r in rows if r["GLBJMC"] == "垃圾箱")
    assert list(rows[0])[:18] == [
        "GLBJBSM", "GLBJMC", "ZGBMDM", "ZGBMMC", "QSDWDM", "QSDWMC", "YHDWDM", "YHDWMC",
        "SZDYWGBSM", "GLBJZT", "CSRQ", "BGRQ", "SJLY", "BZ", "SZJDDM", "SZJDMC", "SZSQDM", "SZSQMC",
    ]  # fmt: skip
    with container.db.read() as session:
        credit = session.scalar(sa.select(Department.credit_code).where(Department.name == GARDENS))
    assert first["ZGBMDM"] == credit and first["ZGBMMC"] == GARDENS
    assert first["GLBJZT"] == "破损" and first["CSRQ"] == "20260115" and first["BGRQ"] == ""
    assert first["SZDYWGBSM"].startswith(COMM_A1) and len(first["SZDYWGBSM"]) == 15
    assert (first["SZJDDM"], first["SZJDMC"]) == (SUB_A, "东华门街道")
    assert (first["SZSQDM"], first["SZSQMC"]) == (COMM_A1, "多福巷社区")
    assert first["lon"] == "116.4022" and first["wkt"] == ""


def test_an_excel_export_of_more_rows_than_a_sheet_holds_is_refused(
    container: Container, census_town: SmallCity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(),
        info=TEST_INFO,
    )
    monkeypatch.setattr(census_export, "EXCEL_MAX_ROWS", 2)
    with pytest.raises(InvalidInput) as refused:
        census.export_components(
            container.deps, SYSTEM, tmp_path / "x.xlsx", format=ExportFormat.EXCEL
        )
    assert refused.value.code == "export_too_many_rows"
    assert not (tmp_path / "x.xlsx").exists()


def test_a_shapefile_export_refuses_what_a_dbf_cannot_hold(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    give_attributes(
        container,
        "01001",
        [
            {
                "name": "installation_year",
                "label_zh": "安装年份",
                "label_en": "year",
                "type": "number",
            }
        ],
    )
    lines = [
        "class_code,competent,lon,lat,note,installation_year",
        f"01001,{MUNICIPAL},116.4012,39.9012,{'长' * 100},2001",
    ]
    census.import_census(
        container.deps, SYSTEM, write_csv(tmp_path, lines), options=CensusOptions(), info=TEST_INFO
    )
    with pytest.raises(InvalidInput) as refused:
        census.export_components(
            container.deps, SYSTEM, tmp_path / "x.zip", format=ExportFormat.SHAPEFILE
        )
    assert refused.value.code == "export_attribute_name_too_long"
    assert "installation_year" in str(refused.value)
    assert not (tmp_path / "x.zip").exists()


def test_a_shapefile_export_refuses_text_over_254_bytes(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    lines = [
        "class_code,competent,lon,lat,note",
        f"01001,{MUNICIPAL},116.4012,39.9012,{'长' * 100}",
    ]
    census.import_census(
        container.deps, SYSTEM, write_csv(tmp_path, lines), options=CensusOptions(), info=TEST_INFO
    )
    with pytest.raises(InvalidInput) as refused:
        census.export_components(
            container.deps, SYSTEM, tmp_path / "x.zip", format=ExportFormat.SHAPEFILE
        )
    assert refused.value.code == "export_text_too_long"
    assert "11010101001000001" in str(refused.value)
    assert not (tmp_path / "x.zip").exists()
    assert (
        census.export_components(
            container.deps, SYSTEM, tmp_path / "x.geojson", format=ExportFormat.GEOJSON
        )
        == 1
    )


def test_an_export_to_a_stream_writes_the_file_into_it(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    import io

    census.import_census(
        container.deps,
        SYSTEM,
        write_csv(tmp_path, good_rows()),
        options=CensusOptions(),
        info=TEST_INFO,
    )
    stream = io.BytesIO()
    assert (
        census.export_components(container.deps, SYSTEM, stream, format=ExportFormat.GEOJSON) == 3
    )
    assert stream.getvalue().startswith(b'{"type":"FeatureCollection"')


def test_a_shapefile_export_refuses_an_attribute_named_like_another_column(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    give_attributes(
        container, "01001", [{"name": "lon", "label_zh": "经度", "label_en": "lon", "type": "text"}]
    )
    lines = [
        "class_code,competent,PointX,PointY,attr_lon",
        f"01001,{MUNICIPAL},116.4012,39.9012,东",
    ]
    census.import_census(
        container.deps, SYSTEM, write_csv(tmp_path, lines), options=CensusOptions(), info=TEST_INFO
    )
    with pytest.raises(InvalidInput) as refused:
        census.export_components(
            container.deps, SYSTEM, tmp_path / "x.zip", format=ExportFormat.SHAPEFILE
        )
    assert refused.value.code == "export_attribute_name_taken"
    target = tmp_path / "x.csv"
    assert census.export_components(container.deps, SYSTEM, target, format=ExportFormat.CSV) == 1
    assert "attr_lon" in target.read_text("utf-8-sig").splitlines()[0]


def test_an_export_into_a_missing_folder_and_a_bad_duplicate_distance_are_refused(
    container: Container, census_town: SmallCity, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as unwritable:
        census.export_components(
            container.deps, SYSTEM, tmp_path / "none" / "x.csv", format=ExportFormat.CSV
        )
    assert unwritable.value.code == "file_unwritable"
    with pytest.raises(InvalidInput) as distance:
        census.import_census(
            container.deps,
            SYSTEM,
            write_csv(tmp_path, good_rows()),
            options=CensusOptions(duplicate_distance_m=500),
            info=TEST_INFO,
        )
    assert distance.value.code == "invalid_duplicate_distance"
