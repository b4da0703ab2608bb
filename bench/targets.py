"""The servers under test, started the same way for every run: Raasel, the two references, nginx.

    raasel              ``raasel serve``, TLS in the node (the embedded default)
    raasel-nginx        deploy/nginx/raasel.conf verbatim in front: TLS at nginx, and TLS
                        again from nginx to the node, as deployed
    raasel-nginx-plain  the same nginx with a plain-HTTP upstream and the node without TLS
                        on loopback (``RAASEL_TLS=off``; for a Raasel older than that
                        setting, the stand-in bench/raasel_plain.py)
    python              bench/python_relay.py: python-socketio + uvicorn + SQLite group commit
    node                bench/node-relay/: socket.io 4.8 on Node, no persistence

Every server runs in its own process group, pinned to ``server_cpus`` (nginx with it: its
CPU counts as the server's), and binds 127.0.0.1 only.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.nginx_front import NginxFront, make_certificates

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
RELAY = ROOT / "bench" / "node-relay"
TARGETS = ("raasel", "raasel-nginx", "raasel-nginx-plain", "python", "node")

# The embedded default (SQLite, synchronous=FULL, group commit), with the per-user and
# per-IP limits raised: every client of the benchmark comes from 127.0.0.1.
RAASEL_ENV = {
    "RAASEL_LOGIN_RATE": "1000000/60",
    "RAASEL_SEND_RATE": "1000000/10",
    "RAASEL_OPEN_RATE": "1000000/60",
    "RAASEL_CONNECT_RATE": "1000000/60",
    "RAASEL_UPLOAD_RATE": "1000000/60",
    # Limits added since 9021d87 (ignored by older nodes): visitors, logins per email,
    # sync, receipts, typing, downloads.
    "RAASEL_VISITOR_RATE": "1000000/60",
    "RAASEL_LOGIN_EMAIL_RATE": "1000000/60",
    "RAASEL_SYNC_RATE": "1000000/10",
    "RAASEL_RECEIPT_RATE": "1000000/10",
    "RAASEL_TYPING_RATE": "1000000/10",
    "RAASEL_DOWNLOAD_RATE": "1000000/60",
    # Engine.IO sessions and open connections per IP: every generated client comes from
    # 127.0.0.1, so the bounds meant for one address would cap the whole benchmark.
    "RAASEL_SESSION_RATE": "1000000/60",
    "RAASEL_CONNECTIONS_PER_IP": "1000000",
    "RAASEL_SEED_DEMO": "false",
    "RAASEL_LOG_LEVEL": "warning",
    "RAASEL_HOST": "127.0.0.1",
    "RAASEL_HTTP_PORT": "0",
    # Fixed, so the tokens of a cached world stay valid for a month.
    "RAASEL_SECRET_KEY": "bench-secret-key-of-sufficient-length-0123456789abcdef",
    "RAASEL_ACCESS_TOKEN_TTL_SECONDS": str(30 * 24 * 3600),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn that pins the child (and every thread it makes) to ``cpus``."""
    if not cpus:
        return None
    chosen = set(cpus)

    def pin() -> None:
        os.sched_setaffinity(0, chosen)

    return pin


@dataclass(frozen=True)
class RaaselSource:
    """Which Raasel runs: the working tree, or a commit unpacked under bench/results/src/.

    Others edit src/ while benchmarks run; ``--raasel-commit`` measures one fixed commit.
    """

    src: Path
    label: str

    @property
    def is_snapshot(self) -> bool:
        return self.src != ROOT / "src"

    def env(self) -> dict[str, str]:
        return {"PYTHONPATH": str(self.src)} if self.is_snapshot else {}

    @property
    def has_tls_off(self) -> bool:
        """Whether this Raasel has ``RAASEL_TLS=off`` (plain HTTP on loopback, 614affc)."""
        config = (self.src / "raasel" / "config.py").read_text()
        return 'tls: Literal["on", "off"]' in config

    @property
    def migrations(self) -> Path:
        return self.src / "raasel" / "storage" / "migrations" / "versions"


def raasel_source(revision: str) -> RaaselSource:
    if not revision:
        return RaaselSource(ROOT / "src", "working tree")
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = RESULTS / "src" / sha[:12]
    if not (dest / "src" / "raasel" / "__init__.py").exists():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    return RaaselSource(dest / "src", sha[:12])


