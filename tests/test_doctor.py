"""``raasel doctor``'s checks, one by one, on settings made for each case."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from raasel.config import Settings
from raasel.doctor import (
    Finding,
    check_cassandra,
    check_database,
    check_secret_key,
    check_smtp,
    check_tls,
    run_checks,
)
from raasel.lib.tls import ensure_self_signed
from raasel.storage.cassandra_session import CassandraOptions
from tests.support.databases import migrated_database
from tests.support.mailbox import shared_mailbox
from tests.support.server import free_port

REDIS_URL = os.environ.get("RAASEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
GOOD_KEY = "k" * 48


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path, **values)  # type: ignore[arg-type]


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def pair(directory: Path, host: str) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    ensure_self_signed(cert, key, host)
    return cert, key


def test_tls_accepts_a_matching_pair_for_the_public_host(tmp_path: Path) -> None:
    cert, key = pair(tmp_path / "a", "chat.example.com")
    found = check_tls(
        settings(tmp_path, tls_cert_file=cert, tls_key_file=key, public_host="chat.example.com")
    )
    assert found.status == "ok", found
    assert "valid until" in found.detail


def test_tls_refuses_a_key_of_another_certificate_and_warns_of_another_host(
    tmp_path: Path,
) -> None:
    cert, _ = pair(tmp_path / "a", "chat.example.com")
    _, other_key = pair(tmp_path / "b", "chat.example.com")
    mismatched = check_tls(
        settings(
            tmp_path, tls_cert_file=cert, tls_key_file=other_key, public_host="chat.example.com"
        )
    )
    assert mismatched.status == "fail" and "does not belong" in mismatched.detail
    _, key = pair(tmp_path / "a", "chat.example.com")
    elsewhere = check_tls(
        settings(tmp_path, tls_cert_file=cert, tls_key_file=key, public_host="raasel.example.org")
    )
    assert elsewhere.status == "warn" and "raasel.example.org" in elsewhere.detail
    (tmp_path / "junk.pem").write_text("not a certificate")
    junk = check_tls(settings(tmp_path, tls_cert_file=tmp_path / "junk.pem", tls_key_file=key))
    assert junk.status == "fail" and "junk.pem" in junk.detail


def test_self_signed_default_warns_only_for_a_public_host(tmp_path: Path) -> None:
    assert check_tls(settings(tmp_path)).status == "ok"
    assert check_tls(settings(tmp_path, public_host="chat.example.com")).status == "warn"


def test_secret_key_must_be_set_and_shared_when_nodes_share_state(tmp_path: Path) -> None:
    assert check_secret_key(settings(tmp_path)).status == "ok"  # one node: generated key
    shared = settings(tmp_path, redis_url=REDIS_URL)
    assert check_secret_key(shared).status == "fail"
    good = check_secret_key(settings(tmp_path, redis_url=REDIS_URL, secret_key=GOOD_KEY))
    assert good.status == "ok" and "sha256:" in good.detail and GOOD_KEY not in good.detail
    assert check_secret_key(settings(tmp_path, secret_key="short")).status == "fail"
    assert not (tmp_path / "secret.key").exists(), "the doctor writes nothing"


async def test_a_reachable_redis_and_an_unreachable_one(tmp_path: Path) -> None:
    up = by_check(await run_checks(settings(tmp_path, redis_url=REDIS_URL, secret_key=GOOD_KEY)))
    assert up["redis"].status == "ok", up["redis"]
    down = by_check(await run_checks(settings(tmp_path, redis_url="redis://127.0.0.1:1/0")))
    assert down["redis"].status == "fail"
    assert "cassandra" not in down  # not configured, not checked
    assert not (tmp_path / "raasel.sqlite3").exists(), "the doctor creates no database"


async def test_cassandra_keyspace_schema_and_consistency(
    tmp_path: Path, cassandra: CassandraOptions
) -> None:
    def on(**values: object) -> Settings:
        base: dict[str, object] = {
            "message_store": "cassandra",
            "cassandra_hosts": ",".join(f"{h}:{cassandra.port}" for h in cassandra.hosts),
            "cassandra_keyspace": cassandra.keyspace,
            "cassandra_consistency": cassandra.consistency,
            "cassandra_protocol_version": cassandra.protocol_version,
        }
        return settings(tmp_path, **(base | values))

    healthy = await check_cassandra(on())
    assert healthy is not None and healthy.status == "ok", healthy
    missing = await check_cassandra(on(cassandra_keyspace="raasel_no_such_keyspace"))
    assert missing is not None and missing.status == "fail" and "migrate" in missing.detail
    too_strong = await check_cassandra(on(cassandra_consistency="THREE"))
    assert too_strong is not None and too_strong.status == "fail", too_strong
    assert "replicas" in too_strong.detail


async def test_smtp_answers_or_says_what_is_wrong(tmp_path: Path) -> None:
    box = shared_mailbox()
    on = {"smtp_host": "127.0.0.1", "smtp_port": box.port}
    reachable = await check_smtp(settings(tmp_path, **on, smtp_security="none"))
    assert reachable.status == "ok", reachable
    assert f"127.0.0.1:{box.port}" in reachable.detail and "no login" in reachable.detail
    # The test server offers neither STARTTLS nor AUTH: each configured need fails.
    no_tls = await check_smtp(settings(tmp_path, **on, smtp_security="starttls"))
    assert no_tls.status == "fail" and "STARTTLS" in no_tls.detail.upper(), no_tls
    no_auth = await check_smtp(
        settings(tmp_path, **on, smtp_security="none", smtp_username="u", smtp_password="pw")
    )
    assert no_auth.status == "fail" and "AUTH" in no_auth.detail.upper(), no_auth
    assert "pw" not in no_auth.detail
    closed = await check_smtp(
        settings(tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    )
    assert closed.status == "fail", closed
    unset_here = await check_smtp(settings(tmp_path))
    assert unset_here.status == "ok" and "outbox" in unset_here.detail
    unset_public = await check_smtp(settings(tmp_path, public_host="chat.example.com"))
    assert unset_public.status == "warn", unset_public
    everything = by_check(await run_checks(settings(tmp_path, **on, smtp_security="none")))
    assert everything["smtp"].status == "ok"


async def test_row_level_security_on_postgresql_is_checked(tmp_path: Path) -> None:
    """The reader role, its grants, a policy on every tenant table and the tenant keys:
    a migrated database passes; each part taken away is named (only this database's
    objects are changed: the role is the cluster's, shared with other tests)."""
    db = await migrated_database("postgresql", tmp_path)
    on = settings(tmp_path, database_url=db.url)
    fine = await check_database(on)
    assert fine.status == "ok" and "row-level security in place" in fine.detail, fine
    breakages = {
        "DROP POLICY tenant_read ON messages": "no row-level security policy on messages",
        "REVOKE SELECT ON conversations FROM raasel_reader": "may not SELECT from conversations",
        "DROP TRIGGER tenant_message_outbox_conversation ON message_outbox": (
            "tenant_message_outbox_conversation"
        ),
        "ALTER TABLE labels FORCE ROW LEVEL SECURITY": "FORCEd on the owner for labels",
        "REVOKE EXECUTE ON FUNCTION raasel_message_matches(tsquery, integer)"
        " FROM raasel_reader": "raasel_message_matches",
    }
    for statement in breakages:
        async with db.writer.begin() as conn:
            await conn.execute(text(statement))
    broken = await check_database(on)
    await db.close()
    assert broken.status == "fail", broken
    for expected in breakages.values():
        assert expected in broken.detail, (expected, broken.detail)
    assert "raasel_reader does not exist" not in broken.detail
