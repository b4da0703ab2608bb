"""Attachment bytes on local disk, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

_ID_CHARS = frozenset("0123456789abcdef")


class LocalAttachmentFiles:
    """Files readable by the node's user only: 0700 folders, 0600 files (docs/security.md)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_of(self, attachment_id: str) -> Path:
        if not attachment_id or not all(c in _ID_CHARS for c in attachment_id):
            raise ValueError("attachment ids are lowercase hex (older ones: digits)")
        return self._root / attachment_id[-2:] / attachment_id

    async def delete(self, attachment_id: str) -> None:
        await asyncio.to_thread(self.path_of(attachment_id).unlink, missing_ok=True)

    async def put(self, attachment_id: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, attachment_id, data)

    def _put(self, attachment_id: str, data: bytes) -> None:
        path = self.path_of(attachment_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
