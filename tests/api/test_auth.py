"""Accounts and sessions (SPEC 5): hashed passwords, short-lived access tokens, rotating
and revocable refresh tokens, every socket authenticated at connect."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import jwt
import pytest
import socketio
from jwt.warnings import InsecureKeyLengthWarning

from tests.support.clients import PASSWORD, Api, Person, World, unique
from tests.support.databases import query_node
from tests.support.server import TEST_ENV, RunningServer

SECRET = TEST_ENV["RAASEL_SECRET_KEY"]


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: what a client (or an attacker) can read."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def refused_at_connect(server: RunningServer, auth: Any) -> dict[str, Any]:
    """Connect a socket with ``auth``; it must be refused. Returns the typed error."""
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    sio.on("connect_error", errors.append)
    connector = aiohttp.TCPConnector(ssl=server.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as http:
        sio.eio.http = http
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
        assert not sio.connected
    assert errors, "no connect_error"
    data: dict[str, Any] = errors[0]["data"]
    return data


async def me_status(api: Api) -> tuple[int, dict[str, Any]]:
    response = await api.http.get("/api/v1/me")
    return response.status_code, response.json()


async def assert_token_refused(world: World, token: str, code: str = "invalid_token") -> None:
    api = world.api(token)
    status, body = await me_status(api)
    assert status == 401 and body["error"]["code"] == code, (token[:40], status, body)
    error = await refused_at_connect(world.server, {"token": token})
    assert error["code"] == code, error


async def test_register_verify_then_log_in(world: World) -> None:
    email = f"{unique('Reg')}@Example.com"
    answer = await world.anonymous.post(
        "/api/v1/auth/register",
        {"email": email, "password": PASSWORD, "display_name": "  Rita  "},
        expect=202,
    )
    assert answer == {"status": "verification_sent", "email": email.lower()}
    # No account before the link is opened: the password does not log in yet.
    early = await world.anonymous.post(
        "/api/v1/auth/login", {"email": email, "password": PASSWORD}, expect=401
    )
    assert early["error"]["code"] == "invalid_credentials"
    mail = await world.mailbox.wait_for(email, "Confirm your Raasel account")
    assert "Hello Rita" in mail.body and mail.link.startswith(f"{world.server.url}/verify-email#")
    wrong = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": mail.token, "password": "not it"}, expect=401
    )
    assert wrong["error"]["code"] == "invalid_credentials"
    session = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": mail.token, "password": PASSWORD}
    )
    assert session["token_type"] == "bearer" and session["expires_in"] == 900
    assert session["user"]["email"] == email.lower()
    assert session["user"]["display_name"] == "Rita" and session["user"]["kind"] == "person"
    assert session["org_id"] is None
    me = await world.api(session["access_token"]).get("/api/v1/me")
    assert me["id"] == session["user"]["id"] and me["org_id"] is None and me["role"] is None
    assert me["email_verified"] is True
    again = await world.anonymous.post(
        "/api/v1/auth/verify-email", {"token": mail.token, "password": PASSWORD}, expect=400
    )
    assert again["error"]["code"] == "invalid_link", "a verification link works once"

    login = await world.anonymous.post(
        "/api/v1/auth/login", {"email": email.upper(), "password": PASSWORD}
    )
    assert login["user"]["id"] == session["user"]["id"]
    assert login["access_token"] != session["access_token"]
    assert login["refresh_token"] != session["refresh_token"]
    socket = await world.socket(Person(login, world.api(login["access_token"])))
    assert socket.sio.connected


async def test_secrets_are_stored_hashed(world: World) -> None:
    """The database keeps an argon2id hash of the password and a digest of refresh tokens."""
    person = await world.individual()
    var_dir = world.server.var_dir
    [(password_hash,)] = query_node(
        var_dir, "SELECT password_hash FROM users WHERE id = :id", id=person.user_id
    )
    digests = [
        row[0]
        for row in query_node(
            var_dir,
            "SELECT token_digest FROM refresh_tokens WHERE user_id = :id",
            id=person.user_id,
        )
    ]
    assert isinstance(password_hash, str)
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash
    refresh = person.session["refresh_token"]
    assert digests == [hashlib.sha256(refresh.encode()).hexdigest()]
    assert refresh not in digests[0]


async def test_wrong_password_and_unknown_email_answer_alike(world: World) -> None:
    person = await world.individual()
    tenant = await world.tenant(agents=1)
    agent = tenant.agents[0]
    wrong_password = await world.anonymous.post(
        "/api/v1/auth/login", {"email": person.email, "password": "not the password"}, expect=401
    )
    unknown_email = await world.anonymous.post(
        "/api/v1/auth/login",
        {"email": f"{unique('nobody')}@example.com", "password": PASSWORD},
        expect=401,
    )
    assert wrong_password["error"]["code"] == "invalid_credentials"
    assert unknown_email == wrong_password

    # A member's right password with a wrong organization: an unknown slug and a foreign
    # one answer alike, so slugs cannot be probed this way either.
    foreign = await world.tenant(agents=1)
    answers = [
        await world.anonymous.post(
            "/api/v1/auth/login",
            {"email": agent.email, "password": PASSWORD, "organization": slug},
            expect=401,
        )
        for slug in (foreign.org["slug"], unique("nosuchorg"))
    ]
    assert answers[0] == answers[1] and answers[0]["error"]["code"] == "invalid_credentials"
    assert "access_token" not in json.dumps(answers)


async def test_member_login_with_organization_slug(world: World) -> None:
    tenant = await world.tenant(agents=1)
    agent = tenant.agents[0]
    slug = tenant.org["slug"]
    as_member = await world.login(agent.email, slug)
    assert as_member.session["org_id"] == tenant.org_id and as_member.session["role"] == "agent"
    me = await as_member.api.get("/api/v1/me")
    assert me["org_id"] == tenant.org_id and me["role"] == "agent"
    assert me["group_ids"] == [tenant.groups["support"]["id"]]
    await as_member.api.get(f"/api/v1/orgs/{tenant.org_id}")

    # The same account without the slug acts as an individual: no organization rights.
    as_individual = await world.login(agent.email)
    me = await as_individual.api.get("/api/v1/me")
    assert me["org_id"] is None and me["role"] is None
    assert me["memberships"] == [{"org_id": tenant.org_id, "role": "agent"}]
    refused = await as_individual.api.get(f"/api/v1/orgs/{tenant.org_id}", expect=404)
    assert refused["error"]["code"] == "not_found"

    # A deactivated member can no longer log in, and their live token stops working.
    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}", {"is_active": False}
    )
    answer = await world.anonymous.post(
        "/api/v1/auth/login",
        {"email": agent.email, "password": PASSWORD, "organization": slug},
        expect=401,
    )
    assert answer["error"]["code"] == "invalid_credentials"
    await assert_token_refused(world, as_member.token)
    assert (await me_status(as_individual.api))[0] == 200


async def test_refresh_rotates_the_pair(world: World) -> None:
    person = await world.individual()
    first = person.session
    second = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
    )
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == person.user_id
    assert claims_of(second["access_token"])["sid"] == claims_of(first["access_token"])["sid"]
    assert (await me_status(world.api(second["access_token"])))[0] == 200
    # The new refresh token rotates again; the old one is spent.
    third = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": second["refresh_token"]}
    )
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    spent = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}, expect=401
    )
    assert spent["error"]["code"] == "token_reused"
    unknown = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": "x" * 43}, expect=401
    )
    assert unknown["error"]["code"] == "invalid_token"


async def test_reusing_a_refresh_token_revokes_its_whole_family(world: World) -> None:
    person = await world.individual()
    elsewhere = await world.login(person.email)  # another device: another family
    stolen = person.session["refresh_token"]
    newest = await world.anonymous.post("/api/v1/auth/refresh", {"refresh_token": stolen})
    assert (await me_status(world.api(newest["access_token"])))[0] == 200

    reused = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": stolen}, expect=401
    )
    assert reused["error"]["code"] == "token_reused"
    # The newest pair of the family stopped working too, access and refresh.
    answer = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": newest["refresh_token"]}, expect=401
    )
    assert answer["error"]["code"] == "invalid_token"
    await assert_token_refused(world, newest["access_token"])
    await assert_token_refused(world, person.token)
    # The other device's session is untouched.
    assert (await me_status(elsewhere.api))[0] == 200
    rotated = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": elsewhere.session["refresh_token"]}
    )
    assert (await me_status(world.api(rotated["access_token"])))[0] == 200


async def test_logout_ends_the_session(world: World) -> None:
    person = await world.individual()
    elsewhere = await world.login(person.email)
    connected = await world.socket(person)
    assert connected.sio.connected
    await person.api.post("/api/v1/auth/logout", expect=204)

    await assert_token_refused(world, person.token)
    answer = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": person.session["refresh_token"]}, expect=401
    )
    assert answer["error"]["code"] == "invalid_token"
    # Logging out one session leaves the user's other sessions alone.
    assert (await me_status(elsewhere.api))[0] == 200
    assert (await world.socket(elsewhere)).sio.connected
    missing = await world.anonymous.post("/api/v1/auth/logout", expect=401)
    assert missing["error"]["code"] == "unauthenticated"


async def test_expired_access_token_is_refused(
    spawn_server: Callable[..., RunningServer],
) -> None:
    # 2 s, not 1: ``exp`` is whole seconds, so a 1 s token may be dead before its first use.
    node = spawn_server({"RAASEL_ACCESS_TOKEN_TTL_SECONDS": "2"})
    world = World(node)
    try:
        person = await world.individual()
        assert person.session["expires_in"] == 2
        assert (await me_status(person.api))[0] == 200
        assert (await world.socket(person)).sio.connected

        await asyncio.sleep(max(0.0, claims_of(person.token)["exp"] - time.time()) + 0.5)
        await assert_token_refused(world, person.token)
        # The refresh token outlives it and gives a working access token.
        fresh = await world.anonymous.post(
            "/api/v1/auth/refresh", {"refresh_token": person.session["refresh_token"]}
        )
        assert (await me_status(world.api(fresh["access_token"])))[0] == 200
    finally:
        await world.close()


def forgeries(genuine: str, other_user_id: str) -> dict[str, str]:
    """Tokens an attacker can make from a genuine one, with and without the secret."""
    claims = claims_of(genuine)
    header, payload, signature = genuine.split(".")
    past = datetime.now(UTC) - timedelta(minutes=1)
    with warnings.catch_warnings():  # the test secret is short for SHA-512: irrelevant here
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        hs512 = jwt.encode(claims, SECRET, "HS512")
    return {
        "wrong secret": jwt.encode(claims, "not-the-server-secret-0123456789abcdef", "HS256"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none, signature kept": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}",
        "tampered subject": f"{header}.{b64(claims | {'sub': other_user_id})}.{signature}",
        "tampered expiry": f"{header}.{b64(claims | {'exp': claims['exp'] + 86400})}.{signature}",
        "HS512 with the secret": hs512,
        "wrong audience": jwt.encode(claims | {"aud": "someone-else"}, SECRET, "HS256"),
        "no session id": jwt.encode(
            {k: v for k, v in claims.items() if k != "sid"}, SECRET, "HS256"
        ),
        "unknown session": jwt.encode(claims | {"sid": "123456789"}, SECRET, "HS256"),
        "numeric subject": jwt.encode(claims | {"sub": 42}, SECRET, "HS256"),
        "expired": jwt.encode(claims | {"exp": past}, SECRET, "HS256"),
        "garbage": "garbage",
        "three dots": "a.b.c",
        "huge": "x" * 5000,
    }


async def test_forged_tokens_are_refused(world: World) -> None:
    person = await world.individual()
    other = await world.individual()
    # Control: re-signing the genuine claims with the real secret is accepted, so every
    # refusal below is due to its one forgery.
    resigned = jwt.encode(claims_of(person.token), SECRET, "HS256")
    status, me = await me_status(world.api(resigned))
    assert status == 200 and me["id"] == person.user_id
    for name, token in forgeries(person.token, other.user_id).items():
        api = world.api(token)
        status, body = await me_status(api)
        assert status == 401, (name, status, body)
        assert body["error"]["code"] == "invalid_token", (name, body)
        assert other.user_id not in json.dumps(body)
        error = await refused_at_connect(world.server, {"token": token})
        assert error["code"] in ("invalid_token", "unauthenticated"), (name, error)

    # No token, or no usable one, at all.
    status, body = await me_status(world.anonymous)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    basic = await world.anonymous.http.get("/api/v1/me", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401 and basic.json()["error"]["code"] == "unauthenticated"
    for auth in (None, "a token", {"token": 42}, {"token": ""}, {"jwt": person.token}):
        error = await refused_at_connect(world.server, auth)
        assert error["code"] in ("unauthenticated", "invalid_token"), (auth, error)


async def test_visitor_session_belongs_to_one_organization(world: World) -> None:
    tenant = await world.tenant(agents=1)
    session = await world.anonymous.post(
        "/api/v1/auth/visitor", {"organization": tenant.org["slug"]}, expect=201
    )
    assert session["user"]["kind"] == "visitor" and session["user"]["email"] is None
    assert session["user"]["display_name"] == "Visitor"
    visitor = Person(session, world.api(session["access_token"]))
    me = await visitor.api.get("/api/v1/me")
    assert me["org_id"] == tenant.org_id and me["role"] is None and me["memberships"] == []
    assert (await world.socket(visitor)).sio.connected
    opened = await visitor.api.post(
        "/api/v1/conversations",
        {"org_id": tenant.org_id, "text": "hi from the widget", "client_id": unique("v")},
        expect=201,
    )
    assert opened["conversation"]["customer"]["id"] == visitor.user_id
    # A visitor is not an account: it cannot found an organization nor act for one.
    refused = await visitor.api.post(
        "/api/v1/orgs", {"slug": unique("org"), "name": "Visitor Inc"}, expect=403
    )
    assert refused["error"]["code"] == "forbidden"
    assert (await visitor.api.http.get(f"/api/v1/orgs/{tenant.org_id}")).status_code == 404
    # Its session refreshes like any other.
    fresh = await world.anonymous.post(
        "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]}
    )
    assert (await me_status(world.api(fresh["access_token"])))[1]["id"] == visitor.user_id

    named = await world.anonymous.post(
        "/api/v1/auth/visitor",
        {"organization": tenant.org["slug"], "display_name": "Vera"},
        expect=201,
    )
    assert named["user"]["display_name"] == "Vera" and named["user"]["id"] != visitor.user_id
    unknown = await world.anonymous.post(
        "/api/v1/auth/visitor", {"organization": unique("nosuchorg")}, expect=404
    )
    assert unknown["error"]["code"] == "not_found"


async def test_the_organizations_prechat_form_is_held_by_the_server(world: World) -> None:
    """Issue 13, item 9: the organization sets what the widget asks (name, email, team);
    the server refuses a visitor or a first message without what it requires, and the
    address a visitor types is shown to agents but is never a login."""
    tenant = await world.tenant(agents=0)
    slug = tenant.org["slug"]
    form = {"name": "required", "email": "required", "team": "required"}
    await tenant.owner.api.patch(f"/api/v1/orgs/{tenant.org_id}", {"settings": {"prechat": form}})
    public = await world.anonymous.get(f"/api/v1/directory/orgs/{slug}")
    assert public["settings"]["prechat"] == form
    visitor = "/api/v1/auth/visitor"
    for body, missing in (
        ({"organization": slug}, "name"),
        ({"organization": slug, "display_name": "Vera"}, "email address"),
    ):
        refused = await world.anonymous.post(visitor, body, expect=422)
        assert refused["error"]["code"] == "validation_error"
        assert f"tell us your {missing}" in refused["error"]["message"]
    bad = await world.anonymous.post(
        visitor, {"organization": slug, "display_name": "V", "email": "not-an-address"}, 422
    )
    assert bad["error"]["code"] == "validation_error"
    address = f"{unique('vera')}@example.com"
    session = await world.anonymous.post(
        visitor, {"organization": slug, "display_name": "Vera", "email": address}, expect=201
    )
    vera = world.api(session["access_token"])
    opening = {"org_id": tenant.org_id, "text": "hello", "client_id": unique("o")}
    no_team = await vera.post("/api/v1/conversations", opening, expect=422)
    assert "choose a team" in no_team["error"]["message"]
    opened = await vera.post(
        "/api/v1/conversations",
        opening | {"group_id": tenant.groups["billing"]["id"]},
        expect=201,
    )
    cid = opened["conversation"]["id"]
    seen = await tenant.supervisor.api.get(f"/api/v1/conversations/{cid}")
    assert seen["customer_panel"]["name"] == "Vera"
    assert seen["customer_panel"]["email"] == address
    assert session["user"]["email"] is None, "a visitor's address is no account's"
    refused = await world.anonymous.post(
        "/api/v1/auth/login", {"email": address, "password": "anything at all"}, expect=401
    )
    assert refused["error"]["code"] == "invalid_credentials"
    # Off again: the old widget behaviour (a nameless visitor, any team).
    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}",
        {"settings": {"prechat": {"name": "off", "email": "off", "team": "optional"}}},
    )
    await world.anonymous.post(visitor, {"organization": slug}, expect=201)
