"""Settings from the environment (``RAASEL_*``), in one place.

Every knob an operator may turn lives here; nothing else reads ``os.environ``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _single_replica() -> dict[str, str | int]:
    return {"class": "SimpleStrategy", "replication_factor": 1}


class Settings(BaseSettings):
    """Runtime configuration. Defaults give the embedded, one-machine node."""

    model_config = SettingsConfigDict(env_prefix="RAASEL_", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str = ""
    host: str = "0.0.0.0"  # noqa: S104 - a server binds all interfaces unless told otherwise
    https_port: int = 8443
    http_port: int = 8080
    public_host: str = "localhost"
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # "off": plain HTTP for a TLS-terminating proxy on the same machine (deploy/nginx);
    # refused unless ``host`` is a loopback address (docs/security.md).
    tls: Literal["on", "off"] = "on"
    secret_key: str = ""
    node_id: int = Field(default=1, ge=0, le=1023)
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    cors_origins: list[str] = Field(default_factory=list)
    attachments_dir: Path | None = None
    attachment_max_bytes: int = 10 * 1024 * 1024
    # Disk bounds (docs/security.md, "Files"): all of an organization's files; what one
    # customer (an individual or a widget visitor) may have stored; how long an upload no
    # message carries is kept.
    org_storage_quota_bytes: int = Field(default=5 * 1024**3, ge=0)
    customer_upload_budget_bytes: int = Field(default=25 * 1024**2, ge=0)
    unattached_retention_seconds: int = Field(default=24 * 3600, ge=60)
    retention_sweep_seconds: float = Field(default=600.0, ge=0.1)
    message_max_chars: int = 4000
    typing_ttl_seconds: float = 6.0
    # Community channels (docs/protocol.md): above this many members a channel keeps no
    # per-member receipts (no group ticks); the API and the UI say so.
    group_receipts_max_members: int = Field(default=256, ge=1)
    # Admission control: sends waiting to be stored, per socket and per process; beyond
    # them a send is answered at once with ``busy`` (retry later with the same client id).
    max_pending_sends_per_socket: int = Field(default=16, ge=1)
    max_pending_sends: int = Field(default=512, ge=1)
    group_commit_window_ms: float = 2.0
    sqlite_synchronous: str = "FULL"
    # Where messages live: the SQL database above, or Cassandra/ScyllaDB (docs/decisions.md).
    message_store: Literal["sql", "cassandra"] = "sql"
    cassandra_hosts: str = "127.0.0.1"  # comma-separated host[:port], one port for all
    cassandra_keyspace: str = Field(default="raasel", pattern=r"^[a-z][a-z0-9_]{0,47}$")
    cassandra_consistency: str = "LOCAL_QUORUM"
    cassandra_protocol_version: int | None = None  # None: the driver negotiates
    # Used only when ``raasel migrate`` creates the keyspace (CQL replication map).
    cassandra_replication: dict[str, str | int] = Field(default_factory=_single_replica)
    # Shared state and fan-out across nodes; unset: in-process (one node). docs/decisions.md.
    redis_url: str = ""
    redis_prefix: str = "raasel:"  # keys and the fan-out channel; share one Redis safely
    presence_ttl_seconds: float = Field(default=30.0, ge=1.0)  # a dead node's sockets expire
    # Availability follows the connection (docs/protocol.md): an online agent with no
    # console for ``presence_grace_seconds`` becomes away (a reload does not flap it);
    # their conversations go back to the queue after their group's ``requeue_after_seconds``
    # (default ``away_requeue_seconds``; 0: never). The sweep runs every few seconds.
    presence_grace_seconds: float = Field(default=60.0, ge=0.0)
    presence_sweep_seconds: float = Field(default=5.0, gt=0.0)
    away_requeue_seconds: int = Field(default=900, ge=0)
    # Follow-up mail (actions/followup.py): replies the customer has not read after this
    # long are mailed, batched (0: never); agents assigned work while away get a mail.
    followup_after_seconds: float = Field(default=300.0, ge=0.0)
    mail_agents_when_away: bool = True
    # Behind a proxy: addresses trusted to set X-Forwarded-For ("*": any; unset: none).
    forwarded_allow_ips: str = ""
    # Rate limits: "count per window seconds" (docs/security.md says why each is what it is).
    # Logins: per (email, IP) pair, and a slower back-off per email from all addresses
    # together (``login_email_rate``), so nobody can lock an agent out from elsewhere.
    login_rate: str = "10/60"
    login_email_rate: str = "50/900"
    # Accounts: sign-ups and password-reset requests per IP; mails to one address (silent:
    # the answer is the same whether or not a mail went out).
    register_rate: str = "10/3600"
    password_reset_rate: str = "5/900"  # noqa: S105 - a rate, not a password
    verification_resend_rate: str = "5/900"
    mail_recipient_rate: str = "5/3600"
    invite_rate: str = "100/3600"
    org_create_rate: str = "5/86400"  # per account and per IP
    # New widget visitors per IP, apart from logins: a token bucket, "BURST+COUNT/SECONDS"
    # (a shared office or carrier address gets a large burst; docs/security.md).
    visitor_rate: str = "100+10/60"
    send_rate: str = "30/10"
    open_rate: str = "10/60"
    connect_rate: str = "30/60"
    session_rate: str = "60/60"  # Engine.IO sessions per IP, Socket.IO CONNECT or not
    # Proving domains (proofs/domains.py): DNS servers to ask (comma-separated; unset:
    # the system's), the HTTPS port and CA file for the .well-known check (tests only).
    dns_nameservers: str = ""
    dns_port: int = Field(default=53, ge=1, le=65535)
    domain_check_https_port: int = Field(default=443, ge=1, le=65535)
    domain_check_ca_file: str = ""
    domain_check_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    domain_check_rate: str = "30/3600"  # per organization
    # The embedded server's connection bounds (http_guard.py, docs/security.md).
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    connections_per_ip: int = Field(default=256, ge=1)  # HTTP and WebSocket together
    # A TLS handshake not done within this long is cut (asyncio's default was 60 s).
    tls_handshake_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Engine.IO heartbeat: a lost connection is noticed within interval + timeout on both
    # ends (docs/protocol.md, "Heartbeat"). Each beat costs every connected socket a
    # ping and a pong: docs/benchmarks.md measures it.
    heartbeat_interval_seconds: float = Field(default=3.0, gt=0, le=300)
    heartbeat_timeout_seconds: float = Field(default=1.5, gt=0, le=300)
    # WebSocket permessage-deflate: every browser offers it, and each socket that takes it
    # holds a zlib compressor and decompressor for its life, ~38 KB of an idle socket's
    # memory for small JSON frames (docs/benchmarks.md, "Idle memory"). Off by default.
    ws_per_message_deflate: bool = False
    upload_rate: str = "20/60"
    download_rate: str = "120/60"
    sync_rate: str = "30/10"
    typing_rate: str = "20/10"
    receipt_rate: str = "60/10"
    # New outreach conversations (an organization writing first) per organization.
    outreach_rate: str = "200/3600"
    # Direct chats (docs/e2e.md): prekey bundle claims per requester (pool draining),
    # key uploads per account.
    direct_claim_rate: str = "30/60"
    direct_keys_rate: str = "20/60"
    # Mail (docs/security.md, README "Mail"). No host: mails are written to
    # ``var_dir/outbox`` and logged (never silently dropped).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = ""  # default: "Raasel <no-reply@PUBLIC_HOST>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # The address people open links in mails with (default https://PUBLIC_HOST:HTTPS_PORT).
    public_url: str = ""
    email_token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    invitation_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    log_level: str = "info"
    # /metrics (docs/security.md): on the HTTPS port only with "Authorization: Bearer
    # <metrics_token>"; or on its own plain-HTTP port, bound to metrics_host (loopback).
    metrics_token: str = ""
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: no separate port
    metrics_host: str = "127.0.0.1"
    # Directory search and the AI router (docs/decisions.md): "multilingual" (USE + WordLlama),
    # "use", "wordllama" or "none" (lexical).
    embedding_model: Literal["multilingual", "use", "wordllama", "none"] = "multilingual"
    # Where the app's "Get Plus" button leads (a payment provider's checkout page).
    plus_checkout_url: str = ""
    # Billing webhook (Stripe signature scheme); unset: the webhook answers 503.
    billing_webhook_secret: str = ""
    billing_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    seed_demo: bool = True
    # Social channels (docs/channels.md): the Graph API's address (tests point it at a
    # fake server of theirs), its timeout, and how often queued webhooks and replies are
    # looked for besides the wake-up after each commit.
    graph_base_url: str = "https://graph.facebook.com/v21.0"
    graph_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    channel_poll_seconds: float = Field(default=5.0, ge=0.05)
    # The key-encryption key (32 bytes, base64) that wraps every organization's data key;
    # unset: one generated once into ``var_dir/encryption.key`` (0600). During a rotation
    # with keys from the environment, the old one (docs/security.md, "Secrets at rest").
    encryption_key: str = ""
    previous_encryption_key: str = ""

    @cached_property
    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'raasel.sqlite3').resolve()}"

    @cached_property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        port = "" if self.https_port == 443 else f":{self.https_port}"
        return f"https://{self.public_host}{port}"

    @cached_property
    def resolved_smtp_from(self) -> str:
        return self.smtp_from or f"Raasel <no-reply@{self.public_host}>"

    @cached_property
    def outbox_dir(self) -> Path:
        """Where mails go when no SMTP server is configured."""
        return self.var_dir / "outbox"

    @cached_property
    def resolved_attachments_dir(self) -> Path:
        return self.attachments_dir or self.var_dir / "attachments"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The secret from the environment, else one generated once and kept in ``var_dir``.

        A generated key keeps the embedded default zero-configuration while never
        shipping a fixed secret in the code.
        """
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.var_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
