"""Attachment upload and download (participants only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import FileResponse

from raasel.actions import attachments
from raasel.api.deps import ActorDep, ServicesDep
from raasel.api.schemas import AttachmentId, Id
from raasel.errors import PayloadTooLarge
from raasel.lib.content_types import too_large_message

router = APIRouter(prefix="/api/v1", tags=["attachments"])

_INLINE = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@router.post("/conversations/{conversation_id}/attachments", status_code=201)
async def upload(
    conversation_id: Id, file: UploadFile, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Upload a file (multipart field ``file``); send it with a message's ``attachment_id``."""
    limit = svc.settings.attachment_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(too_large_message(limit))
    return await attachments.do_upload_attachment(
        svc, actor, conversation_id, file.filename or "file", data
    )


@router.get("/attachments/{attachment_id}")
async def download(attachment_id: AttachmentId, actor: ActorDep, svc: ServicesDep) -> FileResponse:
    """The file, to those who may see the message carrying it (its uploader until then);
    every refusal answers 404 alike."""
    attachment, path = await attachments.open_attachment(svc, actor, attachment_id)
    disposition = "inline" if attachment.content_type in _INLINE else "attachment"
    return FileResponse(
        path,
        media_type=attachment.content_type,
        filename=attachment.filename,
        content_disposition_type=disposition,
        headers={"Cache-Control": "private, max-age=3600"},
    )
