"""Attachment upload and download (participants only)."""

from __future__ import annotations

from pathlib import Path
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


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The uploaded bytes, refused ``payload_too_large`` past ``limit`` (read one byte
    beyond it, never the whole of an oversized body)."""
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(too_large_message(limit))
    return data


def file_response(path: Path, content_type: str, filename: str) -> FileResponse:
    """A stored file: images shown inline, everything else downloaded; private cache."""
    return FileResponse(
        path,
        media_type=content_type,
        filename=filename,
        content_disposition_type="inline" if content_type in _INLINE else "attachment",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/conversations/{conversation_id}/attachments", status_code=201)
async def upload(
    conversation_id: Id, file: UploadFile, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Upload a file (multipart field ``file``); send it with a message's ``attachment_id``."""
    data = await read_upload(file, svc.settings.attachment_max_bytes)
    return await attachments.do_upload_attachment(
        svc, actor, conversation_id, file.filename or "file", data
    )


@router.get("/attachments/{attachment_id}")
async def download(attachment_id: AttachmentId, actor: ActorDep, svc: ServicesDep) -> FileResponse:
    """The file, to those who may see the message carrying it (its uploader until then);
    every refusal answers 404 alike."""
    attachment, path = await attachments.open_attachment(svc, actor, attachment_id)
    return file_response(path, attachment.content_type, attachment.filename)
