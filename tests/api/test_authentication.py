"""Signing in and out: lockout, CSRF, sessions, bearer tokens, and their audit trail."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridcity.adapters.db.tables import AuditLog, User
from gridcity.bootstrap import Container
from gridcity.domain.errors import Unauthenticated
from gridcity.services import auth
from gridcity.web.app import create_app
from tests.factories import PASSWORD, TEST_INFO, SmallCity, api_token, browser_login, csrf_of


def _login_form(client: TestClient, username: str, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _actions(container: Container, username: str) -> list[str]:
    with container.db.read() as session:
        rows = session.scalars(
            sa.select(AuditLog.action).where(AuditLog.actor_name == username).order_by(AuditLog.id)
        )
        return list(rows)


def test_a_staff_member_signs_in_and_lands_on_their_role_home(
    client: TestClient, city: SmallCity
) -> None:
    response = _login_form(client, "dispatcher", PASSWORD)
    assert response.status_code == 303
    home = client.get("/home")
    assert home.url.path == "/home/dispatcher"
    assert "派遣员工作台" in home.text


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
    client: TestClient, city: SmallCity, container: Container
) -> None:
    for _ in range(5):
        assert _login_form(client, "operator", "Wrong#Pass2026").status_code == 401
    refused = _login_form(client, "operator", PASSWORD)
    assert refused.status_code == 401
    assert "锁定" in refused.text
    api = client.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    assert api.json()["code"] == "account_locked"
    actions = _actions(container, "operator")
    assert actions.count("login.failed") == 5
    assert "account.locked" in actions
    assert "login.locked" in actions


def test_four_wrong_passwords_do_not_lock_and_a_success_resets_the_count(
    client: TestClient, city: SmallCity, container: Container
) -> None:
    for _ in range(4):
        _login_form(client, "operator", "Wrong#Pass2026")
    assert _login_form(client, "operator", PASSWORD).status_code == 303
    with container.db.read() as session:
        user = session.scalar(sa.select(User).where(User.username == "operator"))
        assert user is not None and user.failed_logins == 0 and user.locked_until is None


def test_a_lock_expires_after_the_configured_minutes(container: Container, city: SmallCity) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    deps = dataclasses.replace(container.deps, clock=lambda: now)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            auth.login(deps, "leader", "Wrong#Pass2026", info=TEST_INFO)
    later = dataclasses.replace(container.deps, clock=lambda: now + timedelta(minutes=16))
    assert auth.login(later, "leader", PASSWORD, info=TEST_INFO).actor.username == "leader"


def test_an_unknown_username_is_refused_like_a_wrong_password_and_audited(
    client: TestClient, city: SmallCity, container: Container
) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"})
    assert response.status_code == 401
    assert response.json() == {"code": "login_failed", "message": "用户名或密码错误"}
    assert _actions(container, "ghost") == ["login.failed"]


def test_passwords_are_stored_as_argon2id(container: Container, city: SmallCity) -> None:
    with container.db.read() as session:
        hashes = session.scalars(sa.select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_a_form_posted_without_its_csrf_token_is_refused(
    client: TestClient, city: SmallCity
) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "表单已过期" in response.text
    browser_login(client, "admin")
    no_token = client.post("/logout", data={})
    assert no_token.status_code == 403
    forged = client.post("/logout", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert client.get("/home/admin").status_code == 200  # still signed in


def test_a_json_call_with_the_session_cookie_needs_the_csrf_header(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "admin")
    body = {"name": "区水务局", "kind": "government"}
    refused = client.post("/api/v1/departments", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = csrf_of(client.get("/account/password").text)
    accepted = client.post("/api/v1/departments", json=body, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201


def test_a_bearer_token_needs_no_csrf_token_and_can_be_revoked(
    client: TestClient, city: SmallCity
) -> None:
    headers = api_token(client, "admin")
    created = client.post(
        "/api/v1/departments", json={"name": "区水务局", "kind": "government"}, headers=headers
    )
    assert created.status_code == 201
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    after = client.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401 and after.json()["code"] == "token_invalid"


def test_signing_out_ends_the_session(client: TestClient, city: SmallCity) -> None:
    browser_login(client, "leader")
    token = csrf_of(client.get("/home/leader").text)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert (
        client.get("/home/leader", follow_redirects=False).headers["location"].startswith("/login")
    )


def test_a_stolen_session_cookie_stops_working_after_sign_out(
    app, client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "leader")
    stolen = client.cookies.get("gridcity_session")
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/home/leader").text)})
    with TestClient(app, cookies={"gridcity_session": stolen}) as thief:
        assert thief.get("/home/leader", follow_redirects=False).status_code == 303


def test_an_expired_session_is_refused(container: Container, city: SmallCity) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    deps = dataclasses.replace(container.deps, clock=lambda: now)
    result = auth.login(deps, "leader", PASSWORD, info=TEST_INFO)
    assert auth.actor_for_session(deps, result.token) is not None
    later = dataclasses.replace(container.deps, clock=lambda: now + timedelta(hours=13))
    assert auth.actor_for_session(later, result.token) is None


def test_a_deactivated_user_cannot_sign_in(client: TestClient, city: SmallCity) -> None:
    admin = api_token(client, "admin")
    sup = city.user_ids["supervisor"]
    body = {"display_name": "S", "roles": ["supervisor"], "is_active": False}
    assert client.put(f"/api/v1/users/{sup}", json=body, headers=admin).status_code == 200
    response = client.post(
        "/api/v1/auth/token", json={"username": "supervisor", "password": PASSWORD}
    )
    assert response.status_code == 401


def test_after_a_password_change_the_old_password_no_longer_works(
    client: TestClient, city: SmallCity
) -> None:
    browser_login(client, "handler")
    token = csrf_of(client.get("/account/password").text)
    weak = client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422 and "至少需要" in weak.text
    done = client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "Fresh#Pass2027"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    old = client.post("/api/v1/auth/token", json={"username": "handler", "password": PASSWORD})
    assert old.status_code == 401
    api_token(client, "handler", "Fresh#Pass2027")


def test_the_language_can_be_switched_to_english(app, city: SmallCity) -> None:
    with TestClient(app) as browser:
        page = browser.get("/login")
        assert "登录" in page.text
        browser.post(
            "/lang", data={"csrf_token": csrf_of(page.text), "locale": "en", "next": "/login"}
        )
        assert "Sign in" in browser.get("/login").text
        assert (
            browser.post("/api/v1/auth/token", json={"username": "x", "password": "y"}).json()[
                "message"
            ]
            == "Wrong username or password"
        )


def test_the_login_page_never_redirects_off_site(client: TestClient, city: SmallCity) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/home"


def test_create_app_builds_without_side_effects(container: Container) -> None:
    assert create_app(container).title == "gridcity"


def test_parallel_wrong_passwords_cannot_slip_past_the_lockout(
    container: Container, city: SmallCity
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def guess(_n: int) -> str:
        try:
            auth.login(container.deps, "dispatcher", "Wrong#Pass2026", info=TEST_INFO)
        except Unauthenticated as exc:
            return exc.code
        except Exception as exc:  # SQLite may answer "database is locked"
            return type(exc).__name__
        return "accepted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(guess, range(12)))
    assert "accepted" not in outcomes
    with pytest.raises(Unauthenticated) as locked:
        auth.login(container.deps, "dispatcher", PASSWORD, info=TEST_INFO)
    assert locked.value.code == "account_locked"


def test_the_lock_message_gives_china_time(container: Container, city: SmallCity) -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    deps = dataclasses.replace(container.deps, clock=lambda: now)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            auth.login(deps, "leader", "Wrong#Pass2026", info=TEST_INFO)
    with pytest.raises(Unauthenticated) as locked:
        auth.login(deps, "leader", PASSWORD, info=TEST_INFO)
    assert locked.value.params["until"] == "2026-11-27 17:15"


def test_usernames_are_not_case_sensitive_at_sign_in(client: TestClient, city: SmallCity) -> None:
    api_token(client, "Leader")


def test_a_password_reset_revokes_bearer_tokens_too(client: TestClient, city: SmallCity) -> None:
    victim = api_token(client, "operator")
    admin = api_token(client, "admin")
    operator_id = city.user_ids["operator"]
    reset = client.post(
        f"/api/v1/users/{operator_id}/password",
        json={"new_password": "Reset#Pass2027"},
        headers=admin,
    )
    assert reset.status_code == 204
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401


def test_deactivating_a_user_revokes_their_bearer_tokens(
    client: TestClient, city: SmallCity
) -> None:
    victim = api_token(client, "operator")
    admin = api_token(client, "admin")
    body = {"display_name": "O", "roles": ["operator"], "is_active": False}
    client.put(f"/api/v1/users/{city.user_ids['operator']}", json=body, headers=admin)
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401


def test_even_an_admin_needs_the_current_password_to_change_their_own(
    client: TestClient, city: SmallCity, container: Container
) -> None:
    admin = api_token(client, "admin")
    own = f"/api/v1/users/{city.user_ids['admin']}/password"
    refused = client.post(own, json={"new_password": "Brand#New2027"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["code"] == "current_password_wrong"
    for _ in range(4):
        client.post(
            own, json={"new_password": "Brand#New2027", "current_password": "guess"}, headers=admin
        )
    # five wrong current passwords lock the account like five wrong logins
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    assert response.json()["code"] == "account_locked"
    assert _actions(container, "admin").count("login.failed") == 5
