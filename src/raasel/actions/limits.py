"""Rate limits (SPEC 5): login, sends, conversation opening, connects and uploads."""

from __future__ import annotations

from raasel.actions.context import Services
from raasel.errors import RateLimited
from raasel.lib.rates import Rate


async def check_rate(svc: Services, name: str, *keys: str) -> None:
    """Count one ``name`` event for each key (account, IP...); refuse if any is over."""
    rate = Rate.parse(getattr(svc.settings, f"{name}_rate"))
    for key in keys:
        wait = await svc.ephemeral.hit(f"rl:{name}:{key}", rate)
        if wait:
            raise RateLimited(f"too many {name} attempts; retry in {wait}s", retry_after=wait)
