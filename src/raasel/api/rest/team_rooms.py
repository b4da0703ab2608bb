"""Team rooms: create, list, members, leave, archive, files (docs/protocol.md, "Team
rooms").
Events are published by the committer after COMMIT; after a membership change the
member's console sockets are moved into or out of the room before the answer."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, UploadFile
from fastapi.responses import FileResponse

from raasel.actions import team_room_files, team_rooms
from raasel.api.deps import ActorDep, ConnectionsDep, ServicesDep
from raasel.api.rest.attachments import file_response, read_upload
from raasel.api.schemas import AttachmentId, Id
from raasel.api.team_room_schemas import AddMemberBody, CreateRoomBody

router = APIRouter(prefix="/api/v1/rooms", tags=["team rooms"])


@router.post("", status_code=201)
async def create(
    body: CreateRoomBody, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    """Any member of the organization creates a room (with teammates in it)."""
    outcome = await team_rooms.do_create_room(
        svc, actor, name=body.name, member_ids=list(body.member_ids)
    )
    for user_id in dict.fromkeys([actor.user_id, *body.member_ids]):
        await connections.refresh_user_rooms(user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.get("")
async def list_rooms(
    actor: ActorDep, svc: ServicesDep, scope: Literal["mine", "organization"] = "mine"
) -> list[dict[str, Any]]:
    """The rooms the caller is in; ``scope=organization``: a lead's overview of every
    room of the organization (those they are not in without ``membership``)."""
    if scope == "organization":
        return await team_rooms.list_org_rooms(svc, actor)
    return await team_rooms.list_rooms(svc, actor)


@router.get("/{room_id}")
async def get_room(room_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await team_rooms.get_room(svc, actor, room_id)


@router.get("/{room_id}/members")
async def members(room_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    return await team_rooms.list_members(svc, actor, room_id)


@router.post("/{room_id}/members")
async def add_member(
    room_id: Id,
    body: AddMemberBody,
    actor: ActorDep,
    svc: ServicesDep,
    connections: ConnectionsDep,
) -> dict[str, Any]:
    outcome = await team_rooms.do_add_member(svc, actor, room_id, body.user_id)
    await connections.refresh_user_rooms(body.user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.delete("/{room_id}/members/{user_id}")
async def remove_member(
    room_id: Id, user_id: Id, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    outcome = await team_rooms.do_remove_member(svc, actor, room_id, user_id)
    await connections.refresh_user_rooms(user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{room_id}/leave")
async def leave(
    room_id: Id, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    outcome = await team_rooms.do_leave(svc, actor, room_id)
    await connections.refresh_user_rooms(actor.user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{room_id}/archive")
async def archive(room_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    outcome = await team_rooms.do_archive(svc, actor, room_id)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{room_id}/attachments", status_code=201)
async def upload(
    room_id: Id, file: UploadFile, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """A member uploads a file (multipart field ``file``); ``room:send`` carries it."""
    data = await read_upload(file, svc.settings.attachment_max_bytes)
    return await team_room_files.do_upload_file(svc, actor, room_id, file.filename or "file", data)


@router.get("/{room_id}/attachments/{attachment_id}")
async def download(
    room_id: Id, attachment_id: AttachmentId, actor: ActorDep, svc: ServicesDep
) -> FileResponse:
    """The file, to the room's members (its uploader until a message carries it);
    every refusal answers 404 alike."""
    found, path = await team_room_files.open_file(svc, actor, room_id, attachment_id)
    return file_response(path, found.content_type, found.filename)
