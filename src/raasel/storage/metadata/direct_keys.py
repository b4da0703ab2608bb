"""The key directory: handles, devices, signed prekeys, one-time prekey pools."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.direct_records import Device
from raasel.storage.direct_schema import direct_devices as dd
from raasel.storage.direct_schema import direct_handles as dh
from raasel.storage.direct_schema import direct_one_time_prekeys as otk


async def handle_of(conn: AsyncConnection, user_id: str) -> str | None:
    row = (await conn.execute(select(dh.c.handle).where(dh.c.user_id == user_id))).first()
    return str(row.handle) if row else None


async def handles_of(conn: AsyncConnection, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = (await conn.execute(select(dh).where(dh.c.user_id.in_(user_ids)))).all()
    return {r.user_id: r.handle for r in rows}


async def user_of_handle(conn: AsyncConnection, handle: str) -> str | None:
    row = (await conn.execute(select(dh.c.user_id).where(dh.c.handle == handle))).first()
    return str(row.user_id) if row else None


async def set_handle(
    conn: AsyncConnection, user_id: str, handle: str, values: dict[str, Any]
) -> None:
    """Replace the user's handle (a unique violation means someone else holds it)."""
    await conn.execute(delete(dh).where(dh.c.user_id == user_id))
    await conn.execute(dh.insert().values(handle=handle, user_id=user_id, **values))


async def devices_of(conn: AsyncConnection, user_ids: list[str]) -> list[Device]:
    rows = (
        await conn.execute(
            select(dd).where(dd.c.user_id.in_(user_ids)).order_by(dd.c.user_id, dd.c.device_id)
        )
    ).all()
    return [Device.from_row(r) for r in rows]


async def get_device(conn: AsyncConnection, user_id: str, device_id: int) -> Device | None:
    row = (
        await conn.execute(select(dd).where(dd.c.user_id == user_id, dd.c.device_id == device_id))
    ).first()
    return Device.from_row(row) if row else None


async def insert_device(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(dd.insert().values(**values))


async def update_device(
    conn: AsyncConnection, user_id: str, device_id: int, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(dd).where(dd.c.user_id == user_id, dd.c.device_id == device_id).values(**values)
    )


async def delete_device(conn: AsyncConnection, user_id: str, device_id: int) -> bool:
    await conn.execute(delete(otk).where(otk.c.user_id == user_id, otk.c.device_id == device_id))
    result = await conn.execute(
        delete(dd).where(dd.c.user_id == user_id, dd.c.device_id == device_id)
    )
    return bool(result.rowcount)


async def drop_one_time_prekeys(conn: AsyncConnection, user_id: str, device_id: int) -> None:
    await conn.execute(delete(otk).where(otk.c.user_id == user_id, otk.c.device_id == device_id))


async def one_time_prekeys(
    conn: AsyncConnection, user_id: str, device_id: int, key_ids: list[int]
) -> dict[int, str]:
    """The stored public keys of those ids (to tell a repeat from a conflict)."""
    if not key_ids:
        return {}
    rows = (
        await conn.execute(
            select(otk.c.key_id, otk.c.public_key).where(
                otk.c.user_id == user_id, otk.c.device_id == device_id, otk.c.key_id.in_(key_ids)
            )
        )
    ).all()
    return {int(r.key_id): str(r.public_key) for r in rows}


async def add_one_time_prekeys(
    conn: AsyncConnection, user_id: str, device_id: int, keys: list[tuple[int, str]]
) -> None:
    if keys:
        await conn.execute(
            otk.insert(),
            [
                {"user_id": user_id, "device_id": device_id, "key_id": k, "public_key": p}
                for k, p in keys
            ],
        )


async def count_one_time_prekeys(conn: AsyncConnection, user_id: str, device_id: int) -> int:
    count = (
        await conn.execute(
            select(func.count()).where(otk.c.user_id == user_id, otk.c.device_id == device_id)
        )
    ).scalar_one()
    return int(count)


async def counts_of(conn: AsyncConnection, user_id: str) -> dict[int, int]:
    rows = (
        await conn.execute(
            select(otk.c.device_id, func.count())
            .where(otk.c.user_id == user_id)
            .group_by(otk.c.device_id)
        )
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}


async def pop_one_time_prekey(
    conn: AsyncConnection, user_id: str, device_id: int
) -> tuple[int, str] | None:
    """Delete one one-time prekey of the device and return it, in one statement.

    The row is chosen by a subquery that, on PostgreSQL, locks it ``FOR UPDATE SKIP
    LOCKED``: a concurrent claim on another node skips it and takes the next one instead
    of waiting; the DELETE returns a row only if this transaction deleted it, so no key
    is ever handed out twice. SQLite has one writer at a time (``BEGIN IMMEDIATE``).
    """
    chosen = (
        select(otk.c.key_id)
        .where(otk.c.user_id == user_id, otk.c.device_id == device_id)
        .order_by(otk.c.key_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        delete(otk)
        .where(otk.c.user_id == user_id, otk.c.device_id == device_id, otk.c.key_id == chosen)
        .returning(otk.c.key_id, otk.c.public_key)
    )
    row = (await conn.execute(statement)).first()
    return (int(row.key_id), str(row.public_key)) if row else None
