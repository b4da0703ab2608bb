"""Bounded inputs of the direct-chat routes and events (docs/protocol.md, "End-to-end
encrypted direct chats"). Keys are base64 strings here; their bytes (33 with 0x05, 64
for signatures) are checked by the key directory (lib/signal_keys.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from raasel.api.schemas import ClientId, Id, Position, Strict

B64 = r"^[A-Za-z0-9+/]*={0,2}$"
PublicKeyB64 = Annotated[str, StringConstraints(min_length=44, max_length=44, pattern=B64)]
SignatureB64 = Annotated[str, StringConstraints(min_length=88, max_length=88, pattern=B64)]
KyberKeyB64 = Annotated[str, StringConstraints(min_length=4, max_length=2136, pattern=B64)]
BodyB64 = Annotated[str, StringConstraints(min_length=4, max_length=16384, pattern=B64)]
DeviceId = Annotated[int, Field(ge=1, le=2**31 - 1)]
RegistrationId = Annotated[int, Field(ge=1, le=16380)]
KeyId = Annotated[int, Field(ge=1, le=16777215)]
Handle = Annotated[str, StringConstraints(min_length=3, max_length=32)]

MAX_SEND_BODY_CHARS = 57344


class SignedPreKeyBody(Strict):
    key_id: KeyId
    public_key: PublicKeyB64
    signature: SignatureB64


class KyberPreKeyBody(Strict):
    key_id: KeyId
    public_key: KyberKeyB64
    signature: SignatureB64


class OneTimePreKeyBody(Strict):
    key_id: KeyId
    public_key: PublicKeyB64


class DeviceBody(Strict):
    registration_id: RegistrationId
    identity_key: PublicKeyB64
    signed_prekey: SignedPreKeyBody
    one_time_prekeys: Annotated[list[OneTimePreKeyBody], Field(max_length=100)] = []
    kyber_prekey: KyberPreKeyBody | None = None
    replace: bool = False


class PreKeysBody(Strict):
    prekeys: Annotated[list[OneTimePreKeyBody], Field(min_length=1, max_length=100)]


class HandleBody(Strict):
    handle: Handle


class ClaimBody(Strict):
    device_ids: Annotated[list[DeviceId], Field(min_length=1, max_length=5)] | None = None


class OpenDirectBody(Strict):
    handle: Handle | None = None
    user_id: Id | None = None

    @model_validator(mode="after")
    def _one_of(self) -> OpenDirectBody:
        if (self.handle is None) == (self.user_id is None):
            raise ValueError("give exactly one of handle or user_id")
        return self


class InviteAcceptBody(Strict):
    token: Annotated[str, StringConstraints(min_length=10, max_length=120)]


class BlockBody(Strict):
    user_id: Id


class EmptyBody(Strict):
    pass


# ----- socket payloads (strict: JSON types as sent) -------------------------------------


class SocketStrict(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)


class EnvelopeItem(SocketStrict):
    user_id: Id
    device_id: DeviceId
    registration_id: RegistrationId | None = None
    type: Annotated[int, Field(ge=1, le=3)]
    body: BodyB64


class DirectSendPayload(SocketStrict):
    conversation_id: Id
    client_id: ClientId
    sender_device_id: DeviceId
    envelopes: Annotated[list[EnvelopeItem], Field(min_length=1, max_length=10)]

    @model_validator(mode="after")
    def _bounded(self) -> DirectSendPayload:
        if sum(len(e.body) for e in self.envelopes) > MAX_SEND_BODY_CHARS:
            raise ValueError(f"a send's bodies are at most {MAX_SEND_BODY_CHARS} characters")
        if any(e.type == 2 for e in self.envelopes):
            raise ValueError("envelope type is 1 (WhisperMessage) or 3 (PreKeyWhisperMessage)")
        return self


class DirectSyncItem(SocketStrict):
    conversation_id: Id
    after_position: Position = 0


class DirectSyncPayload(SocketStrict):
    conversations: Annotated[list[DirectSyncItem], Field(max_length=100)]
    device_id: DeviceId | None = None


class DirectWatermarkPayload(SocketStrict):
    conversation_id: Id
    up_to_position: Position


class DirectTypingPayload(SocketStrict):
    conversation_id: Id
    is_typing: bool
