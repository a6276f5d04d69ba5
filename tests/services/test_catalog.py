"""The standard catalog as data: loaded once (again adds only what is missing), searched by code,
name or pinyin initials, edited by administrators only, extended with local classes, and the
active code set switched with a report."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog, CatalogClass
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.catalog_mapping import ClassRef
from gridcity.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridcity.services import catalog, catalog_admin, catalog_switch
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from tests.factories import SYSTEM, TEST_INFO

SUPERVISOR = Actor(
    user_id=None, username="sv", roles=frozenset({Role.SUPERVISOR}), scope=Scope(everything=True)
)


@pytest.fixture
def loaded(container: Container) -> Container:
    """A database with the standard catalog loaded."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return container


def one(container: Container, code_set: str, kind: str, code: str) -> catalog.ClassView:
    """The minor class with this code."""
    found = catalog.list_classes(
        container.deps, SYSTEM, code_set=code_set, kind=kind, level="minor", q=code
    )
    return next(c for c in found if c.code == code)


def audits(container: Container, action: str) -> int:
    """How many audit rows of an action."""
    with container.db.read() as session:
        return (
            session.scalar(
                sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == action)
            )
            or 0
        )


def test_loading_twice_adds_everything_once(container: Container) -> None:
    first = catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    assert first.classes == 150 + 418 + 25 and first.mappings == 92 + 14 and first.time_limits == 8
    again = catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    assert (again.classes, again.mappings, again.time_limits) == (0, 0, 0)
    assert audits(container, "catalog.loaded") == 1
    sets = {s.key: s for s in catalog.list_code_sets(container.deps, SUPERVISOR)}
    assert sets["gbt47678_5_2026"].active and sets["gbt47678_5_2026"].classes == 418


def test_reloading_restores_a_lost_class_and_keeps_a_city_s_edit(loaded: Container) -> None:
    garbage = one(loaded, "gbt47678_5_2026", "matter", "06010")
    assert (
        garbage.time_limits[0]["amount"] == 1 and garbage.time_limits[0]["unit"] == "working_days"
    )
    catalog_admin.update_class(
        loaded.deps, SYSTEM, garbage.id, ClassEdit(time_limits=[]), info=TEST_INFO
    )
    with loaded.db.transaction() as session:
        session.execute(sa.delete(CatalogClass).where(CatalogClass.code == "06011"))
    result = catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO)
    assert (result.classes, result.time_limits) == (1, 1)  # 06011 comes back with its example
    assert one(loaded, "gbt47678_5_2026", "matter", "06010").time_limits == []


def test_classes_are_found_by_code_prefix_name_and_pinyin_initials(loaded: Container) -> None:
    deps = loaded.deps
    by_code = catalog.list_classes(deps, SUPERVISOR, kind="component", q="0100")
    assert {c.code for c in by_code} == {f"0100{i}" for i in range(1, 10)}
    by_name = catalog.list_classes(deps, SUPERVISOR, kind="matter", q="暴露垃圾")
    assert [c.code for c in by_name] == ["06010"]
    by_initials = catalog.list_classes(deps, SUPERVISOR, kind="component", q="GSJG")
    assert "01001" in {c.code for c in by_initials}  # 供水井盖
    old = catalog.list_classes(deps, SUPERVISOR, code_set="cjt214_2007", kind="event", major="05")
    assert len([c for c in old if c.level == "minor"]) == 14
    with pytest.raises(InvalidInput):
        catalog.list_classes(deps, SUPERVISOR, code_set="cjt214_2007", kind="matter")


def test_an_administrator_edits_a_class_and_staff_may_not(loaded: Container) -> None:
    target = one(loaded, "gbt47678_5_2026", "matter", "06012")
    edit = ClassEdit(
        filing_criteria=[{"code": "01", "text": "道路有明显污渍"}],
        closing_criteria="清扫干净",
        time_limits=[
            {"amount": 2, "unit": "natural_hours", "urgency": "urgent", "area_class": "A"}
        ],
        form_fields=[{"name": "area_m2", "label_zh": "面积", "type": "number"}],
    )
    with pytest.raises(Forbidden):
        catalog_admin.update_class(loaded.deps, SUPERVISOR, target.id, edit, info=TEST_INFO)
    changed = catalog_admin.update_class(loaded.deps, SYSTEM, target.id, edit, info=TEST_INFO)
    assert changed.closing_criteria == "清扫干净" and changed.filing_criteria[0]["code"] == "01"
    assert (
        catalog.get_class(loaded.deps, SUPERVISOR, target.id).time_limits[0]["urgency"] == "urgent"
    )
    assert audits(loaded, "catalog_class.updated") == 1
    with pytest.raises(NotFound):
        catalog_admin.update_class(
            loaded.deps, SYSTEM, target.id, ClassEdit(department_id=999), info=TEST_INFO
        )
    with pytest.raises(InvalidInput) as caught:
        catalog_admin.update_class(
            loaded.deps, SYSTEM, target.id, ClassEdit(name_zh="改名"), info=TEST_INFO
        )
    assert caught.value.code == "standard_name_fixed"


