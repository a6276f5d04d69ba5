"""Adding components in bulk (部件普查): identifiers drawn or kept, grids and communities
assigned, every row checked, all or nothing with a report naming row, column and reason."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

from gridcity.adapters.db.tables import (
    AuditLog,
    Component,
    ComponentImport,
    ComponentSerial,
    SpatialState,
)
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.census import CensusRefused
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput
from gridcity.services import catalog, catalog_admin, catalog_switch
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from gridcity.services.component_writes import (
    COMPONENTS_STATE,
    MAX_ROWS,
    AddResult,
    ImportSource,
    NewComponents,
    add_components,
)
from gridcity.services.deps import ServiceDeps
from tests.factories import (
    COMM_A1,
    COMM_B1,
    DISTRICT,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    build_small_city,
)

COVER = "01001"  # 供水井盖
LAMP = "01037"  # 路灯
GREEN = "04013"  # 绿地
IN_A1 = Point(116.4025, 39.9025)  # south-west quarter grid of community A1
IN_B1 = Point(116.415, 39.905)  # community B1, which has no unit grids
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
SOURCE = ImportSource("census.csv", "csv")
GARDENS = "区园林绿化局"  # has a credit code
WORKS = "区市政管理委员会"  # has none


@dataclass
class Inventory:
    """The small city with the standard catalog, quarter grids in community A1 and a clock."""

    container: Container
    city: SmallCity
    deps: ServiceDeps
    grids: list[str]

    def add(self, *rows: Mapping[str, Any], **options: Any) -> AddResult:
        """add_components on rows given as dicts (missing keys: a valid default)."""
        return add_components(
            self.deps,
            options.pop("actor", SYSTEM),
            make_batch(*rows),
            source=options.pop("source", SOURCE),
            info=TEST_INFO,
            **options,
        )

    def refused(self, *rows: Mapping[str, Any], **options: Any) -> CensusRefused:
        """The refusal of a batch (and a check that it wrote nothing)."""
        before = self.counts()
        with pytest.raises(CensusRefused) as caught:
            self.add(*rows, **options)
        assert self.counts() == before
        return caught.value

    def counts(self) -> tuple[int, int, int, int]:
        """Components, imports, audit rows and the components counter."""
        with self.container.db.read() as session:
            return (
                session.scalar(sa.select(sa.func.count()).select_from(Component)) or 0,
                session.scalar(sa.select(sa.func.count()).select_from(ComponentImport)) or 0,
                session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) or 0,
                counter(self.container),
            )

    def components(self) -> list[Component]:
        """Every stored component, in identifier order."""
        with self.container.db.read() as session:
            return list(session.scalars(sa.select(Component).order_by(Component.identifier)))

    def class_id(self, code: str, code_set: str = "gbt47678_5_2026") -> int:
        """Id of a minor component class."""
        return catalog.class_id_of(self.deps, SYSTEM, code_set, "component", code)


def counter(container: Container) -> int:
    """The components counter in spatial_state (0 before the first write)."""
    with container.db.read() as session:
        value = session.scalar(
            sa.select(SpatialState.version).where(SpatialState.name == COMPONENTS_STATE)
        )
    return int(value or 0)


_TEXT_COLUMNS = (
    "identifier",
    "name",
    "competent",
    "owner",
    "maintainer",
    "state",
    "census_date",
    "changed_on",
    "data_source",
    "accuracy",
    "position_text",
    "note",
)


def make_batch(*rows: Mapping[str, Any]) -> NewComponents:
    """A batch from row dicts; rows are numbered from 2 (line 1 of a file is its header)."""
    geometry = np.empty(len(rows), dtype=object)
    for i, r in enumerate(rows):
        geometry[i] = r.get("geometry", IN_A1)
    columns: dict[str, Any] = {
        name: [str(r.get(name, GARDENS if name == "competent" else "")) for r in rows]
        for name in _TEXT_COLUMNS
        if name == "competent" or any(name in r for r in rows)
    }
    if any("attributes" in r for r in rows):
        columns["attributes"] = [r.get("attributes", {}) for r in rows]
    return NewComponents(
        rows=[int(r.get("row", i + 2)) for i, r in enumerate(rows)],
        class_code=[str(r.get("class_code", LAMP)) for r in rows],
        geometry=geometry,
        **columns,
    )


@pytest.fixture
def inv(container: Container) -> Inventory:
    """A database ready for components."""
    city = build_small_city(container)
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    codes = add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    return Inventory(container, city, replace(container.deps, clock=lambda: NOW), codes)


def at(dx_m: float, dy_m: float = 0.0, origin: Point = IN_A1) -> Point:
    """A point some metres east and north of an origin (local plane)."""
    return Point(origin.x + dx_m / 85_390.0, origin.y + dy_m / 111_320.0)


# --- identifiers ---------------------------------------------------------------------------


def test_identifiers_are_drawn_per_district_and_class_with_the_next_serial(inv: Inventory) -> None:
    first = inv.add({}, {"geometry": at(10)}, {"class_code": COVER}, {"geometry": at(20)})
    assert (first.added, first.identifiers_drawn) == (4, 4)
    assert first.by_class == {LAMP: 3, COVER: 1}
    second = inv.add({"geometry": at(30)}, {"class_code": COVER, "geometry": at(40)})
    identifiers = [c.identifier for c in inv.components()]
    assert identifiers == [
        "11010101001000001",
        "11010101001000002",
        "11010101037000001",
        "11010101037000002",
        "11010101037000003",
        "11010101037000004",
    ]
    assert second.identifiers_drawn == 2
    assert all(len(i) == 17 for i in identifiers)
    with inv.container.db.read() as session:
        serials = {
            (s.admin_code, s.class_code): s.last_serial
            for s in session.scalars(sa.select(ComponentSerial))
        }
    assert serials == {(DISTRICT, COVER): 2, (DISTRICT, LAMP): 4}


def test_given_identifiers_are_kept_and_the_counter_moves_past_them(inv: Inventory) -> None:
    given = "11010101037000050"
    result = inv.add({"identifier": given}, {"geometry": at(10)}, {"geometry": at(20)})
    assert result.identifiers_drawn == 2
    assert [c.identifier for c in inv.components()] == [
        given,
        "11010101037000051",
        "11010101037000052",
    ]
    # A row that gives only an identifier takes its class from it.
    inv.add({"class_code": "", "identifier": "11010101001000007"}, {"geometry": at(30)})
    stored = {c.identifier: c.class_code for c in inv.components()}
    assert stored["11010101001000007"] == COVER
    assert stored["11010101037000053"] == LAMP


@pytest.mark.parametrize("code_set", ["cjt214_2007", "gbt30428_2_2013"])
def test_the_2007_and_2013_code_sets_give_16_digit_identifiers(
    inv: Inventory, code_set: str
) -> None:
    if code_set == "cjt214_2007":
        code = "0118"  # 路灯
    else:  # the 2013 set has no seeded component minors; a city adds its own
        for level, code in (("major", "07"), ("minor", "0701")):
            catalog_admin.add_extension_class(
                inv.deps,
                SYSTEM,
                NewExtensionClass(code_set, "component", level, code, "扩展部件"),
                info=TEST_INFO,
            )
    catalog_switch.switch_code_set(inv.deps, SYSTEM, code_set, dry_run=False, info=TEST_INFO)
    inv.add({"class_code": code}, {"class_code": code, "geometry": at(10)})
    stored = inv.components()
    assert [c.identifier for c in stored] == [f"110101{code}000001", f"110101{code}000002"]
    assert {c.code_set for c in stored} == {code_set}
    assert {c.class_id for c in stored} == {inv.class_id(code, code_set)}
    problem = inv.refused({"class_code": LAMP}).problems[0]
    assert (problem.column, problem.code) == ("class_code", "invalid_class_code")
    problem = inv.refused({"class_code": code, "identifier": f"110101{code}0000009"}).problems[0]
    assert (problem.column, problem.code) == ("identifier", "invalid_component_identifier")


# --- all or nothing ----------------------------------------------------------------------------


def test_one_bad_row_writes_nothing_and_the_refusal_names_row_column_and_reason(
    inv: Inventory,
) -> None:
    refusal = inv.refused(
        {"row": 2},
        {"row": 3, "geometry": at(10), "state": "坏了"},
        {"row": 4, "geometry": at(20)},
    )
    assert refusal.total == 1
    (problem,) = refusal.problems
    assert (problem.row, problem.column, problem.code) == (3, "state", "invalid_component_state")
    assert "坏了" in problem.reason
    assert problem.text.startswith("row 3, column state: Unknown component state 坏了")
    assert refusal.code == "census_refused"
    assert "census.csv: nothing was imported; 1 problems: row 3, column state" in str(refusal)
    with inv.container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ComponentSerial)) == 0


def test_every_problem_of_a_batch_is_reported_in_row_order(inv: Inventory) -> None:
    refusal = inv.refused(
        {"row": 5, "accuracy": "D"},
        {"row": 2, "class_code": "01999", "note": "x" * 1001},
        {"row": 3, "geometry": at(10)},
    )
    assert [(p.row, p.column, p.code) for p in refusal.problems] == [
        (2, "class_code", "unknown_component_class"),
        (2, "note", "text_too_long"),
        (5, "accuracy", "invalid_accuracy_class"),
    ]
    assert refusal.total == 3


def test_a_refusal_spells_out_five_problems_and_counts_the_rest(inv: Inventory) -> None:
    refusal = inv.refused(*({"row": r, "state": "?", "geometry": at(r * 5)} for r in range(2, 10)))
    assert refusal.total == 8
    assert "; and 3 more" in str(refusal)
    assert str(refusal).count("column state") == 5


# --- every refusal code ------------------------------------------------------------------------

BAD_ROWS: dict[str, tuple[dict[str, Any], str]] = {
    "missing_class": ({"class_code": ""}, "class_code"),
    "invalid_class_code": ({"class_code": "0137"}, "class_code"),
    "unknown_component_class": ({"class_code": "01016"}, "class_code"),
    "missing_geometry": ({"geometry": None}, "geometry"),
    "invalid_geometry_type": ({"geometry": GeometryCollection([IN_A1])}, "geometry"),
    "invalid_geometry": (
        {
            "class_code": GREEN,
            "geometry": Polygon(
                [(116.402, 39.902), (116.403, 39.903), (116.403, 39.902), (116.402, 39.903)]
            ),
        },
        "geometry",
    ),
    "not_lonlat": ({"geometry": Point(500_000.0, 4_420_000.0)}, "geometry"),
    "outside_managed_area": ({"geometry": Point(116.5, 39.9)}, "geometry"),
    "unknown_department": ({"owner": "不存在的单位"}, "owner"),
    "missing_competent_department": ({"competent": ""}, "competent"),
    "text_too_long": ({"name": "路" * 61}, "name"),
    "invalid_component_state": ({"state": "broken"}, "state"),
    "invalid_date": ({"census_date": "2026-13-01"}, "census_date"),
    "census_date_in_future": ({"census_date": "20260602"}, "census_date"),
    "invalid_change_date": (
        {"census_date": "2025-05-01", "changed_on": "2025-04-30"},
        "changed_on",
    ),
    "invalid_accuracy_class": ({"accuracy": "E"}, "accuracy"),
    "unknown_attribute": ({"attributes": {"colour": "red"}}, "attributes"),
    "invalid_component_identifier": ({"identifier": "1101010103700001"}, "identifier"),
    "invalid_admin_code": ({"identifier": "99010101037000001"}, "identifier"),
    "invalid_serial": ({"identifier": "11010101037000000"}, "identifier"),
    "identifier_class_mismatch": (
        {"class_code": LAMP, "identifier": "11010101001000001"},
        "identifier",
    ),
    "identifier_admin_mismatch": ({"identifier": "11010201037000001"}, "identifier"),
    "outside_data_scope": ({"geometry": IN_B1}, "geometry"),
}


@pytest.mark.parametrize("code", sorted(BAD_ROWS))
def test_each_row_problem_refuses_the_batch_with_its_code(inv: Inventory, code: str) -> None:
    bad, column = BAD_ROWS[code]
    options: dict[str, Any] = {}
    if code == "outside_data_scope":
        options["actor"] = Actor(
            user_id=None,
            username="sub-a-admin",
            roles=frozenset({Role.ADMIN}),
            scope=Scope(divisions=frozenset({"110101001"})),
        )
    refusal = inv.refused({"row": 2}, {"row": 3, "geometry": at(10), **bad}, **options)
    assert [(p.row, p.column, p.code) for p in refusal.problems] == [(3, column, code)]


def test_a_change_date_between_census_and_today_and_chinese_states_are_accepted(
    inv: Inventory,
) -> None:
    inv.add(
        {
            "census_date": "20250501",
            "changed_on": "2026-05-31",
            "state": "破损",
            "accuracy": "b",
            "data_source": "实测",
            "maintainer": WORKS,
        }
    )
    (stored,) = inv.components()
    assert (stored.census_date, stored.changed_on) == (date(2025, 5, 1), date(2026, 5, 31))
    assert (stored.state, stored.accuracy, stored.data_source) == ("damaged", "B", "实测")
    assert stored.maintainer_department_id == inv.city.department_ids[WORKS]
    assert stored.owner_department_id is None
    assert stored.name == "路灯"  # the class's name when the row gives none


def test_departments_are_found_by_credit_code_full_name_or_short_name(inv: Inventory) -> None:
    with inv.container.db.read() as session:
        from gridcity.adapters.db.tables import Department

        credit = session.scalar(sa.select(Department.credit_code).where(Department.name == GARDENS))
    assert credit
    inv.add({"competent": credit}, {"competent": WORKS, "owner": GARDENS, "geometry": at(10)})
    first, second = inv.components()
    assert first.competent_department_id == inv.city.department_ids[GARDENS]
    assert second.competent_department_id == inv.city.department_ids[WORKS]
    assert second.owner_department_id == inv.city.department_ids[GARDENS]


def test_the_competent_department_falls_back_to_the_class_default(inv: Inventory) -> None:
    works = inv.city.department_ids[WORKS]
    catalog_admin.update_class(
        inv.deps, SYSTEM, inv.class_id(LAMP), ClassEdit(department_id=works), info=TEST_INFO
    )
    inv.add({"competent": ""}, {"competent": GARDENS, "geometry": at(10)})
    assert [c.competent_department_id for c in inv.components()] == [
        works,
        inv.city.department_ids[GARDENS],
    ]
    problem = inv.refused({"class_code": COVER, "competent": ""}).problems[0]
    assert problem.code == "missing_competent_department" and problem.params["code"] == COVER


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"diameter_cm": "70"}, "missing_attribute"),
        ({"material": "木头"}, "invalid_attribute_choice"),
        ({"material": "铸铁", "diameter_cm": "seventy"}, "invalid_attribute"),
        ({"material": "铸铁", "lid": "yes"}, "unknown_attribute"),
    ],
)
def test_attributes_are_checked_against_the_class_form_fields(
    inv: Inventory, attributes: dict[str, str], code: str
) -> None:
    fields = [
        {"name": "material", "label_zh": "材质", "type": "choice", "choices": ["铸铁", "复合"]},
        {"name": "diameter_cm", "label_zh": "直径", "type": "number"},
    ]
    fields[0]["required"] = True
    catalog_admin.update_class(
        inv.deps, SYSTEM, inv.class_id(COVER), ClassEdit(form_fields=fields), info=TEST_INFO
    )
    inv.add({"class_code": COVER, "attributes": {"material": "铸铁", "diameter_cm": "70"}})
    assert inv.components()[0].attributes == {"material": "铸铁", "diameter_cm": 70}
    refusal = inv.refused({"class_code": COVER, "geometry": at(10), "attributes": attributes})
    assert [(p.column, p.code) for p in refusal.problems] == [("attributes", code)]
    # A class with a required field refuses a row that gives no attributes at all.
    refusal = inv.refused({"class_code": COVER, "geometry": at(20)})
    assert [p.code for p in refusal.problems] == ["missing_attribute"]


def test_an_empty_or_oversized_batch_and_a_bad_distance_are_refused(inv: Inventory) -> None:
    with pytest.raises(InvalidInput) as caught:
        inv.add()
    assert caught.value.code == "empty_batch"
    huge = NewComponents(
        rows=list(range(MAX_ROWS + 1)),
        class_code=[LAMP] * (MAX_ROWS + 1),
        geometry=np.empty(MAX_ROWS + 1, dtype=object),
    )
    with pytest.raises(InvalidInput) as caught:
        add_components(inv.deps, SYSTEM, huge, source=SOURCE, info=TEST_INFO)
    assert caught.value.code == "batch_too_large"
    for distance in (-1.0, 101.0):
        with pytest.raises(InvalidInput) as caught:
            inv.add({}, duplicate_distance_m=distance)
        assert caught.value.code == "invalid_duplicate_distance"
    assert inv.counts()[0] == 0


def test_only_inventory_editors_add_components(inv: Inventory) -> None:
    for role in (Role.SUPERVISOR, Role.LEADER, Role.OPERATOR):
        actor = Actor(
            user_id=None, username="x", roles=frozenset({role}), scope=Scope(everything=True)
        )
        with pytest.raises(Forbidden):
            inv.add({}, actor=actor)
    assert inv.counts()[0] == 0


def test_an_identifier_given_twice_or_already_stored_is_refused(inv: Inventory) -> None:
    given = "11010101037000009"
    refusal = inv.refused(
        {"row": 2, "identifier": given}, {"row": 3, "identifier": given, "geometry": at(10)}
    )
    assert [(p.row, p.code, p.params.get("other")) for p in refusal.problems] == [
        (3, "duplicate_identifier", 2)
    ]
    inv.add({"identifier": given})
    refusal = inv.refused({"row": 7, "identifier": given, "geometry": at(50)})
    assert [(p.row, p.column, p.code) for p in refusal.problems] == [
        (7, "identifier", "identifier_exists")
    ]


def test_serials_run_out_at_999999(inv: Inventory) -> None:
    inv.add({"identifier": "11010101037999998"})
    inv.add({"geometry": at(10)})  # takes 999999, the last one
    assert inv.components()[-1].identifier == "11010101037999999"
    before = inv.counts()
    with pytest.raises(InvalidInput) as caught:
        inv.add({"geometry": at(20)})
    assert caught.value.code == "serials_exhausted"
    assert caught.value.params == {"cls": LAMP, "admin": DISTRICT}
    assert inv.counts() == before
    inv.add({"class_code": COVER, "geometry": at(30)})  # other classes go on


# --- duplicates --------------------------------------------------------------------------------


def test_likely_duplicates_in_the_batch_and_in_the_inventory_are_reported(inv: Inventory) -> None:
    first = inv.add(
        {"row": 2},
        {"row": 3, "geometry": at(1.5)},  # 1.5 m from row 2: a duplicate
        {"row": 4, "geometry": at(1.0), "class_code": COVER},  # another class: not one
        {"row": 5, "geometry": at(10.0)},
    )
    assert [(d.row, d.other_row, d.other_identifier, d.class_code) for d in first.duplicates] == [
        (2, 3, None, LAMP)
    ]
    assert first.duplicates[0].distance_m == pytest.approx(1.5, abs=0.05)
    assert first.added == 4  # reported, not refused
    removed = inv.add({"geometry": at(200), "state": "removed"})
    assert removed.duplicates == ()
    second = inv.add(
        {"row": 9, "geometry": at(10.5)},  # 0.5 m from row 5 of the first batch
        {"row": 10, "geometry": at(200.5)},  # near a removed lamp only
        duplicate_distance_m=1.0,
    )
    stored = {c.identifier for c in inv.components()}
    assert [(d.row, d.other_row, d.class_code) for d in second.duplicates] == [(9, None, LAMP)]
    assert second.duplicates[0].other_identifier in stored
    assert inv.add({"geometry": at(10.2)}, duplicate_distance_m=0).duplicates == ()


def test_refuse_duplicates_turns_them_into_problems(inv: Inventory) -> None:
    inv.add({"geometry": at(0)})
    refusal = inv.refused(
        {"row": 2, "geometry": at(50)},
        {"row": 3, "geometry": at(51)},
        {"row": 4, "geometry": at(0.5)},
        refuse_duplicates=True,
    )
    assert [(p.row, p.column, p.code) for p in refusal.problems] == [
        (2, "geometry", "likely_duplicate"),
        (4, "geometry", "likely_duplicate"),
    ]
    assert refusal.problems[0].params["other"] == "row 3"
    assert refusal.problems[1].params["other"] == "11010101037000001"


# --- what a row gets ---------------------------------------------------------------------------


def test_grid_and_community_are_assigned_from_the_anchor_point(inv: Inventory) -> None:
    lane = LineString([(116.4021, 39.9021), (116.4029, 39.9029)])
    lawn = box(116.4072, 39.9072, 116.4078, 39.9078)  # north-east quarter of A1
    inv.add(
        {"row": 2},
        {"row": 3, "geometry": IN_B1},
        {"row": 4, "class_code": "02017", "geometry": lane},
        {"row": 5, "class_code": GREEN, "geometry": lawn},
    )
    by_class = {c.class_code: c for c in inv.components() if c.community_code == COMM_A1}
    south_west, north_east = inv.grids[2], inv.grids[1]
    assert (by_class[LAMP].grid_code, by_class[LAMP].community_code) == (south_west, COMM_A1)
    assert shapely.equals_exact(by_class[GREEN].geom, lawn, 1e-9)
    assert by_class[GREEN].grid_code == north_east
    assert box(116.4072, 39.9072, 116.4078, 39.9078).contains(
        Point(by_class[GREEN].x, by_class[GREEN].y)
    )
    assert lane.distance(Point(by_class["02017"].x, by_class["02017"].y)) < 1e-9
    with inv.container.db.read() as session:
        b1 = session.scalars(sa.select(Component).where(Component.community_code == COMM_B1)).all()
    assert len(b1) == 1 and b1[0].grid_code is None  # B1 has no unit grids yet
    assert all(c.version == 1 and c.import_id for c in inv.components())


def test_a_dry_run_checks_everything_and_writes_nothing(inv: Inventory) -> None:
    before = inv.counts()
    result = inv.add({}, {"geometry": at(1)}, {"class_code": COVER}, dry_run=True)
    assert (result.import_id, result.added, result.identifiers_drawn) == (None, 3, 3)
    assert result.dry_run and len(result.duplicates) == 1
    assert result.by_class == {LAMP: 2, COVER: 1}
    assert inv.counts() == before
    with inv.container.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ComponentSerial)) == 0
    with pytest.raises(CensusRefused):
        inv.add({"state": "?"}, dry_run=True)


def test_a_batch_is_audited_once_with_its_import_record(inv: Inventory) -> None:
    source = ImportSource("普查2026.xlsx", "xlsx", reason="2026 年度普查")
    result = inv.add(
        {},
        {"geometry": at(10)},
        {"identifier": "11010101037000100", "geometry": at(20)},
        source=source,
    )
    with inv.container.db.read() as session:
        audits = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "component.imported")
        ).all()
        record = session.get(ComponentImport, result.import_id)
        assert record is not None
        assert (record.file_name, record.file_format, record.rows, record.reason) == (
            "普查2026.xlsx",
            "xlsx",
            3,
            "2026 年度普查",
        )
        assert (record.code_set, record.actor_name, record.imported_at) == (
            "gbt47678_5_2026",
            SYSTEM.username,
            NOW,
        )
    (entry,) = audits
    assert (entry.target_type, entry.target_id, entry.occurred_at) == (
        "component_import",
        str(result.import_id),
        NOW,
    )
    assert entry.detail == {
        "file": "普查2026.xlsx",
        "format": "xlsx",
        "rows": 3,
        "identifiers_drawn": 2,
        "duplicates": 0,
        "code_set": "gbt47678_5_2026",
    }
    assert {c.import_id for c in inv.components()} == {result.import_id}
    assert {(c.created_at, c.updated_at) for c in inv.components()} == {(NOW, NOW)}


def test_each_batch_bumps_the_components_counter_and_stamps_its_rows(inv: Inventory) -> None:
    assert counter(inv.container) == 0
    inv.add({}, {"geometry": at(10)})
    assert counter(inv.container) == 1
    inv.add({"geometry": at(20)})
    assert counter(inv.container) == 2
    assert [c.change_seq for c in inv.components()] == [1, 1, 2]
    inv.refused({"state": "?"})
    inv.add({"geometry": at(30)}, dry_run=True)
    assert counter(inv.container) == 2


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("shared_classes", [True, False], ids=["same-classes", "other-classes"])
def test_parallel_batches_never_draw_the_same_serial(inv: Inventory, shared_classes: bool) -> None:
    """Two batches in threads: the first holds its serials and the counter until it commits."""
    size = 300
    started = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []
    results: list[AddResult] = []

    def slow_writer(first: bool) -> Callable[[str, int, int], None]:
        def progress(stage: str, done: int, total: int) -> None:
            if stage == "check" and done == total:
                started.wait()  # both batches checked: they write at the same time
            if first and stage == "write" and done == total:
                threading.Event().wait(0.5)  # hold the serial counters a while

        return progress

    def run(first: bool, origin: Point) -> None:
        classes = (LAMP, COVER) if first or shared_classes else (GREEN, "03005")
        rows = [
            {"class_code": classes[k % 2], "geometry": at(k % 20 * 3, k // 20 * 3, origin)}
            for k in range(size)
        ]
        try:
            results.append(inv.add(*rows, progress=slow_writer(first)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k == 0, o)) for k, o in enumerate((IN_A1, IN_B1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    identifiers = [c.identifier for c in inv.components()]
    assert len(identifiers) == len(set(identifiers)) == 2 * size
    per_class = size if shared_classes else size // 2
    for code in (LAMP, COVER) if shared_classes else (LAMP, COVER, GREEN, "03005"):
        serials = sorted(int(i[-6:]) for i in identifiers if i[6:11] == code)
        assert serials == list(range(1, per_class + 1))
    assert sorted(c.change_seq for c in inv.components())[::size] == [1, 2]
    assert counter(inv.container) == 2


# --- details of the bulk path ------------------------------------------------------------------


def test_today_is_the_city_s_day_for_census_dates(inv: Inventory) -> None:
    late_evening_utc = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 04:00 on 2 June in Beijing
    deps = replace(inv.deps, clock=lambda: late_evening_utc)
    add_components(
        deps, SYSTEM, make_batch({"census_date": "2026-06-02"}), source=SOURCE, info=TEST_INFO
    )
    assert inv.components()[0].census_date == date(2026, 6, 2)
    with pytest.raises(CensusRefused) as caught:
        add_components(
            deps,
            SYSTEM,
            make_batch({"census_date": "2026-06-03", "geometry": at(10)}),
            source=SOURCE,
            info=TEST_INFO,
        )
    assert caught.value.problems[0].code == "census_date_in_future"


def test_texts_with_tabs_newlines_and_backslashes_are_stored_as_given(inv: Inventory) -> None:
    note = "井盖松动\t见照片\n第二次巡查：C:\\照片\\1.jpg"
    inv.add({"note": note, "position_text": "东四北大街\\西侧", "name": "路灯\t北"})
    (stored,) = inv.components()
    assert (stored.note, stored.position_text, stored.name) == (
        note,
        "东四北大街\\西侧",
        "路灯\t北",
    )
    assert shapely.equals_exact(stored.geom, IN_A1, 0.0)  # points are packed, not re-encoded
    assert (stored.x, stored.y) == (IN_A1.x, IN_A1.y)


def test_a_big_first_batch_rebuilds_sqlite_indexes_and_a_failed_one_keeps_them(
    inv: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridcity.services import component_store, component_writes

    sqlite = inv.container.db.engine.dialect.name == "sqlite"

    def indexes() -> set[str]:
        query = (
            "SELECT name FROM sqlite_master WHERE tbl_name = 'component'"
            if sqlite
            else "SELECT indexname FROM pg_indexes WHERE tablename = 'component'"
        )
        with inv.container.db.read() as session:
            return set(session.scalars(sa.text(query)))

    before = indexes()
    assert {"ix_component_grid_code", "ix_component_class_id"} <= before
    dropped: list[list[tuple[str, str]]] = []
    real_drop = component_store.drop_indexes_for

    def spy(session: Any, rows: int) -> list[tuple[str, str]]:
        dropped.append(real_drop(session, rows))
        return dropped[-1]

    def broken(*_args: Any) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(component_store, "REBUILD_INDEXES_MIN_ROWS", 2)
        patch.setattr(component_writes, "drop_indexes_for", spy)
        patch.setattr(component_writes, "copy_postgres" if not sqlite else "insert_sqlite", broken)
        with pytest.raises(RuntimeError):
            inv.add({}, {"geometry": at(10)})
    assert indexes() == before  # dropped (SQLite), then rolled back with the batch
    monkeypatch.setattr(component_store, "REBUILD_INDEXES_MIN_ROWS", 2)
    monkeypatch.setattr(component_writes, "drop_indexes_for", spy)
    inv.add({}, {"geometry": at(10)}, {"geometry": at(20)})
    inv.add({"geometry": at(30)}, {"geometry": at(40)})  # smaller than the inventory
    assert indexes() == before and len(inv.components()) == 5
    if sqlite:  # dropped and rebuilt for the first census, kept for the second batch
        assert [len(d) >= 4 for d in dropped] == [True, True, False]
    else:  # PostgreSQL never drops them (an ACCESS EXCLUSIVE lock for nothing gained)
        assert dropped == [[], [], []]


def test_close_pairs_finds_the_same_pairs_as_a_brute_force_search() -> None:
    from gridcity.domain.components import close_pairs, local_metres

    rng = np.random.default_rng(3)
    xy = np.column_stack((rng.uniform(116.40, 116.41, 3_000), rng.uniform(39.90, 39.91, 3_000)))
    xy[1::7] = xy[::7][: len(xy[1::7])] + rng.normal(0, 1e-5, (len(xy[1::7]), 2))  # close twins
    classes = rng.integers(0, 3, len(xy))
    metres = local_metres(xy, float(xy[:, 1].mean()))
    gap = np.hypot(*(metres[:, None, :] - metres[None, :, :]).transpose(2, 0, 1))
    same = classes[:, None] == classes[None, :]
    for distance in (0.5, 2.0, 7.5):
        expected = {
            (int(i), int(j))
            for i, j in zip(*np.nonzero((gap <= distance) & same), strict=True)
            if i < j
        }
        found = close_pairs(xy, classes, xy, classes, distance, same_set=True)
        assert {(p.first, p.second) for p in found} == expected and expected
        half = len(xy) // 2
        cross = close_pairs(
            xy[:half], classes[:half], xy[half:], classes[half:], distance, same_set=False
        )
        expected_cross = {
            (int(i), int(j) - half)
            for i, j in zip(*np.nonzero((gap <= distance) & same), strict=True)
            if i < half <= j
        }
        assert {(p.first, p.second) for p in cross} == expected_cross
    text_classes = np.asarray(["a", "b", "c"], dtype=object)[classes]
    assert close_pairs(xy, text_classes, xy, text_classes, 2.0, same_set=True) == close_pairs(
        xy, classes, xy, classes, 2.0, same_set=True
    )


def test_an_over_long_import_reason_is_a_refusal_not_a_database_error(inv: Inventory) -> None:
    before = inv.counts()
    with pytest.raises(InvalidInput) as refused:
        inv.add({"row": 2}, source=ImportSource("census.csv", "csv", reason="因" * 501))
    assert refused.value.code == "invalid_reason"
    assert inv.counts() == before


def test_a_batch_checked_against_a_code_set_switched_since_is_refused(inv: Inventory) -> None:
    from gridcity.services.component_writes import _hold_code_set

    with pytest.raises(Conflict) as refused, inv.container.db.transaction() as session:
        _hold_code_set(session, "cjt214_2007")  # checked against 2007; 2026 is active
    assert refused.value.code == "code_set_switched_meanwhile"
    with inv.container.db.transaction() as session:
        _hold_code_set(session, "gbt47678_5_2026")  # still the active one: goes on
