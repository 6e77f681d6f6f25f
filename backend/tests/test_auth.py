"""Sign-in and per-user access (issue 14), on SQLite and PostgreSQL: accounts (AUTH_MODE=password),
the sign-in cookie, CSRF, personal API tokens on REST and the socket, the gateway's header
(AUTH_MODE=proxy), the `agente-films user` commands and the loopback guard of `serve`; and the
attacks of the issue, which must all fail: X-User-Id and `?user_id` spoofs, and a second user
reaching the first one's work through any route.

The app runs in process (httpx.ASGITransport) where the HTTP layer is enough, and as a real
server process where a real socket or a real client address matters.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from agente_films import cli
from agente_films.api.app import create_app
from agente_films.auth import passwords
from agente_films.auth.accounts import Accounts
from agente_films.auth.secrets import token_hash
from agente_films.db.engine import make_engine, make_sessionmaker
from agente_films.db.tables import ApiToken, ShareLink, SignIn, StudioSession, User, as_utc, utcnow
from agente_films.settings import Settings, get_settings
from agente_films.studio import Studio
from sqlalchemy import select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, attach_studio, make_settings, row_counts
from tests.test_pipeline import WIKI

PASSWORD = "correct horse battery"
COOKIE = "af_session"
# Other tests own the limits; these send many requests and sign-ins from one address.
LIMITS_OFF = {
    "rate_limit_ip_per_minute": 0, "rate_limit_user_per_hour": 0, "rate_limit_runs_per_user_hour": 0,
    "max_concurrent_runs_per_user": 0, "max_sockets_per_user": 0,
    "signin_attempts_per_account_15min": 0, "signin_attempts_per_ip_hour": 0,
}
SERVER_LIMITS_OFF = {name.upper(): str(value) for name, value in LIMITS_OFF.items()}


# -- the app in process ---------------------------------------------------------------------------


@dataclass
class Site:
    """The real app (routes, dependencies, error mapping) with its studio; any number of clients
    (browsers, scripts, gateways) on it."""

    app: Any
    studio: Studio
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, *, base: str = "http://localhost", peer: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(peer, 50000))
        client = httpx.AsyncClient(transport=transport, base_url=f"{base}/api/v1", **kwargs)
        self.clients.append(client)
        return client

    @property
    def accounts(self) -> Accounts:
        return Accounts(self.studio.settings, self.studio.sessionmaker)


MakeSite = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site(database_url: str, tmp_path: Path) -> AsyncIterator[MakeSite]:
    sites: list[Site] = []

    async def make(**overrides: Any) -> Site:
        settings = make_settings(database_url, tmp_path, wikipedia_base_url=WIKI, **{**LIMITS_OFF, **overrides})
        app = create_app(settings)
        studio = await Studio.open(settings)
        attach_studio(app, studio)
        sites.append(Site(app, studio))
        return sites[-1]

    yield make
    for site in sites:
        for client in site.clients:
            await client.aclose()
        await site.studio.close()


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, *, csrf: bool = True) -> dict:
    """Signs the client in (its cookie jar keeps the cookie); with `csrf` it sends the page's CSRF
    token on every request from then on, as the UI does."""
    response = await client.post("/auth/signin", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    me = response.json()
    if csrf:
        client.headers["X-CSRF-Token"] = me["csrf_token"]
    return me


def cookie_attributes(response: httpx.Response) -> list[str]:
    [cookie] = response.headers.get_list("set-cookie")
    return [part.strip().lower() for part in cookie.split(";")]


def raw_json(body: dict) -> dict[str, Any]:
    """A JSON body as a browser may send it: lone surrogates escaped (httpx's json= cannot)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


# -- AUTH_MODE=none --------------------------------------------------------------------------------


async def test_none_mode_is_the_local_user_and_has_no_sign_in(make_site: MakeSite) -> None:
    site = await make_site()
    client = site.client()
    assert (await client.get("/auth/config")).json() == {"auth_mode": "none", "signup_open": False, "oidc_enabled": False}
    me = await client.get("/auth/me")
    assert me.json() == {"user_id": "local", "username": "local", "is_admin": True, "via": "none", "csrf_token": None}

    credentials = {"username": "alice", "password": PASSWORD}
    for path, body in (
        ("/auth/signup", credentials),
        ("/auth/signin", credentials),
        ("/auth/password", {"current_password": PASSWORD, "new_password": PASSWORD + "!"}),
        ("/auth/tokens", {"name": "script"}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 404, (path, response.text)
        assert "AUTH_MODE=none" in response.json()["detail"]
        assert "set-cookie" not in response.headers
    assert (await client.get("/auth/tokens")).status_code == 404
    assert not await site.accounts.has_users()


# -- accounts, the cookie, sign-out, password change -----------------------------------------------


async def test_sign_up_is_refused_while_closed_and_signs_in_when_open(make_site: MakeSite) -> None:
    closed = await make_site(auth_mode="password")
    client = closed.client()
    assert (await client.get("/auth/config")).json() == {"auth_mode": "password", "signup_open": False, "oidc_enabled": False}
    refused = await client.post("/auth/signup", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "set-cookie" not in refused.headers
    assert not await closed.accounts.has_users()
    assert (await client.get("/auth/me")).status_code == 401

    site = await make_site(auth_mode="password", signup_open=True)
    client = site.client()
    assert (await client.get("/auth/config")).json()["signup_open"] is True
    made = await client.post("/auth/signup", json={"username": " Alice ", "password": PASSWORD})
    assert made.status_code == 201, made.text
    me = made.json()
    assert me["username"] == "alice" and me["via"] == "cookie" and me["csrf_token"] and me["is_admin"] is False
    assert "httponly" in cookie_attributes(made)
    assert (await client.get("/auth/me")).json() == me

    for body, status in (
        ({"username": "ALICE", "password": PASSWORD}, 409),  # names are case-insensitive
        ({"username": "a b", "password": PASSWORD}, 422),
        ({"username": "../etc", "password": PASSWORD}, 422),
        ({"username": "bob", "password": "too short"}, 422),
        ({"username": "bob", "password": "x" * 257}, 422),
        ({"username": "bob", "password": "ten chars \x00 and NUL"}, 422),
        ({"username": "bob", "password": "\ud800 lone surrogate"}, 422),
    ):
        response = await site.client().post("/auth/signup", **raw_json(body))
        assert response.status_code == status, (body, response.text)
        assert "set-cookie" not in response.headers
    assert [user.username for user in await site.accounts.users()] == ["alice"]


async def test_sign_in_sets_a_safe_cookie_and_refuses_bad_credentials_alike(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = await make_site(auth_mode="password")
    await site.accounts.add_user("alice", PASSWORD)
    checked: list[str] = []
    verify = passwords._hasher.verify
    monkeypatch.setattr(passwords._hasher, "verify", lambda password, stored: checked.append(stored) or verify(password, stored))

    client = site.client()
    wrong = await client.post("/auth/signin", json={"username": "alice", "password": "not the password"})
    unknown = await client.post("/auth/signin", json={"username": "mallory", "password": "not the password"})
    long = await client.post("/auth/signin", json={"username": "alice", "password": "x" * 1000})
    for response in (wrong, unknown, long):
        assert response.status_code == 401
        assert response.json() == {"detail": "Wrong username or password.", "code": "bad_credentials"}
        assert "set-cookie" not in response.headers
    # An unknown name costs a hash check too (on a dummy hash): timing does not tell it apart.
    assert len(checked) == 3
    assert (await client.get("/auth/me")).status_code == 401

    good = await client.post("/auth/signin", json={"username": "  ALICE", "password": PASSWORD})
    assert good.status_code == 200, good.text
    attributes = cookie_attributes(good)
    assert attributes[0].startswith(f"{COOKIE}=")
    assert {"httponly", "samesite=lax", "path=/", f"max-age={14 * 86400}"} <= set(attributes)
    assert "secure" not in attributes  # plain http, COOKIE_SECURE unset
    me = good.json()
    assert me["username"] == "alice" and me["via"] == "cookie" and me["csrf_token"]
    assert (await client.get("/auth/me")).json() == me
    # The database keeps the cookie's hash, not the cookie.
    value = client.cookies[COOKIE]
    async with site.studio.sessionmaker() as db:
        assert [row.token_hash for row in (await db.scalars(select(SignIn))).all()] == [token_hash(value)]

    # Secure over https (the scheme uvicorn takes from a trusted proxy), and when COOKIE_SECURE says so.
    https = await site.client(base="https://localhost").post("/auth/signin", json={"username": "alice", "password": PASSWORD})
    assert "secure" in cookie_attributes(https)
    forced = await make_site(auth_mode="password", cookie_secure=True)
    secure = await forced.client().post("/auth/signin", json={"username": "alice", "password": PASSWORD})
    assert "secure" in cookie_attributes(secure)
    plain = await make_site(auth_mode="password", cookie_secure=False)
    insecure = await plain.client(base="https://localhost").post("/auth/signin", json={"username": "alice", "password": PASSWORD})
    assert "secure" not in cookie_attributes(insecure)


async def test_sign_out_ends_the_sign_in_and_the_old_cookie_is_worthless(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="password")
    await site.accounts.add_user("alice", PASSWORD)
    client = site.client()
    await sign_in(client, "alice")
    value = client.cookies[COOKIE]
    assert (await client.post("/sessions", json={})).status_code == 201

    out = await client.post("/auth/signout")
    assert out.status_code == 204, out.text
    assert "max-age=0" in cookie_attributes(out)
    assert (await client.get("/auth/me")).status_code == 401

    replayed = site.client(cookies={COOKIE: value})
    for response in (await replayed.get("/auth/me"), await replayed.get("/sessions")):
        assert response.status_code == 401 and response.json()["code"] == "not_signed_in"
    async with site.studio.sessionmaker() as db:
        assert (await db.scalars(select(SignIn))).all() == []

    # Signing in again on a browser that still holds a cookie ends that one (no fixation).
    planted = site.client()
    await sign_in(planted, "alice")
    first = planted.cookies[COOKIE]
    await sign_in(planted, "alice")
    assert planted.cookies[COOKIE] != first
    assert (await site.client(cookies={COOKIE: first}).get("/auth/me")).status_code == 401


async def test_a_password_change_needs_the_current_one_and_signs_out_other_browsers(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="password")
    await site.accounts.add_user("alice", PASSWORD)
    laptop, phone = site.client(), site.client()
    await sign_in(laptop, "alice")
    await sign_in(phone, "alice")

    wrong = await laptop.post("/auth/password", json={"current_password": "not the password", "new_password": "a new password!"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "forbidden"
    weak = await laptop.post("/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 422
    assert (await phone.get("/auth/me")).status_code == 200  # refusals change nothing

    changed = await laptop.post("/auth/password", json={"current_password": PASSWORD, "new_password": "a new password!"})
    assert changed.status_code == 204, changed.text
    assert (await laptop.get("/auth/me")).status_code == 200  # this browser stays signed in
    assert (await laptop.post("/sessions", json={})).status_code == 201  # and its CSRF token still works
    assert (await phone.get("/auth/me")).status_code == 401
    old = await site.client().post("/auth/signin", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401
    await sign_in(site.client(), "alice", "a new password!")


# -- API tokens and CSRF ---------------------------------------------------------------------------


async def test_api_tokens_are_shown_once_stored_hashed_and_stop_when_revoked_or_expired(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="password")
    await site.accounts.add_user("alice", PASSWORD)
    await site.accounts.add_user("bob", PASSWORD)
    browser = site.client()
    alice = await sign_in(browser, "alice")

    made = await browser.post("/auth/tokens", json={"name": "nightly script"})
    assert made.status_code == 201, made.text
    created = made.json()
    secret = created["token"]
    assert secret.startswith("afp_") and len(secret) > 40
    assert created["prefix"] == secret[:12] and created["name"] == "nightly script" and created["expires_at"] is None

    listed = (await browser.get("/auth/tokens")).json()
    assert [item["id"] for item in listed] == [created["id"]]
    assert "token" not in listed[0] and secret not in json.dumps(listed)

    # The database holds its hash and prefix, never the token.
    async with site.studio.sessionmaker() as db:
        [row] = (await db.scalars(select(ApiToken))).all()
    assert row.token_hash == token_hash(secret)
    assert not any(isinstance(value, str) and secret in value for value in vars(row).values())

    script = site.client(headers={"Authorization": f"Bearer {secret}"})
    me = (await script.get("/auth/me")).json()
    assert me == {**alice, "via": "token", "csrf_token": None}
    # A token needs no CSRF token: no browser sends it by itself.
    session = await script.post("/sessions", json={"title": "From a script"})
    assert session.status_code == 201
    assert (await browser.get(f"/sessions/{session.json()['id']}")).status_code == 200
    async with site.studio.sessionmaker() as db:
        assert (await db.get(ApiToken, created["id"])).last_used_at is not None

    # Bob can neither see nor revoke it.
    bob = site.client()
    await sign_in(bob, "bob")
    assert (await bob.get("/auth/tokens")).json() == []
    assert (await bob.delete(f"/auth/tokens/{created['id']}")).status_code == 404
    assert (await script.get("/auth/me")).status_code == 200

    revoked = await browser.delete(f"/auth/tokens/{created['id']}")
    assert revoked.status_code == 204
    for response in (await script.get("/auth/me"), await script.get("/sessions"), await script.post("/sessions", json={})):
        assert response.status_code == 401 and response.json()["code"] == "not_signed_in"
    assert (await browser.delete(f"/auth/tokens/{created['id']}")).status_code == 404
    assert (await browser.get("/auth/tokens")).json() == []

    # Expiry: one that lasts a day works, and not once the day is over.
    lasting = (await browser.post("/auth/tokens", json={"name": "a day", "expires_in_days": 1})).json()
    assert lasting["expires_at"] is not None
    daily = site.client(headers={"Authorization": f"Bearer {lasting['token']}"})
    assert (await daily.get("/auth/me")).status_code == 200
    async with site.studio.sessionmaker.begin() as db:
        await db.execute(update(ApiToken).where(ApiToken.id == lasting["id"]).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await daily.get("/auth/me")).status_code == 401
    assert [item["id"] for item in (await browser.get("/auth/tokens")).json()] == [lasting["id"]]  # listed, to revoke

    for body in ({"name": ""}, {"name": "x" * 101}, {"name": "t", "expires_in_days": 0}, {"name": "nul\x00"}):
        assert (await browser.post("/auth/tokens", json=body)).status_code == 422, body
    for junk in ("afp_not-a-token", "", "x" * 5000):
        assert (await site.client(headers={"Authorization": f"Bearer {junk}"}).get("/auth/me")).status_code == 401


async def test_a_cookie_change_needs_its_csrf_token_and_a_refused_one_changes_nothing(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="password")
    await site.accounts.add_user("alice", PASSWORD)
    await site.accounts.add_user("bob", PASSWORD)
    alice = site.client()
    me = await sign_in(alice, "alice", csrf=False)
    csrf = {"X-CSRF-Token": me["csrf_token"]}
    bob_csrf = (await sign_in(site.client(), "bob"))["csrf_token"]
    session_id = (await alice.post("/sessions", json={"title": "Mine"}, headers=csrf)).json()["id"]
    before = await row_counts(site.studio)

    changes = (
        ("POST", "/sessions", {"title": "made elsewhere"}),
        ("PATCH", f"/sessions/{session_id}", {"title": "renamed elsewhere"}),
        ("DELETE", f"/sessions/{session_id}", None),
        ("POST", f"/sessions/{session_id}/messages/async", {"content": "Ada Lovelace"}),
        ("POST", "/projects", {"session_id": session_id, "title": "x", "subject": "y"}),
        ("POST", "/auth/tokens", {"name": "stolen"}),
        ("POST", "/auth/password", {"current_password": PASSWORD, "new_password": "taken over!!"}),
        ("POST", "/auth/signout", None),
    )
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": bob_csrf}):
        for method, path, body in changes:
            response = await alice.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, headers, response.text)
            assert response.json()["code"] == "csrf_failed"
    # A cross-site form post (text/plain, no custom header) is refused the same way.
    form = await alice.post("/sessions", content='{"title": "x"}', headers={"Content-Type": "text/plain"})
    assert form.status_code == 403 and form.json()["code"] == "csrf_failed"

    assert await row_counts(site.studio) == before
    assert (await alice.get(f"/sessions/{session_id}")).json()["title"] == "Mine"
    assert (await alice.get("/auth/tokens")).json() == []
    assert (await alice.get("/auth/me")).status_code == 200  # not signed out, password unchanged
    await sign_in(site.client(), "alice")

    renamed = await alice.patch(f"/sessions/{session_id}", json={"title": "Renamed"}, headers=csrf)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    token = (await alice.post("/auth/tokens", json={"name": "t"}, headers=csrf)).json()["token"]
    assert (await site.client(headers={"Authorization": f"Bearer {token}"}).post("/sessions", json={})).status_code == 201


# -- the attacks: X-User-Id and ?user_id spoofs ----------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "password", "oidc", "proxy"])
async def test_x_user_id_is_trusted_in_no_mode(make_site: MakeSite, mode: str) -> None:
    site = await make_site(
        auth_mode=mode, trusted_proxies=["127.0.0.1"], oidc_issuer="http://127.0.0.1:9", oidc_client_id="films"
    )
    victim = await site.accounts.add_user("alice", PASSWORD)
    theirs = await site.studio.create_session(victim.id, "Alice's pitch")
    spoofer = site.client()
    for claimed in (victim.id, "alice", "local"):
        spoof = {"X-User-Id": claimed}
        if mode == "none":  # everyone is the local user, whatever they claim
            assert (await spoofer.get("/auth/me", headers=spoof)).json()["user_id"] == "local"
            assert (await spoofer.get(f"/sessions/{theirs.id}", headers=spoof)).status_code == 404
            made = await spoofer.post("/sessions", json={}, headers=spoof)
            async with site.studio.sessionmaker() as db:
                assert (await db.get(StudioSession, made.json()["id"])).user_id == "local"
        else:  # nobody is signed in (in proxy mode: no gateway header, from a trusted address too)
            for response in (
                await spoofer.get("/auth/me", headers=spoof),
                await spoofer.get(f"/sessions/{theirs.id}", headers=spoof),
                await spoofer.get("/sessions", headers=spoof),
                await spoofer.post("/sessions", json={}, headers=spoof),
            ):
                assert response.status_code == 401, (claimed, response.text)
    async with site.studio.sessionmaker() as db:
        owners = (await db.scalars(select(StudioSession.user_id))).all()
    assert owners.count(victim.id) == 1 and set(owners) <= {victim.id, "local"}


# -- AUTH_MODE=proxy -------------------------------------------------------------------------------


async def test_proxy_mode_trusts_the_gateway_header_only_from_trusted_addresses(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="proxy", trusted_proxies=["10.1.0.0/16", "::1"])
    gateway = site.client(peer="10.1.2.3")
    stranger = site.client(peer="203.0.113.9")
    as_carol = {"X-Forwarded-User": "Carol"}

    first = await gateway.get("/auth/me", headers=as_carol)
    assert first.status_code == 200, first.text
    me = first.json()
    assert me["username"] == "carol" and me["via"] == "proxy" and me["csrf_token"]
    assert (await gateway.get("/auth/me", headers=as_carol)).json() == me  # the same account again

    # The gateway's cookie authenticates the browser, so another site could make it send that:
    # a change needs the page's CSRF token here too (another user's token does not do).
    erin_csrf = (await gateway.get("/auth/me", headers={"X-Forwarded-User": "erin"})).json()["csrf_token"]
    assert erin_csrf != me["csrf_token"]
    for forged in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": erin_csrf}):
        refused = await gateway.post("/sessions", json={}, headers={**as_carol, **forged})
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed", forged
    assert (await gateway.get("/sessions", headers=as_carol)).json()["items"] == []
    as_carol["X-CSRF-Token"] = me["csrf_token"]
    made = await gateway.post("/sessions", json={}, headers=as_carol)
    assert made.status_code == 201
    # A Bearer token of carol's needs none.
    token = (await gateway.post("/auth/tokens", json={"name": "script"}, headers=as_carol)).json()["token"]
    script = site.client(peer="203.0.113.9", headers={"Authorization": f"Bearer {token}"})
    assert (await script.post("/sessions", json={})).status_code == 201
    assert (await script.delete(f"/sessions/{made.json()['id']}")).status_code == 204
    made = await gateway.post("/sessions", json={}, headers=as_carol)
    assert made.json()["id"] in [s["id"] for s in (await gateway.get("/sessions", headers=as_carol)).json()["items"]]

    for client, headers in (
        (stranger, as_carol),  # the header from anyone else is ignored
        (stranger, {"X-Forwarded-User": "carol", "X-Forwarded-For": "10.1.2.3"}),
        (gateway, {}),
        (gateway, {"X-Forwarded-User": "../../etc"}),
        (gateway, {"X-Forwarded-User": "two words"}),
        (gateway, {"X-User-Id": me["user_id"]}),
    ):
        for response in (await client.get("/auth/me", headers=headers), await client.get(f"/sessions/{made.json()['id']}", headers=headers)):
            assert response.status_code == 401, (headers, response.text)
    for path in ("/auth/signin", "/auth/signup"):
        assert (await gateway.post(path, json={"username": "carol", "password": PASSWORD}, headers=as_carol)).status_code == 404

    # Many first requests for a new name at once make one account, and every one is signed in.
    answers = await asyncio.gather(*(gateway.get("/auth/me", headers={"X-Forwarded-User": "dave"}) for _ in range(8)))
    assert {response.status_code for response in answers} == {200}
    assert len({response.json()["user_id"] for response in answers}) == 1
    assert [user.username for user in await site.accounts.users()] == ["carol", "dave", "erin"]


# -- a real server: tokens on the socket, and a second user against every route --------------------


@dataclass
class Person:
    client: httpx.AsyncClient
    me: dict

    @property
    def cookie(self) -> str:
        return f"{COOKIE}={self.client.cookies[COOKIE]}"


async def signed_up(server: ServerProcess, name: str) -> Person:
    client = httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=120)
    response = await client.post("/auth/signup", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return Person(client, response.json())


def password_server(start_server: Callable[..., ServerProcess], database_url: str) -> ServerProcess:
    return start_server(database_url, AUTH_MODE="password", SIGNUP_OPEN="true", **SERVER_LIMITS_OFF)


async def socket_hello(server: ServerProcess, session_id: str, headers: dict[str, str]) -> dict:
    async with connect(f"{server.ws_url}/api/v1/ws/{session_id}", additional_headers=headers) as socket:
        hello = json.loads(await asyncio.wait_for(socket.recv(), 20))
        await socket.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(20):  # after the replay of the session's frames
            while json.loads(await socket.recv()) != {"control": "pong"}:
                pass
    assert hello["control"] == "hello"
    return hello


async def socket_refusal(server: ServerProcess, path: str, headers: dict[str, str]) -> tuple[dict, int]:
    """The error frame a refused socket gets, and its close code."""
    async with connect(f"{server.ws_url}/api/v1/ws/{path}", additional_headers=headers) as socket:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 20))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 20)
    assert closed.value.rcvd is not None
    return frame, closed.value.rcvd.code


async def test_an_api_token_opens_the_socket_until_it_is_revoked(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    server = password_server(start_server, database_url)
    alice = await signed_up(server, "alice")
    try:
        token = (await alice.client.post("/auth/tokens", json={"name": "socket script"})).json()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers=bearer) as script:
            session_id = (await script.post("/sessions", json={"title": "Scripted"})).json()["id"]

            hello = await socket_hello(server, session_id, bearer)
            assert hello["sessionId"] == session_id
            assert (await socket_hello(server, session_id, {"Cookie": alice.cookie}))["sessionId"] == session_id

            for headers in ({}, {"Authorization": "Bearer afp_guessed"}, {"X-User-Id": alice.me["user_id"]}):
                frame, code = await socket_refusal(server, session_id, headers)
                assert (frame["code"], frame["status"], code) == ("not_signed_in", 401, 4401)

            assert (await alice.client.delete(f"/auth/tokens/{token['id']}")).status_code == 204
            assert (await script.get("/sessions")).status_code == 401
            frame, code = await socket_refusal(server, session_id, bearer)
            assert (frame["code"], code) == ("not_signed_in", 4401)
    finally:
        await alice.client.aclose()


def agui_input(thread_id: str) -> dict:
    return {
        "threadId": thread_id, "runId": "client-run", "state": {}, "tools": [], "context": [], "forwardedProps": {},
        "messages": [{"id": str(uuid.uuid4()), "role": "user", "content": "Make it about Babbage"}],
    }


async def alice_view(alice: Person, session_id: str, project_id: str, filename: str) -> dict[str, Any]:
    """Everything alice sees of her session (what bob's attempts must leave as it was)."""
    view: dict[str, Any] = {}
    for path in (
        f"/sessions/{session_id}", f"/sessions/{session_id}/history", f"/sessions/{session_id}/states",
        f"/sessions/{session_id}/state", f"/sessions/{session_id}/pitches", f"/sessions/{session_id}/branches",
        f"/sessions/{session_id}/pitches/{filename}", f"/projects/{project_id}",
    ):
        response = await alice.client.get(path)
        assert response.status_code == 200, (path, response.text)
        view[path] = response.text
    return view


async def test_a_second_user_gets_404_for_the_first_users_work_on_every_route(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    server = password_server(start_server, database_url)
    alice, bob = await signed_up(server, "alice"), await signed_up(server, "bob")
    engine = make_engine(database_url)
    stored = SimpleNamespace(sessionmaker=make_sessionmaker(engine))
    try:
        # Alice's finished pitch: a run, documents, drafts, state versions and a project.
        A = (await alice.client.post("/sessions", json={"title": "Alice's pitch"})).json()["id"]
        ran = await alice.client.post(f"/sessions/{A}/messages", json={"content": "I'd like a film about Ada Lovelace"})
        assert ran.status_code == 200 and ran.json()["status"] == "completed", ran.text
        run_id = ran.json()["run_id"]
        [pitch] = (await alice.client.get(f"/sessions/{A}/pitches")).json()
        filename, version = pitch["filename"], pitch["latest_version"]
        draft = (await alice.client.get(f"/sessions/{A}/drafts")).json()[0]["version"]
        state_version = (await alice.client.get(f"/sessions/{A}/state")).json()["version"]
        [project] = (await alice.client.get("/projects", params={"session_id": A})).json()
        P = project["id"]
        B = (await bob.client.post("/sessions", json={"title": "Bob's own"})).json()["id"]
        theirs = f"a=draft:{A}:{draft}&b=pitch:{A}:{filename}:{version}"

        before_rows = await row_counts(stored)
        before_view = await alice_view(alice, A, P, filename)

        sweep: list[tuple[str, str, Any]] = [
            ("GET", f"/sessions/{A}", None),
            ("PATCH", f"/sessions/{A}", {"title": "bob was here"}),
            ("GET", f"/sessions/{A}/history", None),
            ("GET", f"/sessions/{A}/timeline", None),
            ("GET", f"/sessions/{A}/events", None),
            ("GET", f"/sessions/{A}/state", None),
            ("GET", f"/sessions/{A}/states", None),
            ("GET", f"/sessions/{A}/states/1", None),
            ("GET", f"/sessions/{A}/usage", None),
            ("GET", f"/sessions/{A}/pitches", None),
            ("GET", f"/sessions/{A}/pitches/{filename}?format=markdown", None),
            ("GET", f"/sessions/{A}/pitches/{filename}?format=pdf&version={version}", None),
            ("POST", f"/sessions/{A}/messages", {"content": "Make it about Babbage"}),
            ("POST", f"/sessions/{A}/messages/async", {"content": "Make it about Babbage"}),
            ("GET", f"/sessions/{A}/runs/{run_id}", None),
            ("POST", f"/sessions/{A}/runs/{run_id}/resume", None),
            ("POST", f"/sessions/{A}/cancel", None),
            ("POST", f"/sessions/{A}/regenerate", {"stage": "casting"}),
            ("PATCH", f"/sessions/{A}/state", {"expected_version": state_version, "changes": {"direction": {"tone": "darker"}}}),
            ("POST", f"/sessions/{A}/undo", None),
            ("POST", f"/sessions/{A}/branches", {"from_version": 1}),
            ("GET", f"/sessions/{A}/branches", None),
            ("GET", f"/sessions/{A}/drafts", None),
            ("GET", f"/sessions/{A}/drafts/{draft}", None),
            ("GET", f"/sessions/{A}/compare?{theirs}", None),
            ("GET", f"/sessions/{B}/compare?{theirs}", None),  # from his own session, her versions
            ("POST", "/projects", {"session_id": A, "title": "Taken", "subject": "Ada"}),
            ("GET", f"/projects/{P}", None),
            ("PUT", f"/projects/{P}", {"title": "bob was here"}),
            ("DELETE", f"/projects/{P}", None),
            ("POST", "/agui", agui_input(A)),
            ("DELETE", f"/sessions/{A}", None),
        ]
        for method, path, body in sweep:
            response = await bob.client.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
            assert alice.me["username"] not in response.text and "Ada" not in response.text

        # The same reads answer alice: the 404s above are about whose work it is, not the paths.
        for method, path, _ in sweep:
            if method == "GET" and not path.startswith(f"/sessions/{B}"):
                assert (await alice.client.get(path)).status_code == 200, path

        # Lists hold only bob's own.
        assert [s["id"] for s in (await bob.client.get("/sessions")).json()["items"]] == [B]
        assert (await bob.client.get("/projects", params={"session_id": A})).json() == []
        assert (await bob.client.get("/projects")).json() == []

        # The socket: bob's sign-in, with or without ?user_id=<alice>; nobody's, with it.
        for path, headers, expected in (
            (A, {"Cookie": bob.cookie}, ("session_not_found", 4404)),
            (f"{A}?user_id={alice.me['user_id']}", {"Cookie": bob.cookie}, ("session_not_found", 4404)),
            (f"{A}?user_id={alice.me['user_id']}", {}, ("not_signed_in", 4401)),
            (f"{A}?user_id=alice", {"X-User-Id": alice.me["user_id"]}, ("not_signed_in", 4401)),
        ):
            frame, code = await socket_refusal(server, path, headers)
            assert (frame["code"], code) == expected, (path, headers, frame)

        # Nobody signed in, claiming to be alice.
        async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers={"X-User-Id": alice.me["user_id"]}) as anonymous:
            assert (await anonymous.get(f"/sessions/{A}/history")).status_code == 401

        assert await row_counts(stored) == before_rows
        assert await alice_view(alice, A, P, filename) == before_view
        assert (await socket_hello(server, A, {"Cookie": alice.cookie}))["sessionId"] == A
    finally:
        await alice.client.aclose()
        await bob.client.aclose()
        await engine.dispose()


# -- an open socket follows the sign-in -------------------------------------------------------------


async def open_socket(server_ws_url: str, session_id: str, headers: dict[str, str]) -> Any:
    socket = await connect(f"{server_ws_url}/api/v1/ws/{session_id}", additional_headers=headers)
    hello = json.loads(await asyncio.wait_for(socket.recv(), 20))
    assert hello["control"] == "hello", hello
    return socket


async def still_open(socket: Any) -> None:
    """A cancel with no run in progress: a signed-in socket answers no_run and stays open."""
    await socket.send(json.dumps({"type": "cancel"}))
    frame = json.loads(await asyncio.wait_for(socket.recv(), 20))
    assert frame["control"] == "error" and frame["code"] == "no_run", frame


async def ends_signed_out(socket: Any, frame: dict | None = None) -> None:
    """The socket says not_signed_in and closes with 4401 (after `frame`, if one is sent)."""
    if frame is not None:
        await socket.send(json.dumps(frame))
    received: list[dict] = []
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(20):
            while True:
                received.append(json.loads(await socket.recv()))
    assert [f["code"] for f in received if f.get("control") == "error"] == ["not_signed_in"], received
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert not any(f.get("type") == "RUN_STARTED" for f in received)  # the message started nothing


async def test_an_open_socket_ends_at_sign_out_password_change_and_token_revoke(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    server = password_server(start_server, database_url)
    alice = await signed_up(server, "alice")
    browsers: list[httpx.AsyncClient] = [alice.client]
    try:
        async def browser() -> Person:
            client = httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=120)
            browsers.append(client)
            me = await sign_in(client, "alice")
            return Person(client, me)

        laptop, tablet = await browser(), await browser()
        token = (await alice.client.post("/auth/tokens", json={"name": "socket script"})).json()
        session_id = (await alice.client.post("/sessions", json={"title": "Live"})).json()["id"]
        phone_socket = await open_socket(server.ws_url, session_id, {"Cookie": alice.cookie})
        laptop_socket = await open_socket(server.ws_url, session_id, {"Cookie": laptop.cookie})
        tablet_socket = await open_socket(server.ws_url, session_id, {"Cookie": tablet.cookie})
        script_socket = await open_socket(server.ws_url, session_id, {"Authorization": f"Bearer {token['token']}"})
        for socket in (phone_socket, laptop_socket, tablet_socket, script_socket):
            await still_open(socket)

        # Signed out on the laptop: its socket's next message is refused and the socket ends.
        assert (await laptop.client.post("/auth/signout")).status_code == 204
        await ends_signed_out(laptop_socket, {"type": "message", "content": "Make it about Ada Lovelace"})
        assert (await alice.client.get(f"/sessions/{session_id}/history")).json()["items"] == []

        # A password change on the phone signs the tablet out, socket included; the phone stays.
        changed = await alice.client.post("/auth/password", json={"current_password": PASSWORD, "new_password": "a new password!"})
        assert changed.status_code == 204, changed.text
        await ends_signed_out(tablet_socket, {"type": "cancel"})
        await still_open(phone_socket)

        # A revoked token ends the script's socket.
        await still_open(script_socket)
        assert (await alice.client.delete(f"/auth/tokens/{token['id']}")).status_code == 204
        await ends_signed_out(script_socket, {"type": "cancel"})
        await still_open(phone_socket)
        await phone_socket.close()
    finally:
        for client in browsers:
            await client.aclose()


@dataclass
class LiveApp:
    """The app of a Site served by uvicorn in this process (so a test can shorten its timers)."""

    site: Site
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@pytest.fixture
async def serve_site() -> AsyncIterator[Callable[[Site], Awaitable[LiveApp]]]:
    import uvicorn

    from tests.conftest import free_port

    servers: list[tuple[uvicorn.Server, asyncio.Task]] = []

    async def serve(site: Site) -> LiveApp:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(site.app, host="127.0.0.1", port=port, lifespan="off", ws="websockets",
                                               proxy_headers=False, log_level="warning"))
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.05)
        return LiveApp(site, port)

    yield serve
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


async def test_a_listening_socket_ends_when_its_user_is_removed_and_their_links_die(
    make_site: MakeSite, serve_site: Callable[[Site], Awaitable[LiveApp]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agente_films.api.routes import ws

    monkeypatch.setattr(ws, "REIDENTIFY_SECONDS", 0.2)  # the timer, not a message, must notice
    site = await make_site(auth_mode="password")
    live = await serve_site(site)
    alice, bob = await site.accounts.add_user("alice", PASSWORD), await site.accounts.add_user("bob", PASSWORD)
    alice_token = (await site.accounts.create_token(alice.id, "script")).secret
    bob_token = (await site.accounts.create_token(bob.id, "script")).secret
    alice_api = site.client(headers={"Authorization": f"Bearer {alice_token}"})
    session_id = (await alice_api.post("/sessions", json={"title": "Shared"})).json()["id"]
    bob_session = (await site.client(headers={"Authorization": f"Bearer {bob_token}"}).post("/sessions", json={})).json()["id"]
    made = await alice_api.post(f"/sessions/{session_id}/shares", json={"days": 7})
    assert made.status_code == 201, made.text
    shared = "/shared/" + made.json()["url"].rsplit("/shared/", 1)[1]
    visitor = site.client()
    assert (await visitor.get(shared)).status_code == 200

    alice_socket = await open_socket(live.ws_url, session_id, {"Authorization": f"Bearer {alice_token}"})
    bob_socket = await open_socket(live.ws_url, bob_session, {"Authorization": f"Bearer {bob_token}"})
    await asyncio.sleep(0.5)  # a few checks pass while she is there
    await still_open(alice_socket)

    await site.accounts.remove_user("alice")
    await ends_signed_out(alice_socket)  # sending nothing: the periodic check closes it
    await still_open(bob_socket)
    await bob_socket.close()

    # Her share links went with her account (in the same transaction), the same 404 as any dead link.
    gone = await visitor.get(shared)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    async with site.studio.sessionmaker() as db:
        assert (await db.scalars(select(ShareLink))).all() == []


# -- AUTH_MODE=proxy behind proxies that forward addresses (a real server) --------------------------


async def test_proxy_mode_checks_the_real_peer_not_x_forwarded_for(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    # With FORWARDED_ALLOW_IPS='*' (docker-compose) uvicorn believes any X-Forwarded-For: a
    # client naming the gateway's address there must not become whoever it asserts.
    elsewhere = start_server(database_url, AUTH_MODE="proxy", TRUSTED_PROXIES="10.20.30.40",
                             FORWARDED_ALLOW_IPS="*", **SERVER_LIMITS_OFF)
    spoof = {"X-Forwarded-For": "10.20.30.40", "X-Forwarded-User": "admin"}
    async with httpx.AsyncClient(base_url=f"{elsewhere.url}/api/v1") as attacker:
        for response in (await attacker.get("/auth/me", headers=spoof), await attacker.get("/sessions", headers=spoof)):
            assert response.status_code == 401, response.text
    frame, code = await socket_refusal(elsewhere, str(uuid.uuid4()), spoof)
    assert (frame["code"], code) == ("not_signed_in", 4401)

    # A gateway on loopback that forwards its clients' addresses: its users are signed in, and
    # the rate limits still count each client address (X-Forwarded-For from a trusted proxy).
    limits = {**SERVER_LIMITS_OFF, "RATE_LIMIT_IP_PER_MINUTE": "3"}
    gateway = start_server(database_url, AUTH_MODE="proxy", TRUSTED_PROXIES="127.0.0.1", FORWARDED_ALLOW_IPS="*", **limits)
    async with httpx.AsyncClient(base_url=f"{gateway.url}/api/v1") as proxy:
        as_carol = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-User": "carol"}
        for _ in range(3):
            me = await proxy.get("/auth/me", headers=as_carol)
            assert me.status_code == 200, me.text
            assert me.json()["username"] == "carol" and me.json()["via"] == "proxy"
        assert (await proxy.get("/auth/me", headers=as_carol)).status_code == 429
        other = await proxy.get("/auth/me", headers={**as_carol, "X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 200 and other.json()["username"] == "carol"


# -- Secure cookies behind TLS, settings that refuse to start, token use ----------------------------


async def test_cookies_are_secure_when_public_url_is_https_even_over_plain_http(make_site: MakeSite) -> None:
    from agente_films.auth.cookies import secure_cookies

    # Behind nginx on port 80 behind an outer TLS terminator, the request arrives as http.
    site = await make_site(auth_mode="password", public_url="https://films.example.com")
    await site.accounts.add_user("alice", PASSWORD)
    signed = await site.client().post("/auth/signin", json={"username": "alice", "password": PASSWORD})
    assert signed.status_code == 200 and "secure" in cookie_attributes(signed)

    # COOKIE_SECURE decides over PUBLIC_URL; the OIDC hand-shake cookie follows the same rule.
    for overrides, secure in (
        ({"public_url": "https://films.example.com"}, True),
        ({"public_url": "HTTPS://films.example.com"}, True),
        ({"public_url": "http://films.lan"}, False),
        ({}, False),
        ({"public_url": "https://films.example.com", "cookie_secure": False}, False),
        ({"public_url": "http://films.lan", "cookie_secure": True}, True),
    ):
        assert secure_cookies(Settings(_env_file=None, **overrides)) is secure, overrides


def test_settings_refuse_redis_without_a_shared_key_and_any_host_without_sign_in() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SECRET_KEY is empty"):
        Settings(_env_file=None, redis_url="redis://redis:6379/0")
    with pytest.raises(ValidationError, match="SECRET_KEY is empty"):
        Settings(_env_file=None, redis_url="redis://redis:6379/0", secret_key="  ")
    assert Settings(_env_file=None, redis_url="redis://redis:6379/0", secret_key="shared").redis_url

    with pytest.raises(ValidationError, match="DNS rebinding"):
        Settings(_env_file=None, allowed_hosts="films.lan, *")
    for mode, extra in (("password", {}), ("proxy", {}), ("oidc", {"oidc_issuer": "https://id.example.com", "oidc_client_id": "x"})):
        assert Settings(_env_file=None, allowed_hosts=["*"], auth_mode=mode, **extra).allowed_hosts == ["*"]
    assert Settings(_env_file=None, allowed_hosts=["*.example.com"]).auth_mode == "none"


async def test_a_tokens_last_use_is_written_at_most_every_few_minutes(make_site: MakeSite) -> None:
    site = await make_site(auth_mode="password")
    alice = await site.accounts.add_user("alice", PASSWORD)
    made = await site.accounts.create_token(alice.id, "script")
    script = site.client(headers={"Authorization": f"Bearer {made.secret}"})

    async def last_used() -> Any:
        async with site.studio.sessionmaker() as db:
            return (await db.get(ApiToken, made.row.id)).last_used_at

    assert (await script.get("/auth/me")).status_code == 200
    first = await last_used()
    assert first is not None
    for _ in range(3):
        assert (await script.get("/auth/me")).status_code == 200
    assert await last_used() == first  # no write per request
    async with site.studio.sessionmaker.begin() as db:
        await db.execute(update(ApiToken).where(ApiToken.id == made.row.id).values(last_used_at=utcnow() - timedelta(minutes=6)))
    assert (await script.get("/auth/me")).status_code == 200
    assert as_utc(await last_used()) > utcnow() - timedelta(minutes=1)


# -- the CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`agente-films` reads its settings from the environment, as in a terminal."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("AUTH_MODE", "password")
    level = logging.getLogger().level
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    logging.getLogger().setLevel(level)


async def run_cli(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return await asyncio.to_thread(cli.main, list(argv))  # it runs its own event loop


async def test_the_user_commands_add_list_remove_and_make_tokens(
    cli_env: None, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli(monkeypatch, "user", "add", "Alice", "--password-stdin", stdin=PASSWORD + "\n") == 0
    assert capsys.readouterr().out == "Added alice (admin).\n"  # the first account is an admin
    assert await run_cli(monkeypatch, "user", "add", "bob", "--password-stdin", stdin=PASSWORD + "\r\n") == 0
    assert capsys.readouterr().out == "Added bob.\n"
    assert await run_cli(monkeypatch, "user", "add", "carol", "--admin", "--password-stdin", stdin=PASSWORD) == 0
    assert capsys.readouterr().out == "Added carol (admin).\n"

    for argv, stdin, says in (
        (("user", "add", "BOB", "--password-stdin"), PASSWORD, "taken"),
        (("user", "add", "dave", "--password-stdin"), "short\n", "at least 10"),
        (("user", "add", "no way", "--password-stdin"), PASSWORD, "username"),
        (("user", "remove", "nobody"), "", "No account"),
        (("user", "token", "nobody"), "", "No account"),
    ):
        assert await run_cli(monkeypatch, *argv, stdin=stdin) == 1, argv
        output = capsys.readouterr()
        assert says in output.err and output.out == "", (argv, output)

    # Without --password-stdin it asks twice, hidden.
    answers = iter([PASSWORD, PASSWORD, PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert await run_cli(monkeypatch, "user", "add", "erin") == 0
    with pytest.raises(SystemExit, match="differ"):
        await run_cli(monkeypatch, "user", "add", "frank")
    capsys.readouterr()

    assert await run_cli(monkeypatch, "user", "list") == 0
    rows = [line.split("\t")[:3] for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["alice", "admin", "password"], ["bob", "user", "password"], ["carol", "admin", "password"],
        ["erin", "user", "password"],
    ]

    # A token for scripts: printed alone on stdout, once; it signs bob in.
    assert await run_cli(monkeypatch, "user", "token", "bob", "--name", "backup job", "--expires-days", "30") == 0
    output = capsys.readouterr()
    token = output.out.strip()
    assert token.startswith("afp_") and output.out == token + "\n" and token[:12] in output.err
    settings = make_settings(database_url, tmp_path, auth_mode="password", **LIMITS_OFF)
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost/api/v1",
            headers={"Authorization": f"Bearer {token}"},
        ) as script:
            me = await script.get("/auth/me")
            assert me.status_code == 200 and me.json()["username"] == "bob"
            [listed] = (await script.get("/auth/tokens")).json()
            assert listed["name"] == "backup job" and listed["expires_at"] is not None
            await Accounts(settings, studio.sessionmaker).sign_in("bob", PASSWORD)

            assert await run_cli(monkeypatch, "user", "remove", "BOB") == 0
            assert "Removed bob" in capsys.readouterr().out
            assert (await script.get("/auth/me")).status_code == 401  # his token died with him
        async with studio.sessionmaker() as db:
            assert (await db.scalars(select(ApiToken))).all() == []
            assert [u.username for u in (await db.scalars(select(User).order_by(User.username))).all()] == ["alice", "carol", "erin"]
    finally:
        await studio.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "localhost", "LocalHost", "::1", "[::1]"])
def test_none_mode_may_listen_on_loopback(host: str) -> None:
    assert cli.unauthenticated_remote_refusal(Settings(_env_file=None), host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "films.example.com", "localhost.evil.example"])
def test_none_mode_refuses_any_other_address_unless_opted_in(host: str) -> None:
    refusal = cli.unauthenticated_remote_refusal(Settings(_env_file=None), host)
    assert refusal is not None and host in refusal
    assert "ALLOW_UNAUTHENTICATED_REMOTE=true" in refusal and "AUTH_MODE" in refusal
    assert cli.unauthenticated_remote_refusal(Settings(_env_file=None, allow_unauthenticated_remote=True), host) is None
    oidc = {"oidc_issuer": "https://id.example.com", "oidc_client_id": "films"}
    for mode, extra in (("password", {}), ("oidc", oidc), ("proxy", {})):
        assert cli.unauthenticated_remote_refusal(Settings(_env_file=None, auth_mode=mode, **extra), host) is None


def test_serve_refuses_to_start_on_a_public_address_in_none_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    def must_not_start(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server started")

    monkeypatch.setattr(uvicorn, "run", must_not_start)
    monkeypatch.setattr(uvicorn.Server, "run", must_not_start)
    for name in ("AUTH_MODE", "ALLOW_UNAUTHENTICATED_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit, match="ALLOW_UNAUTHENTICATED_REMOTE=true"):
            cli.main(["serve", "--host", "0.0.0.0", "--port", "9"])
    finally:
        get_settings.cache_clear()
