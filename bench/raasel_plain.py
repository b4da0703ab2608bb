"""Stand-in for Raasel before ``RAASEL_TLS=off``: ``raasel serve`` with TLS removed.

Since 614affc the node serves plain HTTP on loopback itself (``RAASEL_TLS=off``), and
``raasel-nginx-plain`` uses that (bench/targets.py). A ``--raasel-commit`` older than
that setting (9021d87) has no such option: ``raasel.server.serve`` always passes the
certificate to uvicorn. For those, ``python -m bench.raasel_plain serve`` runs the very
same ``serve`` with the two TLS arguments dropped from ``uvicorn.Config``. It is not a
supported configuration; bench/targets.py binds it to 127.0.0.1 only.
"""

from __future__ import annotations

from typing import Any

import uvicorn


def main() -> None:
    tls_config = uvicorn.Config.__init__

    def plain_config(self: uvicorn.Config, app: Any, **options: Any) -> None:
        options.pop("ssl_certfile", None)
        options.pop("ssl_keyfile", None)
        tls_config(self, app, **options)

    uvicorn.Config.__init__ = plain_config  # type: ignore[method-assign,assignment]
    from raasel.cli import app

    app()


if __name__ == "__main__":
    main()
