"""Every check of ``raasel doctor``, the services asked concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from raasel.config import Settings
from raasel.doctor.attachments import check_attachments
from raasel.doctor.cassandra_keyspace import check_cassandra
from raasel.doctor.database import check_database
from raasel.doctor.findings import SERVICE_TIMEOUT_SECONDS, Finding
from raasel.doctor.redis_server import check_redis
from raasel.doctor.secret_key import check_secret_key
from raasel.doctor.smtp_server import check_smtp
from raasel.doctor.tls import check_tls


async def _timed(check: str, make: Callable[[], Awaitable[Finding | None]]) -> Finding | None:
    try:
        return await asyncio.wait_for(make(), SERVICE_TIMEOUT_SECONDS * 2)
    except TimeoutError:
        return Finding(check, "fail", f"no answer within {SERVICE_TIMEOUT_SECONDS * 2:.0f} s")


async def run_checks(settings: Settings) -> list[Finding]:
    """Every check, the services concurrently; the order is the order printed."""
    services = await asyncio.gather(
        _timed("database", lambda: check_database(settings)),
        _timed("redis", lambda: check_redis(settings)),
        _timed("cassandra", lambda: check_cassandra(settings)),
        _timed("smtp", lambda: check_smtp(settings)),
    )
    local = [check_tls(settings), check_secret_key(settings), check_attachments(settings)]
    return [*local[:2], *(f for f in services if f is not None), local[2]]
