"""Does an organization control a domain? Two ways, either suffices (docs/security.md):

- a DNS TXT record ``raasel-verification=<token>`` at ``_raasel-verification.<domain>``;
- a file at ``https://<domain>/.well-known/raasel-verification.txt`` holding the token
  (over HTTPS with a valid certificate for the domain; no redirects followed).

``DomainProver`` is the interface; ``NetworkProver`` asks real DNS servers (dnspython;
``RAASEL_DNS_NAMESERVERS`` to name them, else the system's) and fetches the file from
the address that DNS gives, checking the certificate against the domain's name.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Protocol

import dns.asyncresolver
import dns.exception

from raasel.config import Settings

TXT_PREFIX = "raasel-verification="
WELL_KNOWN = "/.well-known/raasel-verification.txt"


def txt_name(domain: str) -> str:
    return f"_raasel-verification.{domain}"


class DomainProver(Protocol):
    async def proves(self, domain: str, token: str) -> str | None:
        """How ``domain`` proved ``token`` ("dns" or "https"), or None."""


class NetworkProver:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        resolver = dns.asyncresolver.Resolver(configure=not settings.dns_nameservers)
        if settings.dns_nameservers:
            resolver.nameservers = [s.strip() for s in settings.dns_nameservers.split(",")]
            resolver.port = settings.dns_port
        resolver.lifetime = settings.domain_check_timeout_seconds
        self.resolver = resolver

    async def proves(self, domain: str, token: str) -> str | None:
        if await self._by_dns(domain, token):
            return "dns"
        if await self._by_https(domain, token):
            return "https"
        return None

    async def _by_dns(self, domain: str, token: str) -> bool:
        try:
            answer = await self.resolver.resolve(txt_name(domain), "TXT")
        except (dns.exception.DNSException, OSError):
            return False
        for record in answer:
            text = b"".join(record.strings).decode("utf-8", "replace")
            if text.strip() == TXT_PREFIX + token:
                return True
        return False

    async def _by_https(self, domain: str, token: str) -> bool:
        try:
            answer = await self.resolver.resolve(domain, "A")
            address = str(next(iter(answer)))
        except (dns.exception.DNSException, OSError, StopIteration):
            return False
        context = ssl.create_default_context(cafile=self.settings.domain_check_ca_file or None)
        try:
            async with asyncio.timeout(self.settings.domain_check_timeout_seconds):
                # TLS to the address DNS gave, the certificate checked for the domain.
                reader, writer = await asyncio.open_connection(
                    address,
                    self.settings.domain_check_https_port,
                    ssl=context,
                    server_hostname=domain,
                )
                try:
                    request = f"GET {WELL_KNOWN} HTTP/1.1\r\nHost: {domain}\r\n"
                    writer.write((request + "Connection: close\r\n\r\n").encode("ascii"))
                    raw = await reader.read(8192)  # a token file is tiny: no more is read
                finally:
                    writer.close()
        except (TimeoutError, ssl.SSLError, OSError, UnicodeError):
            return False
        head, _, body = raw.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].split()
        if len(status) < 2 or status[1] != b"200" or b"chunked" in head.lower():
            return False  # redirects are not followed; chunked answers are not for us
        return body.decode("utf-8", "replace").strip() == token
