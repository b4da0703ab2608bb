"""A device's keys and sessions as JSON, so a bot that restarts keeps its identity.

Everything private is in it (the identity key, the prekeys' private halves, the ratchet
states): the file is written with mode 0600, atomically (a temporary file renamed over
the old one), and it is the caller's to keep safe, as a server keeps its TLS key. The
x3dh and doubleratchet states are serialized by those packages (``.json`` /
``from_json``); our own fields are base64.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from raasel_sdk import ratchet
from raasel_sdk.device import X3DH_INFO, LocalDevice, Session, X3dhState, _Pending, b64, unb64

VERSION = 1


def _session(session: Session) -> dict[str, Any]:
    pending = session.pending
    return {
        "ratchet": session.ratchet.json if session.ratchet is not None else None,
        "their_identity": b64(session.their_identity),
        "base_key": b64(session.base_key),
        "pending": None
        if pending is None
        else {
            "pre_key_id": pending.pre_key_id,
            "signed_pre_key_id": pending.signed_pre_key_id,
            "base_key": b64(pending.base_key),
        },
        "start": None if session.start is None else [b64(part) for part in session.start],
        "seen": [b64(mac) for mac in session.seen],
    }


def _load_session(data: dict[str, Any]) -> Session:
    pending = data["pending"]
    start = data["start"]
    return Session(
        ratchet=None
        if data["ratchet"] is None
        else ratchet.SignalRatchet.from_json(data["ratchet"], **ratchet.RATCHET_OPTIONS),
        their_identity=unb64(data["their_identity"]),
        base_key=unb64(data["base_key"]),
        pending=None
        if pending is None
        else _Pending(
            pending["pre_key_id"], pending["signed_pre_key_id"], unb64(pending["base_key"])
        ),
        start=None if start is None else (unb64(start[0]), unb64(start[1])),
        seen=[unb64(mac) for mac in data["seen"]],
    )


def _address(address: tuple[str, int]) -> str:
    return f"{address[0]}.{address[1]}"


def _parse_address(text: str) -> tuple[str, int]:
    user_id, device_id = text.rsplit(".", 1)
    return user_id, int(device_id)


def dump_device(device: LocalDevice) -> dict[str, Any]:
    """Everything ``load_device`` needs to be the same device again."""
    return {
        "version": VERSION,
        "user_id": device.user_id,
        "device_id": device.device_id,
        "registration_id": device.registration_id,
        "identity_priv": b64(device._identity_priv),
        "x3dh": device._state.json,
        "pre_key_ids": {b64(pub): i for pub, i in device._pre_key_ids.items()},
        "next_pre_key_id": device._next_pre_key_id,
        "signed_ids": {b64(pub): i for pub, i in device._signed_ids.items()},
        "next_signed_id": device._next_signed_id,
        "sessions": {_address(a): _session(s) for a, s in device.sessions.items()},
        "known_identities": {_address(a): b64(k) for a, k in device.known_identities.items()},
        "identity_changes": [_address(a) for a in device.identity_changes],
    }


def load_device(data: dict[str, Any]) -> LocalDevice:
    if data.get("version") != VERSION:
        raise ValueError(f"unknown key file version {data.get('version')!r}")
    state, _ = X3dhState.from_json(data["x3dh"], *X3DH_INFO)
    return LocalDevice(
        user_id=str(data["user_id"]),
        device_id=int(data["device_id"]),
        registration_id=int(data["registration_id"]),
        _identity_priv=unb64(data["identity_priv"]),
        _state=state,
        _pre_key_ids={unb64(pub): int(i) for pub, i in data["pre_key_ids"].items()},
        _next_pre_key_id=int(data["next_pre_key_id"]),
        _signed_ids={unb64(pub): int(i) for pub, i in data["signed_ids"].items()},
        _next_signed_id=int(data["next_signed_id"]),
        sessions={_parse_address(a): _load_session(s) for a, s in data["sessions"].items()},
        known_identities={_parse_address(a): unb64(k) for a, k in data["known_identities"].items()},
        identity_changes=[_parse_address(a) for a in data["identity_changes"]],
    )


def write_private(path: Path, data: dict[str, Any]) -> None:
    """``data`` as JSON at ``path``, mode 0600, replacing the old file in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
