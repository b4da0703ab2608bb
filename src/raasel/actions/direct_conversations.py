"""Direct conversations between two individuals: opening one (by handle, user id or
invitation link), message requests (accept / decline), blocking (docs/protocol.md).

Each command is one unit of the committer, keyed on the conversation once it exists;
the state it checks is read inside the transaction that writes (the conversation row
locked on PostgreSQL), and its ``direct:conversation`` events go out after COMMIT.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Event, Services
from raasel.actions.direct_access import (
    conversation_events,
    member_conversation,
    require_individual,
    views_for,
)
from raasel.actions.direct_keys import find_individual
from raasel.actions.limits import check_rate
from raasel.errors import Conflict, InvalidLink, NotFound, ValidationFailed
from raasel.lib import signing
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.realtime.rooms import user_room
from raasel.rules.direct import ACCEPTED, DECLINED, REQUEST, normalize_handle
from raasel.storage.direct_records import DirectConversation
from raasel.storage.metadata import direct_conversations as store
from raasel.storage.metadata import direct_keys
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import UnitBatch

_SCOPE = CrossTenant("direct chats: the individuals' own space, walled by the participant check")

INVITE_PURPOSE = "direct-invite"
INVITE_SECONDS = 7 * 86400


async def _open_in(
    batch: UnitBatch, actor: Actor, other_id: str, *, accepted: bool
) -> tuple[bool, DirectConversation]:
    """The pair's conversation, made if missing; (created, conversation)."""
    conn = batch.conn
    found = await store.of_pair(conn, actor.user_id, other_id)
    if found is not None:
        if accepted and found.status != ACCEPTED:
            await store.update_conversation(conn, found.id, {"status": ACCEPTED})
            found = found.but(status=ACCEPTED)
            batch.emit(*await conversation_events(conn, found))
        return False, found
    low, high = store.pair(actor.user_id, other_id)
    now = utcnow()
    values: dict[str, Any] = {
        "id": new_str_id(),
        "user_low": low,
        "user_high": high,
        "status": ACCEPTED if accepted else REQUEST,
        "requested_by": actor.user_id,
        "last_position": 0,
        "last_position_id": 0,
        "created_at": now,
        "updated_at": now,
        "last_message_at": None,
    }
    try:
        async with conn.begin_nested():
            await store.insert(conn, values, [low, high])
    except IntegrityError:  # the other one opened it at the same time (another node)
        found = await store.of_pair(conn, actor.user_id, other_id)
        if found is None:
            raise
        return False, found
    conversation = DirectConversation(**values)
    batch.emit(*await conversation_events(conn, conversation))
    return True, conversation


async def do_open_direct(
    svc: Services, actor: Actor, *, user_id: str | None, handle: str | None
) -> tuple[bool, dict[str, Any]]:
    """Open (or find) the conversation with someone; (created, view)."""
    require_individual(actor)
    await check_rate(svc, "open", f"user:{actor.user_id}", what="new conversations")

    async def unit(batch: UnitBatch) -> tuple[bool, dict[str, Any]]:
        conn = batch.conn
        other = user_id
        if handle is not None:
            try:
                other = await direct_keys.user_of_handle(conn, normalize_handle(handle))
            except ValidationFailed:
                other = None
        if other is None:
            raise NotFound("user not found")
        if other == actor.user_id:
            raise ValidationFailed("a direct conversation is with someone else")
        await find_individual(conn, actor, other)
        created, conversation = await _open_in(batch, actor, other, accepted=False)
        (view,) = await views_for(conn, [conversation], actor.user_id)
        return created, view

    return await svc.db.run(unit)


def invite_token(key: str, inviter_id: str, expires: int) -> str:
    return f"{inviter_id}.{expires}.{signing.mac(key, INVITE_PURPOSE, inviter_id, str(expires))}"