def test_extension_classes_go_under_an_extension_major_without_colliding(loaded: Container) -> None:
    deps = loaded.deps

    def add(**fields: str) -> catalog.ClassView:
        return catalog_admin.add_extension_class(
            deps, SYSTEM, NewExtensionClass(code_set="gbt47678_5_2026", **fields), info=TEST_INFO
        )

    def refused(reason: str, **fields: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            add(**fields)
        assert caught.value.code == reason

    refused("class_code_taken", kind="component", level="major", code="01", name_zh="扩展")
    refused(
        "extension_needs_extension_major",
        kind="component",
        level="minor",
        code="01099",
        name_zh="屋顶广告",
    )
    major = add(kind="component", level="major", code="21", name_zh="扩展部件")
    minor = add(kind="component", level="minor", code="21001", name_zh="屋顶广告")
    assert major.is_local_extension and minor.is_local_extension and minor.initials == "wdgg"
    refused("class_code_taken", kind="component", level="minor", code="21001", name_zh="墙面广告")
    renamed = catalog_admin.update_class(
        deps, SYSTEM, minor.id, ClassEdit(name_zh="墙面广告"), info=TEST_INFO
    )
    assert renamed.initials == "qmgg"
    with pytest.raises(Forbidden):
        catalog_admin.add_extension_class(
            deps,
            SUPERVISOR,
            NewExtensionClass("gbt47678_5_2026", "matter", "major", "21", "扩展事件"),
            info=TEST_INFO,
        )


def test_switching_reports_first_then_switches(loaded: Container) -> None:
    deps = loaded.deps
    dry = catalog_switch.switch_code_set(deps, SYSTEM, "cjt214_2007", dry_run=True, info=TEST_INFO)
    assert not dry.switched and dry.report.from_set == "gbt47678_5_2026"
    assert len(dry.report.mapped) == 92 and len(dry.report.mapped) + len(dry.report.unmapped) == 403
    assert catalog.list_code_sets(deps, SYSTEM)[2].active  # still 2026
    done = catalog_switch.switch_code_set(
        deps, SYSTEM, "cjt214_2007", dry_run=False, info=TEST_INFO
    )
    assert done.switched and audits(loaded, "catalog.switched") == 1
    assert {s.key for s in catalog.list_code_sets(deps, SYSTEM) if s.active} == {"cjt214_2007"}
    assert all(c.code_set == "cjt214_2007" for c in catalog.list_classes(deps, SYSTEM, q="01"))
    with pytest.raises(Forbidden):
        catalog_switch.switch_code_set(
            deps, SUPERVISOR, "gbt47678_5_2026", dry_run=True, info=TEST_INFO
        )


def test_a_component_major_may_not_take_a_matter_major_and_back(loaded: Container) -> None:
    # GB/T 47678.5-2026: the matter for a component's anomaly carries the component's code.
    deps = loaded.deps

    def add(kind: str, code: str) -> catalog.ClassView:
        new = NewExtensionClass("gbt47678_5_2026", kind, "major", code, "扩展")
        return catalog_admin.add_extension_class(deps, SYSTEM, new, info=TEST_INFO)

    for kind, code in (("component", "06"), ("component", "10")):
        with pytest.raises(InvalidInput) as caught:
            add(kind, code)
        assert caught.value.code == "major_code_of_other_kind"
    add("matter", "31")
    with pytest.raises(InvalidInput) as caught:
        add("component", "31")
    assert caught.value.code == "major_code_of_other_kind"
    add("component", "32")
    with pytest.raises(InvalidInput) as caught:
        add("matter", "32")
    assert caught.value.code == "major_code_of_other_kind"
    # 2007 keeps components and events apart: the same major is fine there
    old = NewExtensionClass("cjt214_2007", "component", "major", "31", "扩展部件")
    catalog_admin.add_extension_class(deps, SYSTEM, old, info=TEST_INFO)
    old_event = NewExtensionClass("cjt214_2007", "event", "major", "31", "扩展事件")
    assert catalog_admin.add_extension_class(deps, SYSTEM, old_event, info=TEST_INFO).code == "31"


def test_an_extension_class_of_an_unknown_level_is_refused(loaded: Container) -> None:
    new = NewExtensionClass("gbt47678_5_2026", "component", "group", "21", "扩展")
    with pytest.raises(InvalidInput) as caught:
        catalog_admin.add_extension_class(loaded.deps, SYSTEM, new, info=TEST_INFO)
    assert caught.value.code == "invalid_level"


def test_a_switch_that_loses_a_race_is_a_conflict(
    loaded: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another administrator switches between our report and our write.
    deps = loaded.deps
    raced: list[bool] = []

    def meanwhile(_session: object) -> dict[str, dict[ClassRef, int]]:
        if not raced:
            raced.append(True)
            catalog_switch.switch_code_set(
                deps, SYSTEM, "gbt30428_2_2013", dry_run=False, info=TEST_INFO
            )
        return {}

    monkeypatch.setattr(catalog_switch, "class_usage", meanwhile)
    with pytest.raises(Conflict) as caught:
        catalog_switch.switch_code_set(deps, SYSTEM, "cjt214_2007", dry_run=False, info=TEST_INFO)
    assert caught.value.code == "code_set_switched_meanwhile"
    assert {s.key for s in catalog.list_code_sets(deps, SYSTEM) if s.active} == {"gbt30428_2_2013"}
    assert audits(loaded, "catalog.switched") == 1
