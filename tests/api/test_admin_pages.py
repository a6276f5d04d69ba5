"""Admin pages for departments, centers, users and the audit log, driven as a browser would."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.bootstrap import Container
from gridcity.domain.departments import DepartmentKind, uscc_check_char
from gridcity.services import departments
from tests.factories import (
    COMM_A1,
    PASSWORD,
    SUB_A,
    SYSTEM,
    TEST_INFO,
    SmallCity,
    browser_login,
    csrf_of,
)

NEW_PASSWORD = "Fresh#Pass2027"


def valid_uscc(first17: str) -> str:
    """A credit code with the right check character."""
    return first17 + uscc_check_char(first17)


def submit(client: TestClient, page: str, data: dict[str, object], action: str = "") -> Response:
    """Open a page and post one of its forms with the page's CSRF token, as a browser does."""
    token = csrf_of(client.get(page).text)
    return client.post(action or page, data={**data, "csrf_token": token}, follow_redirects=False)


def results_of(html: str) -> str:
    """The results table of a list page (not its filters)."""
    return html.split('data-testid="results"', 1)[1]


def department_form(name: str, credit_code: str = "", **extra: object) -> dict[str, object]:
    """The fields of the department form."""
    fields = {"name": name, "kind": "government", "credit_code": credit_code, "is_active": "true"}
    return {**fields, **extra}


def user_form(**extra: object) -> dict[str, object]:
    """The fields of the user form, with a role and the active box ticked."""
    fields: dict[str, object] = {
        "display_name": "Someone",
        "roles": ["supervisor"],
        "locale": "zh_CN",
        "is_active": "true",
    }
    return {**fields, **extra}


@pytest.fixture
def admin(client: TestClient, city: SmallCity) -> TestClient:
    """The client, signed in as the administrator."""
    browser_login(client, "admin")
    return client


def test_admin_creates_and_edits_a_department_and_sees_refusals(admin: TestClient) -> None:
    bad = submit(admin, "/admin/departments/new", department_form("区城管委", "91110101MA0000000X"))
    assert bad.status_code == 422
    assert "校验位错误" in bad.text and 'value="区城管委"' in bad.text

    code = valid_uscc("91110101MA01ABCD1")
    created = submit(admin, "/admin/departments/new", department_form("区城管委", code))
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = admin.get(url).text
    assert f'value="{code}"' in page and 'value="government" selected' in page

    edited = submit(
        admin,
        url,
        department_form("区城管委", code, kind="public_institution", contact_person="王工"),
    )
    assert edited.status_code == 303
    page = admin.get(edited.headers["location"]).text
    assert 'value="public_institution" selected' in page and 'value="王工"' in page
    assert "已保存：修改成功" in page

    taken = submit(admin, url, department_form("区园林绿化局", code))
    assert taken.status_code == 422
    assert "已有其他部门使用此名称" in taken.text


def test_a_department_page_lists_its_staff(admin: TestClient, city: SmallCity) -> None:
    page = admin.get(f"/admin/departments/{city.department_ids['区园林绿化局']}").text
    staff = page.split('data-testid="department-staff"')[1]
    assert "handler" in staff and "处置人员" in staff
    assert "supervisor" not in staff


