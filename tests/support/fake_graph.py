"""A fake Graph API of ours: a real HTTP server in the test process (a thread) that
answers the calls Raasel makes, records each, and injects errors or holds a request."""

from __future__ import annotations

import contextlib
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/v21.0"


@dataclass
class Call:
    method: str
    path: str  # without the version prefix
    query: dict[str, list[str]]
    token: str
    body: Any
    answer: str | None = None  # the message id a send was answered with
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Upload:
    """A file Raasel uploaded (WhatsApp ``/media``, Messenger/Instagram
    ``/message_attachments``): the form's fields and the file."""

    path: str
    fields: dict[str, str]
    filename: str
    content_type: str
    data: bytes
    media_id: str


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], list[Any]]:
    """(text fields, [(name, filename, content type, bytes)]) of a multipart/form-data body."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, str] = {}
    files: list[Any] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        if filename is None:
            fields[str(name)] = data.decode()
        else:
            files.append((str(name), filename, part.get_content_type(), data))
    return fields, files


@dataclass
class Injected:
    path_end: str
    status: int
    body: dict[str, Any]
    times: int


@dataclass
class FakeGraph:
    calls: list[Call] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    _errors: list[Injected] = field(default_factory=list)
    _holds: dict[str, threading.Event] = field(default_factory=dict)
    _arrived: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        for gate in self._holds.values():
            gate.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- what tests set up ---------------------------------------------------------------

    def fail_next(
        self,
        path_end: str,
        status: int,
        code: int | None,
        message: str = "injected",
        times: int = 1,
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": "OAuthException"}
        if code is not None:
            error["code"] = code
        with self._lock:
            self._errors.append(Injected(path_end, status, {"error": error}, times))

    def hold(self, path_end: str) -> threading.Event:
        """Requests whose path ends so wait until the returned event is set."""
        self._holds[path_end] = threading.Event()
        self._arrived[path_end] = threading.Event()
        return self._holds[path_end]

    def arrived(self, path_end: str, within: float = 20) -> bool:
        return self._arrived[path_end].wait(within)

    def release(self, path_end: str) -> None:
        self._holds.pop(path_end).set()

    def add_media(self, media_id: str, data: bytes, content_type: str) -> str:
        self.media[media_id] = (data, content_type)
        return f"{self.base_url}/files/{media_id}"

    def sends(self, account: str | None = None) -> list[Call]:
        return [
            c
            for c in list(self.calls)
            if c.method == "POST"
            and c.path.endswith("/messages")
            and (account is None or c.path == f"/{account}/messages")
        ]

    def wait_for_sends(
        self, count: int, account: str | None = None, within: float = 20
    ) -> list[Call]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = self.sends(account)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{len(self.sends(account))} sends, wanted {count}: {self.calls}")

    # -- answering -----------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        path = url.path.removeprefix(PREFIX)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        kind = request.headers.get("Content-Type") or ""
        form: tuple[dict[str, str], list[Any]] | None = None
        if kind.startswith("multipart/form-data"):
            form = parse_multipart(kind, raw)
            body: Any = form[0]
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        call = Call(method, path, parse_qs(url.query), token, body)
        with self._lock:
            self.calls.append(call)
        for end, gate in list(self._holds.items()):
            if path.endswith(end):
                self._arrived[end].set()
                gate.wait(60)
        with self._lock:
            injected = next((e for e in self._errors if path.endswith(e.path_end)), None)
            if injected is not None:
                injected.times -= 1
                if injected.times <= 0:
                    self._errors.remove(injected)
        if injected is not None:
            self._json(request, injected.status, injected.body)
            return
        if (
            method == "POST"
            and form is not None
            and path.endswith(("/media", "/message_attachments"))
        ):
            fields, files = form
            if not files:
                self._json(request, 400, {"error": {"message": "no file", "code": 100}})
                return
            _, filename, content_type, data = files[0]
            media_id = f"{next(self._ids)}{len(self.uploads):04d}"
            with self._lock:
                self.uploads.append(Upload(path, fields, filename, content_type, data, media_id))
            answer = {"id": media_id} if path.endswith("/media") else {"attachment_id": media_id}
            self._json(request, 200, answer)
            return
        if method == "POST" and path.endswith("/messages"):
            n = next(self._ids)
            if isinstance(body, dict) and body.get("messaging_product") == "whatsapp":
                call.answer = f"wamid.OUT{n:06d}"
                self._json(request, 200, {"messages": [{"id": call.answer}]})
            else:
                recipient = (
                    (body or {}).get("recipient", {}).get("id") if isinstance(body, dict) else None
                )
                call.answer = f"m_OUT{n:06d}"
                self._json(request, 200, {"message_id": call.answer, "recipient_id": recipient})
            return
        if method == "GET" and path.endswith("/message_templates"):
            self._json(request, 200, {"data": self.templates})
            return
        if method == "GET" and path.startswith("/files/"):
            found = self.media.get(path.removeprefix("/files/"))
            if found is None:
                self._json(request, 404, {"error": {"message": "no such file", "code": 100}})
                return
            data, content_type = found
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
            return
        if method == "GET" and path.strip("/") in self.media:
            media_id = path.strip("/")
            data, content_type = self.media[media_id]
            self._json(
                request,
                200,
                {
                    "url": f"{self.base_url}/files/{media_id}",
                    "mime_type": content_type,
                    "file_size": len(data),
                    "id": media_id,
                },
            )
            return
        self._json(request, 404, {"error": {"message": f"unknown path {path}", "code": 100}})

    @staticmethod
    def _json(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


@contextlib.contextmanager
def running_graph() -> Iterator[FakeGraph]:
    """A started fake Graph API, stopped afterwards (a fixture's body)."""
    fake = FakeGraph()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
