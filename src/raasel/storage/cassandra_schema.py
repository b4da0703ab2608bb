"""The versioned CQL schema of the Cassandra message store, applied by ``raasel migrate``.

Each migration is a numbered list of steps; ``schema_version`` records the versions
applied. Existence is checked through the driver's schema metadata, not with
``IF NOT EXISTS`` (which Cassandra 1.2 lacks), so a half-applied version can be
rerun. Two nodes migrating at once may both run a step: an error after which the step
is found done (``AlreadyExists``, a table already dropped) is taken as success.

Layout (docs/decisions.md, "Cassandra message store"):

- ``messages_by_position`` (version 2): partition ``(org_id, conversation_id, bucket)``
  with ``bucket = position // BUCKET_SIZE``, clustered by ``position`` descending, so
  the newest page (the read every opened conversation makes) is the head of the
  partition; the message id is a plain column. Times are ``bigint`` microseconds,
  exact like the SQL store's (CQL ``timestamp`` keeps milliseconds).
- Version 1's ``messages`` (partitioned by week, clustered by id) is left in place,
  unread: its rows have no positions and are not migrated. Its client-id lookup table
  is dropped: the engine checks idempotency in the metadata database now.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cassandra import AlreadyExists, InvalidRequest
from cassandra.cluster import Cluster, Session

from raasel.storage.cassandra_session import CassandraOptions, connect

COMPONENT = "messages"


@dataclass(frozen=True)
class Step:
    cql: str
    is_done: Callable[[Any], bool]  # given the keyspace's metadata


def _has_table(name: str) -> Callable[[Any], bool]:
    return lambda keyspace: name in keyspace.tables


def _lacks_table(name: str) -> Callable[[Any], bool]:
    return lambda keyspace: name not in keyspace.tables


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[Step, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "messages by (organization, conversation, week); client-id lookup",
        (
            Step(
                "CREATE TABLE messages ("
                " org_id text, conversation_id text, bucket int, id bigint,"
                " sender_id text, sender_side text, client_id text, kind text, body text,"
                " attachment_id text, created_us bigint,"
                " PRIMARY KEY ((org_id, conversation_id, bucket), id)"
                ") WITH CLUSTERING ORDER BY (id DESC)",
                _has_table("messages"),
            ),
            Step(
                "CREATE TABLE message_client_ids ("
                " org_id text, conversation_id text, sender_id text, client_id text,"
                " message_id bigint,"
                " PRIMARY KEY ((org_id, conversation_id, sender_id, client_id)))",
                _has_table("message_client_ids"),
            ),
        ),
    ),
    Migration(
        2,
        "messages by (organization, conversation, bucket of positions); no client-id lookup",
        (
            Step(
                "CREATE TABLE messages_by_position ("
                " org_id text, conversation_id text, bucket int, position bigint, id bigint,"
                " sender_id text, sender_side text, client_id text, kind text, body text,"
                " attachment_id text, created_us bigint,"
                " PRIMARY KEY ((org_id, conversation_id, bucket), position)"
                ") WITH CLUSTERING ORDER BY (position DESC)",
                _has_table("messages_by_position"),
            ),
            Step("DROP TABLE message_client_ids", _lacks_table("message_client_ids")),
        ),
    ),
)

LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = (
    "CREATE TABLE schema_version ("
    " component text, version int, description text, applied_us bigint,"
    " PRIMARY KEY (component, version))"
)


def _quote(value: str | int) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _replication_literal(replication: dict[str, str | int]) -> str:
    """A CQL map literal; Cassandra wants the values as strings too."""
    return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in replication.items()) + "}"


def _keyspace(cluster: Cluster, name: str) -> Any:
    cluster.refresh_schema_metadata()
    return cluster.metadata.keyspaces.get(name)


def _run_ddl(session: Session, cql: str) -> None:
    with contextlib.suppress(AlreadyExists):  # another node created it first
        session.execute(cql)


def _run_step(cluster: Cluster, session: Session, keyspace: str, step: Step) -> None:
    try:
        session.execute(step.cql)
    except (AlreadyExists, InvalidRequest):
        if not step.is_done(_keyspace(cluster, keyspace)):  # not another node's doing
            raise


def applied_versions(session: Session, keyspace: str) -> set[int]:
    query = "SELECT version FROM {ks}.schema_version WHERE component = %s"
    rows = session.execute(query.replace("{ks}", keyspace), (COMPONENT,))
    return {int(row.version) for row in rows}


def upgrade_session(cluster: Cluster, session: Session, options: CassandraOptions) -> list[int]:
    """Bring the keyspace to ``LATEST`` (blocking); return the versions applied now."""
    name = options.keyspace
    if _keyspace(cluster, name) is None:
        _run_ddl(
            session,
            f"CREATE KEYSPACE {name} WITH replication = "
            f"{_replication_literal(options.replication)}",
        )
    keyspace = _keyspace(cluster, name)
    if "schema_version" not in keyspace.tables:
        _run_ddl(session, _VERSION_TABLE.replace("schema_version", f"{name}.schema_version", 1))
    done = applied_versions(session, name)
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        session.set_keyspace(name)
        for step in migration.steps:
            if not step.is_done(_keyspace(cluster, name)):
                _run_step(cluster, session, name, step)
        record = (
            "INSERT INTO {ks}.schema_version (component, version, description, applied_us)"
            " VALUES (%s, %s, %s, %s)"
        )
        session.execute(
            record.replace("{ks}", name),
            (COMPONENT, migration.version, migration.description, time.time_ns() // 1000),
        )
        applied.append(migration.version)
    return applied


def upgrade(options: CassandraOptions) -> list[int]:
    """Connect, migrate, disconnect (``raasel migrate``; blocking)."""
    cluster, session = connect(options)
    try:
        return upgrade_session(cluster, session, options)
    finally:
        cluster.shutdown()
