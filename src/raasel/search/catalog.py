"""The process's current directory snapshot and what it was built from.

One per ``Services``; ``actions/directory.py`` decides when to rebuild it.
"""

from __future__ import annotations

import asyncio

from raasel.search.index import DirectoryIndex, IndexBuilder


class DirectoryCache:
    def __init__(self) -> None:
        self.builder: IndexBuilder | None = None
        self.index: DirectoryIndex | None = None
        self.fingerprint: tuple[object, ...] | None = None
        self.refreshing: asyncio.Task[None] | None = None
