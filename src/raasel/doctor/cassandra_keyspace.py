"""The Cassandra check: the keyspace exists, is migrated, and answers a read at the
configured consistency, which its replication factor can meet."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from raasel.config import Settings
from raasel.doctor.findings import SERVICE_TIMEOUT_SECONDS, Finding, Status, error_text


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
        return Finding("cassandra", "fail", f"{where}: {error_text(exc)}")
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
            return Finding("cassandra", "fail", f"{where} at {consistency}: {error_text(exc)}")
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