@dataclass
class Target:
    """A server under test as the clients see it, and the processes that serve it."""

    name: str
    kind: str  # the wire flavour the load generator speaks: raasel | python | node
    port: int
    cert: Path  # what the clients verify the server with
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    front: NginxFront | None = None
    log_paths: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    @property
    def pid(self) -> int:
        """The first process started (the node itself)."""
        return next(iter(self.processes.values())).pid

    def server_pids(self) -> dict[str, int]:
        pids = {f"server:{name}": p.pid for name, p in self.processes.items()}
        if self.front is not None:
            pids |= {f"server:nginx{i}": pid for i, pid in enumerate(self.front.pids)}
        return pids

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def spawn(
        self,
        role: str,
        command: list[str],
        env: dict[str, str],
        log_path: Path,
        cpus: set[int] | None,
    ) -> subprocess.Popen[bytes]:
        self.log_paths.append(log_path)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=pinned(cpus),
            )
        self.processes[role] = process
        return process

    def wait_ready(self, url: str, verify: ssl.SSLContext | bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{self.name} ({role}) exited: {self.log_tail()}")
            try:
                if httpx.get(url, verify=verify, timeout=2).status_code < 500:
                    return
            except (httpx.HTTPError, ssl.SSLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")

    def wait_ready_https(self, path: str, timeout: float) -> None:
        """Wait for the certificate the node makes at start-up, then for ``path`` over TLS."""
        deadline = time.monotonic() + timeout
        while not self.cert.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        remaining = max(1.0, deadline - time.monotonic())
        self.wait_ready(f"https://localhost:{self.port}{path}", self.ssl_context(), remaining)

    def log_tail(self) -> str:
        text = "".join(p.read_text(errors="replace")[-1500:] for p in self.log_paths if p.exists())
        if self.front is not None:
            text += self.front.error_log()
        return text

    def stop(self) -> None:
        if self.front is not None:
            self.front.stop()
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def start_raasel(
    source: RaaselSource,
    var_dir: Path,
    logs: Path,
    cpus: set[int] | None = None,
    switch_interval: float | None = None,
) -> Target:
    port = free_port()
    target = Target("raasel", "raasel", port, var_dir / "tls" / "cert.pem")
    env = os.environ | source.env() | RAASEL_ENV
    env |= {"RAASEL_VAR_DIR": str(var_dir), "RAASEL_HTTPS_PORT": str(port)}
    command = [sys.executable, "-m", "raasel.cli", "serve"]
    if switch_interval is not None:
        command = [sys.executable, "-m", "bench.raasel_tuned", str(switch_interval), "serve"]
    target.spawn("raasel", command, env, logs / "raasel.log", cpus)
    target.wait_ready_https("/readyz", timeout=120)
    return target


def start_raasel_behind_nginx(
    source: RaaselSource,
    var_dir: Path,
    logs: Path,
    cpus: set[int] | None,
    upstream_scheme: str,
    connections: int,
) -> Target:
    """The node on loopback behind deploy/nginx/raasel.conf; the clients speak to nginx."""
    name = "raasel-nginx" if upstream_scheme == "https" else "raasel-nginx-plain"
    tls = logs / f"tls-{name}"
    make_certificates(tls)
    node_port = free_port()
    front = NginxFront(
        logs / f"nginx-{name}",
        tls,
        https_port=free_port(),
        http_port=free_port(),
        node_port=node_port,
        upstream_scheme=upstream_scheme,
        connections=max(4096, 4 * connections + 1024),  # client + upstream, with headroom
    )
    front.run_dir.mkdir(parents=True, exist_ok=True)
    target = Target(name, "raasel", front.https_port, tls / "public" / "cert.pem")
    env = os.environ | source.env() | RAASEL_ENV
    env |= {
        "RAASEL_VAR_DIR": str(var_dir),
        "RAASEL_HTTPS_PORT": str(node_port),
        "RAASEL_FORWARDED_ALLOW_IPS": "127.0.0.1",
        # The deployed hop checks the node's internal certificate (proxy_ssl_name raasel-node).
        "RAASEL_TLS_CERT_FILE": str(tls / "internal" / "cert.pem"),
        "RAASEL_TLS_KEY_FILE": str(tls / "internal" / "key.pem"),
    }
    if upstream_scheme == "https":
        command = [sys.executable, "-m", "raasel.cli", "serve"]
        ready = f"https://localhost:{node_port}/readyz"
        verify: ssl.SSLContext | bool = ssl.create_default_context(
            cafile=str(tls / "internal" / "cert.pem")
        )
    elif source.has_tls_off:
        command = [sys.executable, "-m", "raasel.cli", "serve"]
        env |= {"RAASEL_TLS": "off"}
        ready, verify = f"http://127.0.0.1:{node_port}/readyz", False
    else:
        command = [sys.executable, "-m", "bench.raasel_plain", "serve"]
        ready, verify = f"http://127.0.0.1:{node_port}/readyz", False
    target.spawn("raasel", command, env, logs / f"{name}.log", cpus)
    target.wait_ready(ready, verify, timeout=120)
    target.front = front
    try:
        front.start(pinned(cpus))
    except Exception:
        target.stop()
        raise
    target.wait_ready(f"https://localhost:{front.https_port}/readyz", target.ssl_context(), 30)
    return target


def start_node(cert: Path, key: Path, logs: Path, cpus: set[int] | None = None) -> Target:
    if not (RELAY / "node_modules" / "socket.io").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=RELAY,
            check=True,
            timeout=300,
        )
    port = free_port()
    target = Target("node", "node", port, cert)
    command = ["node", str(RELAY / "server.mjs"), "--cert", str(cert), "--key", str(key)]
    target.spawn("node", [*command, "--port", str(port)], dict(os.environ), logs / "node.log", cpus)
    target.wait_ready_https("/socket.io/?EIO=4&transport=polling", timeout=30)
    return target


def start_python(
    cert: Path, key: Path, db: Path, logs: Path, cpus: set[int] | None = None
) -> Target:
    port = free_port()
    target = Target("python", "python", port, cert)
    command = [sys.executable, "-m", "bench.python_relay", "--cert", str(cert), "--key", str(key)]
    command += ["--db", str(db), "--port", str(port)]
    target.spawn("python", command, dict(os.environ), logs / "python.log", cpus)
    target.wait_ready_https("/socket.io/?EIO=4&transport=polling", timeout=30)
    return target
