"""Password hashing with argon2id (memory-hard), via argon2-cffi.

One hash or check costs about 0.1 s of CPU (argon2-cffi releases the GIL), so both run
in worker threads, never on the event loop, and never inside a write transaction (the
committer would wait for them). The threads are two bounded pools: checks of existing
passwords (logins) and hashes of new ones (sign-ups, invitations, resets), so a flood of
sign-ups cannot slow logins down, and neither pool queues without bound: past
``MAX_WAITING`` callers are answered ``busy`` at once (docs/security.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from raasel.errors import Busy

T = TypeVar("T")
Kind = Literal["login", "new"]

_hasher = PasswordHasher()
# Verifying against this keeps login time the same for unknown accounts.
_DUMMY_HASH = _hasher.hash("raasel-dummy-password")


class _Pool:
    def __init__(self, name: str, workers: int, max_waiting: int) -> None:
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix=f"argon2-{name}")
        self.max_waiting = max_waiting
        self.waiting = 0

    async def run(self, fn: Callable[..., T], *args: str | None) -> T:
        if self.waiting >= self.max_waiting:
            raise Busy("too many password checks waiting; retry in a moment")
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
        finally:
            self.waiting -= 1


POOLS: dict[Kind, _Pool] = {
    "login": _Pool("login", workers=2, max_waiting=64),
    "new": _Pool("new", workers=1, max_waiting=16),
}


async def hash_password(password: str, *, kind: Kind = "new") -> str:
    return await POOLS[kind].run(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(
    password_hash: str | None, password: str, *, kind: Kind = "login"
) -> bool:
    return await POOLS[kind].run(_verify, password_hash, password)
