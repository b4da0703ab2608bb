"""RAASEL_TLS=off serves plain HTTP only on loopback (behind a TLS-terminating proxy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raasel.config import Settings
from raasel.server import check_plain_http


def test_plain_http_is_refused_on_a_public_interface(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "example.com"):
        settings = Settings(var_dir=tmp_path, secret_key="k" * 40, tls="off", host=host)
        with pytest.raises(SystemExit, match="loopback"):
            check_plain_http(settings)


def test_plain_http_is_allowed_on_loopback(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        check_plain_http(Settings(var_dir=tmp_path, secret_key="k" * 40, tls="off", host=host))
