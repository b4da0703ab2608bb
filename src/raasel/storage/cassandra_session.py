"""Connecting to Cassandra (or ScyllaDB), and awaiting the driver's futures from asyncio.

The driver runs its own I/O thread (libev); ``execute`` hands its callbacks back to
the event loop. Connecting, preparing and shutting down block, so callers run them
in a thread. Only CQL that Cassandra 1.2 (the test server) and current Cassandra and
ScyllaDB all accept is used: see tools/cassandra/README.md.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session

if TYPE_CHECKING:
    from raasel.config import Settings

DEFAULT_PORT = 9042


def parse_hosts(spec: str) -> tuple[tuple[str, ...], int]:
    """``"a,b:9043"`` -> ``(("a", "b"), 9043)``; every host must use the same port."""
    hosts, ports = [], set()
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        hosts.append(host)
        if port:
            ports.add(int(port))
    if not hosts:
        raise ValueError("RAASEL_CASSANDRA_HOSTS names no host")
    if len(ports) > 1:
        raise ValueError("all Cassandra hosts must share one port")
    return tuple(hosts), ports.pop() if ports else DEFAULT_PORT


def consistency_level(name: str) -> int:
    """The driver's code for a level name such as ``LOCAL_QUORUM`` or ``ONE``."""
    try:
        return int(ConsistencyLevel.name_to_value[name.upper()])
    except KeyError:
        raise ValueError(f"unknown Cassandra consistency level {name!r}") from None


@dataclass(frozen=True)
class CassandraOptions:
    hosts: tuple[str, ...]
    port: int = DEFAULT_PORT
    keyspace: str = "raasel"
    consistency: str = "LOCAL_QUORUM"
    protocol_version: int | None = None
    replication: dict[str, str | int] = field(
        default_factory=lambda: {"class": "SimpleStrategy", "replication_factor": 1}
    )
    request_timeout: float = 10.0

    def __post_init__(self) -> None:
        # The keyspace is spliced into CQL text: allow plain identifiers only.
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,47}", self.keyspace):
            raise ValueError(f"bad Cassandra keyspace name {self.keyspace!r}")
        consistency_level(self.consistency)

    @classmethod
    def from_settings(cls, settings: Settings) -> CassandraOptions:
        hosts, port = parse_hosts(settings.cassandra_hosts)
        return cls(
            hosts=hosts,
            port=port,
            keyspace=settings.cassandra_keyspace,
            consistency=settings.cassandra_consistency,
            protocol_version=settings.cassandra_protocol_version,
            replication=dict(settings.cassandra_replication),
        )


def connect(options: CassandraOptions) -> tuple[Cluster, Session]:
    """A cluster and a session without a keyspace (blocking: run it in a thread).

    The consistency level is always explicit: the driver's default (LOCAL_ONE) is
    unknown to old servers, which drop the connection when they see it.
    """
    profile = ExecutionProfile(
        consistency_level=consistency_level(options.consistency),
        request_timeout=options.request_timeout,
    )
    kwargs: dict[str, Any] = {"port": options.port}
    if options.protocol_version is not None:
        kwargs["protocol_version"] = options.protocol_version
    cluster = Cluster(
        list(options.hosts), execution_profiles={EXEC_PROFILE_DEFAULT: profile}, **kwargs
    )
    try:
        return cluster, cluster.connect()
    except BaseException:
        cluster.shutdown()
        raise


def execute(session: Session, statement: Any, params: Any = None) -> asyncio.Future[list[Any]]:
    """Run a statement on the driver and await its rows from the running loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()
    response = session.execute_async(statement, params)

    def settle(rows: list[Any] | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(rows or [])

    def on_rows(rows: Any) -> None:
        # One page is all: every read has a LIMIT below the driver's page size (5,000).
        loop.call_soon_threadsafe(settle, list(rows or []), None)

    def on_error(error: BaseException) -> None:
        loop.call_soon_threadsafe(settle, None, error)

    response.add_callbacks(on_rows, on_error)
    return done


def execute_all(session: Session, requests: Sequence[tuple[Any, Any]]) -> asyncio.Future[None]:
    """Run many writes at once; settle once, when the last has answered (the first error
    wins). One wake-up of the loop instead of one per request: measured, the per-request
    futures and wake-ups cost about as much CPU as the driver's own work."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    if not requests:
        done.set_result(None)
        return done
    lock = threading.Lock()
    left = len(requests)
    errors: list[BaseException] = []

    def settle() -> None:
        if done.done():
            return
        if errors:
            done.set_exception(errors[0])
        else:
            done.set_result(None)

    def answered(error: BaseException | None) -> None:
        nonlocal left
        with lock:
            if error is not None:
                errors.append(error)
            left -= 1
            last = left == 0
        if last:
            loop.call_soon_threadsafe(settle)

    for statement, params in requests:
        try:
            response = session.execute_async(statement, params)
        except Exception as exc:  # refused before it was sent (no host, say)
            answered(exc)
            continue
        response.add_callbacks(lambda _rows: answered(None), answered)
    return done
