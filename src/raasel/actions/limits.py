"""Rate limits (SPEC 5): login, sends, conversation opening, connects and uploads."""

from __future__ import annotations

from raasel.actions.context import Services
from raasel.errors import RateLimited
from raasel.lib.rates import Bucket, Rate
from raasel.observability import RATE_LIMIT_REFUSALS


async def check_rate(
    svc: Services, name: str, *keys: str, setting: str | None = None, what: str | None = None
) -> None:
    """Count one ``name`` event for each key (account, IP...); refuse if any is over.

    The limit is the setting ``{setting or name}_rate``; ``what`` names the refusal for
    people ("new chats from your network"), by default "{name} attempts".
    """
    rate = Rate.parse(getattr(svc.settings, f"{setting or name}_rate"))
    for key in keys:
        wait = await svc.ephemeral.hit(f"rl:{name}:{key}", rate)
        if wait:
            RATE_LIMIT_REFUSALS.labels(name).inc()
            raise RateLimited(
                f"too many {what or f'{name} attempts'}; retry in {wait}s", retry_after=wait
            )


async def check_bucket(svc: Services, name: str, key: str, *, what: str) -> None:
    """Take one token from ``name``'s bucket for ``key`` (setting ``{name}_rate``, read
    "BURST+COUNT/SECONDS"): a large burst, then a slower refill."""
    bucket = Bucket.parse(getattr(svc.settings, f"{name}_rate"))
    wait = await svc.ephemeral.take(f"tb:{name}:{key}", bucket)
    if wait:
        RATE_LIMIT_REFUSALS.labels(name).inc()
        raise RateLimited(f"too many {what}; retry in {wait}s", retry_after=wait)


# An address an account logged in from within this long is "known" to it.
_KNOWN_ADDRESS = Rate(1, 30 * 86400)


async def check_login_backoff(svc: Services, email: str, client_ip: str) -> None:
    """The slow back-off per email (``login_email_rate`` failures from anywhere), which
    spares the addresses the account logged in from: strangers cannot lock it out."""
    rate = Rate.parse(svc.settings.login_email_rate)
    wait = await svc.ephemeral.hit(f"rl:login_fail:{email}", rate, record=False)
    if wait and not await svc.ephemeral.hit(
        f"rl:login_known:{email}|{client_ip}", _KNOWN_ADDRESS, record=False
    ):
        RATE_LIMIT_REFUSALS.labels("login_email").inc()
        raise RateLimited(
            f"too many failed logins for this account; retry in {wait}s", retry_after=wait
        )


async def login_failed(svc: Services, email: str) -> None:
    rate = Rate.parse(svc.settings.login_email_rate)
    await svc.ephemeral.hit(f"rl:login_fail:{email}", rate)


async def login_succeeded(svc: Services, email: str, client_ip: str) -> None:
    await svc.ephemeral.hit(f"rl:login_known:{email}|{client_ip}", _KNOWN_ADDRESS)
