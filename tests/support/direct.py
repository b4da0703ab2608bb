"""Individuals with registered Signal devices, for the direct-chat tests."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from raasel_sdk.client import DirectClient
from raasel_sdk.device import LocalDevice
from tests.support.clients import Person, World, unique

DIRECT = "/api/v1/direct"


@dataclass
class Chatter:
    person: Person
    device: LocalDevice
    handle: str

    @property
    def user_id(self) -> str:
        return self.person.user_id


async def chatter(world: World, name: str = "Chatter", *, pre_keys: int = 5) -> Chatter:
    """A new individual with a handle and one registered device."""
    person = await world.individual(name)
    handle = unique("h").lower()[:30]
    await person.api.put(f"{DIRECT}/handle", {"handle": handle})
    device = LocalDevice.create(person.user_id, secrets.randbelow(2**31 - 2) + 1, pre_keys=pre_keys)
    await person.api.put(f"{DIRECT}/devices/{device.device_id}", device.registration(), expect=201)
    return Chatter(person, device, handle)


async def add_device(who: Chatter, *, pre_keys: int = 5) -> LocalDevice:
    device = LocalDevice.create(who.user_id, secrets.randbelow(2**31 - 2) + 1, pre_keys=pre_keys)
    await who.person.api.put(
        f"{DIRECT}/devices/{device.device_id}", device.registration(), expect=201
    )
    return device


def sdk_client(world: World, who: Chatter, device: LocalDevice | None = None) -> DirectClient:
    return DirectClient(
        world.server.url, who.person.token, device or who.device, verify=world.server.ssl_context()
    )


def fake_body(size: int = 64) -> str:
    """Opaque bytes where a ciphertext goes (the server never looks inside)."""
    return base64.b64encode(secrets.token_bytes(size)).decode()


def envelope(user_id: str, device_id: int, kind: int = 1, **extra: Any) -> dict[str, Any]:
    return {"user_id": user_id, "device_id": device_id, "type": kind, "body": fake_body()} | extra


async def open_direct(a: Chatter, b: Chatter) -> dict[str, Any]:
    answer: dict[str, Any] = await a.person.api.post(
        f"{DIRECT}/conversations", {"handle": b.handle}, expect=201
    )
    return answer["conversation"]
