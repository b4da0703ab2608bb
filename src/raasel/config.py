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
    secret_key: str = ""
    node_id: int = Field(default=1, ge=0, le=1023)
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    cors_origins: list[str] = Field(default_factory=list)
    attachments_dir: Path | None = None
    attachment_max_bytes: int = 10 * 1024 * 1024
    message_max_chars: int = 4000
    typing_ttl_seconds: float = 6.0
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
    # Behind a proxy: addresses trusted to set X-Forwarded-For ("*": any; unset: none).
    forwarded_allow_ips: str = ""
    # Rate limits: "count per window seconds".
    login_rate: str = "10/60"
    send_rate: str = "30/10"
    open_rate: str = "10/60"
    connect_rate: str = "30/60"
    upload_rate: str = "20/60"
    log_level: str = "info"
    # Directory search and the AI router (docs/decisions.md): "wordllama" or "none" (lexical).
    embedding_model: Literal["wordllama", "none"] = "wordllama"
    # Billing webhook (Stripe signature scheme); unset: the webhook answers 503.
    billing_webhook_secret: str = ""
    billing_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    seed_demo: bool = True

    @cached_property
    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'raasel.sqlite3').resolve()}"

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
