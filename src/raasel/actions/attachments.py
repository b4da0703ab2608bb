"""Attachments: type checked on the bytes, size bounded, seen by exactly those who may see
the message that carries them (docs/security.md, "Files").

- Until a message carries it, an upload is its uploader's alone; a message takes only
  its sender's own, unattached upload (actions/messages.py), and from then on the file
  is seen by whoever may see that message: an internal note's by the organization's side
  only. Both organizations of a ``b2b`` conversation upload and download (the files are
  rows of the opener's partition, like its messages); a note's file is seen by the side
  that wrote the note (``uploader_side``), never by the other organization.
- Ids are 96 random bits: scanning ids finds nothing; and every refusal (missing,
  another tenant's, a note's for the customer, someone else's upload) reads the same.
- Downloads are rate limited per account; uploads per account, against the
  organization's storage quota and, for customers, their own upload budget; uploads no
  message carried are deleted after ``unattached_retention_seconds``.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from raasel.actions import access
from raasel.actions.channel_window import is_channel_conversation
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.domain import ConversationKind, Side
from raasel.errors import NotFound, PayloadTooLarge, QuotaExceeded, UnsupportedMediaType
from raasel.lib.clock import utcnow
from raasel.lib.content_types import (
    ALLOWED_TYPES,
    CHANNEL_MEDIA_TYPES,
    megabytes,
    refused_type_message,
    sniff,
    too_large_message,
)
from raasel.storage.metadata import attachments, team_room_files
from raasel.storage.records import Attachment, Conversation
from raasel.storage.tenancy import CrossTenant, TenantScope
from raasel.storage.transaction import Tx

log = structlog.get_logger(__name__)


def new_attachment_id() -> str:
    """96 random bits in hex (24 characters, the id column's width): not guessable."""
    return secrets.token_hex(12)


async def do_upload_attachment(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    filename: str,
    data: bytes,
    *,
    allowed: frozenset[str] = ALLOWED_TYPES,
) -> dict[str, Any]:
    """``allowed``: the types a social channel's inbound files may be (more than uploads)."""
    settings = svc.settings
    await check_rate(svc, "upload", f"user:{actor.user_id}")
    async with svc.db.read(actor.scope) as conn:
        conversation = await access.access_conversation(conn, actor, conversation_id, as_peer=True)
        mine = await attachments.uploaded_bytes(conn, uploader_id=actor.user_id)
    # The organization's quota sums files a customer's own scope does not see.
    async with svc.db.read(TenantScope(org_id=conversation.org_id)) as conn:
        org_bytes = await attachments.stored_bytes(conn, org_id=conversation.org_id)
        org_bytes += await team_room_files.stored_bytes(conn, org_id=conversation.org_id)
    if len(data) > settings.attachment_max_bytes:
        raise PayloadTooLarge(too_large_message(settings.attachment_max_bytes))
    if org_bytes + len(data) > settings.org_storage_quota_bytes:
        raise QuotaExceeded(
            "the organization's file storage is full "
            f"({megabytes(settings.org_storage_quota_bytes)}); ask it to remove old files"
        )
    if access.side_of(actor) == Side.CUSTOMER and (
        mine + len(data) > settings.customer_upload_budget_bytes
    ):
        raise QuotaExceeded(
            f"you have sent {megabytes(settings.customer_upload_budget_bytes)} of files, "
            "the most a customer may store"
        )
    if access.side_of(actor) == Side.ORG and is_channel_conversation(conversation):
        allowed = CHANNEL_MEDIA_TYPES  # agents may send voice notes and videos back
    content_type = sniff(data[:8192])
    if content_type not in allowed:
        raise UnsupportedMediaType(refused_type_message(), code="unsupported_type")
    attachment_id = new_attachment_id()
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
        "message_id": None,
        "is_note": False,
        "attached_at": None,
        "uploader_side": access.side_in(actor, conversation),
    }

    async def work(conn: Tx) -> None:
        await attachments.insert_attachment(conn, values)

    await svc.db.write(work)
    shown = {"id", "conversation_id", "content_type", "size", "sha256", "filename"}
    return {k: v for k, v in values.items() if k in shown} | {
        "created_at": values["created_at"].isoformat()  # type: ignore[attr-defined]
    }


def may_see(actor: Actor, attachment: Attachment, conversation: Conversation) -> bool:
    """Given that the actor may see the conversation: may it see this file?"""
    if attachment.message_id is None:
        return attachment.uploader_id == actor.user_id
    if not attachment.is_note:
        return True
    if conversation.kind == ConversationKind.B2B:  # each organization's notes are its own
        return access.side_in(actor, conversation) == (attachment.uploader_side or Side.ORG)
    return access.side_of(actor) == Side.ORG


async def open_attachment(
    svc: Services, actor: Actor, attachment_id: str
) -> tuple[Attachment, Path]:
    """The attachment and its file, if the actor may see the message carrying it."""
    await check_rate(svc, "download", f"user:{actor.user_id}", what="downloads")
    async with svc.db.read(actor.scope) as conn:
        attachment = await attachments.get_attachment(conn, attachment_id)
        conversation = None
        if attachment is not None:
            try:
                conversation = await access.access_conversation(
                    conn, actor, attachment.conversation_id, as_peer=True
                )
            except NotFound:
                attachment = None
    if attachment is None or conversation is None or not may_see(actor, attachment, conversation):
        raise NotFound("attachment not found")  # alike for missing and forbidden
    return attachment, svc.files.path_of(attachment.id)


async def sweep_unattached(svc: Services, batch: int = 200) -> int:
    """Delete uploads that no message carried within the retention time."""
    before = utcnow() - timedelta(seconds=svc.settings.unattached_retention_seconds)
    async with svc.db.read(CrossTenant("the sweep of every tenant's unattached files")) as conn:
        candidates = await attachments.unattached_before(conn, before, batch)
        room_files = await team_room_files.unattached_before(conn, before, batch)
    if not candidates and not room_files:
        return 0

    async def work(conn: Tx) -> list[str]:
        gone = await attachments.delete_unattached(conn, candidates)
        return gone + await team_room_files.delete_unattached(conn, room_files)

    gone = await svc.db.write(work)
    for attachment_id in gone:
        await svc.files.delete(attachment_id)
    log.info("unattached uploads deleted", count=len(gone))
    return len(gone)


async def run_retention(svc: Services, every_seconds: float = 600.0) -> None:
    """The node's retention task: sweep now and then, forever (cancelled at shutdown)."""
    while True:
        try:
            while await sweep_unattached(svc) > 0:
                pass
        except Exception:  # the database is away: the next round retries
            log.exception("attachment retention failed")
        await asyncio.sleep(every_seconds)
