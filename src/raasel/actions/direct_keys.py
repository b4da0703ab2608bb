"""The key directory (docs/e2e.md, "Key lifecycle"): handles, devices and their keys,
bundle claims that pop each one-time prekey at most once.

Every write is one unit of the committer (``Database.run``), so it is checked inside
the transaction that writes; events (``direct:devices``, ``direct:prekeys_low``) go out
after COMMIT. Signatures are checked before the unit: pure computation, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.direct_access import require_individual
from raasel.actions.limits import check_rate
from raasel.domain import UserKind
from raasel.errors import Conflict, InvalidSignature, NotFound, ValidationFailed
from raasel.lib import signal_keys
from raasel.lib.clock import utcnow
from raasel.realtime.rooms import user_room
from raasel.rules.direct import LOW_POOL, MAX_DEVICES, MAX_ONE_TIME_PREKEYS, normalize_handle
from raasel.storage.direct_records import Device
from raasel.storage.metadata import direct_conversations, direct_keys, people
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import UnitBatch

_SCOPE = CrossTenant("the key directory: devices and prekeys of individuals, no organization")

SIGNED_PREKEY_GRACE_DAYS = 30


@dataclass(frozen=True, slots=True)
class SignedPreKey:
    key_id: int
    public_key: str
    signature: str


def _key(value: str) -> bytes:
    try:
        return signal_keys.public_key(value)
    except signal_keys.InvalidKey as exc:
        raise ValidationFailed(str(exc), code="invalid_key") from exc


def _check_signed(identity_key: str, signed: SignedPreKey) -> None:
    identity = _key(identity_key)
    public = _key(signed.public_key)
    try:
        sig = signal_keys.signature(signed.signature)
    except signal_keys.InvalidKey as exc:
        raise ValidationFailed(str(exc), code="invalid_key") from exc
    if not signal_keys.verify(identity, public, sig):
        raise InvalidSignature("the signed prekey's signature does not verify")


def _check_kyber(identity_key: str, kyber: dict[str, Any] | None) -> None:
    if kyber is None:
        return
    try:
        public = signal_keys.decode_b64(kyber["public_key"])
        sig = signal_keys.signature(kyber["signature"])
    except signal_keys.InvalidKey as exc:
        raise ValidationFailed(str(exc), code="invalid_key") from exc
    if not 1 <= len(public) <= 1600:
        raise ValidationFailed("a Kyber prekey is at most 1,600 bytes", code="invalid_key")
    if not signal_keys.verify(_key(identity_key), public, sig):
        raise InvalidSignature("the Kyber prekey's signature does not verify")


def device_view(device: Device, pool: int) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "registration_id": device.registration_id,
        "identity_key": device.identity_key,
        "signed_prekey": {
            "key_id": device.signed_prekey_id,
            "public_key": device.signed_prekey,
            "signature": device.signed_prekey_signature,
        },
        "kyber_prekey": device.kyber_prekey,
        "one_time_prekeys": pool,
        "created_at": device.created_at.isoformat(),
    }


async def _devices_event(conn: AsyncConnection, user_id: str) -> Event:
    """``direct:devices`` to the user's devices and to everyone they chat with."""
    devices = await direct_keys.devices_of(conn, [user_id])
    peers = await direct_conversations.peers_of(conn, user_id)
    payload = {
        "user_id": user_id,
        "devices": [
            {"device_id": d.device_id, "registration_id": d.registration_id} for d in devices
        ],
    }
    return Event("direct:devices", payload, tuple(user_room(u) for u in [user_id, *peers]))


# ----- handles --------------------------------------------------------------------------


async def do_set_handle(svc: Services, actor: Actor, handle: str) -> dict[str, Any]:
    require_individual(actor)
    handle = normalize_handle(handle)

    async def work(conn: AsyncConnection) -> None:
        holder = await direct_keys.user_of_handle(conn, handle)
        if holder is not None and holder != actor.user_id:
            raise Conflict("that handle is taken", code="handle_taken")
        if holder is None:
            try:
                async with conn.begin_nested():
                    await direct_keys.set_handle(
                        conn, actor.user_id, handle, {"created_at": utcnow()}
                    )
            except IntegrityError as exc:  # taken meanwhile by another node
                raise Conflict("that handle is taken", code="handle_taken") from exc

    await svc.db.write(work)
    return {"handle": handle, "user_id": actor.user_id}


async def get_handle(svc: Services, actor: Actor) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        handle = await direct_keys.handle_of(conn, actor.user_id)
    if handle is None:
        raise NotFound("no handle")
    return {"handle": handle, "user_id": actor.user_id}


async def find_individual(conn: AsyncConnection, actor: Actor, user_id: str) -> str:
    """An individual (not a visitor) who has not blocked the actor, else not found."""
    user = await people.get_user(conn, user_id)
    if (
        user is None
        or user.kind != UserKind.PERSON
        or await direct_conversations.is_blocked(conn, user_id, actor.user_id)
    ):
        raise NotFound("user not found")
    return user.id


