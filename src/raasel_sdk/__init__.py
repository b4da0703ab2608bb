"""Raasel's Python SDK for end-to-end encrypted direct chats (docs/e2e.md).

The Signal protocol on the MIT ``x3dh``, ``doubleratchet`` and ``xeddsa`` packages,
with a libsignal-v3 wire layer of ours (``wire.py``, ``ratchet.py``) so it speaks with
the web app's ``@privacyresearch/libsignal-protocol-typescript``. ``LocalDevice`` holds
one device's keys and sessions; ``DirectClient`` talks to a Raasel server.
"""

from raasel_sdk.device import DecryptError, LocalDevice

__all__ = ["DecryptError", "LocalDevice"]
