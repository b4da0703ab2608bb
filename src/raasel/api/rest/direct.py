"""Direct chats between individuals: handles, the key directory, conversations,
requests, blocks, history (docs/protocol.md, "End-to-end encrypted direct chats").

Events of these commands are published by the committer after COMMIT.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from raasel.actions import direct_conversations, direct_keys, direct_messages
from raasel.actions.direct_keys import SignedPreKey
from raasel.api.deps import ActorDep, ServicesDep
from raasel.api.direct_schemas import (
    BlockBody,
    ClaimBody,
    DeviceBody,
    EmptyBody,
    HandleBody,
    InviteAcceptBody,
    OpenDirectBody,
    PreKeysBody,
    SignedPreKeyBody,
)
from raasel.api.schemas import Id

router = APIRouter(prefix="/api/v1/direct", tags=["direct"])

DevicePath = Annotated[int, Path(ge=1, le=2**31 - 1)]
Cursor = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
DeviceQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
HandlePath = Annotated[str, Path(min_length=1, max_length=64)]


def _signed(body: SignedPreKeyBody) -> SignedPreKey:
    return SignedPreKey(body.key_id, body.public_key, body.signature)


@router.put("/handle")
async def set_handle(body: HandleBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_keys.do_set_handle(svc, actor, body.handle)


@router.get("/handle")
async def get_handle(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_keys.get_handle(svc, actor)


@router.get("/users/by-handle/{handle}")
async def find_by_handle(handle: HandlePath, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_keys.find_by_handle(svc, actor, handle)


@router.put("/devices/{device_id}")
async def put_device(
    device_id: DevicePath, body: DeviceBody, actor: ActorDep, svc: ServicesDep, response: Response
) -> dict[str, Any]:
    """Register or refresh a device; its signed prekey's signature is verified."""
    created, view = await direct_keys.do_put_device(
        svc,
        actor,
        device_id,
        registration_id=body.registration_id,
        identity_key=body.identity_key,
        signed_prekey=_signed(body.signed_prekey),
        one_time_prekeys=[(k.key_id, k.public_key) for k in body.one_time_prekeys],
        kyber_prekey=body.kyber_prekey.model_dump() if body.kyber_prekey else None,
        replace=body.replace,
    )
    response.status_code = 201 if created else 200
    return view


@router.get("/devices")
async def list_devices(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_keys.list_devices(svc, actor)


@router.delete("/devices/{device_id}", status_code=204)
async def delete_device(device_id: DevicePath, actor: ActorDep, svc: ServicesDep) -> None:
    await direct_keys.do_delete_device(svc, actor, device_id)


@router.post("/devices/{device_id}/one-time-prekeys")
async def add_prekeys(
    device_id: DevicePath, body: PreKeysBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    keys = [(k.key_id, k.public_key) for k in body.prekeys]
    return await direct_keys.do_add_prekeys(svc, actor, device_id, keys)


@router.get("/devices/{device_id}/one-time-prekeys/count")
async def count_prekeys(device_id: DevicePath, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_keys.count_prekeys(svc, actor, device_id)


@router.put("/devices/{device_id}/signed-prekey")
async def rotate_signed_prekey(
    device_id: DevicePath, body: SignedPreKeyBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return await direct_keys.do_rotate_signed_prekey(svc, actor, device_id, _signed(body))


@router.post("/users/{user_id}/bundle")
async def claim_bundle(
    user_id: Id, body: ClaimBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    """Claim a prekey bundle of every device (or the listed ones) of an individual."""
    outcome = await direct_keys.do_claim_bundle(svc, actor, user_id, body.device_ids)
    result: dict[str, Any] = outcome.result
    return result


@router.post("/conversations")
async def open_direct(
    body: OpenDirectBody, actor: ActorDep, svc: ServicesDep, response: Response
) -> dict[str, Any]:
    created, view = await direct_conversations.do_open_direct(
        svc, actor, user_id=body.user_id, handle=body.handle
    )
    response.status_code = 201 if created else 200
    return {"conversation": view}


@router.get("/conversations")
async def list_direct(
    actor: ActorDep, svc: ServicesDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> dict[str, Any]:
    return await direct_conversations.list_direct(svc, actor, limit)


@router.get("/conversations/{conversation_id}")
async def get_direct(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return {"conversation": await direct_conversations.get_direct(svc, actor, conversation_id)}


@router.post("/conversations/{conversation_id}/accept")
async def accept(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    view = await direct_conversations.do_answer_request(svc, actor, conversation_id, accept=True)
    return {"conversation": view}


@router.post("/conversations/{conversation_id}/decline")
async def decline(conversation_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    view = await direct_conversations.do_answer_request(svc, actor, conversation_id, accept=False)
    return {"conversation": view}


@router.get("/conversations/{conversation_id}/messages")
async def history(
    conversation_id: Id,
    actor: ActorDep,
    svc: ServicesDep,
    before: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    device_id: DeviceQuery = None,
) -> dict[str, Any]:
    return await direct_messages.direct_history(
        svc, actor, conversation_id, before=before, limit=limit, device_id=device_id
    )


@router.get("/conversations/{conversation_id}/messages/after-position/{position}")
async def after_position(
    conversation_id: Id,
    position: Annotated[int, Path(ge=0, le=2**62)],
    actor: ActorDep,
    svc: ServicesDep,
    device_id: DeviceQuery = None,
) -> dict[str, Any]:
    return await direct_messages.sync_direct(
        svc, actor, conversation_id, after_position=position, device_id=device_id
    )


@router.post("/invites")
async def make_invite(body: EmptyBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return direct_conversations.do_make_invite(svc, actor)


@router.post("/invites/accept")
async def accept_invite(
    body: InviteAcceptBody, actor: ActorDep, svc: ServicesDep
) -> dict[str, Any]:
    return {"conversation": await direct_conversations.do_accept_invite(svc, actor, body.token)}


@router.get("/blocks")
async def list_blocks(actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_conversations.list_blocks(svc, actor)


@router.post("/blocks")
async def block(body: BlockBody, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_conversations.do_block(svc, actor, body.user_id, block=True)


@router.delete("/blocks/{user_id}")
async def unblock(user_id: Id, actor: ActorDep, svc: ServicesDep) -> dict[str, Any]:
    return await direct_conversations.do_block(svc, actor, user_id, block=False)
