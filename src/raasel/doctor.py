"""``raasel doctor``: what is wrong with this node's configuration, checked before serving.

Each check reads the settings (never the environment directly) and, where a service is
configured, asks it: the TLS files, the token-signing key, the database and its schema
(on PostgreSQL its row-level security too: storage/tenancy_audit.py), Redis, the
Cassandra keyspace at the configured consistency, the SMTP server (connects, TLS as
configured, logs in; sends nothing), the attachments directory.
A check answers ``ok``, ``warn`` (works, but not as a production deployment should) or
``fail`` (this node would not work). Nothing is created or written: a missing SQLite file
or self-signed certificate is reported, not made.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from raasel.config import Settings
from raasel.lib.clock import utcnow

Status = Literal["ok", "warn", "fail"]
SERVICE_TIMEOUT_SECONDS = 10.0
MIN_SECRET_KEY_CHARS = 32
CERT_RENEWAL_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _redacted(url: str) -> str:
    """``scheme://user:***@host/...``: URLs are printed, their passwords never."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_multi_node(settings: Settings) -> bool:
    """Shared Redis or a server database: the marks of a deployment of several nodes."""
    return bool(settings.redis_url) or not settings.resolved_database_url.startswith("sqlite")


# -- TLS --------------------------------------------------------------------------------


