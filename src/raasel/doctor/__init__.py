"""``raasel doctor``: what is wrong with this node's configuration, checked before serving.

Each check reads the settings (never the environment directly) and, where a service is
configured, asks it: the TLS files, the token-signing key, the database and its schema
(on PostgreSQL its row-level security too: storage/tenancy_audit.py), Redis, the
Cassandra keyspace at the configured consistency, the SMTP server (connects, TLS as
configured, logs in; sends nothing), the attachments directory.
A check answers ``ok``, ``warn`` (works, but not as a production deployment should) or
``fail`` (this node would not work). Nothing is created or written: a missing SQLite file
or self-signed certificate is reported, not made.

One module per check (``tls``, ``secret_key``, ``database``, ``redis_server``,
``cassandra_keyspace``, ``smtp_server``, ``attachments``); ``checks.run_checks`` runs them
all; ``findings`` holds what they share.
"""

from __future__ import annotations

from raasel.doctor.attachments import check_attachments
from raasel.doctor.cassandra_keyspace import check_cassandra
from raasel.doctor.checks import run_checks
from raasel.doctor.database import check_database
from raasel.doctor.findings import Finding, Status, is_multi_node
from raasel.doctor.redis_server import check_redis
from raasel.doctor.secret_key import check_secret_key, key_fingerprint
from raasel.doctor.smtp_server import check_smtp
from raasel.doctor.tls import check_tls

__all__ = [
    "Finding",
    "Status",
    "check_attachments",
    "check_cassandra",
    "check_database",
    "check_redis",
    "check_secret_key",
    "check_smtp",
    "check_tls",
    "is_multi_node",
    "key_fingerprint",
    "run_checks",
]
