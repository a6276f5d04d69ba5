"""``create_app()``: the ASGI application, built from a container (nothing at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from gridcity import __version__
from gridcity.bootstrap import Container, bootstrap
from gridcity.config import Settings, load_settings
from gridcity.jobs import JobThread
from gridcity.web import ops
from gridcity.web.api import api_router
from gridcity.web.asgi import LANG_COOKIE, cookies_of
from gridcity.web.csrf import CSRFMiddleware
from gridcity.web.errors import install_error_handlers
from gridcity.web.i18n import current_locale, pick_locale
from gridcity.web.limits import MB, BodyLimitMiddleware
from gridcity.web.observability import Metrics, RequestContextMiddleware, configure_logging
from gridcity.web.templating import Templates
from gridcity.web.ui import ui_router
from gridcity.web.warmup import ComponentIndexWarmup, map_crs

STATIC = Path(__file__).resolve().parent / "ui" / "static"


class LocaleMiddleware:
    """Sets the request's locale from the language cookie, else the city default."""

    def __init__(self, app: ASGIApp, *, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            cookie = cookies_of(scope).get(LANG_COOKIE)
            token = current_locale.set(pick_locale(cookie, None, self.default))
            try:
                await self.app(scope, receive, send)
            finally:
                current_locale.reset(token)
            return
        await self.app(scope, receive, send)


def create_app(container: Container | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the web application for one process."""
    container = container or bootstrap(settings or load_settings())
    configure_logging(container.settings.log_level, container.settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = container.settings
        jobs = JobThread(container.deps) if config.run_jobs_in_process else None
        if jobs:
            jobs.start()
        gauges = ops.ComponentIndexCollector(container.deps.component_maps)
        app.state.metrics.registry.register(gauges)
        # Build the map's component index now rather than on the first map request; requests
        # that come meanwhile wait for this build (decision 0011, docs/component-map.md).
        warmup = (
            ComponentIndexWarmup(container.deps, map_crs(config))
            if config.warm_component_index
            else None
        )
        if warmup:
            warmup.start()
        app.state.component_warmup = warmup
        try:
            yield
        finally:
            if warmup:
                warmup.stop()  # never waits: a daemon thread that stops at its next chunk
            app.state.metrics.registry.unregister(gauges)
            if jobs:
                jobs.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="gridcity",
        version=__version__,
        description="Grid-based city management API (城市网格化管理). Errors are "
        '`{"code": "...", "message": "..."}`; authenticate with `Authorization: Bearer <token>` '
        "from `POST /api/v1/auth/token`.",
        docs_url=None,  # served by web/ops.py from our own static files, not a CDN
        redoc_url=None,
        # A pasted GeoJSON boundary may exceed Starlette's 1 MB text-field default.
        form_limits={"max_part_size": container.settings.max_request_mb * MB},
    )
    app.state.container = container
    app.state.templates = Templates()
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.include_router(ops.router)
    app.include_router(api_router)
    app.include_router(ui_router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    s = container.settings
    app.add_middleware(LocaleMiddleware, default=s.default_locale)
    app.add_middleware(
        CSRFMiddleware,
        secret=s.secret_key,
        secure_cookies=s.cookie_secure,
        max_part_size=s.max_request_mb * MB,
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=s.max_request_mb * MB,
        max_upload_bytes=s.max_upload_mb * MB,
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
