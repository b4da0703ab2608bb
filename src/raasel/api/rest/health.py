"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/metrics", include_in_schema=False)
async def metrics(
    svc: ServicesDep, authorization: Annotated[str | None, Header(max_length=512)] = None
) -> Response:
    """Prometheus metrics, for a scraper that shows ``RAASEL_METRICS_TOKEN``; anyone else
    gets the 404 of an unknown path (or use ``RAASEL_METRICS_PORT``, loopback only)."""
    token = svc.settings.metrics_token
    given = (authorization or "").removeprefix("Bearer ")
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise StarletteHTTPException(status_code=404, detail="Not Found")
    return metrics_response()
