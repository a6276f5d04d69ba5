"""The component registry: a component is created through the census write path, read within
the data scope, edited with a versioned history (who changed what, old → new, when, why),
guarded against lost updates, and its state changed in bulk with a reason."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, Point, box

from gridcity.adapters.db.tables import AuditLog, Component, ComponentVersion, Department, User
from gridcity.adapters.spatial_index import read_versions
from gridcity.bootstrap import Container
from gridcity.domain.access import Actor
from gridcity.domain.divisions import DivisionLevel
from gridcity.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from gridcity.services import auth, catalog, catalog_admin, component_lists, divisions
from gridcity.services.catalog_admin import ClassEdit
from gridcity.services.components import (
    MAX_STATE_BATCH,
    ComponentEdit,
    ComponentRefused,
    NewComponent,
    change_states,
    component_history,
    create_component,
    get_component,
    list_components,
    update_component,
)
from tests.factories import (
    COMM_A1,
    COMM_B1,
    DISTRICT,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    add_quarter_grids,
    build_small_city,
)

PARKS, WORKS = "区园林绿化局", "区市政管理委员会"
IN_A1 = Point(116.402, 39.902)  # a unit grid of community A1
IN_B1 = Point(116.415, 39.905)  # community B1, which has no unit grids
OUTSIDE = Point(116.50, 39.95)
WATER_COVER, BIN = "01001", "03005"  # 供水井盖, 垃圾箱 (GB/T 47678.5-2026)


@dataclasses.dataclass
class Registry:
    """The small city with unit grids in community A1, the catalog, and two components."""

    container: Container
    city: SmallCity
    cover: str  # 供水井盖 in A1, competent: parks
    bin: str  # 垃圾箱 in B1, competent: works, maintainer: parks

    def actor(self, role: str) -> Actor:
        """The acting identity of the fixture user of a role."""
        with self.container.db.read() as session:
            user = session.get(User, self.city.user_ids[role])
            assert user is not None
            return auth.actor_of(user)

    @property
    def admin(self) -> Actor:
        """The administrator."""
        return self.actor("admin")

    def dept(self, name: str) -> int:
        """A fixture department's id."""
        return self.city.department_ids[name]


def build_registry(container: Container) -> Registry:
    """The registry fixture (also used by the API tests and the access matrix)."""
    city = build_small_city(container)
    add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))
    catalog.load_standard_catalog(container.deps, SYSTEM, info=TEST_INFO)
    admin = SYSTEM
    cover = create_component(
        container.deps,
        admin,
        NewComponent(
            WATER_COVER,
            IN_A1,
            competent_department_id=city.department_ids[PARKS],
            census_date=date(2026, 3, 1),
            reason="普查补录",
        ),
        info=TEST_INFO,
    )
    bin_ = create_component(
        container.deps,
        admin,
        NewComponent(
            BIN,
            IN_B1,
            name="景山东街垃圾箱",
            competent_department_id=city.department_ids[WORKS],
            maintainer_department_id=city.department_ids[PARKS],
            census_date=date(2026, 3, 1),
        ),
        info=TEST_INFO,
    )
    return Registry(container, city, cover.identifier, bin_.identifier)


@pytest.fixture
def reg(container: Container) -> Registry:
    """The registry fixture."""
    return build_registry(container)


def _versions(reg: Registry, identifier: str) -> list[ComponentVersion]:
    with reg.container.db.read() as session:
        return list(
            session.scalars(
                sa.select(ComponentVersion)
                .join(Component, Component.id == ComponentVersion.component_id)
                .where(Component.identifier == identifier)
                .order_by(ComponentVersion.version)
            )
        )


