"""The webhook signature check and the customer-service window (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from raasel.channels.failures import GraphFailure
from raasel.channels.signature import SignatureProblem, check_signature, sign
from raasel.channels.window import window_at

BODY = b'{"object":"page","entry":[]}'


def test_signature_valid_wrong_missing_malformed() -> None:
    check_signature("secret-1", BODY, sign("secret-1", BODY))
    for header, code in (
        (sign("secret-2", BODY), "invalid_signature"),
        (sign("secret-1", BODY + b" "), "invalid_signature"),
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("sha1=abc", "invalid_signature"),
    ):
        with pytest.raises(SignatureProblem) as caught:
            check_signature("secret-1", BODY, header)
        assert caught.value.code == code


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("platform", "after", "state"),
    [
        ("whatsapp", timedelta(hours=23), "open"),
        ("whatsapp", timedelta(hours=25), "template_only"),
        ("messenger", timedelta(hours=23), "open"),
        ("messenger", timedelta(days=6), "human_agent"),
        ("instagram", timedelta(days=8), "closed"),
    ],
)
def test_window(platform: str, after: timedelta, state: str) -> None:
    assert window_at(platform, T0, T0 + after).state == state


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 130429, "retry"),
        (400, 131056, "retry"),
        (429, None, "retry"),
        (503, None, "retry"),
        (0, None, "retry"),
        (401, 190, "token"),
        (400, 190, "token"),
        (400, 131047, "permanent"),
        (400, 100, "permanent"),
    ],
)
def test_failure_kinds(status: int, code: int | None, kind: str) -> None:
    assert GraphFailure(status, code, "x").kind == kind
