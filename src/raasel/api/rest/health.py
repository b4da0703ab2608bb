"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from raasel.actions.health import check_degraded, check_ready
from raasel.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(svc: ServicesDep, response: Response) -> dict[str, str]:
    """The stores answer; 503 if not. A lost Redis answers 200 "degraded"."""
    problems = await check_ready(svc)
    if problems:
        response.status_code = 503
        return {"status": "unavailable", **problems}
    degraded = await check_degraded(svc)
    if degraded:
        return {"status": "degraded", **degraded}
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