def _names_of(cert: Any) -> list[str]:
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = san.get_values_for_type(x509.DNSName)
    return names + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def _host_matches(host: str, names: list[str]) -> bool:
    host = host.lower()
    for name in (n.lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and host.partition(".")[2] == name[2:] and "." in name[2:]:
            return True
    return False


def check_tls(settings: Settings) -> Finding:
    """The configured certificate and key: readable, a pair, valid now, for public_host."""
    cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
    if cert_file is None and key_file is None:
        own = settings.var_dir / "tls" / "cert.pem"
        made = "in use" if own.exists() else "made at the first `raasel serve`"
        if settings.public_host == "localhost":
            return Finding("tls", "ok", f"self-signed certificate for localhost ({own}, {made})")
        return Finding(
            "tls",
            "warn",
            f"self-signed certificate ({own}, {made}): browsers will not trust it for "
            f"{settings.public_host}; set RAASEL_TLS_CERT_FILE and RAASEL_TLS_KEY_FILE",
        )
    if cert_file is None or key_file is None:
        given, absent = (
            ("RAASEL_TLS_CERT_FILE", "RAASEL_TLS_KEY_FILE")
            if key_file is None
            else ("RAASEL_TLS_KEY_FILE", "RAASEL_TLS_CERT_FILE")
        )
        return Finding(
            "tls",
            "fail",
            f"{given} is set but {absent} is not: the node would serve a "
            "self-signed certificate instead",
        )
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError) as exc:
        return Finding("tls", "fail", f"certificate {cert_file}: {_error(exc)}")
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return Finding("tls", "fail", f"key {key_file}: {_error(exc)}")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        return Finding("tls", "fail", f"key {key_file} does not belong to certificate {cert_file}")
    now = utcnow()
    if now < cert.not_valid_before_utc:
        return Finding(
            "tls",
            "fail",
            f"certificate {cert_file} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
        )
    if now >= cert.not_valid_after_utc:
        return Finding(
            "tls", "fail", f"certificate {cert_file} expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    names = _names_of(cert)
    if not _host_matches(settings.public_host, names):
        return Finding(
            "tls",
            "warn",
            f"certificate {cert_file} names {', '.join(names) or 'no host'}"
            f", not RAASEL_PUBLIC_HOST={settings.public_host}",
        )
    left = cert.not_valid_after_utc - now
    status: Status = "warn" if left < CERT_RENEWAL_WARNING else "ok"
    return Finding(
        "tls",
        status,
        f"{cert_file} for {settings.public_host}, valid until "
        f"{cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days)",
    )


# -- secret key -------------------------------------------------------------------------


def key_fingerprint(key: str) -> str:
    """A short digest operators compare across nodes (never the key itself)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def check_secret_key(settings: Settings) -> Finding:
    if settings.secret_key:
        if len(settings.secret_key) < MIN_SECRET_KEY_CHARS:
            return Finding(
                "secret key",
                "fail",
                f"RAASEL_SECRET_KEY has {len(settings.secret_key)} characters; use at least "
                f"{MIN_SECRET_KEY_CHARS} (openssl rand -hex 32)",
            )
        return Finding(
            "secret key",
            "ok",
            f"RAASEL_SECRET_KEY set, {key_fingerprint(settings.secret_key)}: every node must "
            "show the same fingerprint",
        )
    generated = settings.var_dir / "secret.key"
    if is_multi_node(settings):
        return Finding(
            "secret key",
            "fail",
            "RAASEL_SECRET_KEY is unset: each node would sign tokens with its own "
            f"{generated}, and a token from one node would fail on another; set the same "
            "key on every node",
        )
    where = "generated" if generated.exists() else "generated at the first start"
    return Finding("secret key", "ok", f"{where} in {generated} (one node)")


# -- stores -----------------------------------------------------------------------------


async def check_database(settings: Settings) -> Finding:
    """The database answers, and its schema is Alembic's head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import create_async_engine

    from raasel.storage.migrate import alembic_config
    from raasel.storage.tenancy_audit import row_level_security_problems

    url = settings.resolved_database_url
    shown = _redacted(url)
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1])
        if not await asyncio.to_thread(path.exists):
            return Finding(
                "database", "warn", f"{shown}: no database yet (`raasel migrate` makes it)"
            )
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()

    def revision(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    connect_args = {"timeout": SERVICE_TIMEOUT_SECONDS} if "asyncpg" in url else {}
    engine = create_async_engine(url, connect_args=connect_args)
    walls: list[str] = []
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await conn.run_sync(revision)
            if current == head and engine.dialect.name == "postgresql":
                walls = await row_level_security_problems(conn)
    except Exception as exc:
        return Finding("database", "fail", f"{shown}: {_error(exc)}")
    finally:
        await engine.dispose()
    if current != head:
        return Finding(
            "database",
            "fail",
            f"{shown} answers, schema at {current or 'nothing'}, code expects {head}: "
            "run `raasel migrate`",
        )
    if walls:
        return Finding(
            "database", "fail", f"{shown}: row-level security is not in place: {'; '.join(walls)}"
        )
    rls = ", row-level security in place" if engine.dialect.name == "postgresql" else ""
    return Finding("database", "ok", f"{shown} answers, schema at {head} (head){rls}")


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
    shown = _redacted(settings.redis_url)
    try:
        await client.ping()
        info = await client.info("server")
    except Exception as exc:
        return Finding("redis", "fail", f"{shown}: {_error(exc)}")
    finally:
        await client.aclose()
    return Finding("redis", "ok", f"{shown} answers (Redis {info.get('redis_version', '?')})")


def _replicas_needed(consistency: str, replication_factor: int) -> int:
    fixed = {"ANY": 1, "ONE": 1, "LOCAL_ONE": 1, "TWO": 2, "THREE": 3}
    if consistency in fixed:
        return fixed[consistency]
    if consistency == "ALL":
        return replication_factor
    return replication_factor // 2 + 1  # QUORUM, LOCAL_QUORUM, EACH_QUORUM, SERIAL...


def _check_cassandra_blocking(settings: Settings) -> Finding:
    from raasel.storage.cassandra_schema import MIGRATIONS, applied_versions
    from raasel.storage.cassandra_session import CassandraOptions, connect

    try:
        options = CassandraOptions.from_settings(settings)
    except ValueError as exc:
        return Finding("cassandra", "fail", str(exc))
    options = replace(options, request_timeout=SERVICE_TIMEOUT_SECONDS)
    where = f"{','.join(options.hosts)}:{options.port} keyspace {options.keyspace}"
    consistency = options.consistency.upper()
    try:
        cluster, session = connect(options)
    except Exception as exc:
        return Finding("cassandra", "fail", f"{where}: {_error(exc)}")
    try:
        cluster.refresh_schema_metadata()
        keyspace = cluster.metadata.keyspaces.get(options.keyspace)
        if keyspace is None:
            return Finding("cassandra", "fail", f"{where}: no such keyspace; run `raasel migrate`")
        strategy = keyspace.replication_strategy
        factor = int(getattr(strategy, "replication_factor", 0) or 0) or sum(
            int(n) for n in getattr(strategy, "dc_replication_factors", {}).values()
        )
        if factor and _replicas_needed(consistency, factor) > factor:
            return Finding(
                "cassandra",
                "fail",
                f"{where}: {consistency} needs more replicas than the keyspace's {factor}",
            )
        try:
            # A read at the configured level: proves enough replicas answer it now.
            applied = applied_versions(session, options.keyspace)
        except Exception as exc:
            return Finding("cassandra", "fail", f"{where} at {consistency}: {_error(exc)}")
    finally:
        cluster.shutdown()
    latest = max(m.version for m in MIGRATIONS)
    if latest not in applied:
        return Finding(
            "cassandra",
            "fail",
            f"{where}: schema at {max(applied, default=0)}, code expects "
            f"{latest}: run `raasel migrate`",
        )
    status: Status = "ok"
    detail = f"{where} answers at {consistency}, replication {factor or '?'}, schema {latest}"
    if factor >= 3 and _replicas_needed(consistency, factor) < factor // 2 + 1:
        status = "warn"
        detail += f"; {consistency} below a quorum can read stale messages after a failover"
    return Finding("cassandra", status, detail)


async def check_cassandra(settings: Settings) -> Finding | None:
    """The keyspace exists, is migrated, and answers at the configured consistency."""
    if settings.message_store != "cassandra":
        return None
    return await asyncio.to_thread(_check_cassandra_blocking, settings)


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
        return Finding("smtp", "fail", f"{where}: {_error(exc)}")
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


def check_attachments(settings: Settings) -> Finding:
    directory = settings.resolved_attachments_dir
    existing = next((p for p in (directory, *directory.parents) if p.exists()), Path("/"))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Finding("attachments", "fail", f"{directory}: {existing} is not writable")
    state = "exists" if existing == directory else f"made under {existing} at the first upload"
    return Finding("attachments", "ok", f"{directory} ({state}, writable)")


# -- all --------------------------------------------------------------------------------


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
