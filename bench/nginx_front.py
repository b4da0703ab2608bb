"""deploy/nginx/raasel.conf in front of one bench node, as tests/deploy/test_nginx.py runs it.

The template is filled in the way the nginx image's envsubst would (loopback ports, a
certificate directory, an upstream file naming the node); the main context (pid, logs,
temp paths, one worker, enough connections) is the bench's own, so it runs without root.

``upstream_scheme="https"`` is the deployed configuration verbatim: TLS from the clients
to nginx and again from nginx to the node (``proxy_ssl_verify on``). ``"http"`` changes only
the two ``proxy_pass https://raasel_nodes`` lines to ``http://``, for a node that speaks plain
HTTP on loopback (bench/raasel_plain.py); deploy/ has no such variant today.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx" / "raasel.conf"

MAIN_CONF = """
worker_processes 1;
worker_rlimit_nofile {files};
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include {run}/raasel.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise RuntimeError("nginx is required (Debian: apt-get install nginx)")
    return found


def make_certificates(tls: Path) -> None:
    """public/ for the clients (localhost), internal/ for the hop to the node (raasel-node)."""
    from raasel.lib.tls import ensure_self_signed

    ensure_self_signed(tls / "public" / "cert.pem", tls / "public" / "key.pem", "localhost")
    ensure_self_signed(tls / "internal" / "cert.pem", tls / "internal" / "key.pem", "raasel-node")


@dataclass
class NginxFront:
    run_dir: Path
    tls_dir: Path
    https_port: int
    http_port: int
    node_port: int
    upstream_scheme: str = "https"
    connections: int = 4096
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)

    def render(self) -> Path:
        upstreams = self.run_dir / "upstreams"
        upstreams.mkdir(parents=True, exist_ok=True)
        (upstreams / "nodes.conf").write_text(f"server 127.0.0.1:{self.node_port};\n")
        (upstreams / "web.conf").write_text(f"server 127.0.0.1:{self.node_port};\n")
        text = Template(TEMPLATE.read_text()).safe_substitute(
            RAASEL_PUBLIC_HOST="localhost",
            RAASEL_HTTPS_AUTHORITY=f"localhost:{self.https_port}",
            RAASEL_HTTP_LISTEN=f"127.0.0.1:{self.http_port}",
            RAASEL_HTTPS_LISTEN=f"127.0.0.1:{self.https_port}",
            RAASEL_TLS_DIR=str(self.tls_dir),
            RAASEL_UPSTREAMS_DIR=str(upstreams),
        )
        if "${RAASEL_" in text:
            raise RuntimeError("a template variable of deploy/nginx/raasel.conf has no value")
        if self.upstream_scheme == "http":
            swapped = text.replace(
                "proxy_pass https://raasel_nodes", "proxy_pass http://raasel_nodes"
            )
            if swapped.count("proxy_pass http://raasel_nodes") != 2:
                raise RuntimeError("deploy/nginx/raasel.conf changed: cannot swap the upstream")
            text = swapped
        (self.run_dir / "raasel.conf").write_text(text)
        main = self.run_dir / "nginx.conf"
        main.write_text(
            MAIN_CONF.format(
                run=self.run_dir, connections=self.connections, files=self.open_files()
            )
        )
        return main

    def open_files(self) -> int:
        """Two descriptors per proxied connection, within the hard limit nginx inherits (an
        unprivileged process cannot raise it: 10,000 idle clients need about 20,100)."""
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        wanted = 2 * self.connections + 64
        return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)

    def start(self, preexec: Callable[[], None] | None = None) -> None:
        nginx = nginx_binary()
        conf = self.render()
        base = [nginx, "-p", str(self.run_dir), "-c", str(conf)]
        base += ["-e", str(self.run_dir / "error.log")]
        checked = subprocess.run(
            [*base, "-t"], capture_output=True, text=True, check=False, timeout=30
        )
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {checked.stderr[-2000:]}")
        self.process = subprocess.Popen(
            [*base, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("nginx did not listen")
        self.pids = [self.process.pid, *children(self.process.pid)]

    def error_log(self) -> str:
        path = self.run_dir / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def children(pid: int) -> list[int]:
    """Direct children of a process (nginx's workers), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found
