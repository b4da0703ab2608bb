"""deploy/nginx/raasel.conf, run for real: Debian's nginx on loopback in front of two nodes.

The very template that compose.yaml mounts is filled in here (as the nginx image's
envsubst would) with loopback ports, a temporary certificate directory and upstream
files naming two test nodes; only the main context (pid, logs, temp paths) is the
test's own, so it runs without root. Clients speak TLS to nginx, nginx speaks TLS to
the nodes and checks their internal certificate.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import aiohttp
import httpx
import pytest
import socketio

from raasel.lib.tls import ensure_self_signed
from tests.support.clients import World, unique
from tests.support.databases import create_postgres_database, nodes_use_postgres, sqlite_url
from tests.support.mailbox import Mailbox, shared_mailbox
from tests.support.server import ROOT, RunningServer, free_port

TEMPLATE = ROOT / "deploy" / "nginx" / "raasel.conf"
REDIS_URL = os.environ.get("RAASEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

MAIN_CONF = """
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {run}/access.log;
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
        pytest.fail("nginx is required (Debian package nginx; `make test-deps` installs it)")
    return found


@dataclass
class Front:
    """nginx as the clients see it: quacks like RunningServer for World and SocketClient."""

    https_port: int
    http_port: int
    ca_file: Path
    # The nodes behind it mail the tests' SMTP server; World reads their mail there.
    mailbox: Mailbox = field(default_factory=shared_mailbox)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def render(run: Path, front: Front, tls: Path, nodes: list[RunningServer]) -> Path:
    upstreams = run / "upstreams"
    upstreams.mkdir()
    lines = [f"server 127.0.0.1:{n.https_port} max_fails=1 fail_timeout=5s;" for n in nodes]
    (upstreams / "nodes.conf").write_text("\n".join(lines) + "\n")
    (upstreams / "web.conf").write_text(f"server 127.0.0.1:{nodes[0].https_port};\n")
    text = Template(TEMPLATE.read_text()).safe_substitute(
        RAASEL_PUBLIC_HOST="localhost",
        RAASEL_HTTPS_AUTHORITY=f"localhost:{front.https_port}",
        RAASEL_HTTP_LISTEN=f"127.0.0.1:{front.http_port}",
        RAASEL_HTTPS_LISTEN=f"127.0.0.1:{front.https_port}",
        RAASEL_TLS_DIR=str(tls),
        RAASEL_UPSTREAMS_DIR=str(upstreams),
    )
    assert "${RAASEL_" not in text, "a template variable has no value"
    (run / "raasel.conf").write_text(text)
    main = run / "nginx.conf"
    main.write_text(MAIN_CONF.format(run=run))
    return main


def _answers(port: int, *, tls: bool) -> bool:
    """Does nginx itself answer on ``port``? A bare TCP connect is not enough: a connect to
    a free port in the ephemeral range can connect to itself (Linux's self-connect), which
    once let the tests start before nginx listened."""
    try:
        with contextlib.ExitStack() as stack:
            conn = stack.enter_context(socket.create_connection(("127.0.0.1", port), 0.5))
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                conn = stack.enter_context(context.wrap_socket(conn, server_hostname="localhost"))
            conn.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return conn.recv(5) == b"HTTP/"
    except OSError:
        return False


