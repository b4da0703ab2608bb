"""Accounts that cannot be taken over (issue 9, item 1 and 16): sign-up proves the address,
organizations invite (an existing account joins only by accepting), forgot-password by
mail; no answer tells whether an address has an account. Mail is read from the real
SMTP server the test nodes send to (tests/support/mailbox.py)."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable
from typing import Any

from tests.support.clients import PASSWORD, Api, Person, World, unique
from tests.support.databases import execute_node, query_node
from tests.support.mailbox import Mailbox, mail_from_file
from tests.support.server import RunningServer, free_port


def shape(answer: Any) -> Any:
    """The answer with ids, addresses and times blanked: what an outsider compares."""
    if isinstance(answer, dict):
        return {
            k: "*" if k in {"id", "email", "expires_at", "created_at"} else shape(v)
            for k, v in answer.items()
        }
    if isinstance(answer, list):
        return [shape(v) for v in answer]
    return answer


async def test_signing_up_with_a_known_address_answers_alike_and_tells_its_holder(
    world: World,
) -> None:
    holder = await world.individual("Holder")
    fresh = f"{unique('fresh')}@example.com"
    body = {"password": "an attacker's password", "display_name": "Mallory"}
    known = await world.anonymous.post(
        "/api/v1/auth/register", body | {"email": holder.email}, expect=202
    )
    new = await world.anonymous.post("/api/v1/auth/register", body | {"email": fresh}, expect=202)
    assert shape(known) == shape(new), "no enumeration oracle"
    notice = await world.mailbox.wait_for(holder.email, "Someone tried to sign up")
    assert "#token=" not in notice.body, "the notice carries no link that acts"
    await world.mailbox.wait_for(fresh, "Confirm your Raasel account")
    # The holder's account is untouched; the other password gets nothing.
    await world.login(holder.email)
    refused = await world.anonymous.post(
        "/api/v1/auth/login",
        {"email": holder.email, "password": body["password"]},
        expect=401,
    )
    assert refused["error"]["code"] == "invalid_credentials"


async def test_registering_a_victims_address_first_takes_nothing_over(world: World) -> None:
    """The attack of the issue: register newhire@victim before the victim's organization
    adds it, then log in as its member. Now the attacker never gets an account (the link
    goes to the victim's mailbox and needs the attacker's password), and the invitation
    is accepted by the victim with a password of their own."""
    victim = await world.tenant(agents=0)
    newhire = f"{unique('newhire')}@{victim.org['slug']}.example"
    await world.anonymous.post(
        "/api/v1/auth/register",
        {"email": newhire, "password": "mallory-password", "display_name": "Mallory"},
        expect=202,
    )
    planted = await world.mailbox.wait_for(newhire, "Confirm your Raasel account")
    # Even if the victim opened that link, their own password does not confirm it.
    await world.anonymous.post(
        "/api/v1/auth/verify-email",
        {"token": planted.token, "password": PASSWORD},
        expect=401,
    )
    await victim.owner.api.post(
        f"/api/v1/orgs/{victim.org_id}/invitations",
        {"email": newhire, "display_name": "New Hire", "role": "admin"},
        expect=201,
    )
    invitation = await world.mailbox.wait_for(newhire, "invites you")
    preview = await world.anonymous.post("/api/v1/invitations/preview", {"token": invitation.token})
    assert preview["has_account"] is False and preview["role"] == "admin"
    assert preview["org"]["id"] == victim.org_id
    session = await world.anonymous.post(
        "/api/v1/invitations/accept", {"token": invitation.token, "password": PASSWORD}
    )
    assert session["org_id"] == victim.org_id and session["role"] == "admin"
    for organization in (victim.org["slug"], None):
        body = {"email": newhire, "password": "mallory-password"}
        if organization:
            body["organization"] = organization
        refused = await world.anonymous.post("/api/v1/auth/login", body, expect=401)
        assert refused["error"]["code"] == "invalid_credentials"
    # The planted registration can no longer become an account at all.
    late = await world.anonymous.post(
        "/api/v1/auth/verify-email",
        {"token": planted.token, "password": "mallory-password"},
        expect=409,
    )
    assert late["error"]["code"] == "email_taken"


async def test_an_existing_account_joins_only_when_its_holder_accepts(world: World) -> None:
    rival = await world.tenant(agents=0)  # its owner's account is what we try to attach
    tenant = await world.tenant(agents=0)
    org = f"/api/v1/orgs/{tenant.org_id}"
    target = rival.owner.email
    stranger = f"{unique('nobody')}@example.com"
    body = {"display_name": "Someone", "role": "owner"}
    existing = await tenant.owner.api.post(
        f"{org}/invitations", body | {"email": target}, expect=201
    )
    unknown = await tenant.owner.api.post(
        f"{org}/invitations", body | {"email": stranger}, expect=201
    )
    assert shape(existing) == shape(unknown), "no enumeration oracle"
    assert existing["status"] == "pending"
    # Nothing attached: the rival owner is no member, and cannot act for the organization.
    members = {m["email"] for m in await tenant.owner.api.get(f"{org}/members")}
    assert target not in members
    await world.anonymous.post(
        "/api/v1/auth/login",
        {"email": target, "password": PASSWORD, "organization": tenant.org["slug"]},
        expect=401,
    )
    # The old route adds nobody either: it invites, and refuses a password outright.
    legacy = await tenant.owner.api.post(
        f"{org}/members",
        {"email": target, "display_name": "X", "password": "admins-choice-1", "role": "agent"},
        expect=422,
    )
    assert legacy["error"]["code"] == "validation_error"

    mail = await world.mailbox.wait_for(target, "invites you")
    preview = await world.anonymous.post("/api/v1/invitations/preview", {"token": mail.token})
    assert preview["has_account"] is True  # only the link's holder learns this
    wrong = await world.anonymous.post(
        "/api/v1/invitations/accept", {"token": mail.token, "password": "guess-guess"}, expect=401
    )
    assert wrong["error"]["code"] == "invalid_credentials"
    joined = await world.anonymous.post(
        "/api/v1/invitations/accept", {"token": mail.token, "password": PASSWORD}
    )
    assert joined["user"]["id"] == rival.owner.user_id and joined["role"] == "owner"
    again = await world.anonymous.post(
        "/api/v1/invitations/accept", {"token": mail.token, "password": PASSWORD}, expect=400
    )
    assert again["error"]["code"] == "invalid_link", "an invitation works once"
    await world.login(target, tenant.org["slug"])
    actions = [e["action"] for e in await tenant.owner.api.get(f"{org}/audit")]
    assert actions[:3] == ["member.join", "member.invite", "member.invite"]


async def test_invitation_links_are_signed_expiring_and_revocable(world: World) -> None:
    tenant = await world.tenant(agents=0)
    org = f"/api/v1/orgs/{tenant.org_id}"

    async def invite() -> tuple[dict[str, Any], str]:
        email = f"{unique('inv')}@example.com"
        made = await tenant.owner.api.post(
            f"{org}/invitations", {"email": email, "display_name": "I"}, expect=201
        )
        return made, (await world.mailbox.wait_for(email, "invites you")).token

    async def refused(token: str) -> None:
        for path, body in (("preview", {}), ("accept", {"password": PASSWORD})):
            answer = await world.anonymous.post(
                f"/api/v1/invitations/{path}", {"token": token} | body, expect=400
            )
            assert answer["error"]["code"] == "invalid_link", (path, token)

    made, token = await invite()
    row_id, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    await refused(f"{row_id}.{flipped}")  # a forged signature
    await refused(f"{int(row_id) + 1}.{signature}")  # another id with this signature
    pending = await tenant.owner.api.get(f"{org}/invitations")
    assert made["id"] in [i["id"] for i in pending]
    await tenant.owner.api.call("DELETE", f"{org}/invitations/{made['id']}", expect=204)
    await refused(token)  # revoked
    assert made["id"] not in [i["id"] for i in await tenant.owner.api.get(f"{org}/invitations")]

    made, token = await invite()
    execute_node(
        world.server.var_dir,
        "UPDATE invitations SET expires_at = created_at WHERE id = :id",
        id=made["id"],
    )
    await refused(token)  # expired
    # Another organization's admin cannot see or revoke it.
    other = await world.tenant(agents=0)
    await other.owner.api.call(
        "DELETE", f"/api/v1/orgs/{tenant.org_id}/invitations/{made['id']}", expect=404
    )


async def test_forgot_password_is_single_use_and_ends_every_session(world: World) -> None:
    person = await world.individual()
    elsewhere = await world.login(person.email)
    device = await world.socket(elsewhere)
    unknown = await world.anonymous.post(
        "/api/v1/auth/password/forgot", {"email": f"{unique('no')}@example.com"}, expect=202
    )
    known = await world.anonymous.post(
        "/api/v1/auth/password/forgot", {"email": person.email}, expect=202
    )
    assert unknown == known, "no enumeration oracle"
    first = await world.mailbox.wait_for(person.email, "Reset your Raasel password")
    await world.anonymous.post("/api/v1/auth/password/forgot", {"email": person.email}, 202)
    newest = await world.mailbox.wait_for(person.email, "Reset your Raasel password", count=2)
    stale = await world.anonymous.post(
        "/api/v1/auth/password/reset",
        {"token": first.token, "password": "a new password"},
        expect=400,
    )
    assert stale["error"]["code"] == "invalid_link", "only the newest link works"

    session = await world.anonymous.post(
        "/api/v1/auth/password/reset", {"token": newest.token, "password": "a new password"}
    )
    assert session["user"]["id"] == person.user_id
    for old in (person, elsewhere):
        assert (await old.api.http.get("/api/v1/me")).status_code == 401
        refresh = await world.anonymous.post(
            "/api/v1/auth/refresh", {"refresh_token": old.session["refresh_token"]}, expect=401
        )
        assert refresh["error"]["code"] == "invalid_token"
    await device.wait_for("session:ended")
    for _ in range(50):
        if not device.sio.connected:
            break
        await asyncio.sleep(0.1)
    assert not device.sio.connected, "a reset drops the account's sockets"
    await world.anonymous.post(
        "/api/v1/auth/login", {"email": person.email, "password": PASSWORD}, expect=401
    )
    await world.anonymous.post(
        "/api/v1/auth/login", {"email": person.email, "password": "a new password"}
    )
    replay = await world.anonymous.post(
        "/api/v1/auth/password/reset",
        {"token": newest.token, "password": "yet another one"},
        expect=400,
    )
    assert replay["error"]["code"] == "invalid_link", "a reset link works once"


async def test_account_mails_are_rate_limited(spawn_server: Callable[..., RunningServer]) -> None:
    node = spawn_server(
        {
            "RAASEL_PASSWORD_RESET_RATE": "3/3600",
            "RAASEL_REGISTER_RATE": "3/3600",
            "RAASEL_MAIL_RECIPIENT_RATE": "2/3600",
            "RAASEL_VERIFICATION_RESEND_RATE": "2/3600",
        }
    )
    world = World(node)
    try:
        person = await world.individual()  # one sign-up, one mail
        answers = [
            await world.anonymous.call(
                "POST", "/api/v1/auth/password/forgot", {"email": person.email}
            )
            for _ in range(4)
        ]
        assert answers[:3] == [{"status": "reset_sent"}] * 3
        assert answers[3]["error"]["code"] == "rate_limited"
        assert "password reset requests" in answers[3]["error"]["message"]
        await asyncio.sleep(1)
        # Two mails an hour to one address (the sign-up's and one reset), whatever is asked.
        subjects = [m.subject for m in world.mailbox.to(person.email)]
        assert subjects == ["Confirm your Raasel account", "Reset your Raasel password"]
        body = {"password": PASSWORD, "display_name": "X"}
        for _ in range(2):
            await world.anonymous.post(
                "/api/v1/auth/register", body | {"email": f"{unique('r')}@example.com"}, 202
            )
        over = await world.anonymous.post(
            "/api/v1/auth/register", body | {"email": f"{unique('r')}@example.com"}, 429
        )
        assert "sign-ups" in over["error"]["message"]
        resend = [
            await world.anonymous.call(
                "POST", "/api/v1/auth/verify-email/resend", {"email": person.email}
            )
            for _ in range(3)
        ]
        assert [a.get("status") for a in resend[:2]] == ["verification_sent"] * 2
        assert resend[2]["error"]["code"] == "rate_limited"
        assert "verification mails" in resend[2]["error"]["message"]
    finally:
        await world.close()


async def test_without_smtp_mail_is_written_to_var_outbox_and_logged(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server({"RAASEL_SMTP_HOST": ""})
    anonymous = Api(node)
    try:
        email = f"{unique('box')}@example.com"
        await anonymous.post(
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": "Box"},
            expect=202,
        )
        outbox = node.var_dir / "outbox"
        for _ in range(100):
            files = list(outbox.glob("*.eml")) if outbox.exists() else []
            if files:
                break
            await asyncio.sleep(0.05)
        [path] = files
        assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text()
        assert f"To: {email}" in text and "Subject: Confirm your Raasel account" in text
        token = mail_from_file(path).token
        session = await anonymous.post(
            "/api/v1/auth/verify-email", {"token": token, "password": PASSWORD}
        )
        assert session["user"]["email"] == email
        log = node.log_tail()
        assert "mail written to the outbox folder" in log and path.name in log
        assert token not in log and "Confirm your" not in log, "no mail text in logs"
        [(status, body)] = query_node(
            node.var_dir, "SELECT status, body FROM mail_outbox WHERE recipient = :r", r=email
        )
        assert status == "sent" and body == "", "the body (its link) is not kept once sent"
    finally:
        await anonymous.close()


async def test_mail_waits_for_an_smtp_server_that_is_down(
    spawn_server: Callable[..., RunningServer],
) -> None:
    port = free_port()  # nothing listens there yet
    node = spawn_server(
        {
            "RAASEL_SMTP_HOST": "127.0.0.1",
            "RAASEL_SMTP_PORT": str(port),
            "RAASEL_SMTP_SECURITY": "none",
            "RAASEL_SMTP_TIMEOUT_SECONDS": "1",
        }
    )
    anonymous = Api(node)
    try:
        email = f"{unique('later')}@example.com"
        await anonymous.post(
            "/api/v1/auth/password/forgot", {"email": email}, expect=202
        )  # no account: no mail; then a sign-up's mail
        await anonymous.post(
            "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": "Later"},
            expect=202,
        )
        # Wait (generously: a busy machine) until a delivery attempt has failed; only
        # then does the SMTP server come up, so the log must show the retry.
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            rows = query_node(
                node.var_dir,
                "SELECT status, attempts FROM mail_outbox WHERE recipient = :r",
                r=email,
            )
            if rows and int(str(rows[0][1])) >= 1:
                break
            assert asyncio.get_running_loop().time() < deadline, f"no attempt yet: {rows}"
            await asyncio.sleep(0.1)
        assert rows[0][0] == "pending", rows
        box = Mailbox(port=port)
        try:
            mail = await box.wait_for(email, "Confirm your Raasel account", within=30)
            assert len(box.to(email)) == 1
        finally:
            box.stop()
        assert "mail not delivered; will retry" in node.log_tail()
        assert mail.token not in node.log_tail()
    finally:
        await anonymous.close()


async def test_accepting_as_a_new_person_sets_their_password_and_name(world: World) -> None:
    tenant = await world.tenant(agents=0)
    email = f"{unique('new')}@example.com"
    await tenant.owner.api.post(
        f"/api/v1/orgs/{tenant.org_id}/invitations",
        {"email": email, "display_name": "Given by admin", "role": "agent"},
        expect=201,
    )
    mail = await world.mailbox.wait_for(email, "invites you")
    assert "Hello Given by admin" in mail.body and tenant.org["name"] in mail.subject
    short = await world.anonymous.post(
        "/api/v1/invitations/accept", {"token": mail.token, "password": "short"}, expect=422
    )
    assert short["error"]["code"] == "validation_error"
    session = await world.anonymous.post(
        "/api/v1/invitations/accept",
        {"token": mail.token, "password": PASSWORD, "display_name": "Chosen Name"},
    )
    assert session["user"]["display_name"] == "Chosen Name" and session["role"] == "agent"
    member = Person(session, world.api(session["access_token"]), email, PASSWORD)
    assert (await member.api.get("/api/v1/me"))["email_verified"] is True


async def test_the_verification_link_is_sent_again_alike_for_every_address(
    world: World,
) -> None:
    """``/auth/verify-email/resend`` answers the same for a pending sign-up, an unknown
    address, a verified account and an older account never proved; only the first and
    the last get a mail (counted in the node's mail outbox, written with the answer)."""
    pending = f"{unique('pending')}@example.com"
    await world.anonymous.post(
        "/api/v1/auth/register",
        {"email": pending, "password": PASSWORD, "display_name": "Pat"},
        expect=202,
    )
    first = await world.mailbox.wait_for(pending, "Confirm your Raasel account")
    verified = await world.individual()
    older = await world.individual("Olga")
    execute_node(
        world.server.var_dir,
        "UPDATE users SET email_verified_at = NULL WHERE email = :e",
        e=older.email,
    )
    unknown = f"{unique('nobody')}@example.com"

    def mails_to(address: str) -> int:
        rows = query_node(
            world.server.var_dir,
            "SELECT count(*) FROM mail_outbox WHERE recipient = :r",
            r=address,
        )
        return int(str(rows[0][0]))

    quiet = (unknown, verified.email)
    before = [mails_to(a) for a in quiet]
    resend = "/api/v1/auth/verify-email/resend"
    answers = [
        await world.anonymous.post(resend, {"email": a}, expect=202)
        for a in (pending, unknown, verified.email, older.email)
    ]
    assert len({str(shape(a)) for a in answers}) == 1, answers
    assert answers[0] == {"status": "verification_sent", "email": pending}
    assert [mails_to(a) for a in quiet] == before, "no mail for them"
    # The pending sign-up: a fresh link to the same registration (its password).
    again = await world.mailbox.wait_for(pending, "Confirm your Raasel account", count=2)
    assert again.token != first.token
    session = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": again.token, "password": PASSWORD}
    )
    assert session["user"]["email"] == pending and session["user"]["email_verified"] is True
    refused = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": first.token, "password": PASSWORD}, expect=400
    )
    assert refused["error"]["code"] == "invalid_link", "one registration, one account"
    # The older account proves its address with the link and its own password.
    proof = await world.mailbox.wait_for(older.email, "Confirm your Raasel address")
    wrong = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": proof.token, "password": "not it"}, expect=401
    )
    assert wrong["error"]["code"] == "invalid_credentials"
    proved = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": proof.token, "password": PASSWORD}
    )
    assert proved["user"]["id"] == older.user_id and proved["user"]["email_verified"] is True
    await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": proof.token, "password": PASSWORD}, expect=400
    )