def do_make_invite(svc: Services, actor: Actor) -> dict[str, Any]:
    require_individual(actor)
    expires = int(time.time()) + INVITE_SECONDS
    token = invite_token(svc.settings.resolved_secret_key, actor.user_id, expires)
    return {
        "token": token,
        "url": f"{svc.settings.resolved_public_url}/direct#invite={token}",
        "expires_at": expires,
    }


def _inviter_of(key: str, token: str) -> str:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise InvalidLink("this invitation link is not valid")
    inviter, expires, mac = parts
    if (
        not signing.matches(key, INVITE_PURPOSE, mac, inviter, expires)
        or int(expires) < time.time()
    ):
        raise InvalidLink("this invitation link is not valid")
    return inviter


async def do_accept_invite(svc: Services, actor: Actor, token: str) -> dict[str, Any]:
    require_individual(actor)
    inviter = _inviter_of(svc.settings.resolved_secret_key, token)
    if inviter == actor.user_id:
        raise ValidationFailed("this is your own invitation link")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        try:
            await find_individual(batch.conn, actor, inviter)
        except NotFound as exc:
            raise InvalidLink("this invitation link is not valid") from exc
        _, conversation = await _open_in(batch, actor, inviter, accepted=True)
        (view,) = await views_for(batch.conn, [conversation], actor.user_id)
        return view

    return await svc.db.run(unit)


async def do_answer_request(
    svc: Services, actor: Actor, conversation_id: str, *, accept: bool
) -> dict[str, Any]:
    """The request's recipient accepts or declines it (a declined one may be accepted later)."""
    require_individual(actor)

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        conversation = await member_conversation(conn, actor, conversation_id, lock=True)
        if conversation.requested_by == actor.user_id or conversation.status == ACCEPTED:
            raise Conflict("there is no request for you to answer", code="invalid_state")
        status = ACCEPTED if accept else DECLINED
        if status != conversation.status:
            await store.update_conversation(conn, conversation.id, {"status": status})
            conversation = conversation.but(status=status)
            batch.emit(*await conversation_events(conn, conversation))
        (view,) = await views_for(conn, [conversation], actor.user_id)
        return view

    return await svc.db.run(unit, keys=[conversation_id])


async def list_direct(svc: Services, actor: Actor, limit: int) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        found = await store.list_for(conn, actor.user_id, limit)
        return {"conversations": await views_for(conn, found, actor.user_id)}


async def get_direct(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        conversation = await member_conversation(conn, actor, conversation_id)
        (view,) = await views_for(conn, [conversation], actor.user_id)
    return view


async def _blocks(conn: AsyncConnection, actor: Actor) -> dict[str, Any]:
    return {"blocked": await store.blocked_by(conn, actor.user_id)}


async def do_block(svc: Services, actor: Actor, user_id: str, *, block: bool) -> dict[str, Any]:
    """Block (or unblock) someone; blocking declines their pending request."""
    require_individual(actor)
    if user_id == actor.user_id:
        raise ValidationFailed("you cannot block yourself")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        if block:
            await find_individual(conn, actor, user_id)
            await store.add_block(
                conn, {"blocker_id": actor.user_id, "blocked_id": user_id, "created_at": utcnow()}
            )
        else:
            await store.remove_block(conn, actor.user_id, user_id)
        conversation = await store.of_pair(conn, actor.user_id, user_id)
        if conversation is not None:
            if block and conversation.status == REQUEST and conversation.requested_by == user_id:
                await store.update_conversation(conn, conversation.id, {"status": DECLINED})
                conversation = conversation.but(status=DECLINED)
            (view,) = await views_for(conn, [conversation], actor.user_id)
            batch.emit(
                Event("direct:conversation", {"conversation": view}, (user_room(actor.user_id),))
            )
        return await _blocks(conn, actor)

    return await svc.db.run(unit)


async def list_blocks(svc: Services, actor: Actor) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        return await _blocks(conn, actor)
