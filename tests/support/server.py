"""Runs a real Raasel node (``raasel serve``) in a subprocess, over TLS, for tests."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import node_database_env
from tests.support.mailbox import Mailbox, shared_mailbox

ROOT = Path(__file__).resolve().parents[2]

# Generous limits for the shared test node; rate-limit tests start their own node.
TEST_ENV = {
    "RAASEL_LOGIN_RATE": "10000/60",
    "RAASEL_SEND_RATE": "10000/10",
    "RAASEL_OPEN_RATE": "10000/60",
    "RAASEL_CONNECT_RATE": "10000/60",
    "RAASEL_SESSION_RATE": "20000/60",
    "RAASEL_CONNECTIONS_PER_IP": "10000",
    "RAASEL_DOMAIN_CHECK_RATE": "10000/60",
    "RAASEL_UPLOAD_RATE": "10000/60",
    "RAASEL_LOGIN_EMAIL_RATE": "10000/60",
    "RAASEL_REGISTER_RATE": "10000/60",
    "RAASEL_PASSWORD_RESET_RATE": "10000/60",
    "RAASEL_VERIFICATION_RESEND_RATE": "10000/60",
    "RAASEL_MAIL_RECIPIENT_RATE": "10000/60",
    "RAASEL_INVITE_RATE": "10000/60",
    "RAASEL_ORG_CREATE_RATE": "10000/60",
    "RAASEL_VISITOR_RATE": "10000/60",
    "RAASEL_DOWNLOAD_RATE": "10000/60",
    "RAASEL_SYNC_RATE": "10000/10",
    "RAASEL_TYPING_RATE": "10000/10",
    "RAASEL_RECEIPT_RATE": "10000/10",
    "RAASEL_SEED_DEMO": "false",
    "RAASEL_TYPING_TTL_SECONDS": "1.5",
    "RAASEL_LOG_LEVEL": "warning",
    "RAASEL_SECRET_KEY": "test-secret-key-of-sufficient-length-0123456789",
    # Shown by tests that scrape /metrics (tests/api/test_transport.py).
    "RAASEL_METRICS_TOKEN": "test-metrics-token",
    # Tests sign billing webhooks locally with it (tests/api/test_billing.py).
    "RAASEL_BILLING_WEBHOOK_SECRET": "whsec_test_raasel_local_0123456789",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    var_dir: Path
    env: dict[str, str]
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _log: Any = None
    # Where its mail goes (a real SMTP server in this process); None when a test sets
    # RAASEL_SMTP_HOST itself (empty: the node writes mails to var/outbox).
    mailbox: Mailbox | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def ca_file(self) -> Path:
        return self.var_dir / "tls" / "cert.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts exactly this node's self-signed certificate (and checks the host name)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self, timeout: float = 90.0) -> None:
        """Start the node and wait until /readyz answers 200 (``timeout``: a deadline for
        a busy machine, not a measure: a node here usually starts in 2-4 s)."""
        database = {} if "RAASEL_DATABASE_URL" in self.env else node_database_env(self.var_dir)
        mail: dict[str, str] = {}
        if "RAASEL_SMTP_HOST" not in self.env:
            self.mailbox = shared_mailbox()
            mail = self.mailbox.env()
        env = (
            os.environ.copy()
            | TEST_ENV
            | database
            | mail
            | self.env
            | {
                "RAASEL_VAR_DIR": str(self.var_dir),
                "RAASEL_HTTPS_PORT": str(self.https_port),
                "RAASEL_HTTP_PORT": str(self.http_port),
                "RAASEL_HOST": "127.0.0.1",
            }
        )
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._log = log = (self.var_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "raasel.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                if self.ca_file.exists():
                    # Patient per attempt: under load the first answer may take seconds, and
                    # giving up at 1 s only queued more connections on the starting node.
                    r = httpx.get(f"{self.url}/readyz", verify=self.ssl_context(), timeout=10)
                    if r.status_code == 200:
                        return
            except (httpx.HTTPError, ssl.SSLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.var_dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush: what a crash looks like."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()
