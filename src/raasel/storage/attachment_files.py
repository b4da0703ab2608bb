"""Attachment bytes on local disk, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class LocalAttachmentFiles:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, attachment_id: str) -> Path:
        if not attachment_id.isdigit():
            raise ValueError("attachment ids are numeric")
        return self._root / attachment_id[-2:] / attachment_id

    async def put(self, attachment_id: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, attachment_id, data)

    def _put(self, attachment_id: str, data: bytes) -> None:
        path = self.path_of(attachment_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
