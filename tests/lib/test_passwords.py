"""Password hashing runs in two bounded pools (issue 9, item 17): a flood of new hashes
neither queues without bound nor slows the checks that logins need."""

from __future__ import annotations

import asyncio
import threading

import pytest

from raasel.errors import Busy
from raasel.lib import passwords


async def test_a_full_pool_answers_busy_at_once_and_logins_use_their_own() -> None:
    pool = passwords._Pool("test", workers=1, max_waiting=2)
    release = threading.Event()
    waiting = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(2)]
    await asyncio.sleep(0.05)
    with pytest.raises(Busy):
        await pool.run(release.wait)  # the third is refused, not queued
    # Meanwhile a login's check runs in the login pool, untouched by the flood.
    digest = await passwords.hash_password("a password of mine", kind="login")
    assert await asyncio.wait_for(passwords.verify_password(digest, "a password of mine"), 5)
    release.set()
    assert await asyncio.gather(*waiting) == [True, True]
    assert pool.waiting == 0
    assert passwords.POOLS["new"].max_waiting == 16 and passwords.POOLS["login"].max_waiting == 64
