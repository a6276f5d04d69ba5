"""Operations endpoints: health and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gridcity.adapters.component_index import ComponentMaps
from gridcity.services.component_map import DISPLAY_CRS

router = APIRouter(tags=["operations"])


class ComponentIndexCollector(Collector):
    """Gauges of this process's component map indexes, read when ``/metrics`` is scraped."""

    def __init__(self, maps: ComponentMaps) -> None:
        self.maps = maps

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Whether each display coordinate system's index is built, its size and build time."""
        ready = GaugeMetricFamily(
            "gridcity_component_index_ready",
            "1 when this process holds the component map index of the coordinate system",
            labels=["crs"],
        )
        size = GaugeMetricFamily(
            "gridcity_component_index_components",
            "Components in this process's component map index",
            labels=["crs"],
        )
        seconds = GaugeMetricFamily(
            "gridcity_component_index_build_seconds",
            "Seconds the last full build of the component map index took in this process",
            labels=["crs"],
        )
        for crs in DISPLAY_CRS:
            index = self.maps.get(crs)
            ready.add_metric([crs], 0.0 if index is None else 1.0)
            if index is not None:
                size.add_metric([crs], float(len(index)))
            took = self.maps.build_seconds.get(crs)
            if took is not None:
                seconds.add_metric([crs], took)
        yield ready
        yield size
        yield seconds


@router.get("/healthz", summary="200 when the database answers, 503 otherwise")
def healthz(request: Request) -> JSONResponse:
    """Liveness and readiness in one: is the database reachable?"""
    if request.app.state.container.db.ping():
        return JSONResponse({"status": "ok"})
    return JSONResponse(
        {
            "status": "unavailable",
            "code": "database_unreachable",
            "message": "The database does not answer",
        },
        status_code=503,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Request counts and latencies, and the component map index, in the Prometheus text
    format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI spec, served from our own static files (works offline)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="gridcity API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
