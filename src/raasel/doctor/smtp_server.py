"""The SMTP check: connects with the configured TLS, logs in, quits before sending."""

from __future__ import annotations

import contextlib

from raasel.config import Settings
from raasel.doctor.findings import (
    SERVICE_TIMEOUT_SECONDS,
    Finding,
    Status,
    error_text,
    is_multi_node,
)


async def check_smtp(settings: Settings) -> Finding:
    """The mail server answers, with the configured TLS and login: a session that ends
    before MAIL FROM, so nothing is sent. No server: mails go to var/outbox (a warning
    where people sign up from elsewhere than this machine)."""
    if not settings.smtp_host:
        folder = settings.outbox_dir
        if settings.public_host == "localhost" and not is_multi_node(settings):
            return Finding("smtp", "ok", f"RAASEL_SMTP_HOST unset: mails are written to {folder}")
        return Finding(
            "smtp",
            "warn",
            f"RAASEL_SMTP_HOST unset: mails (sign-up links, password resets, invitations) are "
            f"written to {folder} instead of being sent",
        )
    import aiosmtplib

    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        timeout=min(settings.smtp_timeout_seconds, SERVICE_TIMEOUT_SECONDS),
    )
    try:
        await client.connect()
        if settings.smtp_username:
            await client.login(settings.smtp_username, settings.smtp_password)
        await client.noop()
    except Exception as exc:
        return Finding("smtp", "fail", f"{where}: {error_text(exc)}")
    finally:
        if client.is_connected:
            with contextlib.suppress(Exception):
                await client.quit()
    login = f"logged in as {settings.smtp_username}" if settings.smtp_username else "no login"
    status: Status = "ok"
    detail = f"{where} answers, {login}; mails come from {settings.resolved_smtp_from}"
    if settings.smtp_security == "none" and not _is_loopback(settings.smtp_host):
        status = "warn"
        detail += "; RAASEL_SMTP_SECURITY=none sends the mails' links unencrypted"
    return Finding("smtp", status, detail)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
