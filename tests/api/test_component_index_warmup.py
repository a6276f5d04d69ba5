"""The component map index is built when the web app starts, on SQLite and PostgreSQL: without
any map request, once (a map request that comes during the build waits for it), not at all when
switched off, without holding up shutdown, and a failed warm-up leaves the lazy build working."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gridcity.adapters.component_index import ComponentIndex
from gridcity.adapters.db import migrate
from gridcity.bootstrap import Container, bootstrap
from gridcity.web.app import create_app
from gridcity.web.warmup import ComponentIndexWarmup
from tests.conftest import FAST_HASHER, settings_for
from tests.factories import api_token, build_small_city
from tests.services.test_component_map import build_inventory

WAIT_S = 60.0  # generous bound for anything that should take well under a second
WHOLE_WORLD = "/api/v1/components/tiles/0/0/0"


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``WAIT_S`` seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Builds:
    """``ComponentIndex.build`` counted, optionally held until ``release`` is set."""

    def __init__(self, hold: bool = False) -> None:
        self.count = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Builds:
        original = ComponentIndex.build

        def build(*args: Any, **kwargs: Any) -> ComponentIndex:
            self.count += 1
            self.entered.set()
            assert self.release.wait(WAIT_S), "the test never released the build"
            return original(*args, **kwargs)

        monkeypatch.setattr(ComponentIndex, "build", staticmethod(build))
        return self


class CountingLock:
    """A lock that counts how often someone tried to take it (to see a request queue up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.attempts = 0

    def __enter__(self) -> CountingLock:
        self.attempts += 1
        self._lock.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def warm_container(database_url: str, *, warm: bool = True) -> Iterator[Container]:
    built = bootstrap(settings_for(database_url, warm_component_index=warm), hasher=FAST_HASHER)
    yield built
    built.db.engine.dispose()


@pytest.fixture
def warm(database_url: str) -> Iterator[Container]:
    """A container whose app builds the component index at start-up."""
    yield from warm_container(database_url)


@pytest.fixture
def cold(database_url: str) -> Iterator[Container]:
    """A container whose app does not (the test default)."""
    yield from warm_container(database_url, warm=False)


def warmup_of(client: TestClient) -> ComponentIndexWarmup:
    thread = client.app.state.component_warmup  # type: ignore[attr-defined]
    assert isinstance(thread, ComponentIndexWarmup)
    return thread


def metric(text: str, name: str) -> float | None:
    """The value of one sample in a Prometheus text exposition (None when absent)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def visible_total(client: TestClient, headers: dict[str, str]) -> int:
    response = client.get(WHOLE_WORLD, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_the_app_builds_the_index_at_start_up_without_any_map_request(
    warm: Container, monkeypatch: pytest.MonkeyPatch
):
    build_small_city(warm)
    build_inventory(warm)
    builds = Builds().install(monkeypatch)
    maps = warm.deps.component_maps
    with TestClient(create_app(warm)) as client:
        wait_until(lambda: maps.get("wgs84") is not None, "the index built at start-up")
        thread = warmup_of(client)
        thread.join(WAIT_S)
        assert thread.outcome == "ready" and thread.seconds is not None
        index = maps.get("wgs84")
        assert index is not None and len(index) == 240 and builds.count == 1
        assert maps.get("gcj02") is None  # only the coordinates the map page asks for
        text = client.get("/metrics").text
        assert metric(text, 'gridcity_component_index_ready{crs="wgs84"}') == 1.0
        assert metric(text, 'gridcity_component_index_ready{crs="gcj02"}') == 0.0
        assert metric(text, 'gridcity_component_index_components{crs="wgs84"}') == 240.0
        took = metric(text, 'gridcity_component_index_build_seconds{crs="wgs84"}')
        assert took is not None and 0 < took <= thread.seconds
        headers = api_token(client, "admin")
        shown = sum(1 for i in range(240) if (i // 3) % 4 != 3)  # every state but removed
        assert visible_total(client, headers) == shown
        assert builds.count == 1  # the request was served from the index of the warm-up


def test_a_map_request_during_the_build_waits_for_it_and_builds_nothing(
    warm: Container, monkeypatch: pytest.MonkeyPatch
):
    build_small_city(warm)
    build_inventory(warm)
    builds = Builds(hold=True).install(monkeypatch)
    lock = CountingLock()
    maps = warm.deps.component_maps
    monkeypatch.setattr(maps, "lock", lock)
    with TestClient(create_app(warm)) as client:
        headers = api_token(client, "admin")
        assert builds.entered.wait(WAIT_S), "the warm-up never started building"
        answers: list[int] = []
        request = threading.Thread(target=lambda: answers.append(visible_total(client, headers)))
        request.start()
        wait_until(lambda: lock.attempts >= 2, "the map request to queue behind the build")
        assert request.is_alive() and not answers  # held while the build is held
        builds.release.set()
        request.join(WAIT_S)
        assert not request.is_alive()
        warmup_of(client).join(WAIT_S)
        assert warmup_of(client).outcome == "ready"
    index = maps.get("wgs84")
    assert index is not None and len(index) == 240
    assert builds.count == 1 and lock.attempts == 2
    assert answers == [sum(1 for i in range(240) if (i // 3) % 4 != 3)]


def test_with_the_setting_off_nothing_is_built_until_a_map_request(
    cold: Container, monkeypatch: pytest.MonkeyPatch
):
    build_small_city(cold)
    build_inventory(cold)
    builds = Builds().install(monkeypatch)
    maps = cold.deps.component_maps
    with TestClient(create_app(cold)) as client:
        assert client.app.state.component_warmup is None  # type: ignore[attr-defined]
        assert "gridcity-component-index" not in {t.name for t in threading.enumerate()}
        text = client.get("/metrics").text
        assert metric(text, 'gridcity_component_index_ready{crs="wgs84"}') == 0.0
        assert metric(text, 'gridcity_component_index_build_seconds{crs="wgs84"}') is None
        assert builds.count == 0 and maps.get("wgs84") is None
        assert visible_total(client, api_token(client, "admin")) > 0  # the lazy build
        assert builds.count == 1
        text = client.get("/metrics").text
        assert metric(text, 'gridcity_component_index_ready{crs="wgs84"}') == 1.0


def test_shutdown_during_a_build_returns_at_once_and_the_build_is_dropped(
    warm: Container, monkeypatch: pytest.MonkeyPatch
):
    build_small_city(warm)
    build_inventory(warm)
    builds = Builds(hold=True).install(monkeypatch)
    client = TestClient(create_app(warm))
    client.__enter__()
    thread = warmup_of(client)
    try:
        assert builds.entered.wait(WAIT_S), "the warm-up never started building"
        started = time.monotonic()
        client.__exit__(None, None, None)
        stopped_in = time.monotonic() - started
    finally:
        builds.release.set()  # let the thread end either way
    thread.join(WAIT_S)
    # The build was held for up to a minute; shutdown did not wait for it.
    assert stopped_in < 5.0 and not thread.is_alive()
    assert thread.cancelled.is_set() and thread.outcome == "cancelled"
    assert warm.deps.component_maps.get("wgs84") is None  # a stopping process keeps nothing


def test_a_failed_warm_up_logs_a_warning_and_the_first_map_request_builds_the_index(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
):
    container = bootstrap(
        settings_for(empty_database_url, warm_component_index=True), hasher=FAST_HASHER
    )
    try:
        with TestClient(create_app(container)) as client:
            thread = warmup_of(client)
            thread.join(WAIT_S)
            assert thread.outcome == "failed"  # the database has no tables yet
            assert client.get("/healthz").status_code == 200  # start-up went on
            logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
            warnings = [e for e in logged if e.get("event", "").startswith("component index")]
            assert len(warnings) == 1 and warnings[0]["level"] == "warning"
            assert warnings[0]["event"] == (
                "component index warm-up failed; the first map request will build it"
            )
            assert warnings[0]["crs"] == "wgs84" and warnings[0]["error"]
            assert container.deps.component_maps.get("wgs84") is None
            engine = sa.create_engine(empty_database_url)
            migrate.upgrade(engine)
            engine.dispose()
            build_small_city(container)
            build_inventory(container)
            assert visible_total(client, api_token(client, "admin")) > 0
            index = container.deps.component_maps.get("wgs84")
            assert index is not None and len(index) == 240
    finally:
        container.db.engine.dispose()
