"""Community channels: create, list, join, leave, moderate, archive (docs/protocol.md,
"Community channels"). Events are published by the committer after COMMIT; after a
membership change the member's sockets are moved into or out of the channel's room."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from raasel.actions import community, community_messages
from raasel.api.community_schemas import CreateCommunityBody, JoinByCodeBody, MuteBody
from raasel.api.deps import ActorDep, ConnectionsDep, ServicesDep
from raasel.api.schemas import Id

router = APIRouter(prefix="/api/v1/community", tags=["community"])

MessagePosition = Annotated[int, Path(ge=1, le=2**62)]


@router.post("", status_code=201)
async def create(body: CreateCommunityBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    """A supervisor (or above) creates a channel of the organization."""
    outcome = await community.do_create_channel(
        svc, actor, name=body.name, description=body.description, join_mode=body.join_mode
    )
    result: dict[str, Any] = outcome.result
    return result


@router.get("")
async def list_channels(actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """A moderator: the organization's channels; an individual: theirs."""
    return await community.list_channels(svc, actor)


@router.get("/of/{org_id}")
async def joinable(org_id: Id, actor: ActorDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """An organization's channels an individual may join or ask to join."""
    return await community.list_joinable(svc, actor, org_id)


@router.post("/join")
async def join_by_code(
    body: JoinByCodeBody, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    """Follow an invitation link (any join mode)."""
    outcome = await community.do_join(svc, actor, code=body.code)
    await connections.refresh_user_rooms(actor.user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/{channel_id}")
async def get_channel(channel_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await community.get_channel(svc, actor, channel_id)


@router.post("/{channel_id}/join")
async def join(
    channel_id: Id, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    """Join an open channel, or ask to join an approval one."""
    outcome = await community.do_join(svc, actor, channel_id=channel_id)
    await connections.refresh_user_rooms(actor.user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{channel_id}/leave")
async def leave(
    channel_id: Id, actor: ActorDep, svc: ServicesDep, connections: ConnectionsDep
) -> dict[str, Any]:
    outcome = await community.do_leave(svc, actor, channel_id)
    await connections.refresh_user_rooms(actor.user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{channel_id}/archive")
async def archive(channel_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    outcome = await community.do_archive(svc, actor, channel_id)
    result: dict[str, Any] = outcome.result
    return result


@router.get("/{channel_id}/members")
async def members(
    channel_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    status: Annotated[Literal["member", "pending", "removed"], Query()] = "member",
) -> list[dict[str, Any]]:
    return await community.list_members(svc, actor, channel_id, status=status)


@router.post("/{channel_id}/members/{user_id}/{action}")
async def moderate(
    channel_id: Id,
    user_id: Id,
    action: Literal["approve", "remove"],
    actor: ActorDep,
    svc: ServicesDep,
    connections: ConnectionsDep,
) -> dict[str, Any]:
    outcome = await community.do_moderate_member(svc, actor, channel_id, user_id, action=action)
    await connections.refresh_user_rooms(user_id)
    result: dict[str, Any] = outcome.result
    return result


@router.put("/{channel_id}/members/{user_id}/mute")
async def mute(
    channel_id: Id, user_id: Id, body: MuteBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    outcome = await community.do_moderate_member(
        svc, actor, channel_id, user_id, action="mute", is_muted=body.is_muted
    )
    result: dict[str, Any] = outcome.result
    return result


@router.post("/{channel_id}/messages/{position}/remove")
async def remove_message(
    channel_id: Id, position: MessagePosition, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """A moderator removes a message; every member is told by a system message."""
    outcome = await community_messages.do_remove_message(svc, actor, channel_id, position)
    return {"message": outcome.result}
