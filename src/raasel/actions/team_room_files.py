"""Files of team rooms: uploaded by a member into one room, seen by that room's members
only (docs/protocol.md, "Team rooms"; docs/security.md, "Files").

The same rules as support conversations' attachments (actions/attachments.py): the
type is sniffed from the bytes, the size bounded, the organization's storage quota
counts them; until a ``room:send`` carries it an upload is its uploader's alone, and a
message takes only its sender's own unattached upload of the same room. From then on
every member of the room (now: a member who left or was removed does not) may download
it; a lead who is not in the room, another organization, a customer: "not found", as
for a file that does not exist. The upload is a unit keyed on the room: membership and
the archive are checked in the transaction that writes the file's row.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from raasel.actions.attachments import new_attachment_id
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.actions.team_room_access import access_room
from raasel.errors import NotFound, PayloadTooLarge, QuotaExceeded, UnsupportedMediaType
from raasel.lib.clock import utcnow
from raasel.lib.content_types import (
    ALLOWED_TYPES,
    megabytes,
    refused_type_message,
    sniff,
    too_large_message,
)
from raasel.rules.team_rooms import check_active
from raasel.storage.metadata import attachments
from raasel.storage.metadata import team_room_files as store
from raasel.storage.team_room_records import TeamRoomFile
from raasel.storage.unit_batch import UnitBatch

FILE_NOT_FOUND = "attachment not found"


def file_view(file: TeamRoomFile) -> dict[str, Any]:
    return {
        "id": file.id,
        "room_id": file.room_id,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "filename": file.filename,
        "created_at": file.created_at.isoformat(),
    }


async def do_upload_file(
    svc: Services, actor: Actor, room_id: str, filename: str, data: bytes
) -> dict[str, Any]:
    """A member's upload into the room; send it with ``room:send {attachment_id}``."""
    settings = svc.settings
    await check_rate(svc, "upload", f"user:{actor.user_id}")
    if len(data) > settings.attachment_max_bytes:
        raise PayloadTooLarge(too_large_message(settings.attachment_max_bytes))
    content_type = sniff(data[:8192])
    if content_type is None or content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType(refused_type_message(), code="unsupported_type")
    file_id = new_attachment_id()

    async def unit(batch: UnitBatch) -> TeamRoomFile:
        conn = batch.conn
        access = await access_room(conn, actor, room_id, lock=True)  # members only
        check_active(access.room)
        org_id = access.room.org_id
        used = await attachments.stored_bytes(conn, org_id=org_id)
        used += await store.stored_bytes(conn, org_id=org_id)
        if used + len(data) > settings.org_storage_quota_bytes:
            raise QuotaExceeded(
                "the organization's file storage is full "
                f"({megabytes(settings.org_storage_quota_bytes)}); ask it to remove old files"
            )
        file = TeamRoomFile(
            id=file_id,
            org_id=org_id,
            room_id=access.room.id,
            uploader_id=actor.user_id,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            filename=Path(filename).name[:200] or "file",
            created_at=utcnow(),
            message_position=None,
            attached_at=None,
        )
        await store.insert_file(conn, file)
        return file

    await svc.files.put(file_id, data)  # before the row: a stored row always has its bytes
    try:
        file = await svc.db.run(unit, keys=[room_id])
    except BaseException:
        await svc.files.delete(file_id)
        raise
    return file_view(file)


async def open_file(
    svc: Services, actor: Actor, room_id: str, file_id: str
) -> tuple[TeamRoomFile, Path]:
    """The file and its bytes' path, for a member of the room (its uploader before a
    message carries it); every refusal is "not found"."""
    await check_rate(svc, "download", f"user:{actor.user_id}", what="downloads")
    async with svc.db.read(actor.scope) as conn:
        try:
            access = await access_room(conn, actor, room_id)  # a lead not in it: no
        except NotFound:
            raise NotFound(FILE_NOT_FOUND) from None
        file = await store.get_file(conn, access.room.org_id, access.room.id, file_id)
    if file is None or (file.message_position is None and file.uploader_id != actor.user_id):
        raise NotFound(FILE_NOT_FOUND)
    return file, svc.files.path_of(file.id)


async def take_upload(
    batch: UnitBatch, actor: Actor, org_id: str, room_id: str, file_id: str
) -> TeamRoomFile:
    """In a send's unit: the sender's own upload of this room that no message carries."""
    file = await store.get_file(batch.conn, org_id, room_id, file_id)
    if file is None or file.uploader_id != actor.user_id or file.message_position is not None:
        raise NotFound(FILE_NOT_FOUND)
    return file
