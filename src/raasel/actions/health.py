"""Readiness: every store this node needs answers."""

from __future__ import annotations

from raasel.actions.context import Services


async def check_ready(svc: Services) -> dict[str, str]:
    problems: dict[str, str] = {}
    try:
        await svc.db.ping()
    except Exception as exc:
        problems["database"] = type(exc).__name__
    try:
        await svc.messages.check()  # the message store (Cassandra when configured)
    except Exception as exc:
        problems["messages"] = type(exc).__name__
    return problems


async def check_degraded(svc: Services) -> dict[str, str]:
    """Shared state this node can work without: reported, but the node stays ready.

    Without Redis a node still stores and acknowledges every send; only other nodes'
    live events and the shared counters pause (docs/decisions.md, "Redis").
    """
    problem = await svc.ephemeral.check()
    return {"redis": problem} if problem else {}
