from __future__ import annotations

import jwt
import pytest

from raasel.lib.tokens import InvalidToken, issue_access_token, read_access_token

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def test_token_round_trip() -> None:
    claims = read_access_token(SECRET, issue_access_token(SECRET, "1", "2", "3", 60))
    assert (claims.user_id, claims.org_id, claims.session_id) == ("1", "2", "3")


@pytest.mark.parametrize(
    "token",
    [
        issue_access_token("another-secret-that-is-also-long-enough-x", "1", None, "3", 60),
        issue_access_token(SECRET, "1", None, "3", -1),
        jwt.encode(
            {"sub": "1", "sid": "3", "aud": "raasel", "exp": 9_999_999_999}, None, algorithm="none"
        ),
        "not.a.token",
    ],
    ids=["wrong-secret", "expired", "alg-none", "garbage"],
)
def test_forged_or_expired_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        read_access_token(SECRET, token)
