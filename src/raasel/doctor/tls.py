"""The TLS check: the configured certificate and key are a pair, valid, for the host."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from raasel.config import Settings
from raasel.doctor.findings import Finding, Status, error_text
from raasel.lib.clock import utcnow

CERT_RENEWAL_WARNING = timedelta(days=14)


def _names_of(cert: Any) -> list[str]:
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names: list[str] = san.get_values_for_type(x509.DNSName)
    return names + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def _host_matches(host: str, names: list[str]) -> bool:
    host = host.lower()
    for name in (n.lower() for n in names):
        if name == host:
            return True
        if name.startswith("*.") and host.partition(".")[2] == name[2:] and "." in name[2:]:
            return True
    return False


def check_tls(settings: Settings) -> Finding:
    """The configured certificate and key: readable, a pair, valid now, for public_host."""
    cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
    if cert_file is None and key_file is None:
        own = settings.var_dir / "tls" / "cert.pem"
        made = "in use" if own.exists() else "made at the first `raasel serve`"
        if settings.public_host == "localhost":
            return Finding("tls", "ok", f"self-signed certificate for localhost ({own}, {made})")
        return Finding(
            "tls",
            "warn",
            f"self-signed certificate ({own}, {made}): browsers will not trust it for "
            f"{settings.public_host}; set RAASEL_TLS_CERT_FILE and RAASEL_TLS_KEY_FILE",
        )
    if cert_file is None or key_file is None:
        given, absent = (
            ("RAASEL_TLS_CERT_FILE", "RAASEL_TLS_KEY_FILE")
            if key_file is None
            else ("RAASEL_TLS_KEY_FILE", "RAASEL_TLS_CERT_FILE")
        )
        return Finding(
            "tls",
            "fail",
            f"{given} is set but {absent} is not: the node would serve a "
            "self-signed certificate instead",
        )
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError) as exc:
        return Finding("tls", "fail", f"certificate {cert_file}: {error_text(exc)}")
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        return Finding("tls", "fail", f"key {key_file}: {error_text(exc)}")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        return Finding("tls", "fail", f"key {key_file} does not belong to certificate {cert_file}")
    now = utcnow()
    if now < cert.not_valid_before_utc:
        return Finding(
            "tls",
            "fail",
            f"certificate {cert_file} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
        )
    if now >= cert.not_valid_after_utc:
        return Finding(
            "tls", "fail", f"certificate {cert_file} expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    names = _names_of(cert)
    if not _host_matches(settings.public_host, names):
        return Finding(
            "tls",
            "warn",
            f"certificate {cert_file} names {', '.join(names) or 'no host'}"
            f", not RAASEL_PUBLIC_HOST={settings.public_host}",
        )
    left = cert.not_valid_after_utc - now
    status: Status = "warn" if left < CERT_RENEWAL_WARNING else "ok"
    return Finding(
        "tls",
        status,
        f"{cert_file} for {settings.public_host}, valid until "
        f"{cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days)",
    )
