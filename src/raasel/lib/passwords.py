"""Password hashing with argon2id (memory-hard), via argon2-cffi.

Both calls run in a worker thread: one costs about 0.1 s of CPU (argon2-cffi releases the
GIL), which on the event loop would stall every socket of the node. Hash *before* a write
transaction, never inside one: the group committer would wait for it.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps login time the same for unknown accounts.
_DUMMY_HASH = _hasher.hash("raasel-dummy-password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)
