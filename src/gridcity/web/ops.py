"""Operations endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


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
    """Request counts and latencies in the Prometheus text format."""
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