async def find_by_handle(svc: Services, actor: Actor, handle: str) -> dict[str, Any]:
    require_individual(actor)
    try:
        handle = normalize_handle(handle)
    except ValidationFailed as exc:
        raise NotFound("user not found") from exc
    async with svc.db.read(_SCOPE) as conn:
        user_id = await direct_keys.user_of_handle(conn, handle)
        if user_id is None:
            raise NotFound("user not found")
        await find_individual(conn, actor, user_id)
        user = await people.get_user(conn, user_id)
    assert user is not None
    return {"user_id": user_id, "handle": handle, "display_name": user.display_name}


# ----- devices --------------------------------------------------------------------------


async def do_put_device(
    svc: Services,
    actor: Actor,
    device_id: int,
    *,
    registration_id: int,
    identity_key: str,
    signed_prekey: SignedPreKey,
    one_time_prekeys: list[tuple[int, str]],
    kyber_prekey: dict[str, Any] | None,
    replace: bool,
) -> tuple[bool, dict[str, Any]]:
    """Register (or refresh) a device; (created, view)."""
    require_individual(actor)
    await check_rate(svc, "direct_keys", f"user:{actor.user_id}", what="key uploads")
    _check_signed(identity_key, signed_prekey)
    _check_kyber(identity_key, kyber_prekey)
    for _, public in one_time_prekeys:
        _key(public)

    async def unit(batch: UnitBatch) -> tuple[bool, dict[str, Any]]:
        conn = batch.conn
        existing = await direct_keys.get_device(conn, actor.user_id, device_id)
        now = utcnow()
        fields: dict[str, Any] = {
            "registration_id": registration_id,
            "identity_key": identity_key,
            "signed_prekey_id": signed_prekey.key_id,
            "signed_prekey": signed_prekey.public_key,
            "signed_prekey_signature": signed_prekey.signature,
            "kyber_prekey": kyber_prekey,
            "updated_at": now,
        }
        if existing is None:
            if len(await direct_keys.devices_of(conn, [actor.user_id])) >= MAX_DEVICES:
                raise Conflict(f"at most {MAX_DEVICES} devices", code="too_many_devices")
            await direct_keys.insert_device(
                conn,
                fields | {"user_id": actor.user_id, "device_id": device_id, "created_at": now},
            )
        elif existing.identity_key != identity_key or existing.registration_id != registration_id:
            if not replace:
                raise Conflict(
                    "this device has another identity: send replace: true to re-register it",
                    code="identity_changed",
                )
            await direct_keys.drop_one_time_prekeys(conn, actor.user_id, device_id)
            await direct_keys.update_device(conn, actor.user_id, device_id, fields | _no_previous())
        else:
            fields |= _retire(existing, signed_prekey.key_id, now)
            await direct_keys.update_device(conn, actor.user_id, device_id, fields)
        pool = await _add_prekeys(conn, actor.user_id, device_id, one_time_prekeys)
        device = await direct_keys.get_device(conn, actor.user_id, device_id)
        assert device is not None
        if existing is None or existing.identity_key != identity_key:
            batch.emit(await _devices_event(conn, actor.user_id))
        return existing is None, device_view(device, pool)

    return await svc.db.run(unit)


def _no_previous() -> dict[str, Any]:
    return {
        "previous_signed_prekey_id": None,
        "previous_signed_prekey": None,
        "previous_signed_prekey_signature": None,
        "previous_retired_at": None,
    }


def _retire(device: Device, new_key_id: int, now: Any) -> dict[str, Any]:
    """A new signed prekey id: the current one becomes the previous (kept, not handed out)."""
    if new_key_id == device.signed_prekey_id:
        return {}
    return {
        "previous_signed_prekey_id": device.signed_prekey_id,
        "previous_signed_prekey": device.signed_prekey,
        "previous_signed_prekey_signature": device.signed_prekey_signature,
        "previous_retired_at": now,
    }


async def _add_prekeys(
    conn: AsyncConnection, user_id: str, device_id: int, keys: list[tuple[int, str]]
) -> int:
    """Add one-time prekeys (a repeat of a stored one is a no-op); the pool's size."""
    ids = [k for k, _ in keys]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("one-time prekey ids repeat")
    stored = await direct_keys.one_time_prekeys(conn, user_id, device_id, ids)
    if any(stored[k] != p for k, p in keys if k in stored):
        raise Conflict("a one-time prekey id is taken by another key", code="key_conflict")
    new = [(k, p) for k, p in keys if k not in stored]
    pool = await direct_keys.count_one_time_prekeys(conn, user_id, device_id)
    if pool + len(new) > MAX_ONE_TIME_PREKEYS:
        raise ValidationFailed(f"a device holds at most {MAX_ONE_TIME_PREKEYS} one-time prekeys")
    await direct_keys.add_one_time_prekeys(conn, user_id, device_id, new)
    return pool + len(new)


