"""The Redis check: configured when nodes share state, and answering."""

from __future__ import annotations

from raasel.config import Settings
from raasel.doctor.findings import (
    SERVICE_TIMEOUT_SECONDS,
    Finding,
    Status,
    error_text,
    is_multi_node,
    redacted,
)


async def check_redis(settings: Settings) -> Finding:
    if not settings.redis_url:
        status: Status = "warn" if is_multi_node(settings) else "ok"
        detail = "RAASEL_REDIS_URL unset: events, presence and rate limits stay in this process"
        if status == "warn":
            detail += "; several nodes need one Redis to share them"
        return Finding("redis", status, detail)
    from redis import asyncio as aioredis

    client = aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=SERVICE_TIMEOUT_SECONDS,
        socket_timeout=SERVICE_TIMEOUT_SECONDS,
    )
    shown = redacted(settings.redis_url)
    try:
        await client.ping()
        info = await client.info("server")
    except Exception as exc:
        return Finding("redis", "fail", f"{shown}: {error_text(exc)}")
    finally:
        await client.aclose()
    return Finding("redis", "ok", f"{shown} answers (Redis {info.get('redis_version', '?')})")
