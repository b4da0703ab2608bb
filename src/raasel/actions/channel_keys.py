"""Channel secrets at rest: per-organization data keys wrapped by the node's KEK
(docs/security.md, "Secrets at rest"; lib/secret_box.py does the cryptography).

The KEK comes from ``RAASEL_ENCRYPTION_KEY`` or, unset, from ``var_dir/encryption.key``
(generated once, 0600). ``rotate_encryption_key`` gives every organization a new data
key, re-seals every secret with it and wraps the data keys with a new KEK, all in one
transaction; old data keys are deleted in it, so the old KEK opens nothing afterwards.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from raasel.config import Settings
from raasel.lib.clock import utcnow
from raasel.lib.secret_box import (
    KeyRing,
    SealError,
    decode_key,
    encode_key,
    key_id,
    new_key,
    seal,
    unseal,
    write_key_file,
)
from raasel.storage.database import Database
from raasel.storage.metadata import channels as store
from raasel.storage.transaction import Tx, UniqueViolation

SECRET_FIELDS = ("access_token", "app_secret", "verify_token")


def key_file(settings: Settings) -> Path:
    return settings.var_dir / "encryption.key"


def load_key_ring(settings: Settings) -> KeyRing:
    """The KEK to wrap with and every KEK this node may unwrap with: the environment's
    (and its predecessor during a rotation), else the key files under ``var_dir``."""
    if settings.encryption_key:
        ring = KeyRing(decode_key(settings.encryption_key))
        if settings.previous_encryption_key:
            old = decode_key(settings.previous_encryption_key)
            ring.keys[key_id(old)] = old
        return ring
    path = key_file(settings)
    if not path.exists():
        # Another process of this node may have written it first.
        with contextlib.suppress(FileExistsError):
            write_key_file(path, new_key())
    ring = KeyRing(decode_key(path.read_text()))
    for extra in (path.with_suffix(".key.next"), path.with_suffix(".key.previous")):
        if extra.exists():
            key = decode_key(extra.read_text())
            ring.keys[key_id(key)] = key
    return ring


def _dek_aad(org_id: str, version: int) -> bytes:
    return f"raasel-data-key:{org_id}:{version}".encode()


def _secret_aad(org_id: str, channel_id: str, field: str, version: int) -> bytes:
    return f"raasel-channel:{org_id}:{channel_id}:{field}:{version}".encode()


@dataclass
class ChannelSecrets:
    """Seals and opens channel secrets for one node (data keys cached once unwrapped)."""

    settings: Settings
    ring: KeyRing | None = None

    def __post_init__(self) -> None:
        self._deks: dict[tuple[str, int], bytes] = {}

    def _ring(self) -> KeyRing:
        if self.ring is None:
            self.ring = load_key_ring(self.settings)
        return self.ring

    def _unwrap(self, key: store.DataKey) -> bytes:
        cached = self._deks.get((key.org_id, key.version))
        if cached is not None:
            return cached
        kek = self._ring().get(key.kek_id)
        if kek is None:  # rotated by the CLI since this node started: read the files again
            self.ring = load_key_ring(self.settings)
            kek = self.ring.get(key.kek_id)
        if kek is None:
            raise SealError("no key-encryption key of this node opens the data key")
        dek = unseal(kek, key.wrapped, _dek_aad(key.org_id, key.version))
        self._deks[(key.org_id, key.version)] = dek
        return dek

    async def current_key(self, conn: Tx, org_id: str) -> tuple[int, bytes]:
        """The organization's newest data key, made on first use (inside ``conn``)."""
        found = await store.data_key(conn, org_id, lock=True)
        if found is None:
            ring = self._ring()
            dek = new_key()
            values = {
                "org_id": org_id,
                "version": 1,
                "kek_id": ring.current_id,
                "wrapped": seal(ring.current, dek, _dek_aad(org_id, 1)),
                "created_at": utcnow(),
            }
            try:
                async with conn.begin_nested():
                    await store.insert_data_key(conn, values)
            except UniqueViolation:  # made meanwhile by another node
                found = await store.data_key(conn, org_id, lock=True)
                assert found is not None
                return found.version, self._unwrap(found)
            self._deks[(org_id, 1)] = dek
            return 1, dek
        return found.version, self._unwrap(found)

    async def seal_fields(
        self, conn: Tx, org_id: str, channel_id: str, values: dict[str, str]
    ) -> dict[str, object]:
        """``{field}_sealed`` columns and ``key_version`` for the given secrets."""
        version, dek = await self.current_key(conn, org_id)
        sealed: dict[str, object] = {"key_version": version}
        for field, value in values.items():
            aad = _secret_aad(org_id, channel_id, field, version)
            sealed[f"{field}_sealed"] = seal(dek, value.encode(), aad)
        return sealed

    async def open_field(self, conn: Tx, channel: store.Channel, field: str) -> str:
        key = await store.data_key(conn, channel.org_id, channel.key_version)
        if key is None:
            raise SealError("the channel's data key is missing")
        aad = _secret_aad(channel.org_id, channel.id, field, channel.key_version)
        return unseal(self._unwrap(key), getattr(channel, f"{field}_sealed"), aad).decode()


