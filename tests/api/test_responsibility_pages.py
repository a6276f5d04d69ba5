"""The responsibility page (/admin/responsibility), driven as a browser would: the roster of
assignments, adding, ending and deleting them, and who may do which."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gridcity.bootstrap import Container
from gridcity.services import responsibility
from gridcity.services.layers import CHINA_TZ
from tests.factories import (
    COMM_A1,
    SYSTEM,
    SmallCity,
    add_quarter_grids,
    browser_login,
    csrf_of,
)

PAGE = "/admin/responsibility"
HTMX = {"HX-Request": "true"}


def submit(client: TestClient, data: dict[str, object], action: str = PAGE) -> Response:
    """Open the page and post one of its forms with the page's CSRF token, as a browser does."""
    token = csrf_of(client.get(PAGE).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def results_of(html: str) -> str:
    """The results table of the page (not its form or filters)."""
    return html.split('data-testid="results"', 1)[1]


def today_of(container: Container) -> date:
    """Today in Beijing, by the application's clock."""
    return container.deps.clock().astimezone(CHINA_TZ).date()


def noon(day: date) -> datetime:
    """Midday of a local day, as an aware moment."""
    return datetime.combine(day, time(12), tzinfo=CHINA_TZ).astimezone(UTC)


@pytest.fixture
def grids(container: Container, city: SmallCity) -> list[str]:
    """Four unit grids in community A1."""
    return add_quarter_grids(container, COMM_A1, (116.40, 39.90, 116.41, 39.91))


def supervisor_on(city: SmallCity, grid: str, day: date, **extra: object) -> dict[str, object]:
    """The form of a supervisor assignment on a grid, from ``day``."""
    fields: dict[str, object] = {
        "user_id": city.user_ids["supervisor"],
        "post": "supervisor",
        "layer": "unit",
        "target": grid,
        "shift": "",
        "starts_on": day.isoformat(),
        "ends_on": "",
    }
    return {**fields, **extra}


def only_assignment_id(container: Container) -> int:
    (found,) = responsibility.list_assignments(container.deps, SYSTEM)
    return found.id


def test_admin_adds_ends_and_deletes_an_assignment(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    browser_login(client, "admin")
    grid, today = grids[0], today_of(container)
    before = client.get(PAGE)
    assert before.status_code == 200 and 'data-testid="assignment-form"' in before.text
    assert 'href="/grids"' in before.text and 'data-testid="uncovered-count"' in before.text

    created = submit(client, supervisor_on(city, grid, today))
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"]).text
    row = results_of(page)
    assert grid in row and "Supervisor" in row and today.isoformat() in row
    people = responsibility.responsible_for(container.deps, SYSTEM, grid, at=noon(today)).people
    assert [p.assignment.username for p in people] == ["supervisor"]
    detail = client.get(f"/grids/{grid}/detail", headers=HTMX).text
    assert "Supervisor" in detail[detail.index('data-testid="grid-responsible"') :]
    assert grid not in responsibility.uncovered_grids(container.deps, SYSTEM)

    assignment_id = only_assignment_id(container)
    ended = submit(client, {}, f"{PAGE}/{assignment_id}/end")
    assert ended.status_code == 303, ended.text
    (view,) = responsibility.list_assignments(container.deps, SYSTEM)
    assert view.ends_on == today
    tomorrow = noon(today + timedelta(days=1))
    assert responsibility.responsible_for(container.deps, SYSTEM, grid, at=tomorrow).people == ()
    assert f'data-testid="end-{assignment_id}"' in client.get(PAGE).text  # still in force today

    deleted = submit(client, {}, f"{PAGE}/{assignment_id}/delete")
    assert deleted.status_code == 303, deleted.text
    assert responsibility.list_assignments(container.deps, SYSTEM) == []


def test_the_list_filters_by_post_prefix_and_day(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    browser_login(client, "admin")
    today = today_of(container)
    later = today + timedelta(days=10)
    assert submit(client, supervisor_on(city, grids[0], today)).status_code == 303
    assert submit(client, supervisor_on(city, grids[1], later)).status_code == 303

    by_prefix = results_of(client.get(PAGE, params={"prefix": grids[1]}, headers=HTMX).text)
    assert grids[1] in by_prefix and grids[0] not in by_prefix
    on_day = results_of(client.get(PAGE, params={"at": today.isoformat()}).text)
    assert grids[0] in on_day and grids[1] not in on_day
    other_post = results_of(client.get(PAGE, params={"post": "grid_worker"}).text)
    assert grids[0] not in other_post and grids[1] not in other_post
    everything = results_of(client.get(PAGE).text)
    assert grids[0] in everything and grids[1] in everything
    bad_day = client.get(PAGE, params={"at": "someday"})
    assert bad_day.status_code == 422 and "someday" in bad_day.text


def test_the_duty_chief_may_add(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    browser_login(client, "duty-chief")
    page = client.get(PAGE).text
    assert 'data-testid="assignment-form"' in page and "Supervisor (supervisor)" in page
    created = submit(client, supervisor_on(city, grids[2], today_of(container)))
    assert created.status_code == 303, created.text
    assert grids[2] in results_of(client.get(PAGE).text)


def test_a_supervisor_reads_the_list_but_may_not_change_it(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    browser_login(client, "admin")
    assert submit(client, supervisor_on(city, grids[0], today_of(container))).status_code == 303
    assignment_id = only_assignment_id(container)
    client.post("/logout", data={"csrf_token": csrf_of(client.get(PAGE).text)})
    client.cookies.clear()

    browser_login(client, "supervisor")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert grids[0] in results_of(page.text)
    assert 'data-testid="assignment-form"' not in page.text
    assert f'data-testid="end-{assignment_id}"' not in page.text
    for action in (PAGE, f"{PAGE}/{assignment_id}/end", f"{PAGE}/{assignment_id}/delete"):
        refused = submit(client, supervisor_on(city, grids[1], today_of(container)), action)
        assert refused.status_code == 403, action
    assert only_assignment_id(container) == assignment_id


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, city: SmallCity) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")


def test_a_refusal_is_shown_with_its_reason(
    client: TestClient, container: Container, city: SmallCity, grids: list[str]
) -> None:
    browser_login(client, "admin")
    unknown = f"{COMM_A1}999"
    refused = submit(client, supervisor_on(city, unknown, today_of(container)))
    assert refused.status_code == 422
    flash = refused.text.split('class="flash error"', 1)[1].split("</div>", 1)[0]
    assert "图层 unit 中没有网格" in flash and unknown in flash  # the reason, in Chinese
    assert f'value="{unknown}"' in refused.text  # the form keeps what was typed
    assert responsibility.list_assignments(container.deps, SYSTEM) == []

    leader_on_grid = submit(
        client, supervisor_on(city, grids[0], today_of(container), post="leader")
    )
    assert leader_on_grid.status_code == 422
