"""Loading the catalog into an existing database: the seed's corrections reach the standard
classes (never what the city set on them), the derived mapping is rebuilt around the pairs
people made, and a seed key that a local extension holds is reported, not taken."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog
from gridcity.bootstrap import Container
from gridcity.catalog_data import seed_entries
from gridcity.domain.catalog import SeedEntry
from gridcity.domain.catalog_mapping import ClassRef, MappingBasis
from gridcity.services import catalog, catalog_admin, catalog_load, catalog_mappings
from gridcity.services.catalog_admin import ClassEdit, NewExtensionClass
from tests.factories import SYSTEM, TEST_INFO, build_small_city

Y2026, Y2007 = "gbt47678_5_2026", "cjt214_2007"
Fix = Callable[[list[SeedEntry]], list[SeedEntry]]


@pytest.fixture
def loaded(container: Container) -> Container:
    """A database with the standard catalog loaded."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return container


def corrected_seed(monkeypatch: pytest.MonkeyPatch, code_set: str, fix: Fix) -> None:
    """The seed of one code set as a later release of gridcity would ship it."""

    def entries(key: str) -> list[SeedEntry]:
        found = seed_entries(key)
        return fix(found) if key == code_set else found

    monkeypatch.setattr(catalog_load, "seed_entries", entries)


def renamed(code: str, kind: str, **fields: str) -> Fix:
    """A fix that changes fields of one minor entry."""

    def fix(entries: list[SeedEntry]) -> list[SeedEntry]:
        return [
            replace(e, **fields) if (e.code, e.kind, e.level) == (code, kind, "minor") else e
            for e in entries
        ]

    return fix


def one(container: Container, code_set: str, kind: str, code: str) -> catalog.ClassView:
    """A class by its key."""
    deps = container.deps
    return catalog.get_class(deps, SYSTEM, catalog.class_id_of(deps, SYSTEM, code_set, kind, code))


def test_a_seed_correction_reaches_a_standard_class_and_the_city_s_rules_stay(
    loaded: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = build_small_city(loaded)
    department = next(iter(city.department_ids.values()))
    garbage = one(loaded, Y2026, "matter", "06010")
    rules = ClassEdit(
        department_id=department,
        filing_criteria=[{"code": "01", "text": "成堆成片"}],
        closing_criteria="清除干净",
        time_limits=[
            {"amount": 2, "unit": "working_hours", "urgency": "urgent", "area_class": "A"}
        ],
        form_fields=[{"name": "area_m2", "label_zh": "面积", "type": "number"}],
    )
    catalog_admin.update_class(loaded.deps, SYSTEM, garbage.id, rules, info=TEST_INFO)
    road = one(loaded, Y2026, "matter", "06012")
    catalog_admin.update_class(
        loaded.deps, SYSTEM, road.id, ClassEdit(name_en="Dirty road"), info=TEST_INFO
    )
    corrected_seed(
        monkeypatch,
        Y2026,
        renamed(
            "06010",
            "matter",
            name_zh="暴露垃圾杂物",
            confidence="✅",
            note="§2.6 (corrected)",
            name_en="Exposed rubbish",
        ),
    )
    result = catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO)
    assert (result.classes, result.mappings) == (0, 0)
    assert [(c.ref, c.level) for c in result.corrected] == [
        (ClassRef(Y2026, "matter", "06010"), "minor")
    ]
    assert result.corrected[0].changes == {
        "name_zh": ("暴露垃圾", "暴露垃圾杂物"),
        "confidence": ("🟡", "✅"),
        "note": (garbage.note, "§2.6 (corrected)"),
        "initials": ("bllj", "blljzw"),
        "name_en": ("", "Exposed rubbish"),
    }
    after = one(loaded, Y2026, "matter", "06010")
    assert (after.name_zh, after.name_en, after.confidence, after.initials) == (
        "暴露垃圾杂物",
        "Exposed rubbish",
        "✅",
        "blljzw",
    )
    assert after.department_id == department and after.closing_criteria == "清除干净"
    assert after.filing_criteria == [{"code": "01", "text": "成堆成片"}]
    assert [t["amount"] for t in after.time_limits] == [2]
    assert [f["name"] for f in after.form_fields] == ["area_m2"]
    # a seed without an English name leaves the one the city typed
    assert one(loaded, Y2026, "matter", "06012").name_en == "Dirty road"
    with loaded.db.read() as session:
        details = session.scalars(
            sa.select(AuditLog.detail).where(AuditLog.action == "catalog.loaded")
        ).all()
    assert len(details) == 2 and details[1]["corrected"] == [
        f"{Y2026}/matter/06010: name_zh, confidence, note, initials, name_en"
    ]
    # the name of 06010 is no longer the 2007 name, so that name match is gone too
    assert [(r.source.code, r.target.code) for r in result.mappings_removed] == [("0102", "06010")]
    assert not catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO).changed