def _audits(reg: Registry, action: str) -> list[AuditLog]:
    with reg.container.db.read() as session:
        return list(session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def _seq(reg: Registry) -> tuple[int, int]:
    """The components counter and the highest change_seq stamped on a component."""
    with reg.container.db.read() as session:
        top = session.scalar(sa.select(sa.func.max(Component.change_seq))) or 0
        return read_versions(session).get("components", 0), int(top)


def _edit(reg: Registry, identifier: str, edit: ComponentEdit, **kw: object) -> object:
    kw.setdefault(
        "expected_version", get_component(reg.container.deps, reg.admin, identifier).version
    )
    kw.setdefault("reason", "")
    return update_component(
        reg.container.deps,
        reg.admin,
        identifier,
        edit,
        info=TEST_INFO,
        **kw,  # type: ignore[arg-type]
    )


# --- creation and reading -------------------------------------------------------------------


def test_a_form_creates_one_component_with_a_drawn_identifier_and_its_grid(reg: Registry) -> None:
    view = get_component(reg.container.deps, reg.admin, reg.cover)
    assert view.identifier == f"{DISTRICT}{WATER_COVER}000001"
    assert (view.name, view.class_name, view.state, view.state_name) == (
        "供水井盖",
        "供水井盖",
        "intact",
        "完好",
    )
    assert view.grid_code is not None and view.grid_code.startswith(COMM_A1)
    assert (view.community_code, view.subdistrict_code) == (COMM_A1, SUB_A)
    assert view.community_name == "多福巷社区" and view.subdistrict_name == "东华门街道"
    assert view.competent_department.name == PARKS and view.owner_department is None
    assert view.geometry == {"type": "Point", "coordinates": (116.402, 39.902)}
    assert (view.lon, view.lat, view.version) == (116.402, 39.902, 1)
    binned = get_component(reg.container.deps, reg.admin, reg.bin)
    assert binned.grid_code is None and binned.community_code == COMM_B1
    assert binned.maintainer_department is not None
    assert binned.maintainer_department.name == PARKS


def test_history_starts_with_the_creation_and_its_source(reg: Registry) -> None:
    (created,) = component_history(reg.container.deps, reg.admin, reg.cover)
    assert (created.version, created.action, created.reason) == (1, "created", "普查补录")
    assert created.actor_name == SYSTEM.username
    assert created.source == {"file_name": "form", "file_format": "form"}
    assert _audits(reg, "component.imported")


def test_a_likely_duplicate_is_refused_unless_allowed(reg: Registry) -> None:
    near = Point(116.40201, 39.90201)  # ~1.4 m from the cover
    data = NewComponent(WATER_COVER, near, competent_department_id=reg.dept(PARKS))
    with pytest.raises(ComponentRefused) as refused:
        create_component(reg.container.deps, reg.admin, data, info=TEST_INFO)
    assert refused.value.code == "likely_duplicate"
    assert refused.value.problems[0].column == "geometry"
    second = create_component(
        reg.container.deps, reg.admin, data, info=TEST_INFO, allow_duplicate=True
    )
    assert second.identifier == f"{DISTRICT}{WATER_COVER}000002"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (NewComponent(WATER_COVER, OUTSIDE, competent_department_id=1), "outside_managed_area"),
        (NewComponent("99999", IN_A1, competent_department_id=1), "unknown_component_class"),
        (NewComponent(WATER_COVER, IN_A1), "missing_competent_department"),
        (NewComponent(WATER_COVER, IN_A1, competent_department_id=999), "unknown_department"),
    ],
)
def test_a_refused_form_names_its_reason(reg: Registry, data: NewComponent, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        create_component(reg.container.deps, reg.admin, data, info=TEST_INFO)
    assert refused.value.code == code


def test_a_supervisor_sees_components_of_their_subdistrict_only(reg: Registry) -> None:
    supervisor = reg.actor("supervisor")  # scope: subdistrict A
    assert get_component(reg.container.deps, supervisor, reg.cover).identifier == reg.cover
    with pytest.raises(NotFound) as hidden:
        get_component(reg.container.deps, supervisor, reg.bin)
    assert hidden.value.code == "component_not_found"
    with pytest.raises(NotFound):
        component_history(reg.container.deps, supervisor, reg.bin)
    page = list_components(reg.container.deps, supervisor)
    assert [c.identifier for c in page.items] == [reg.cover] and page.total == 1


def test_a_handler_sees_the_components_their_department_looks_after(reg: Registry) -> None:
    handler = reg.actor("handler")  # works for parks; no division scope
    page = list_components(reg.container.deps, handler)
    assert {c.identifier for c in page.items} == {reg.cover, reg.bin}  # competent; maintainer
    with reg.container.db.transaction() as session:
        session.execute(sa.update(User).values(department_id=reg.dept(WORKS)))
    moved = reg.actor("handler")
    assert [c.identifier for c in list_components(reg.container.deps, moved).items] == [reg.bin]
    with pytest.raises(NotFound):
        get_component(reg.container.deps, moved, reg.cover)


def test_an_unknown_identifier_is_not_found(reg: Registry) -> None:
    with pytest.raises(NotFound) as missing:
        get_component(reg.container.deps, reg.admin, f"{DISTRICT}{WATER_COVER}999999")
    assert missing.value.code == "component_not_found"


# --- search and filters ---------------------------------------------------------------------


def _found(reg: Registry, **filters: object) -> list[str]:
    page = list_components(reg.container.deps, reg.admin, **filters)  # type: ignore[arg-type]
    assert page.total == len(page.items)
    return [c.identifier for c in page.items]


def test_search_by_identifier_prefix_name_and_pinyin_initials(reg: Registry) -> None:
    assert _found(reg, q=reg.cover[:13]) == [reg.cover]
    assert _found(reg, q=DISTRICT) == [reg.cover, reg.bin]
    assert _found(reg, q="景山东街") == [reg.bin]  # the component's own name
    assert _found(reg, q="gsjg") == [reg.cover]  # 供水井盖 by its class's initials
    assert _found(reg, q="LJX") == [reg.bin]  # 垃圾箱, any case
    assert _found(reg, q="井盖") == [reg.cover]  # part of the class name
    assert _found(reg, q="100%") == []


def test_filters_by_class_state_department_division_and_grid(reg: Registry) -> None:
    cover = get_component(reg.container.deps, reg.admin, reg.cover)
    assert _found(reg, class_code=BIN) == [reg.bin]
    assert _found(reg, department_id=reg.dept(PARKS)) == [reg.cover, reg.bin]
    assert _found(reg, department_id=reg.dept(WORKS)) == [reg.bin]
    assert _found(reg, community_code=COMM_B1) == [reg.bin]
    assert _found(reg, community_code=SUB_A) == [reg.cover]
    assert _found(reg, community_code=DISTRICT) == [reg.cover, reg.bin]
    assert _found(reg, grid_code=cover.grid_code) == [reg.cover]
    assert _found(reg, state="intact") == [reg.cover, reg.bin]
    assert _found(reg, state="破损") == []


def test_removed_components_leave_the_list_unless_asked_for(reg: Registry) -> None:
    change_states(
        reg.container.deps, reg.admin, [reg.bin], "removed", reason="已拆除", info=TEST_INFO
    )
    assert _found(reg) == [reg.cover]
    assert _found(reg, include_removed=True) == [reg.cover, reg.bin]
    assert _found(reg, state="removed") == [reg.bin]


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"class_code": "01a"}, "invalid_class_filter"),
        ({"community_code": "东城"}, "invalid_division_filter"),
        ({"grid_code": "x"}, "invalid_grid_filter"),
        ({"state": "broken"}, "invalid_component_state"),
    ],
)
def test_a_bad_filter_is_refused(reg: Registry, filters: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        list_components(reg.container.deps, reg.admin, **filters)  # type: ignore[arg-type]
    assert refused.value.code == code


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"q": "gsjg"},
        {"q": "景山东街"},
        {"class_code": BIN},
        {"community_code": SUB_A},
        {"community_code": COMM_B1},
        {"department_id": 1},
        {"state": "intact"},
    ],
    ids=str,
)
def test_past_the_count_limit_the_same_components_are_listed(
    reg: Registry, filters: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the limit, the total stops and SQLite walks the identifier index instead."""
    exact = list_components(reg.container.deps, reg.admin, **filters)  # type: ignore[arg-type]
    assert exact.exact
    monkeypatch.setattr(component_lists, "COUNT_LIMIT", 0)
    capped = list_components(reg.container.deps, reg.admin, **filters)  # type: ignore[arg-type]
    assert [c.identifier for c in capped.items] == [c.identifier for c in exact.items]
    assert (capped.total, capped.exact) == (0, not exact.items)


def test_paging_counts_every_match(reg: Registry) -> None:
    page = list_components(reg.container.deps, reg.admin, per_page=1, page=2)
    assert ([c.identifier for c in page.items], page.total, page.pages) == ([reg.bin], 2, 2)


# --- editing --------------------------------------------------------------------------------


def test_an_edit_is_versioned_with_who_what_when_and_why(reg: Registry) -> None:
    before = _seq(reg)
    moment = datetime(2026, 6, 1, 2, 30, tzinfo=UTC)
    deps = dataclasses.replace(reg.container.deps, clock=lambda: moment)
    view = update_component(
        deps,
        reg.admin,
        reg.cover,
        ComponentEdit(name="东门供水井盖", state="damaged", owner_department_id=reg.dept(WORKS)),
        expected_version=1,
        reason="巡查发现井盖破损",
        info=TEST_INFO,
    )
    assert (view.version, view.name, view.state_name) == (2, "东门供水井盖", "破损")
    assert view.owner_department is not None and view.owner_department.name == WORKS
    created, edited = component_history(reg.container.deps, reg.admin, reg.cover)
    assert created.action == "created"
    assert (edited.version, edited.action, edited.actor_name) == (2, "updated", "admin")
    assert edited.changed_at == moment and edited.reason == "巡查发现井盖破损"
    assert edited.changes == {
        "name": ["供水井盖", "东门供水井盖"],
        "state": ["intact", "damaged"],
        "owner_department": [None, WORKS],
    }
    (entry,) = _audits(reg, "component.updated")
    assert entry.target_id == reg.cover and entry.detail["version"] == 2
    counter, stamped = _seq(reg)
    assert counter == before[0] + 1 and stamped == counter


def test_an_edit_that_changes_nothing_writes_nothing(reg: Registry) -> None:
    before = _seq(reg)
    view = _edit(reg, reg.cover, ComponentEdit(name="供水井盖", state="完好", note=""))
    assert view.version == 1  # type: ignore[attr-defined]
    assert _versions(reg, reg.cover) == [] and _audits(reg, "component.updated") == []
    assert _seq(reg) == before


def test_a_new_position_is_re_anchored_and_re_located(reg: Registry) -> None:
    line = LineString([(116.413, 39.904), (116.417, 39.904)])  # community B1, no grid
    view = _edit(reg, reg.cover, ComponentEdit(geometry=line), reason="复测")
    assert view.community_code == COMM_B1 and view.grid_code is None  # type: ignore[attr-defined]
    assert (round(view.lon, 6), round(view.lat, 6)) == (116.415, 39.904)  # type: ignore[attr-defined]
    (entry,) = _versions(reg, reg.cover)
    assert set(entry.changes) == {"geometry", "grid_code", "community_code"}
    assert entry.changes["community_code"] == [COMM_A1, COMM_B1]
    assert entry.changes["geometry"][1]["type"] == "LineString"


def test_attributes_are_checked_against_the_class_fields(reg: Registry) -> None:
    class_id = get_component(reg.container.deps, reg.admin, reg.cover).class_id
    fields = [
        {"name": "material", "label_zh": "材质", "type": "choice", "choices": ["铸铁", "复合"]},
        {"name": "diameter_cm", "label_zh": "直径", "type": "number"},
    ]
    catalog_admin.update_class(
        reg.container.deps, SYSTEM, class_id, ClassEdit(form_fields=fields), info=TEST_INFO
    )
    view = _edit(
        reg, reg.cover, ComponentEdit(attributes={"material": "铸铁", "diameter_cm": "70"})
    )
    assert view.attributes == {"material": "铸铁", "diameter_cm": 70}  # type: ignore[attr-defined]
    (entry,) = _versions(reg, reg.cover)
    assert entry.changes == {
        "attributes.material": [None, "铸铁"],
        "attributes.diameter_cm": [None, 70],
    }
    for attributes, code in (
        ({"colour": "red"}, "unknown_attribute"),
        ({"material": "木"}, "invalid_attribute_choice"),
        ({"diameter_cm": "wide"}, "invalid_attribute"),
    ):
        with pytest.raises(InvalidInput) as refused:
            _edit(reg, reg.cover, ComponentEdit(attributes=attributes))
        assert refused.value.code == code


def test_a_department_deactivated_since_stays_through_an_edit_but_is_not_chosen_anew(
    reg: Registry,
) -> None:
    with reg.container.db.transaction() as session:
        session.execute(
            sa.update(Department).where(Department.id == reg.dept(PARKS)).values(is_active=False)
        )
    same = ComponentEdit(note="复核", competent_department_id=reg.dept(PARKS))
    assert _edit(reg, reg.cover, same).note == "复核"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as refused:
        _edit(reg, reg.bin, ComponentEdit(owner_department_id=reg.dept(PARKS)))
    assert refused.value.code == "unknown_department"


def test_optional_fields_can_be_cleared(reg: Registry) -> None:
    view = _edit(reg, reg.bin, ComponentEdit(clear=frozenset({"maintainer_department_id"})))
    assert view.maintainer_department is None  # type: ignore[attr-defined]
    (entry,) = _versions(reg, reg.bin)
    assert entry.changes == {"maintainer_department": [PARKS, None]}


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (ComponentEdit(class_code=BIN), "class_change_refused"),
        (ComponentEdit(geometry=OUTSIDE), "outside_managed_area"),
        (ComponentEdit(geometry=Point(116.43, 39.91)), "district_change_refused"),
        (ComponentEdit(geometry=Point()), "missing_geometry"),
        (ComponentEdit(state="damaged"), "reason_required"),
        (ComponentEdit(state="kaputt"), "invalid_component_state"),
        (ComponentEdit(name="长" * 61), "text_too_long"),
        (ComponentEdit(accuracy="D"), "invalid_accuracy_class"),
        (ComponentEdit(owner_department_id=999), "unknown_department"),
        (ComponentEdit(clear=frozenset({"competent_department_id"})), "not_clearable"),
        (ComponentEdit(census_date=date(2099, 1, 1)), "census_date_in_future"),
        (ComponentEdit(changed_on=date(2020, 1, 1)), "invalid_change_date"),
    ],
)
def test_a_refused_edit_names_its_reason_and_writes_nothing(
    reg: Registry, edit: ComponentEdit, code: str
) -> None:
    divisions.create_division(
        reg.container.deps,
        SYSTEM,
        code="110102",
        name="西城区",
        level=DivisionLevel.DISTRICT,
        boundary=box(116.42, 39.90, 116.44, 39.92),
        info=TEST_INFO,
    )
    with pytest.raises(InvalidInput) as refused:
        _edit(reg, reg.cover, edit)
    assert refused.value.code == code
    assert _versions(reg, reg.cover) == []
    assert get_component(reg.container.deps, reg.admin, reg.cover).version == 1


def test_a_stale_version_is_a_conflict(reg: Registry) -> None:
    _edit(reg, reg.cover, ComponentEdit(note="第一次"), expected_version=1)
    with pytest.raises(Conflict) as stale:
        _edit(reg, reg.cover, ComponentEdit(note="第二次"), expected_version=1)
    assert stale.value.code == "component_changed_meanwhile" and stale.value.status == 409
    assert get_component(reg.container.deps, reg.admin, reg.cover).note == "第一次"


def test_of_editors_racing_from_one_version_exactly_one_wins(reg: Registry) -> None:
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def editor(n: int) -> None:
        start.wait()
        try:
            _edit(reg, reg.cover, ComponentEdit(note=f"editor {n}"), expected_version=1)
            outcomes.append("won")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["component_changed_meanwhile"] * 3 + ["won"]
    assert [v.version for v in _versions(reg, reg.cover)] == [2]
    assert get_component(reg.container.deps, reg.admin, reg.cover).version == 2


def test_only_administrators_write(reg: Registry) -> None:
    supervisor = reg.actor("supervisor")
    with pytest.raises(Forbidden):
        update_component(
            reg.container.deps,
            supervisor,
            reg.cover,
            ComponentEdit(note="x"),
            expected_version=1,
            reason="",
            info=TEST_INFO,
        )
    with pytest.raises(Forbidden):
        change_states(
            reg.container.deps, supervisor, [reg.cover], "lost", reason="丢", info=TEST_INFO
        )
    with pytest.raises(Forbidden):
        create_component(
            reg.container.deps, supervisor, NewComponent(WATER_COVER, IN_A1), info=TEST_INFO
        )


# --- bulk state changes ---------------------------------------------------------------------


def test_a_bulk_state_change_versions_each_component_and_audits_once(reg: Registry) -> None:
    change_states(
        reg.container.deps, reg.admin, [reg.bin], "damaged", reason="破损", info=TEST_INFO
    )
    result = change_states(
        reg.container.deps,
        reg.admin,
        [reg.cover, reg.bin, reg.cover],
        "破损",
        reason="台风",
        info=TEST_INFO,
    )
    assert (result.state, result.changed, result.unchanged) == ("damaged", 1, 1)
    (entry,) = _versions(reg, reg.cover)
    assert (entry.action, entry.version, entry.reason) == ("state_changed", 2, "台风")
    assert entry.changes == {"state": ["intact", "damaged"]}
    assert [v.version for v in _versions(reg, reg.bin)] == [2]  # unchanged the second time
    audits = _audits(reg, "component.state_changed")
    assert len(audits) == 2 and audits[-1].detail["identifiers"] == [reg.cover]
    history = component_history(reg.container.deps, reg.admin, reg.cover)
    assert [h.action for h in history] == ["created", "state_changed"]


def test_a_batch_with_an_unreachable_identifier_changes_nothing(reg: Registry) -> None:
    supervisor_scope = dataclasses.replace(reg.admin, scope=reg.actor("supervisor").scope)
    unknown = f"{DISTRICT}{BIN}000099"
    for actor, ids in ((reg.admin, [reg.cover, unknown]), (supervisor_scope, [reg.cover, reg.bin])):
        with pytest.raises(NotFound) as refused:
            change_states(reg.container.deps, actor, ids, "lost", reason="丢失", info=TEST_INFO)
        assert refused.value.code == "components_not_found"
        assert ids[1] in str(refused.value)
    assert _versions(reg, reg.cover) == []


@pytest.mark.parametrize(
    ("ids", "reason", "code"),
    [
        (None, "", "reason_required"),
        ([], "丢失", "no_components_chosen"),
        (["12345"], "丢失", "invalid_identifier"),
        ([f"{n:017d}" for n in range(MAX_STATE_BATCH + 1)], "丢失", "state_batch_too_large"),
    ],
)
def test_a_bulk_change_is_refused_with_its_reason(
    reg: Registry, ids: list[str] | None, reason: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        change_states(
            reg.container.deps,
            reg.admin,
            [reg.cover] if ids is None else ids,
            "lost",
            reason=reason,
            info=TEST_INFO,
        )
    assert refused.value.code == code


# --- the census day is Beijing's day, not UTC's ----------------------------------------------


def test_a_census_dated_today_in_china_is_accepted_before_8_am(reg: Registry) -> None:
    early = datetime(2026, 6, 2, 23, 30, tzinfo=UTC)  # 07:30 on 3 June in Beijing
    deps = dataclasses.replace(reg.container.deps, clock=lambda: early)
    data = NewComponent(
        BIN,
        Point(116.405, 39.905),
        competent_department_id=reg.dept(PARKS),
        census_date=date(2026, 6, 3),
    )
    assert create_component(deps, reg.admin, data, info=TEST_INFO).census_date == date(2026, 6, 3)
