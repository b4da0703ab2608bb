"""What the embeddable widget costs a visitor's browser, first and repeat load (bytes).

Fetches what a host page's ``<script src=".../widget.js">`` makes a browser fetch: the
loader, the frame page and every script and stylesheet the frame page links, with the
``Accept-Encoding`` of a current Chromium. The repeat load follows the answers' cache
headers as a browser does: a fresh (``immutable``/``max-age``) file is not asked for, one
with an ETag or Last-Modified is revalidated (``If-None-Match``/``If-Modified-Since``).
Header bytes are counted as HTTP/1.1 sends them (HTTP/2 would compress them). The Socket.IO
connection is not counted. docs/benchmarks.md, "Web widget size".

    .venv/bin/python tools/widget_bytes.py https://localhost:8443 --ca var/tls/cert.pem
"""

from __future__ import annotations

import argparse
import re
import ssl
from dataclasses import dataclass

import httpx

BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


@dataclass
class Fetch:
    path: str
    status: int
    header_bytes: int
    body_bytes: int
    headers: httpx.Headers


def fetch(client: httpx.Client, path: str, headers: dict[str, str]) -> Fetch:
    with client.stream("GET", path, headers={"accept-encoding": BROWSER_ENCODINGS} | headers) as r:
        body = b"".join(r.iter_raw())
        head = len(f"HTTP/1.1 {r.status_code} {r.reason_phrase}\r\n") + 2
        head += sum(len(k) + len(v) + 4 for k, v in r.headers.raw)
        return Fetch(path, r.status_code, head, len(body), r.headers)


def is_fresh(headers: httpx.Headers) -> bool:
    cache = headers.get("cache-control", "")
    match = re.search(r"max-age=(\d+)", cache)
    return "immutable" in cache or bool(match and int(match.group(1)) > 0)


def revalidation(headers: httpx.Headers) -> dict[str, str] | None:
    if "etag" in headers:
        return {"if-none-match": headers["etag"]}
    if "last-modified" in headers:
        return {"if-modified-since": headers["last-modified"]}
    return None


def measure(base_url: str, ca_file: str | None) -> tuple[list[Fetch], list[Fetch]]:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    with httpx.Client(base_url=base_url, verify=verify, timeout=20) as client:
        page = client.get("/widget.html").text
        paths = ["/widget.js", "/widget.html", *re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)]
        first = [fetch(client, path, {}) for path in paths]
        repeat = []
        for done in first:
            if is_fresh(done.headers):
                continue  # the browser's cache answers; nothing crosses the network
            conditional = revalidation(done.headers)
            repeat.append(fetch(client, done.path, conditional or {}))
    return first, repeat


def report(name: str, fetches: list[Fetch]) -> None:
    heads = sum(f.header_bytes for f in fetches)
    bodies = sum(f.body_bytes for f in fetches)
    print(f"{name}: {len(fetches)} requests, {bodies} body + {heads} header = {bodies + heads} B")
    for f in fetches:
        encoding = f.headers.get("content-encoding", "identity")
        cache = f.headers.get("cache-control", "-")
        print(f"  {f.status} {f.path:<34} {f.body_bytes:>7} B  {encoding:<8}  {cache}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the node, e.g. https://localhost:8443")
    parser.add_argument("--ca", help="CA file that signed its certificate (var/tls/cert.pem)")
    args = parser.parse_args()
    first, repeat = measure(args.url, args.ca)
    report("first load", first)
    report("repeat load", repeat)


if __name__ == "__main__":
    main()
