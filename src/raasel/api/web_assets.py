"""The built web app (web/dist) served as a production web server would.

- Each file is read once, at start, with the brotli and gzip copies that
  ``tools/compress-assets.mjs`` wrote beside it at build time (``FILE.br``, ``FILE.gz``);
  a request gets the smallest one its ``Accept-Encoding`` allows, with ``Vary``. Nothing
  is compressed while serving. A rebuild is seen after a restart, and until then the
  node keeps serving the whole previous build, never a page of one build with the
  scripts of another.
- Hashed files (``assets/NAME-HASH.EXT``, Vite's output) are ``immutable`` for a year:
  their name changes when their content does. Everything else (``index.html``, the
  widget's ``/widget.js`` and ``/widget.html``) is ``no-cache``: the browser keeps it but
  asks every time, and an unchanged file costs a 304 (its ETag is a content hash).
- The app's own routes (``/agent/...``, ``/admin/...``) answer ``index.html``. An unknown
  path answers 404: an HTML page to a browser (``Accept: text/html``), the API's JSON
  error to everyone else and always under ``/api/``.

docs/decisions.md, "Serving the web app".
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Vite names bundled files NAME-HASH.EXT, the hash 8 characters of base64url.
HASHED = re.compile(r"^assets/.+-[A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$")
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
}
NOT_FOUND_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Page not found · Raasel</title></head>
<body>
<h1>Page not found</h1>
<p>There is no page at this address. <a href="/">Go to Raasel</a>.</p>
</body>
</html>
"""


@dataclass(frozen=True)
class Asset:
    """One file and its pre-compressed copies, ready to send."""

    content_type: str
    cache_control: str
    etag: str  # of the identity bytes; each encoding gets its own suffix
    bodies: dict[str, bytes] = field(default_factory=dict)  # "identity", "br", "gzip"

    def headers(self, encoding: str) -> dict[str, str]:
        tag = self.etag if encoding == "identity" else f'{self.etag[:-1]}-{encoding}"'
        headers = {"cache-control": self.cache_control, "etag": tag}
        if len(self.bodies) > 1:
            headers["vary"] = "Accept-Encoding"
        if encoding != "identity":
            headers["content-encoding"] = encoding
        return headers


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def load_asset(file: Path, relative: str) -> Asset:
    raw = file.read_bytes()
    bodies = {"identity": raw}
    for encoding, suffix in ENCODINGS:
        copy = file.with_name(file.name + suffix)
        if copy.is_file():
            bodies[encoding] = copy.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:20]
    return Asset(
        content_type=content_type(relative),
        cache_control=IMMUTABLE if HASHED.match(relative) else REVALIDATE,
        etag=f'"{digest}"',
        bodies=bodies,
    )


def load_build(dist: Path) -> dict[str, Asset]:
    """Every file of the build by its URL path (``index.html``, ``assets/app-x.js``)."""
    assets: dict[str, Asset] = {}
    for file in sorted(dist.rglob("*")):
        if not file.is_file() or file.suffix in {".br", ".gz"}:
            continue
        relative = file.relative_to(dist).as_posix()
        assets[relative] = load_asset(file, relative)
    return assets


def accepted_encodings(header: str) -> set[str]:
    """Codings the client takes (``q`` above 0); ``identity`` unless refused."""
    accepted: set[str] = set()
    refused: set[str] = set()
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        (accepted if quality > 0 else refused).add(name)
    if "*" in accepted:
        accepted |= {e for e, _ in ENCODINGS} - refused
    if "identity" not in refused and not ("*" in refused and "identity" not in accepted):
        accepted.add("identity")
    return accepted


def choose_encoding(asset: Asset, accept_encoding: str) -> str:
    accepted = accepted_encodings(accept_encoding)
    for encoding, _ in ENCODINGS:
        if encoding in asset.bodies and encoding in accepted:
            return encoding
    return "identity"


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as If-None-Match uses."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


class WebAssets:
    """ASGI app for the build in ``dist``; ``app_routes`` are the first path segments the
    single-page app routes itself (they answer ``index.html``)."""

    def __init__(
        self, dist: Path, app_routes: Iterable[str], json_prefixes: tuple[str, ...] = ("api/",)
    ) -> None:
        self.assets = load_build(dist)
        self.app_routes = frozenset(app_routes)
        self.json_prefixes = json_prefixes

    def find(self, path: str) -> Asset | None:
        relative = path.lstrip("/")
        if relative in ("", "index.html") or relative.split("/", 1)[0] in self.app_routes:
            relative = "index.html"
        return self.assets.get(relative)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise HTTPException(404)
        # Under a mount the path left to serve is the part after root_path.
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        asset = self.find(path)
        if asset is None:
            is_api = path.lstrip("/").startswith(self.json_prefixes)
            if is_api or "text/html" not in _header(scope, b"accept"):
                raise HTTPException(404)  # the API's JSON error (app.py's handler)
            response: Response = HTMLResponse(
                NOT_FOUND_PAGE, status_code=404, headers={"cache-control": REVALIDATE}
            )
        else:
            encoding = choose_encoding(asset, _header(scope, b"accept-encoding"))
            headers = asset.headers(encoding)
            if etag_matches(_header(scope, b"if-none-match"), headers["etag"]):
                headers.pop("content-encoding", None)  # a 304 carries no representation
                response = Response(status_code=304, headers=headers)
            else:
                body = asset.bodies[encoding]
                response = Response(
                    body if method == "GET" else b"",
                    media_type=asset.content_type,
                    headers=headers | {"content-length": str(len(body))},
                )
        await response(scope, receive, send)