def wait_for_front(front: Front, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
        if _answers(front.http_port, tls=False) and _answers(front.https_port, tls=True):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not answer: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    nginx = nginx_binary()
    base = tmp_path_factory.mktemp("proxy")
    tls = base / "tls"
    ensure_self_signed(tls / "public" / "cert.pem", tls / "public" / "key.pem", "localhost")
    internal_cert, internal_key = tls / "internal" / "cert.pem", tls / "internal" / "key.pem"
    ensure_self_signed(internal_cert, internal_key, "raasel-node")
    database = create_postgres_database() if nodes_use_postgres() else sqlite_url(base)
    common = {
        "RAASEL_DATABASE_URL": database,
        "RAASEL_REDIS_URL": REDIS_URL,
        "RAASEL_REDIS_PREFIX": f"raasel-nginx-test-{uuid.uuid4().hex[:8]}:",
        "RAASEL_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "RAASEL_ATTACHMENTS_DIR": str(base / "attachments"),
    }
    nodes = []
    for node_id in (1, 2):
        var_dir = base / f"node{node_id}"
        # Both nodes present the internal certificate, as in compose.yaml.
        (var_dir / "tls").mkdir(parents=True)
        shutil.copy(internal_cert, var_dir / "tls" / "cert.pem")
        shutil.copy(internal_key, var_dir / "tls" / "key.pem")
        nodes.append(RunningServer(var_dir, common | {"RAASEL_NODE_ID": str(node_id)}))
    run = base / "run"
    run.mkdir()
    proxy = Front(free_port(), free_port(), tls / "public" / "cert.pem")
    conf = render(run, proxy, tls, nodes)
    process = None
    try:
        for node in nodes:  # one after the other: the first migrates the shared database
            node.start()
        checked = subprocess.run(
            [nginx, "-t", "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen(
            [
                nginx,
                "-p",
                str(run),
                "-c",
                str(conf),
                "-e",
                str(run / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_front(proxy, process, run / "error.log")
        yield proxy
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown: open long polls end too
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for node in nodes:
            node.stop()


async def test_https_rest_and_websocket_through_the_proxy(front: Front) -> None:
    async with httpx.AsyncClient(verify=front.ssl_context(), timeout=10) as http:
        redirect = await http.get(f"http://127.0.0.1:{front.http_port}/api/v1/me?x=1")
        assert redirect.status_code == 308
        assert redirect.headers["location"] == f"https://localhost:{front.https_port}/api/v1/me?x=1"
        ready = await http.get(f"{front.url}/readyz")
        assert ready.json() == {"status": "ok"}
        assert ready.headers["strict-transport-security"].startswith("max-age=")
        assert (await http.get(f"{front.url}/metrics")).status_code == 404
        assert (await http.get(f"{front.url}/")).status_code == 200  # the web upstream

    world = World(front)  # type: ignore[arg-type]
    try:
        tenant = await world.tenant(agents=1)
        customer = await world.individual()
        agent = await world.socket(tenant.agents[0])
        assert (await agent.emit("presence:set", {"availability": "online"}))["ok"]
        opened = await customer.api.post(
            "/api/v1/conversations",
            {
                "org_id": tenant.org_id,
                "group_id": tenant.groups["support"]["id"],
                "text": "through the proxy",
                "client_id": unique("p"),
            },
            expect=201,
        )
        cid = opened["conversation"]["id"]
        await agent.wait_for("message:new", lambda d: d["message"]["text"] == "through the proxy")
        customer_socket = await world.socket(customer)
        ack = await customer_socket.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("w"), "text": "over wss"}
        )
        assert ack["ok"], ack
        await agent.wait_for("message:new", lambda d: d["message"]["id"] == ack["message"]["id"])
    finally:
        await world.close()


async def test_long_polling_stays_on_one_node(front: Front) -> None:
    """Every poll of a session must reach the node that made it: the upstream hash."""
    world = World(front)  # type: ignore[arg-type]
    received: list[tuple[str, Any]] = []
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=front.ssl_context()))
    client = socketio.AsyncClient(reconnection=False, http_session=http)

    @client.on("*")
    async def on_any(event: str, data: Any) -> None:
        received.append((event, data))

    try:
        person = await world.individual()
        await client.connect(
            front.url, auth={"token": person.token}, transports=["polling"], wait_timeout=10
        )
        assert client.transport() == "polling"
        for _ in range(5):
            ack = await client.call("sync", {"conversations": []}, timeout=10)
            assert ack == {"ok": True, "conversations": []}
        assert client.connected
    finally:
        # Engine.IO's polling client waits out the pending long poll (up to the ping
        # interval) on a clean disconnect; abort instead: closing the session ends it.
        await client.eio.disconnect(abort=True)
        await http.close()
        await world.close()
