"""Test data built through the services (never straight into tables)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from shapely.geometry import box

from gridcity.bootstrap import Container
from gridcity.domain.access import Actor, Role, Scope
from gridcity.domain.departments import CenterKind, DepartmentKind
from gridcity.domain.divisions import DivisionLevel
from gridcity.services import departments, divisions, users
from gridcity.services.deps import RequestInfo

PASSWORD = "Test#Pass2026"
TEST_INFO = RequestInfo(ip="test", request_id="test")
SYSTEM = Actor(
    user_id=None,
    username="test-system",
    roles=frozenset({Role.ADMIN}),
    scope=Scope(everything=True),
)

DISTRICT = "110101"
SUB_A, SUB_B = "110101001", "110101002"
COMM_A1, COMM_A2, COMM_B1 = "110101001001", "110101001002", "110101002001"
# A 0.02° × 0.02° district split into two subdistricts; each subdistrict into communities.
DISTRICT_BOX = (116.40, 39.90, 116.42, 39.92)


@dataclass
class SmallCity:
    """A district, 2 subdistricts, 3 communities, 2 departments, both centers, one user per role."""

    department_ids: dict[str, int] = field(default_factory=dict)
    center_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)


def make_user(
    container: Container,
    username: str,
    roles: set[Role],
    *,
    scope_divisions: frozenset[str] = frozenset(),
    department_id: int | None = None,
    center_id: int | None = None,
    password: str = PASSWORD,
) -> int:
    """Create an account and return its id."""
    view = users.create_user(
        container.deps,
        SYSTEM,
        username=username,
        password=password,
        data=users.UserInput(
            display_name=username.title(),
            roles=frozenset(roles),
            scope_divisions=scope_divisions,
            department_id=department_id,
            center_id=center_id,
        ),
        info=TEST_INFO,
    )
    return view.id


def build_small_city(container: Container) -> SmallCity:
    """The shared fixture city of the test suite."""
    deps = container.deps
    city = SmallCity()
    x0, y0, x1, y1 = DISTRICT_BOX
    xm = (x0 + x1) / 2
    ym = (y0 + y1) / 2
    add = divisions.create_division
    add(
        deps,
        SYSTEM,
        code=DISTRICT,
        name="东城区",
        level=DivisionLevel.DISTRICT,
        boundary=box(x0, y0, x1, y1),
        info=TEST_INFO,
    )
    add(
        deps,
        SYSTEM,
        code=SUB_A,
        name="东华门街道",
        level=DivisionLevel.SUBDISTRICT,
        boundary=box(x0, y0, xm, y1),
        info=TEST_INFO,
    )
    add(
        deps,
        SYSTEM,
        code=SUB_B,
        name="景山街道",
        level=DivisionLevel.SUBDISTRICT,
        boundary=box(xm, y0, x1, y1),
        info=TEST_INFO,
    )
    add(
        deps,
        SYSTEM,
        code=COMM_A1,
        name="多福巷社区",
        level=DivisionLevel.COMMUNITY,
        boundary=box(x0, y0, xm, ym),
        info=TEST_INFO,
    )
    add(
        deps,
        SYSTEM,
        code=COMM_A2,
        name="银闸社区",
        level=DivisionLevel.COMMUNITY,
        boundary=box(x0, ym, xm, y1),
        info=TEST_INFO,
    )
    add(
        deps,
        SYSTEM,
        code=COMM_B1,
        name="景山东街社区",
        level=DivisionLevel.COMMUNITY,
        boundary=box(xm, y0, x1, y1),
        info=TEST_INFO,
    )
    for name, code in (("区园林绿化局", "11110101MB1234567H"), ("区市政管理委员会", "")):
        view = departments.create_department(
            deps,
            SYSTEM,
            departments.DepartmentInput(
                name=name,
                kind=DepartmentKind.GOVERNMENT,
                credit_code=_valid_uscc(code) if code else "",
            ),
            info=TEST_INFO,
        )
        city.department_ids[name] = view.id
    for kind, name in (
        (CenterKind.SUPERVISION, "东城区城市管理监督中心"),
        (CenterKind.COMMAND, "东城区城市管理指挥中心"),
    ):
        center = departments.save_center(
            deps, SYSTEM, district_code=DISTRICT, kind=kind, name=name, info=TEST_INFO
        )
        city.center_ids[kind.value] = center.id
    dep = next(iter(city.department_ids.values()))
    sup_center = city.center_ids[CenterKind.SUPERVISION.value]
    cmd_center = city.center_ids[CenterKind.COMMAND.value]
    plan = {
        Role.SUPERVISOR: {"scope_divisions": frozenset({SUB_A})},
        Role.OPERATOR: {"scope_divisions": frozenset({DISTRICT}), "center_id": sup_center},
        Role.DUTY_CHIEF: {"scope_divisions": frozenset({DISTRICT}), "center_id": sup_center},
        Role.DISPATCHER: {"scope_divisions": frozenset({DISTRICT}), "center_id": cmd_center},
        Role.HANDLER: {"department_id": dep},
        Role.LEADER: {"scope_divisions": frozenset({DISTRICT})},
        Role.ADMIN: {},
    }
    for role, extra in plan.items():
        city.user_ids[role.value] = make_user(
            container, role.value.replace("_", "-"), {role}, **extra
        )  # type: ignore[arg-type]
    return city


def _valid_uscc(first17_or_full: str) -> str:
    from gridcity.domain.departments import uscc_check_char

    body = first17_or_full[:17]
    return body + uscc_check_char(body)


def api_token(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header of a fresh bearer token."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def browser_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a browser does."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def add_quarter_grids(
    container: Container, community_code: str, box_: tuple[float, ...]
) -> list[str]:
    """Split a community box into four unit grids (valid from 2026-01-01); returns their codes."""
    from datetime import UTC, datetime

    from gridcity.services import grids

    x0, y0, x1, y1 = box_
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    quarters = [box(x0, ym, xm, y1), box(xm, ym, x1, y1), box(x0, y0, xm, ym), box(xm, y0, x1, ym)]
    result = grids.replace_community_grids(
        container.deps,
        SYSTEM,
        community_code,
        [(None, q, {}) for q in quarters],
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        info=TEST_INFO,
    )
    return list(result.created)
