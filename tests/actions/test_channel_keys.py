"""Channel secrets at rest on both SQL back ends: sealed with the organization's data key,
re-sealed by a rotation that leaves the old key-encryption key useless."""

from __future__ import annotations

import pytest

from raasel.actions.channel_keys import (
    ChannelSecrets,
    _dek_aad,
    load_key_ring,
    rotate_encryption_key,
)
from raasel.actions.context import Services
from raasel.lib.clock import utcnow
from raasel.lib.secret_box import SealError, key_id, unseal
from raasel.storage.metadata import channels as store
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from tests.actions.conftest import Cast

INSPECT = CrossTenant("a test looks at the stored rows")

SECRETS = {"access_token": "EAAG-secret-token", "app_secret": "app-secret-1", "verify_token": "v-1"}


async def _channel(services: Services, cast: Cast, secrets: ChannelSecrets) -> store.Channel:
    async def work(conn: Tx) -> store.Channel:
        sealed = await secrets.seal_fields(conn, cast.org_id, "c" * 24, SECRETS)
        now = utcnow()
        await store.insert_channel(
            conn,
            {
                "id": "c" * 24,
                "org_id": cast.org_id,
                "platform": "messenger",
                "name": "Page",
                "external_id": "123",
                "business_account_id": None,
                "group_id": None,
                "throughput_per_second": 20,
                "status": "active",
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                **sealed,
            },
        )
        found = await store.get_channel(conn, "c" * 24)
        assert found is not None
        return found

    return await services.db.write(work)


async def _open_all(services: Services, secrets: ChannelSecrets) -> dict[str, str]:
    async with services.db.read(INSPECT) as conn:
        channel = await store.get_channel(conn, "c" * 24)
        assert channel is not None
        return {f: await secrets.open_field(conn, channel, f) for f in SECRETS}


async def test_sealed_then_rotated(services: Services, cast: Cast) -> None:
    settings = services.settings
    secrets = ChannelSecrets(settings)
    channel = await _channel(services, cast, secrets)
    for field, value in SECRETS.items():
        assert value not in getattr(channel, f"{field}_sealed")
    assert await _open_all(services, secrets) == SECRETS
    old_ring = load_key_ring(settings)
    key_file = settings.var_dir / "encryption.key"
    assert key_file.stat().st_mode & 0o777 == 0o600

    result = await rotate_encryption_key(settings, services.db)
    assert result["organizations"] == 1 and result["channels"] == 1
    new_ring = load_key_ring(settings)
    assert new_ring.current_id != old_ring.current_id == key_id(old_ring.current)
    async with services.db.read(INSPECT) as conn:
        key = await store.data_key(conn, cast.org_id)
        assert key is not None and key.version == 2 and key.kek_id == new_ring.current_id
        assert await store.data_key(conn, cast.org_id, 1) is None  # the old data key is gone
    # The node that started before the rotation still opens them (reads the new key file).
    assert await _open_all(services, secrets) == SECRETS
    # The old KEK alone opens nothing any more: the only data key is wrapped by the new one.
    with pytest.raises(SealError):
        unseal(old_ring.current, key.wrapped, _dek_aad(cast.org_id, 2))
    assert unseal(new_ring.current, key.wrapped, _dek_aad(cast.org_id, 2))
