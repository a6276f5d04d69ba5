"""Operations endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
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