async def list_devices(svc: Services, actor: Actor) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        devices = await direct_keys.devices_of(conn, [actor.user_id])
        counts = await direct_keys.counts_of(conn, actor.user_id)
    return {"devices": [device_view(d, counts.get(d.device_id, 0)) for d in devices]}


async def do_delete_device(svc: Services, actor: Actor, device_id: int) -> None:
    require_individual(actor)

    async def unit(batch: UnitBatch) -> None:
        if not await direct_keys.delete_device(batch.conn, actor.user_id, device_id):
            raise NotFound("device not found")
        batch.emit(await _devices_event(batch.conn, actor.user_id))

    await svc.db.run(unit)


async def _own_device(conn: AsyncConnection, actor: Actor, device_id: int) -> Device:
    device = await direct_keys.get_device(conn, actor.user_id, device_id)
    if device is None:
        raise NotFound("device not found")
    return device


async def do_add_prekeys(
    svc: Services, actor: Actor, device_id: int, keys: list[tuple[int, str]]
) -> dict[str, Any]:
    require_individual(actor)
    await check_rate(svc, "direct_keys", f"user:{actor.user_id}", what="key uploads")
    for _, public in keys:
        _key(public)

    async def work(conn: AsyncConnection) -> int:
        await _own_device(conn, actor, device_id)
        return await _add_prekeys(conn, actor.user_id, device_id, keys)

    return {"count": await svc.db.write(work)}


async def count_prekeys(svc: Services, actor: Actor, device_id: int) -> dict[str, Any]:
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        await _own_device(conn, actor, device_id)
        count = await direct_keys.count_one_time_prekeys(conn, actor.user_id, device_id)
    return {"count": count}


async def do_rotate_signed_prekey(
    svc: Services, actor: Actor, device_id: int, signed: SignedPreKey
) -> dict[str, Any]:
    require_individual(actor)
    await check_rate(svc, "direct_keys", f"user:{actor.user_id}", what="key uploads")

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        device = await _own_device(conn, actor, device_id)
        _check_signed(device.identity_key, signed)
        if signed.key_id == device.signed_prekey_id and signed.public_key != device.signed_prekey:
            raise Conflict("a new signed prekey needs a new key id", code="key_conflict")
        now = utcnow()
        await direct_keys.update_device(
            conn,
            actor.user_id,
            device_id,
            _retire(device, signed.key_id, now)
            | {
                "signed_prekey_id": signed.key_id,
                "signed_prekey": signed.public_key,
                "signed_prekey_signature": signed.signature,
                "updated_at": now,
            },
        )
        previous = (
            device.signed_prekey_id
            if signed.key_id != device.signed_prekey_id
            else device.previous_signed_prekey_id
        )
        return {
            "signed_prekey": {
                "key_id": signed.key_id,
                "public_key": signed.public_key,
                "signature": signed.signature,
            },
            "previous_key_id": previous,
        }

    return await svc.db.write(work)


# ----- claims ---------------------------------------------------------------------------


async def do_claim_bundle(
    svc: Services, actor: Actor, user_id: str, device_ids: list[int] | None
) -> Outcome:
    """One bundle per device, each with one one-time prekey popped in this transaction."""
    require_individual(actor)
    await check_rate(svc, "direct_claim", f"user:{actor.user_id}", what="prekey bundle claims")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        if user_id != actor.user_id:
            await find_individual(conn, actor, user_id)
        devices = await direct_keys.devices_of(conn, [user_id])
        if device_ids is not None:
            devices = [d for d in devices if d.device_id in set(device_ids)]
        if not devices:
            raise NotFound("user not found")
        bundles = []
        for device in devices:
            popped = await direct_keys.pop_one_time_prekey(conn, user_id, device.device_id)
            if popped is not None:
                left = await direct_keys.count_one_time_prekeys(conn, user_id, device.device_id)
                if left < LOW_POOL:
                    batch.emit(
                        Event(
                            "direct:prekeys_low",
                            {"device_id": device.device_id, "count": left},
                            (user_room(user_id),),
                        )
                    )
            else:
                batch.emit(
                    Event(
                        "direct:prekeys_low",
                        {"device_id": device.device_id, "count": 0},
                        (user_room(user_id),),
                    )
                )
            bundles.append(
                {
                    "device_id": device.device_id,
                    "registration_id": device.registration_id,
                    "identity_key": device.identity_key,
                    "signed_prekey": {
                        "key_id": device.signed_prekey_id,
                        "public_key": device.signed_prekey,
                        "signature": device.signed_prekey_signature,
                    },
                    "one_time_prekey": (
                        {"key_id": popped[0], "public_key": popped[1]} if popped else None
                    ),
                    "kyber_prekey": device.kyber_prekey,
                }
            )
        return {"user_id": user_id, "devices": bundles}

    return Outcome(await svc.db.run(unit))
