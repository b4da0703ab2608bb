"""Verified domains (issue 9, item 5): a claimed domain is shown, searched and earns the
badge only once proved by a DNS TXT record or an HTTPS .well-known file. The node asks a
real DNS server on loopback (dnspython answering from this process) and fetches the
file from a real HTTPS server with a certificate for the domain."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from raasel.lib.tls import ensure_self_signed
from tests.support.clients import World, unique
from tests.support.server import RunningServer, free_port


class DnsServer:
    """A UDP DNS server on 127.0.0.1 answering from ``records`` ((name, type) -> values)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            for question in query.question:
                name = str(question.name).rstrip(".").lower()
                kind = dns.rdatatype.to_text(question.rdtype)
                values = self.records.get((name, kind))
                if not values:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                    continue
                texts = [f'"{v}"' if kind == "TXT" else v for v in values]
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", kind, *texts))
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


async def https_file_server(cert: Path, key: Path, port: int, body: bytes) -> asyncio.Server:
    """Serves ``body`` at any path over HTTPS (the .well-known file)."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port, ssl=context)


async def test_a_domain_counts_only_once_proved(
    spawn_server: Callable[..., RunningServer], dns_server: DnsServer, tmp_path: Path
) -> None:
    by_dns, by_file = f"{unique('dns')}.example", f"{unique('web')}.example"
    cert, key = tmp_path / "web.pem", tmp_path / "web.key"
    ensure_self_signed(cert, key, by_file)  # a certificate for the domain, its own CA
    https_port = free_port()
    node = spawn_server(
        {
            "RAASEL_DNS_NAMESERVERS": "127.0.0.1",
            "RAASEL_DNS_PORT": str(dns_server.port),
            "RAASEL_DOMAIN_CHECK_HTTPS_PORT": str(https_port),
            "RAASEL_DOMAIN_CHECK_CA_FILE": str(cert),
        }
    )
    world = World(node)
    try:
        tenant = await world.tenant(agents=0)
        org = f"/api/v1/orgs/{tenant.org_id}"
        await tenant.owner.api.patch(org, {"domains": [by_dns, by_file]})
        claims = {c["domain"]: c for c in await tenant.owner.api.get(f"{org}/domains")}
        assert not any(c["is_verified"] for c in claims.values())
        txt = claims[by_dns]["how"]["dns"]

        # No record yet: nothing is proved, nothing shown.
        tried = await tenant.owner.api.post(f"{org}/domains/{by_dns}/verify")
        assert tried["proved_by"] is None and tried["is_verified"] is False
        dns_server.records[(txt["name"], "TXT")] = ["something else", txt["value"]]
        proved = await tenant.owner.api.post(f"{org}/domains/{by_dns}/verify")
        assert proved["proved_by"] == "dns" and proved["is_verified"] is True

        # The file: served over HTTPS at the address DNS gives, for the domain's name.
        dns_server.records[(by_file, "A")] = ["127.0.0.1"]
        wrong = await https_file_server(cert, key, https_port, b"not the token")
        try:
            refused = await tenant.owner.api.post(f"{org}/domains/{by_file}/verify")
            assert refused["proved_by"] is None
        finally:
            wrong.close()
            await wrong.wait_closed()
        token = claims[by_file]["how"]["https"]["content"].encode()
        right = await https_file_server(cert, key, https_port, token + b"\n")
        try:
            proved = await tenant.owner.api.post(f"{org}/domains/{by_file}/verify")
            assert proved["proved_by"] == "https"
        finally:
            right.close()
            await right.wait_closed()

        view = await world.anonymous.get(f"/api/v1/directory/orgs/{tenant.org['slug']}")
        assert sorted(view["domains"]) == sorted([by_dns, by_file]) and view["is_verified"]
        hits = await world.anonymous.get("/api/v1/directory/orgs", params={"q": by_dns})
        assert tenant.org_id in [h["id"] for h in hits], "a proved domain is searched"
        unclaimed = await tenant.owner.api.post(f"{org}/domains/other.example/verify", expect=422)
        assert unclaimed["error"]["code"] == "validation_error"
        other = await world.tenant(agents=0)
        await other.owner.api.post(f"{org}/domains/{by_dns}/verify", expect=404)
    finally:
        await world.close()