async def rotate_encryption_key(
    settings: Settings, db: Database, new_kek: bytes | None = None
) -> dict[str, int | str]:
    """New data keys for every organization, every channel secret re-sealed, the data
    keys wrapped by a new KEK: one transaction. With key files, the new KEK is written
    to ``encryption.key.next`` first and becomes ``encryption.key`` after the commit
    (the old one kept as ``encryption.key.previous``); with ``RAASEL_ENCRYPTION_KEY``
    the caller passes the new key and sets it in the environment afterwards."""
    old_ring = load_key_ring(settings)
    secrets = ChannelSecrets(settings, old_ring)
    kek = new_kek or new_key()
    path = key_file(settings)
    uses_files = not settings.encryption_key
    if uses_files:
        nxt = path.with_suffix(".key.next")
        if nxt.exists():  # a rotation that stopped before its commit: start it again
            nxt.unlink()
        write_key_file(nxt, kek)
    counts = {"organizations": 0, "channels": 0}

    async def work(conn: Tx) -> None:
        keys = await store.all_data_keys(conn)
        newest: dict[str, store.DataKey] = {}
        for key in keys:
            newest[key.org_id] = key
        opened: dict[str, dict[str, dict[str, str]]] = {}
        for channel in await store.list_channels(conn):
            opened.setdefault(channel.org_id, {})[channel.id] = {
                field: await secrets.open_field(conn, channel, field) for field in SECRET_FIELDS
            }
        now = utcnow()
        for org_id, key in newest.items():
            version = key.version + 1
            dek = new_key()
            await store.insert_data_key(
                conn,
                {
                    "org_id": org_id,
                    "version": version,
                    "kek_id": key_id(kek),
                    "wrapped": seal(kek, dek, _dek_aad(org_id, version)),
                    "created_at": now,
                },
            )
            for channel_id, fields in opened.get(org_id, {}).items():
                sealed: dict[str, object] = {"key_version": version}
                for field, value in fields.items():
                    aad = _secret_aad(org_id, channel_id, field, version)
                    sealed[f"{field}_sealed"] = seal(dek, value.encode(), aad)
                await store.update_channel(conn, org_id, channel_id, sealed)
                counts["channels"] += 1
            await store.delete_data_keys_below(conn, org_id, version)
            counts["organizations"] += 1

    await db.write(work)
    if uses_files:
        previous = path.with_suffix(".key.previous")
        if path.exists():
            path.replace(previous)
        path.with_suffix(".key.next").replace(path)
    return {**counts, "key_id": key_id(kek), "new_key": "" if uses_files else encode_key(kek)}
