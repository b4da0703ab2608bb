"""The operator's command line, ``raasel COMMAND``; one module per group of commands:

- ``node``: ``migrate``, ``seed-demo``, ``serve``, ``doctor``
- ``accounts``: ``create-org``, ``create-agent``, ``set-plan``
- ``keys``: ``rotate-encryption-key``
- ``backups``: ``backup``, ``restore``, ``export-org``, ``import-org``
- ``platform``: ``create-operator`` (the node's operators, platform support)

Each module registers its commands on the one Typer ``app`` of ``raasel.cli.base``
(what they share is there too); importing this package registers them all. Scripts answer
passwords with ``--password-stdin`` or an environment variable; a prompt appears only on
a terminal. Every command's ``--help`` ends with an example (tests/api/test_cli.py).
"""

from __future__ import annotations

from raasel.cli import accounts, backups, keys, node, platform
from raasel.cli.base import app

__all__ = ["accounts", "app", "backups", "keys", "node", "platform"]
