"""One-shot (compose service ``tls``): self-signed certificates for the stack, made once.

- ``public/``: what browsers see at the proxy, for ``RAASEL_PUBLIC_HOST``. Put your own
  ``cert.pem``/``key.pem`` there (or mount them over it) for a real deployment.
- ``internal/``: what the proxy checks when it talks to the server nodes and the web
  server (``proxy_ssl_name raasel-node``). The servers run as uid 10001, the web
  server as uid 101: the key is readable by both, by owner and group, and no one else.
Runs as root inside the server image: ``python /deploy/tls_init.py /etc/raasel/tls``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from raasel.lib.tls import ensure_self_signed

SERVER_UID, WEB_GID = 10001, 101


def main(root: Path) -> None:
    public, internal = root / "public", root / "internal"
    ensure_self_signed(public / "cert.pem", public / "key.pem", os.environ["RAASEL_PUBLIC_HOST"])
    ensure_self_signed(internal / "cert.pem", internal / "key.pem", "raasel-node")
    for path in (internal, internal / "cert.pem", internal / "key.pem"):
        os.chown(path, SERVER_UID, WEB_GID)
    internal.chmod(0o750)
    (internal / "key.pem").chmod(0o640)
    print(f"certificates ready in {root}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