def test_a_seed_key_held_by_a_local_extension_is_reported_and_the_extension_stays(
    loaded: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    for level, code, name in (("major", "21", "扩展部件"), ("minor", "21001", "屋顶广告")):
        new = NewExtensionClass(Y2026, "component", level, code, name)
        catalog_admin.add_extension_class(loaded.deps, SYSTEM, new, info=TEST_INFO)
    later = [
        SeedEntry(Y2026, "component", "major", "21", "21", "智慧设施", "🟡", "a later standard"),
        SeedEntry(Y2026, "component", "minor", "21001", "21", "智能井盖", "🟡", "a later standard"),
        SeedEntry(Y2026, "component", "minor", "21002", "21", "智能路灯", "🟡", "a later standard"),
    ]
    corrected_seed(monkeypatch, Y2026, lambda entries: entries + later)
    result = catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO)
    assert [(c.ref.code, c.level, c.seed_name, c.extension_name) for c in result.collisions] == [
        ("21", "major", "智慧设施", "扩展部件"),
        ("21001", "minor", "智能井盖", "屋顶广告"),
    ]
    assert result.classes == 1  # 21002 is free and is added
    kept = one(loaded, Y2026, "component", "21001")
    assert kept.is_local_extension and kept.name_zh == "屋顶广告" and kept.confidence == ""
    assert not one(loaded, Y2026, "component", "21002").is_local_extension


def test_the_derived_mapping_is_rebuilt_and_pairs_made_by_hand_win(
    loaded: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    upper = ClassRef(Y2007, "component", "0101")  # 上水井盖
    water = ClassRef(Y2026, "component", "01001")  # 供水井盖
    catalog_mappings.add_manual_mapping(
        loaded.deps, SYSTEM, upper, water, note="same covers", info=TEST_INFO
    )

    def fix(entries: list[SeedEntry]) -> list[SeedEntry]:
        out = renamed("0101", "component", name_zh="供水井盖")(entries)  # now a name match
        out = renamed("0102", "component", name_zh="排污井盖")(out)  # no longer one
        return renamed("0105", "component", confidence="❓")(out)  # 电力井盖: less certain

    corrected_seed(monkeypatch, Y2007, fix)
    result = catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO)
    assert [(r.source.code, r.target.code) for r in result.mappings_removed] == [("0102", "01002")]
    assert [
        (old.confidence.value, new.confidence.value) for old, new in result.mappings_changed
    ] == [("🟡", "❓")]
    assert result.mappings_changed[0][1].source.code == "0105"
    assert [(r.source, r.target) for r in result.mappings_yielded] == [(upper, water)]
    rows = catalog_mappings.list_mappings(loaded.deps, SYSTEM)
    pairs = {(v.row.source.code, v.row.target.code): v.row.basis for v in rows}
    assert pairs[("0101", "01001")] is MappingBasis.MANUAL
    assert ("0102", "01002") not in pairs and pairs[("0105", "01005")] is MappingBasis.NAME_MATCH
    assert len(rows) == 92 + 14 - 1 + 1


def test_a_class_the_seed_no_longer_lists_is_reported_and_kept(
    loaded: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrected_seed(monkeypatch, Y2007, lambda entries: [e for e in entries if e.code != "0606"])
    result = catalog.load_standard_catalog(loaded.deps, SYSTEM, info=TEST_INFO)
    assert result.not_in_seed == (ClassRef(Y2007, "component", "0606"),)
    assert one(loaded, Y2007, "component", "0606").name_zh == "防汛墙"
