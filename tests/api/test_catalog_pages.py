"""The catalog admin pages: Chinese first, search by pinyin initials, the structured class edit
form and the extension form for administrators (CSRF), refusals shown on the form; pairs made
by hand and the classes without a counterpart; staff only read."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.bootstrap import Container
from gridcity.services import catalog
from tests.factories import SYSTEM, TEST_INFO, SmallCity, browser_login, csrf_of

CLASS = "/admin/catalog/gbt47678_5_2026/matter/06012"


def submit(client: TestClient, page: str, action: str, data: dict[str, object]) -> Response:
    """Open a page and post one of its forms with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def loaded(container: Container, city: SmallCity) -> SmallCity:
    """The small city with the standard catalog."""
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    return city


def test_the_list_is_chinese_and_searches_by_pinyin_initials(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog", params={"kind": "matter", "q": "bllj"})
    assert page.status_code == 200
    assert "分类目录" in page.text and "暴露垃圾" in page.text
    assert 'data-testid="class-matter-06010"' in page.text
    assert 'data-testid="extension-form"' not in page.text  # staff read only
    detail = client.get(CLASS)
    assert "道路不洁" in detail.text and 'data-testid="class-form"' not in detail.text


def test_confidence_is_shown_in_words_not_emoji(client: TestClient, loaded: SmallCity) -> None:
    """The ✅/🟡/❓ marks need an emoji font that field machines often lack."""
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog", params={"kind": "matter", "q": "bllj"}).text
    row = page[page.index('data-testid="class-matter-06010"') :].split("</tr>")[0]
    assert 'class="badge warn"' in row and "较可信" in row and "🟡" not in row
    page_2007 = client.get("/admin/catalog", params={"set": "cjt214_2007", "q": "01"}).text
    major = page_2007[page_2007.index('data-testid="class-component-01"') :].split("</tr>")[0]
    assert 'class="badge ok"' in major and "确定" in major and "✅" not in page_2007


def rows_of(html: str) -> dict[str, list[dict[str, str]]]:
    """The rows the class form starts with in the browser (the JSON the page carries)."""
    start = html.index('<script type="application/json" id="class-form-state">')
    text = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(text)  # type: ignore[no-any-return]


def limits(*cells: tuple[str, str, str]) -> dict[str, object]:
    """The time-limit table as posted: (cell "urgency:area", amount, unit) per filled cell."""
    return {
        "time_limits_sent": "1",
        "tl_cell": [c for c, _a, _u in cells],
        "tl_amount": [a for _c, a, _u in cells],
        "tl_unit": [u for _c, _a, u in cells],
        "tl_note": ["" for _ in cells],
    }


def test_an_administrator_edits_a_class_in_the_structured_form(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    saved = submit(client, CLASS, CLASS, {
        "closing_criteria": "清扫干净",
        "filing_criteria_sent": "1", "fc_code": ["01", "", "02"],
        "fc_text": ["道路有明显污渍", "", "路面有积存垃圾"],
        **limits(("urgent:A", "2", "working_hours"), ("normal:", "1", "working_days")),
        "form_fields_sent": "1", "ff_name": ["size"], "ff_label_zh": ["面积大小"],
        "ff_label_en": ["Size"], "ff_type": ["choice"], "ff_required": ["1"],
        "ff_choices": ["大，中、小"],
        "department_id": str(department),
    })  # fmt: skip
    assert saved.status_code == 303
    deps = container.deps
    view = catalog.get_class(
        deps, SYSTEM, catalog.class_id_of(deps, SYSTEM, "gbt47678_5_2026", "matter", "06012")
    )
    assert view.filing_criteria == [
        {"code": "01", "text": "道路有明显污渍"},
        {"code": "02", "text": "路面有积存垃圾"},
    ]  # the blank row is dropped
    assert [(t["urgency"], t["area_class"], t["amount"], t["unit"]) for t in view.time_limits] == [
        ("urgent", "A", 2, "working_hours"),
        ("normal", None, 1, "working_days"),
    ]
    assert view.form_fields[0]["choices"] == ["大", "中", "小"] and view.form_fields[0]["required"]
    page = client.get(saved.headers["location"]).text
    assert "清扫干净" in page
    state = rows_of(page)
    assert [r["text"] for r in state["filing"]] == ["道路有明显污渍", "路面有积存垃圾"]
    assert state["fields"][0] == {"name": "size", "label_zh": "面积大小", "label_en": "Size",
                                  "type": "choice", "required": "1", "choices": "大，中，小"}  # fmt: skip
    cell = page[page.index('data-testid="limit-urgent:A"') :].split("</td>")[0]
    assert 'value="2"' in cell and 'value="working_hours" selected' in cell


def test_a_bad_value_is_refused_on_the_form_and_what_was_typed_stays(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    bad = submit(client, CLASS, CLASS, {**limits(("urgent:B", "abc", "working_days")),
                                        "closing_criteria": "x"})  # fmt: skip
    assert bad.status_code == 422 and "时限数值须为 1–10000" in bad.text
    cell = bad.text[bad.text.index('data-testid="limit-urgent:B"') :].split("</td>")[0]
    assert 'value="abc"' in cell
    code = submit(client, CLASS, CLASS, {"filing_criteria_sent": "1", "fc_code": ["第一条"],
                                         "fc_text": ["成堆"]})  # fmt: skip
    assert code.status_code == 422 and "立案条件代码须为 1–12 位字母或数字" in code.text
    assert rows_of(code.text)["filing"] == [{"code": "第一条", "text": "成堆"}]  # as typed
    one_choice = submit(client, CLASS, CLASS, {
        "form_fields_sent": "1", "ff_name": ["size"], "ff_label_zh": ["大小"], "ff_label_en": [""],
        "ff_type": ["choice"], "ff_required": [""], "ff_choices": ["大"],
    })  # fmt: skip
    assert one_choice.status_code == 422 and "至少需要两个不同的选项" in one_choice.text
    without_token = client.post(CLASS, data={"closing_criteria": "y"}, follow_redirects=False)
    assert without_token.status_code == 403


def test_rows_that_do_not_line_up_are_refused_with_the_section_s_name(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    crafted = submit(client, CLASS, CLASS, {"filing_criteria_sent": "1", "fc_code": ["01", "02"],
                                            "fc_text": ["成堆"]})  # fmt: skip
    assert crafted.status_code == 422 and "立案条件" in crafted.text and "不完整" in crafted.text


def test_an_administrator_adds_an_extension_major_then_a_minor(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    form = {"code_set": "gbt47678_5_2026", "kind": "component", "level": "major", "code": "21",
            "name_zh": "扩展部件"}  # fmt: skip
    added = submit(client, "/admin/catalog", "/admin/catalog/classes", form)
    assert added.status_code == 303
    assert added.headers["location"].startswith("/admin/catalog/gbt47678_5_2026/component/21")
    taken = submit(client, "/admin/catalog", "/admin/catalog/classes", form)
    assert taken.status_code == 422 and "扩展部件" in taken.text
    minor = submit(client, "/admin/catalog", "/admin/catalog/classes",
                   {**form, "level": "minor", "code": "21001", "name_zh": "屋顶广告"})  # fmt: skip
    assert minor.status_code == 303
    listed = client.get("/admin/catalog", params={"q": "wdgg"})
    assert "屋顶广告" in listed.text


def test_a_duplicate_time_limit_without_urgency_says_unspecified(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    twice = limits((":", "1", "working_days"), (":", "2", "working_days"))  # a crafted post
    page = submit(client, CLASS, CLASS, twice)
    assert page.status_code == 422 and "未指定" in page.text and "None" not in page.text


def test_fields_missing_from_the_form_keep_their_stored_values(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    full = {"closing_criteria": "清扫干净", "filing_criteria_sent": "1", "fc_code": ["01"],
            "fc_text": ["污渍"], "department_id": str(department), "name_en": "Dirty road"}  # fmt: skip
    assert submit(client, CLASS, CLASS, full).status_code == 303
    assert submit(client, CLASS, CLASS, {"form_fields_sent": "1"}).status_code == 303
    deps = container.deps
    view = catalog.get_class(
        deps, SYSTEM, catalog.class_id_of(deps, SYSTEM, "gbt47678_5_2026", "matter", "06012")
    )
    assert view.closing_criteria == "清扫干净" and view.filing_criteria[0]["code"] == "01"
    assert view.department_id == department and view.name_en == "Dirty road"
    assert view.time_limits  # the seeded limit is still there


def test_a_non_numeric_department_is_refused_clearly(client: TestClient, loaded: SmallCity) -> None:
    browser_login(client, "admin")
    page = submit(client, CLASS, CLASS, {"department_id": "abc"})
    assert page.status_code == 422 and "请从列表中选择部门" in page.text
    full_width = submit(client, CLASS, CLASS, {"department_id": "１"})
    assert full_width.status_code == 422 and "请从列表中选择部门" in full_width.text


def test_a_deactivated_department_of_the_class_stays_selected(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    from gridcity.services import departments

    browser_login(client, "admin")
    department = next(iter(loaded.department_ids.values()))
    assert submit(client, CLASS, CLASS, {"department_id": str(department)}).status_code == 303
    current = departments.get_department(container.deps, SYSTEM, department)
    departments.update_department(
        container.deps,
        SYSTEM,
        department,
        departments.DepartmentInput(name=current.name, kind=current.kind, is_active=False),
        info=TEST_INFO,
    )
    page = client.get(CLASS).text
    assert f'<option value="{department}" selected>' in page


def test_an_active_set_this_version_does_not_know_is_shown_not_a_500(
    client: TestClient, loaded: SmallCity, container: Container
) -> None:
    import sqlalchemy as sa

    from gridcity.adapters.db.tables import CatalogCodeSet, CatalogSetting

    # a row a later version of gridcity wrote, read by this one (e.g. after a downgrade)
    with container.deps.db.transaction() as session:
        session.add(
            CatalogCodeSet(key="gbt_2099", name_zh="未来", name_en="Future", minor_digits=3)
        )
        session.flush()
        session.execute(sa.update(CatalogSetting).values(active_code_set="gbt_2099"))
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog")
    assert page.status_code != 500 and "本版本已知" in page.text


PAIR = {"source_set": "gbt47678_5_2026", "source_kind": "component", "source_code": "01001",
        "target_set": "cjt214_2007", "target_kind": "component", "target_code": "0101",
        "note": "同一种井盖"}  # fmt: skip


def test_an_administrator_pairs_two_classes_on_the_catalog_page_and_deletes_the_pair(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    added = submit(client, "/admin/catalog", "/admin/catalog/mapping", PAIR)
    assert added.status_code == 303
    page = client.get("/admin/catalog").text
    pairs = page[page.index('data-testid="manual-pairs"') :].split("</table>")[0]
    assert "供水井盖" in pairs and "上水井盖" in pairs and "同一种井盖" in pairs
    again = submit(client, "/admin/catalog", "/admin/catalog/mapping", PAIR)
    assert again.status_code == 409 and "已对应" in again.text
    assert 'value="01001"' in again.text  # what was typed stays on the form
    kinds = submit(client, "/admin/catalog", "/admin/catalog/mapping",
                   {**PAIR, "source_code": "01002", "target_kind": "event"})  # fmt: skip
    assert kinds.status_code == 422
    mapping_id = pairs.split('data-testid="pair-')[1].split('"')[0]
    deleted = submit(client, "/admin/catalog", "/admin/catalog/mapping/delete",
                     {"mapping_id": mapping_id})  # fmt: skip
    assert deleted.status_code == 303
    assert "尚无人工对应" in client.get("/admin/catalog").text


def test_staff_see_the_pairs_and_the_unmapped_classes_but_no_forms(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "supervisor")
    page = client.get("/admin/catalog").text
    assert 'data-testid="manual-pairs"' in page and 'data-testid="pair-form"' not in page
    unmapped = client.get("/admin/catalog/unmapped", params={"to_set": "cjt214_2007"})
    assert unmapped.status_code == 200
    assert 'data-testid="unmapped-component-01001"' in unmapped.text
    assert "311" in unmapped.text and 'name="target_code"' not in unmapped.text
    same = client.get("/admin/catalog/unmapped", params={"to_set": "gbt47678_5_2026"})
    assert same.status_code == 422


def test_an_unmapped_class_is_paired_from_its_row_and_leaves_the_list(
    client: TestClient, loaded: SmallCity
) -> None:
    browser_login(client, "admin")
    page = "/admin/catalog/unmapped?to_set=cjt214_2007"
    form = {**PAIR, "back": "unmapped"}
    paired = submit(client, page, "/admin/catalog/mapping", form)
    assert paired.status_code == 303 and paired.headers["location"].startswith(
        "/admin/catalog/unmapped?set=gbt47678_5_2026&to_set=cjt214_2007"
    )
    after = client.get(paired.headers["location"]).text
    assert 'data-testid="unmapped-component-01001"' not in after and "310" in after
    wrong = submit(client, page, "/admin/catalog/mapping",
                   {**form, "source_code": "01017", "target_code": "0199"})  # fmt: skip
    assert wrong.status_code == 404 and 'data-testid="unmapped"' in wrong.text
