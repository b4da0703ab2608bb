"""The web app over the running node: pre-compressed files, cache headers, 404s."""

from __future__ import annotations

import gzip
import re
import subprocess
from collections.abc import AsyncIterator

import httpx
import pytest

from raasel.api.web_assets import accepted_encodings
from tests.support.server import ROOT, RunningServer

DIST = ROOT / "web" / "dist"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    assert (DIST / "widget.js.br").is_file(), "the web app is not built: run `make web`"
    async with httpx.AsyncClient(
        base_url=server.url, verify=server.ssl_context(), timeout=20
    ) as client:
        yield client


async def fetch(
    http: httpx.AsyncClient, path: str, method: str = "GET", **headers: str
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (no decoding by the client)."""
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    async with http.stream(method, path, headers=sent) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


def widget_assets() -> list[str]:
    page = (DIST / "widget.html").read_text()
    return re.findall(r'(?:src|href)="/(assets/[^"]+)"', page)


def brotli_decode(data: bytes) -> bytes:
    """Node's zlib, as a browser would decode it (no Python brotli dependency)."""
    script = (
        "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
    )
    return subprocess.run(
        ["node", "-e", script], input=data, capture_output=True, check=True, timeout=30
    ).stdout


async def test_hashed_assets_are_precompressed_and_immutable(http: httpx.AsyncClient) -> None:
    assets = widget_assets()
    assert len(assets) >= 2, assets
    for path in assets:
        raw = (DIST / path).read_bytes()
        br, br_body = await fetch(http, f"/{path}", accept_encoding="gzip, deflate, br")
        assert br.status_code == 200
        assert br.headers["content-encoding"] == "br"
        assert br.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert br.headers["vary"] == "Accept-Encoding"
        assert int(br.headers["content-length"]) == len(br_body) < len(raw)
        assert br_body == (DIST / f"{path}.br").read_bytes()
        gz, gz_body = await fetch(http, f"/{path}", accept_encoding="gzip")
        assert gz.headers["content-encoding"] == "gzip"
        assert gzip.decompress(gz_body) == raw
        plain, plain_body = await fetch(http, f"/{path}", accept_encoding="identity")
        assert "content-encoding" not in plain.headers
        assert plain_body == raw
        assert len({br.headers["etag"], gz.headers["etag"], plain.headers["etag"]}) == 3
    loader, body = await fetch(http, "/widget.js", accept_encoding="br")
    assert brotli_decode(body) == (DIST / "widget.js").read_bytes()
    assert loader.headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize("path", ["/", "/index.html", "/widget.js", "/widget.html"])
async def test_the_page_and_the_widget_loader_revalidate(
    http: httpx.AsyncClient, path: str
) -> None:
    first, body = await fetch(http, path, accept_encoding="br")
    assert first.status_code == 200 and body
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    again, again_body = await fetch(http, path, accept_encoding="br", if_none_match=etag)
    assert again.status_code == 304 and again_body == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
    weak, _ = await fetch(http, path, accept_encoding="br", if_none_match=f'"x", W/{etag}')
    assert weak.status_code == 304
    stale, _ = await fetch(http, path, accept_encoding="br", if_none_match='"old"')
    assert stale.status_code == 200


async def test_app_routes_answer_the_page_unknown_paths_a_404(http: httpx.AsyncClient) -> None:
    index = (DIST / "index.html").read_bytes()
    for path in ["/agent", "/agent/queue/42", "/admin/agents"]:
        page, body = await fetch(http, path, accept="text/html", accept_encoding="identity")
        assert page.status_code == 200 and body == index, path
    browser, body = await fetch(http, "/no/such/page", accept=BROWSER, accept_encoding="identity")
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert b"Page not found" in body
    assert "default-src 'self'" in browser.headers["content-security-policy"]
    script = await http.get("/no/such/page", headers={"accept": "*/*"})
    assert script.status_code == 404
    assert script.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    api = await http.get("/api/v1/no-such-route", headers={"accept": BROWSER})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


async def test_head_sends_headers_only_and_other_methods_are_refused(
    http: httpx.AsyncClient,
) -> None:
    head, body = await fetch(http, "/widget.js", "HEAD", accept_encoding="br")
    assert head.status_code == 200 and body == b""
    assert int(head.headers["content-length"]) == (DIST / "widget.js.br").stat().st_size
    posted = await http.post("/widget.js")
    assert posted.status_code == 405


def test_accept_encoding_parsing() -> None:
    assert accepted_encodings("gzip, deflate, br") == {"gzip", "deflate", "br", "identity"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip", "identity"}
    assert accepted_encodings("*") == {"*", "br", "gzip", "identity"}
    assert accepted_encodings("*;q=0") == set()
    assert accepted_encodings("") == {"identity"}