def test_department_search_and_pagination(admin: TestClient, container: Container) -> None:
    for n in range(22):
        departments.create_department(
            container.deps,
            SYSTEM,
            departments.DepartmentInput(name=f"测试部门{n:02d}", kind=DepartmentKind.ENTERPRISE),
            info=TEST_INFO,
        )
    first = admin.get("/admin/departments", params={"q": "测试部门"}).text
    assert "共 22 条" in first and "测试部门19" in first and "测试部门20" not in first
    assert "区园林绿化局" not in first
    second = admin.get("/admin/departments", params={"q": "测试部门", "page": 2}).text
    assert "测试部门20" in second and "测试部门21" in second and "测试部门00" not in second
    fragment = admin.get("/admin/departments", params={"q": "园林"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "区园林绿化局" in fragment.text


def test_admin_edits_a_center_and_a_blank_name_is_refused(admin: TestClient) -> None:
    fields = {"district_code": "110101", "kind": "command_center", "name": "东城区指挥中心"}
    saved = submit(admin, "/admin/centers", {**fields, "phone": "010-12345"})
    assert saved.status_code == 303
    page = admin.get("/admin/centers").text
    command = page.split('data-testid="center-command_center"')[1]
    assert 'value="东城区指挥中心"' in command and 'value="010-12345"' in command
    assert "人员：1" in command  # the dispatcher

    blank = submit(admin, "/admin/centers", {**fields, "name": " "})
    assert blank.status_code == 422 and "名称需为 1 至 100 个字符" in blank.text


def test_a_new_user_signs_in_on_their_role_home(admin: TestClient, city: SmallCity) -> None:
    created = submit(
        admin,
        "/admin/users/new",
        user_form(
            username="zhang.san",
            password=NEW_PASSWORD,
            display_name="张三",
            roles=["dispatcher"],
            center_id=city.center_ids["command_center"],
            scope_divisions=[SUB_A, COMM_A1],
            scope_departments=[str(next(iter(city.department_ids.values())))],
        ),
    )
    assert created.status_code == 303
    page = admin.get(created.headers["location"]).text
    assert "张三" in page and "派遣员" in page
    assert re.search(rf'value="{SUB_A}" checked', page) and re.search(
        rf'value="{COMM_A1}" checked', page
    )
    department = next(iter(city.department_ids.values()))
    assert re.search(rf'name="scope_departments" value="{department}" checked', page)

    with TestClient(admin.app) as browser:
        browser_login(browser, "zhang.san", NEW_PASSWORD)
        home = browser.get("/home")
        assert home.url.path == "/home/dispatcher"


def test_a_refused_new_user_keeps_what_was_typed(admin: TestClient) -> None:
    refused = submit(
        admin,
        "/admin/users/new",
        user_form(username="li.si", password="short", display_name="李四", roles=["leader"]),
    )
    assert refused.status_code == 422
    assert "密码" in refused.text and 'value="li.si"' in refused.text
    assert re.search(r'value="leader" checked', refused.text)


def test_changing_roles_is_audited_and_shown_in_the_audit_log(
    admin: TestClient, city: SmallCity
) -> None:
    url = f"/admin/users/{city.user_ids['operator']}"
    changed = submit(
        admin, url, user_form(display_name="Operator", roles=["operator", "duty_chief"])
    )
    assert changed.status_code == 303
    log = admin.get("/admin/audit", params={"action": "user.permissions_changed"}).text
    results = results_of(log)
    assert "权限变更" in results and "duty_chief" in results and f'href="{url}"' in results
    assert "user.created" not in results and "共 1 条" in results


def test_an_administrator_cannot_remove_their_own_admin_role(
    admin: TestClient, city: SmallCity
) -> None:
    url = f"/admin/users/{city.user_ids['admin']}"
    refused = submit(admin, url, user_form(display_name="Admin", roles=["leader"]))
    assert refused.status_code == 422
    assert 'class="flash error"' in refused.text
    assert "不能移除自己的管理员角色" in refused.text
    assert "管理员" in admin.get(url).text


def test_a_locked_user_is_unlocked_through_the_page(admin: TestClient, city: SmallCity) -> None:
    with TestClient(admin.app) as browser:
        for _ in range(5):
            submit(browser, "/login", {"username": "supervisor", "password": "wrong"})
        locked = submit(browser, "/login", {"username": "supervisor", "password": PASSWORD})
        assert locked.status_code == 401 and "账号已锁定" in locked.text
    listed = admin.get("/admin/users", params={"q": "supervisor"}).text
    assert 'data-testid="locked"' in listed
    url = f"/admin/users/{city.user_ids['supervisor']}"
    assert 'data-testid="unlock"' in admin.get(url).text

    unlocked = submit(admin, url, {}, action=f"{url}/unlock")
    page = admin.get(unlocked.headers["location"]).text
    assert "账号已解锁" in page and 'data-testid="locked"' not in page
    with TestClient(admin.app) as browser:
        browser_login(browser, "supervisor")


def test_admin_resets_a_password(admin: TestClient, city: SmallCity) -> None:
    url = f"/admin/users/{city.user_ids['handler']}"
    weak = submit(admin, url, {"new_password": "abc"}, action=f"{url}/password")
    assert weak.status_code == 422 and 'class="flash error"' in weak.text
    reset = submit(admin, url, {"new_password": NEW_PASSWORD}, action=f"{url}/password")
    assert reset.headers["location"].endswith("done=password")
    with TestClient(admin.app) as browser:
        browser_login(browser, "handler", NEW_PASSWORD)


def test_user_search_and_role_filter(admin: TestClient) -> None:
    # The filter form sends every field, so "all roles" arrives as an empty role.
    by_name = results_of(admin.get("/admin/users", params={"q": "dispatch", "role": ""}).text)
    assert "dispatcher" in by_name and "supervisor" not in by_name
    by_role = results_of(admin.get("/admin/users", params={"role": "leader"}).text)
    assert ">leader</a>" in by_role and ">admin</a>" not in by_role and "共 1 条" in by_role


def test_leader_reads_users_and_audit_without_edit_controls(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "leader")
    listing = client.get("/admin/users").text
    assert "dispatcher" in listing and 'data-testid="new-user"' not in listing
    detail = client.get(f"/admin/users/{city.user_ids['handler']}").text
    assert "区园林绿化局" in detail and 'data-testid="user-form"' not in detail
    assert 'data-testid="password-form"' not in detail
    assert "login.session" in client.get("/admin/audit").text
    centers = client.get("/admin/centers").text
    assert "东城区城市管理指挥中心" in centers and 'name="district_code"' not in centers
    assert client.get("/admin/users/new").status_code == 403
    refused = submit(
        client, "/admin/users", user_form(), action=f"/admin/users/{city.user_ids['handler']}"
    )
    assert refused.status_code == 403


def test_supervisor_may_not_open_users_or_the_audit_log(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "supervisor")
    for path, permission in (("/admin/users", "user.read"), ("/admin/audit", "audit.read")):
        response = client.get(path)
        assert response.status_code == 403
        assert f"您的角色无权执行此操作（{permission}）" in response.text
    department = client.get(f"/admin/departments/{city.department_ids['区园林绿化局']}").text
    assert "政府部门" in department and 'data-testid="department-form"' not in department
    assert 'data-testid="department-staff"' not in department
    departments_page = client.get("/admin/departments").text
    assert (
        "区园林绿化局" in departments_page
        and 'data-testid="new-department"' not in departments_page
    )


def test_a_form_posted_without_its_csrf_token_is_refused(admin: TestClient) -> None:
    response = admin.post("/admin/departments/new", data=department_form("无令牌部门"))
    assert response.status_code == 403
    assert "无令牌部门" not in admin.get("/admin/departments").text
