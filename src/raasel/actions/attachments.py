"""Attachments: type checked on the bytes, size bounded, served to participants only."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import access
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from raasel.lib.clock import utcnow
from raasel.lib.content_types import ALLOWED_TYPES, sniff
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import attachments
from raasel.storage.records import Attachment


async def do_upload_attachment(
    svc: Services, actor: Actor, conversation_id: str, filename: str, data: bytes
) -> dict[str, Any]:
    await check_rate(svc, "upload", f"user:{actor.user_id}")
    async with svc.db.read() as conn:
        conversation = await access.access_conversation(conn, actor, conversation_id)
    if len(data) > svc.settings.attachment_max_bytes:
        raise PayloadTooLarge(
            f"attachments are limited to {svc.settings.attachment_max_bytes} bytes"
        )
    content_type = sniff(data[:8192])
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType("this file type is not allowed", code="unsupported_type")
    attachment_id = new_str_id()
    await svc.files.put(attachment_id, data)
    values = {
        "id": attachment_id,
        "org_id": conversation.org_id,
        "conversation_id": conversation.id,
        "uploader_id": actor.user_id,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": Path(filename).name[:200] or "file",
        "created_at": utcnow(),
    }

    async def work(conn: AsyncConnection) -> None:
        await attachments.insert_attachment(conn, values)

    await svc.db.write(work)
    return {k: v for k, v in values.items() if k not in {"org_id", "uploader_id"}} | {
        "created_at": values["created_at"].isoformat()  # type: ignore[attr-defined]
    }


async def open_attachment(
    svc: Services, actor: Actor, attachment_id: str
) -> tuple[Attachment, Path]:
    """The attachment and its file, if the actor takes part in its conversation."""
    async with svc.db.read() as conn:
        attachment = await attachments.get_attachment(conn, attachment_id)
        if attachment is None:
            raise NotFound("attachment not found")
        await access.access_conversation(conn, actor, attachment.conversation_id)
    return attachment, svc.files.path_of(attachment.id)
