"""Browser tests: a live server on a SQLite file, driven by Playwright through Debian's Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from gridcity.bootstrap import Container, bootstrap
from gridcity.web.app import STATIC, create_app
from tests.conftest import FAST_HASHER, settings_for, unavailable
from tests.factories import SmallCity, build_small_city

CHROMIUM = os.environ.get("GRIDCITY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn in a background thread."""

    def __init__(self, container: Container) -> None:
        self.port = _free_port()
        config = uvicorn.Config(
            create_app(container), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's), shared by the browser tests."""
    if not Path(CHROMIUM).exists():
        unavailable("Browser suite (Chromium)", f"{CHROMIUM} not found (apt install chromium)")
    if not (STATIC / "vendor" / "htmx.min.js").exists():
        unavailable("Browser suite", "front-end assets not built (make assets)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[LiveServer, Container, SmallCity]]:
    """A served small city."""
    container = bootstrap(settings_for(sqlite_url), hasher=FAST_HASHER)
    city = build_small_city(container)
    with LiveServer(container) as server:
        yield server, container, city
    container.db.engine.dispose()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context and page (own cookies), zh-CN like our users."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: object, base: str, username: str = "admin") -> None:
    """Sign in through the login page (password: the test password) and land on the home."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.get_by_label("用户名").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/home/*")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def demo_live(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[LiveServer, Container]]:
    """The demo city, served (loaded once per module: it takes a second or two)."""
    import shutil

    from gridcity.domain.access import Actor, Role, Scope
    from gridcity.services import demo_city
    from gridcity.services.deps import CLI

    target = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, target)
    container = bootstrap(settings_for(f"sqlite:///{target}"), hasher=FAST_HASHER)
    system = Actor(
        user_id=None, username="e2e", roles=frozenset({Role.ADMIN}), scope=Scope(everything=True)
    )
    demo_city.load_demo_city(
        container.deps, system, seed=2004, info=CLI, progress=None, inventory_scale=0.02
    )
    with LiveServer(container) as server:
        yield server, container
    container.db.engine.dispose()
