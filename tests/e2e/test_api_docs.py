"""The API documentation works offline: Swagger UI comes from our own static files."""

from __future__ import annotations

import pytest


@pytest.mark.browser
def test_the_api_docs_render_without_reaching_the_internet(page, live) -> None:
    server, _container, _city = live
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None,
    )
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "gridcity" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock-tag", has_text="organisation").count() == 1
    assert not outside, f"the docs page asked the internet for {outside}"
