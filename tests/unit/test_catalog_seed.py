"""The seed files hold what standards.md §2.3–§2.6 lists, with its confidence marks and notes,
and the 2013/2007 ↔ 2026 mapping goes there and back without guessing."""

from __future__ import annotations

from collections import Counter

from gridcity.catalog_data import seed_entries, seed_time_limits
from gridcity.domain.catalog import CJT214_2007, GBT30428_2_2013, GBT47678_5_2026, check_seed
from gridcity.domain.catalog_mapping import ClassRef, derive_mapping, rule_code, translate


def minors(code_set: str, kind: str) -> dict[str, tuple[str, str, str]]:
    """code → (name, confidence, note) of the minor classes of one kind."""
    return {
        e.code: (e.name_zh, e.confidence, e.note)
        for e in seed_entries(code_set)
        if e.level == "minor" and e.kind == kind
    }


def test_every_seed_file_keeps_the_structure_of_its_code_set() -> None:
    for key in (CJT214_2007, GBT30428_2_2013, GBT47678_5_2026):
        check_seed(seed_entries(key))


def test_the_2026_directory_has_153_components_and_250_matters_with_the_listed_gaps() -> None:
    components = minors(GBT47678_5_2026, "component")
    matters = minors(GBT47678_5_2026, "matter")
    assert len(components) == 153 and len(matters) == 250
    per_major = Counter(code[:2] for code in components)
    assert per_major == {"01": 76, "02": 44, "03": 16, "04": 14, "05": 3}
    for gap in ("01016", "05001", "05004", "05008"):
        assert gap not in components
    for gap in ("06031", "07005", "09007"):
        assert gap not in matters
    assert set(components) <= set(matters)  # one "<component>异常" matter per component
    assert matters["01001"][0] == "供水井盖异常"
    assert matters["01066"][0] == "紧急报警点异常SOS"
    assert matters["06010"][0] == "暴露垃圾"
    assert {c for _n, c, _x in components.values()} == {"🟡"}


def test_the_2007_lists_keep_each_rows_confidence_and_note() -> None:
    components = minors(CJT214_2007, "component")
    events = minors(CJT214_2007, "event")
    assert len(components) == 38 + 17 + 11 + 10 + 3 + 6
    assert len(events) == 19 + 5 + 6 + 10 + 14
    assert components["0101"][:2] == ("上水井盖", "✅")
    assert components["0128"] == ("公交井盖", "🟡", "BJ 0128 输油（气）井盖")
    assert components["0501"][1] == "✅" and components["0601"][1] == "🟡"  # "all ✅" / "all 🟡"
    assert events["0115"][:2] == ("焚烧树叶垃圾", "🟡")  # a range row, one entry per name
    assert events["0304"][:2] == ("施工占道", "❓")
    assert events["0599"] == ("其他街面秩序问题", "✅", "")


def test_the_2013_events_are_only_those_one_city_enum_shows() -> None:
    events = minors(GBT30428_2_2013, "event")
    assert len(events) == 14 and events["0110"][0] == "暴露垃圾"
    assert {c for _n, c, _x in events.values()} == {"🟡"}


def test_time_limit_examples_are_the_four_jiyuan_ones_on_both_sets() -> None:
    examples = seed_time_limits()
    assert len(examples) == 8
    for example in examples:
        name = minors(example.code_set, example.kind)[example.code][0]
        assert name in example.note and example.note.startswith("🟡 济源")


def test_2013_events_map_to_2026_by_shifting_the_major_and_back() -> None:
    rows, unmapped = derive_mapping(seed_entries(GBT30428_2_2013), seed_entries(GBT47678_5_2026))
    assert not unmapped and len(rows) == 14
    assert (
        rule_code("0110") == "06010" and rule_code("0410") == "09010" and rule_code("0501") is None
    )
    for row in rows:
        assert row.basis == "rule" and row.confidence == "🟡"
        back = translate(rows, row.target, GBT30428_2_2013)
        assert back == row.source
        assert translate(rows, row.source, GBT47678_5_2026) == row.target
    note = {r.source.code: r.note for r in rows}
    assert note["0136"] == "names differ: 乱堆物堆料 / 乱堆杂物"


def test_2007_classes_map_by_exact_name_one_to_one_and_the_rest_are_listed() -> None:
    source, target = seed_entries(CJT214_2007), seed_entries(GBT47678_5_2026)
    rows, unmapped = derive_mapping(source, target)
    assert len({r.target for r in rows}) == len(rows)  # never two sources on one target
    for row in rows:
        assert row.basis == "name_match"
        assert (
            translate(rows, translate(rows, row.source, GBT47678_5_2026), CJT214_2007) == row.source
        )  # type: ignore[arg-type]
    mapped = {r.source.code: r.target.code for r in rows if r.source.kind == "component"}
    assert mapped["0102"] == "01002"  # 污水井盖
    assert "0101" not in mapped  # 上水井盖 ≠ 供水井盖: not guessed
    events = {r.source.code: r.target for r in rows if r.source.kind == "event"}
    assert events["0102"] == ClassRef(GBT47678_5_2026, "matter", "06010")  # 暴露垃圾
    assert ClassRef(CJT214_2007, "component", "0101") in {u.ref for u in unmapped}
    minors_2007 = [e for e in source if e.level == "minor"]
    assert len(rows) + len(unmapped) == len(minors_2007)
