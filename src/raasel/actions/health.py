"""Readiness: every store this node needs answers."""

from __future__ import annotations

from sqlalchemy import text

from raasel.actions.context import Services


async def check_ready(svc: Services) -> dict[str, str]:
    problems: dict[str, str] = {}
    try:
        async with svc.db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        problems["database"] = type(exc).__name__
    return problems
