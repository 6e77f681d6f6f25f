"""Rate limits (rate_limits.py, api/rate_limits.py): requests per address and per user, runs per user an hour and
at once, sockets per user, sign-in attempts per account and per address. Each trips at its number
with 429, Retry-After and a JSON reason naming it, lets requests through again once its window has
moved on (a controlled clock, no sleeping), counts per address or per user (someone else is
unaffected), and with Redis is shared by every instance. In memory and in Redis (database 14);
on SQLite and PostgreSQL where the database counts (runs, sign-in)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import limits.aio.storage.memory
import limits.aio.storage.redis.coredis
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from agente_films import rate_limits
from agente_films.api.app import create_app
from agente_films.api.rate_limits import CLOSE_RATE_LIMITED, RequestLimits
from agente_films.rate_limits import RateLimits, RedisSockets
from agente_films.auth.accounts import Accounts
from agente_films.auth.secrets import new_api_token, token_hash
from agente_films.auth.store import ApiTokenRepository
from agente_films.db.tables import Question
from agente_films.errors import RateLimited, ServiceUnavailable
from agente_films.studio import Studio
from tests.conftest import REDIS_URL, local_redis, ServerProcess, attach_studio, make_settings, server_env

PASSWORD = "correct horse battery staple"


# -- fixtures and helpers ------------------------------------------------------------------------


class Clock:
    """time.time() as the limits and their Retry-After see it, moved on by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    fake = SimpleNamespace(time=clock.time, monotonic=time.monotonic)
    for module in (limits.aio.storage.memory, limits.aio.storage.redis.coredis, rate_limits):
        monkeypatch.setattr(module, "time", fake)
    return clock


async def forget_counts(client: Redis) -> None:
    for pattern in ("LIMITS:*", "agente_films:sockets:*"):
        async for key in client.scan_iter(match=pattern):
            await client.delete(key)


@pytest.fixture(params=["memory", "redis"])
async def redis_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """Where the counts live: None (memory) or the local Redis, emptied of counts before and after."""
    if request.param == "memory":
        yield None
        return
    client = await local_redis()
    await forget_counts(client)
    yield REDIS_URL
    await forget_counts(client)
    await client.aclose()
    await client.aclose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


@asynccontextmanager
async def studio_app(settings: Any) -> AsyncIterator[tuple[FastAPI, Studio]]:
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    try:
        yield app, studio
    finally:
        await studio.close()


def client(app: FastAPI, address: str = "127.0.0.1", token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)), base_url="http://localhost/api/v1",
        headers=headers, timeout=60,
    )


async def new_user(studio: Studio, username: str) -> tuple[str, str]:
    """A password account and a personal API token of theirs."""
    user = await Accounts(studio.settings, studio.sessionmaker).add_user(username, PASSWORD)
    token = new_api_token()
    async with studio.sessionmaker.begin() as db:
        await ApiTokenRepository(db).create(user.id, "tests", token_hash(token), token[:12])
    return user.id, token


def assert_refused(response: httpx.Response, limit: str) -> int:
    """A 429 naming `limit`, with the same Retry-After in the header and the body."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == "rate_limited"
    assert limit in body["detail"], body["detail"]
    assert int(response.headers["Retry-After"]) == body["retry_after"] >= 1
    return body["retry_after"]


async def new_session(api: httpx.AsyncClient) -> str:
    response = await api.post("/sessions", json={})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def questions(studio: Studio) -> int:
    async with studio.sessionmaker() as db:
        return await db.scalar(select(func.count()).select_from(Question))


async def wait_idle(studio: Studio, *session_ids: str) -> None:
    for session_id in session_ids:
        run = studio.runs.active(session_id)
        if run is not None:
            await asyncio.wait_for(run.done.wait(), 60)


# -- requests per address -------------------------------------------------------------------------------


async def test_requests_per_address_trip_at_the_limit_and_the_window_moves_on(
    redis_url: str | None, sqlite_url: str, tmp_path: Path, clock: Clock
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>studio</title>")
    (dist / "assets" / "app.js").write_text("console.log('studio')")
    settings = make_settings(sqlite_url, tmp_path, redis_url=redis_url, rate_limit_ip_per_minute=5, frontend_dist=dist)
    async with studio_app(settings) as (app, _studio), client(app) as api:
        for _ in range(5):
            assert (await api.get("/sessions")).status_code == 200
        refused = await api.get("/sessions")
        assert 55 <= assert_refused(refused, "requests from your address: the limit is 5 a minute") <= 60
        assert_refused(await api.post("/sessions", json={}), "requests from your address")  # any route, any method
        # Only the API is counted: probes, the UI's page and its static files never are.
        for _ in range(3):
            assert (await api.get("http://localhost/health")).status_code == 200
            assert (await api.get("http://localhost/assets/app.js")).status_code == 200
            assert (await api.get("http://localhost/")).status_code == 200
            assert (await api.get("http://localhost/s/some-session")).status_code == 200

        async with client(app, "10.1.2.3") as other:  # another address has its own count
            assert (await other.get("/sessions")).status_code == 200
        # IPv6 counts per /64: one host changing its address gains nothing.
        async with client(app, "2001:db8::1") as v6, client(app, "2001:db8::2") as same, \
                client(app, "2001:db8:0:1::1") as next_net:
            for _ in range(5):
                assert (await v6.get("/sessions")).status_code == 200
            assert_refused(await same.get("/sessions"), "requests from your address")
            assert (await next_net.get("/sessions")).status_code == 200

        clock.advance(30)
        assert_refused(await api.get("/sessions"), "requests from your address")
        clock.advance(31)  # a minute after the first five
        assert (await api.get("/sessions")).status_code == 200


async def test_a_socket_handshake_over_the_address_limit_gets_an_error_frame_and_4429(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = make_settings(sqlite_url, tmp_path, rate_limit_ip_per_minute=1)
    async with studio_app(settings) as (app, _studio):
        sent: list[dict] = []
        passed: list[str] = []

        async def receive() -> dict:
            return {"type": "websocket.connect"}

        async def send(message: dict) -> None:
            sent.append(message)

        async def route(scope: dict, *_: Any) -> None:
            passed.append(scope["path"])

        scope = {"type": "websocket", "path": "/api/v1/ws/x", "client": ("192.0.2.7", 1), "app": app,
                 "headers": [], "query_string": b"", "subprotocols": []}
        await RequestLimits(route)(scope, receive, send)  # the first handshake passes on
        assert passed == ["/api/v1/ws/x"] and sent == []
        await RequestLimits(route)(scope, receive, send)
        assert passed == ["/api/v1/ws/x"], "a refused socket reaches no route"
        assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
        frame = json.loads(sent[1]["text"])
        assert frame["control"] == "error" and frame["code"] == "rate_limited" and frame["status"] == 429
        assert "requests from your address" in frame["message"]
        assert sent[2]["code"] == CLOSE_RATE_LIMITED and sent[2]["reason"] == "rate limited"


# -- requests per user ---------------------------------------------------------------------------------


async def test_requests_per_user_trip_per_user_and_reopen_after_the_hour(
    redis_url: str | None, sqlite_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(sqlite_url, tmp_path, redis_url=redis_url, auth_mode="password", rate_limit_user_per_hour=3)
    async with studio_app(settings) as (app, studio):
        _, alice_token = await new_user(studio, "alice")
        _, bob_token = await new_user(studio, "bob")
        async with client(app, token=alice_token) as alice, client(app, token=bob_token) as bob, \
                client(app, "10.9.9.9", token=alice_token) as alice_elsewhere:
            for _ in range(3):
                assert (await alice.get("/sessions")).status_code == 200
            retry = assert_refused(await alice.get("/sessions"), "requests from your account: the limit is 3 an hour")
            assert 3500 <= retry <= 3600
            assert_refused(await alice_elsewhere.get("/sessions"), "requests from your account")  # per user, not per address
            assert (await bob.get("/sessions")).status_code == 200  # bob is unaffected
            clock.advance(3601)
            assert (await alice.get("/sessions")).status_code == 200


async def test_two_instances_sharing_redis_share_the_counts(redis: Redis, tmp_path: Path, clock: Clock) -> None:
    await forget_counts(redis)
    url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    settings = make_settings(url, tmp_path, redis_url=REDIS_URL, auth_mode="password", rate_limit_ip_per_minute=4,
                             signin_attempts_per_account_15min=2)
    try:
        async with studio_app(settings) as (first_app, studio), studio_app(settings) as (second_app, _):
            await Accounts(studio.settings, studio.sessionmaker).add_user("alice", PASSWORD)
            async with client(first_app) as first, client(second_app) as second:
                for api in (first, second, first, second):
                    assert (await api.get("/auth/config")).status_code == 200
                assert_refused(await first.get("/auth/config"), "requests from your address")
                assert_refused(await second.get("/auth/config"), "requests from your address")
            clock.advance(61)
            async with client(first_app, "10.0.0.1") as first, client(second_app, "10.0.0.1") as second:
                wrong = {"username": "alice", "password": "not the password at all"}
                assert (await first.post("/auth/signin", json=wrong)).status_code == 401
                assert (await second.post("/auth/signin", json=wrong)).status_code == 401
                right = {"username": "alice", "password": PASSWORD}
                assert_refused(await first.post("/auth/signin", json=right),
                               "sign-in attempts for this account from your address")
    finally:
        await forget_counts(redis)


async def test_socket_leases_are_shared_and_a_crashed_instances_run_out(redis: Redis) -> None:
    await forget_counts(redis)
    user = f"user-{uuid.uuid4().hex[:8]}"
    first, second = RedisSockets(redis, lease_seconds=0.5), RedisSockets(redis, lease_seconds=0.5)
    try:
        assert await first.take(user, "a", 2) and await second.take(user, "b", 2)
        assert not await first.take(user, "c", 2) and not await second.take(user, "c", 2)
        await second.give_back(user, "b")
        assert await first.take(user, "c", 2)
        await asyncio.sleep(0.3)
        await first.renew(user, "c")  # "a" is not renewed: its instance died
        await asyncio.sleep(0.3)
        assert await second.take(user, "d", 2), "the dead instance's socket stopped counting"
        assert not await second.take(user, "e", 2), "the renewed one still counts"
    finally:
        await forget_counts(redis)


# -- runs per user ---------------------------------------------------------------------------------------


async def test_runs_per_hour_count_every_way_a_run_starts_and_not_edits(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(database_url, tmp_path, auth_mode="password", rate_limit_runs_per_user_hour=2)
    async with studio_app(settings) as (app, studio):
        _, alice_token = await new_user(studio, "alice")
        _, bob_token = await new_user(studio, "bob")
        async with client(app, token=alice_token) as alice, client(app, token=bob_token) as bob:
            first, second, third = [await new_session(alice) for _ in range(3)]
            done = await alice.post(f"/sessions/{first}/messages", json={"content": "Ada Lovelace"})
            assert done.status_code == 200 and done.json()["status"] == "completed"
            started = await alice.post(f"/sessions/{second}/messages/async", json={"content": "Hypatia"})
            assert started.status_code == 202
            await wait_idle(studio, second)

            stored = await questions(studio)
            message = {"content": "Grace Hopper"}
            limit = "runs started by your account: the limit is 2 an hour"
            assert_refused(await alice.post(f"/sessions/{third}/messages/async", json=message), limit)
            assert_refused(await alice.post(f"/sessions/{third}/messages", json=message), limit)
            assert_refused(await alice.post(f"/sessions/{first}/regenerate", json={"stage": "casting"}), limit)
            agui = {"threadId": third, "runId": "client-run", "state": {}, "tools": [], "context": [],
                    "forwardedProps": {}, "messages": [{"id": "m1", "role": "user", "content": "Grace Hopper"}]}
            assert_refused(await alice.post("/agui", json=agui), limit)
            run_id = done.json()["run_id"]
            async with studio.sessionmaker.begin() as db:  # as if it had failed: resumable
                await db.execute(update(Question).where(Question.id == run_id).values(run_status="failed"))
            assert_refused(await alice.post(f"/sessions/{first}/runs/{run_id}/resume"), limit)
            assert await questions(studio) == stored, "a refused run stores nothing"
            assert studio.runs.active(third) is None and studio.runs.active(first) is None

            # A producer's edit is a run of one state event, without agents: not counted.
            current = (await alice.get(f"/sessions/{first}/state")).json()
            edit = await alice.patch(f"/sessions/{first}/state",
                                     json={"expected_version": current["version"], "changes": {"direction": "darker"}})
            assert edit.status_code == 200, edit.text
            # Bob's runs are his own.
            assert (await bob.post(f"/sessions/{await new_session(bob)}/messages/async", json=message)).status_code == 202

            clock.advance(3601)
            again = await alice.post(f"/sessions/{third}/messages/async", json=message)
            assert again.status_code == 202
            await wait_idle(studio, third)
            resumed = await alice.post(f"/sessions/{first}/runs/{run_id}/resume")
            assert resumed.status_code != 429


async def test_runs_at_once_are_counted_in_the_database_and_a_note_is_no_run(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, auth_mode="password", max_concurrent_runs_per_user=2,
                             rate_limit_runs_per_user_hour=3, offline_chunk_delay_ms=30)
    async with studio_app(settings) as (app, studio):
        _, alice_token = await new_user(studio, "alice")
        _, bob_token = await new_user(studio, "bob")
        async with client(app, token=alice_token) as alice, client(app, token=bob_token) as bob:
            sessions = [await new_session(alice) for _ in range(4)]
            for session_id in sessions[:2]:
                response = await alice.post(f"/sessions/{session_id}/messages/async", json={"content": "Ada Lovelace"})
                assert response.status_code == 202 and response.json()["status"] == "running"
            # A message to a running run is a note for it: neither a run at once nor one of the hour.
            note = await alice.post(f"/sessions/{sessions[0]}/messages/async", json={"content": "make it darker"})
            assert note.status_code == 202 and "note_id" in note.json()
            retry = assert_refused(
                await alice.post(f"/sessions/{sessions[2]}/messages/async", json={"content": "Hypatia"}),
                "runs of yours working at once: the limit is 2",
            )
            assert retry >= 1
            bobs = await new_session(bob)
            assert (await bob.post(f"/sessions/{bobs}/messages/async", json={"content": "Hypatia"})).status_code == 202

            assert (await alice.post(f"/sessions/{sessions[0]}/cancel")).status_code == 200
            third = await alice.post(f"/sessions/{sessions[2]}/messages/async", json={"content": "Hypatia"})
            assert third.status_code == 202, third.text  # one ended: room for another
            assert (await alice.post(f"/sessions/{sessions[1]}/cancel")).status_code == 200
            # Three runs this hour (the note was none): the fourth is refused for the hour now.
            assert_refused(
                await alice.post(f"/sessions/{sessions[3]}/messages/async", json={"content": "Grace Hopper"}),
                "runs started by your account",
            )
            for session_id in (sessions[2], bobs):
                await studio.runs.cancel(session_id)


async def test_runs_started_together_never_pass_the_limit_at_once(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, max_concurrent_runs_per_user=2, offline_chunk_delay_ms=30)
    async with studio_app(settings) as (_app, studio):
        rows = [await studio.create_session("local") for _ in range(5)]
        results = await asyncio.gather(
            *(studio.runs.start(session_id=row.id, user_id="local", text="Ada Lovelace") for row in rows),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, RateLimited)]
        assert len(refused) == 3 and len(results) - len(refused) == 2, results
        async with studio.sessionmaker() as db:
            running = await db.scalar(select(func.count()).select_from(Question).where(Question.run_status == "running"))
        assert running == 2, "the refused starts stored no running run"
        for row in rows:
            await studio.runs.cancel(row.id)


# -- sockets per user ---------------------------------------------------------------------------------


async def test_sockets_per_user_and_runs_refused_on_the_socket(
    redis_url: str | None, start_server: Any, tmp_path: Path
) -> None:
    server: ServerProcess = start_server(
        f"sqlite+aiosqlite:///{tmp_path}/sockets.db", MAX_SOCKETS_PER_USER="2", RATE_LIMIT_RUNS_PER_USER_HOUR="1",
        REDIS_URL=redis_url or "",
    )
    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=30) as api:
        session_id = await new_session(api)
    url = f"{server.ws_url}/api/v1/ws/{session_id}"
    first, second = await connect(url), await connect(url)
    try:
        for socket in (first, second):
            assert json.loads(await socket.recv())["control"] == "hello"
        async with connect(url) as third:
            frame = json.loads(await asyncio.wait_for(third.recv(), 10))
            assert frame["control"] == "error" and frame["code"] == "rate_limited" and frame["status"] == 429
            assert "live connections of yours open at once: the limit is 2" in frame["message"]
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(third.recv(), 10)
            assert third.close_code == CLOSE_RATE_LIMITED and third.close_reason == "rate limited"

        await second.close()  # its place is given back when it closes
        async with asyncio.timeout(10):
            while True:
                async with connect(url) as again:
                    if json.loads(await again.recv())["control"] == "hello":
                        break
                await asyncio.sleep(0.1)

        # One run an hour: the first message runs, the next is refused in a frame, the socket stays.
        await first.send(json.dumps({"type": "message", "content": "Ada Lovelace"}))
        async with asyncio.timeout(60):
            while json.loads(await first.recv()).get("type") != "RUN_FINISHED":
                pass
        async with asyncio.timeout(20):
            while True:  # the run lets go of the session a moment after its last frame
                await first.send(json.dumps({"type": "message", "content": "Hypatia"}))
                while (frame := json.loads(await first.recv())).get("control") != "error":
                    pass
                if frame["code"] != "run_in_progress":
                    break
                await asyncio.sleep(0.1)
        assert frame["code"] == "rate_limited" and frame["status"] == 429
        assert "runs started by your account" in frame["message"]
        await first.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(10):
            while json.loads(await first.recv()).get("control") != "pong":
                pass
    finally:
        await first.close()
        await second.close()


# -- sign-in attempts ---------------------------------------------------------------------------------


async def test_sign_in_brute_force_is_refused_per_account_and_per_address(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    settings = make_settings(database_url, tmp_path, auth_mode="password", signup_open=True,
                             signin_attempts_per_account_15min=3, signin_attempts_per_ip_hour=5)
    async with studio_app(settings) as (app, studio):
        accounts = Accounts(studio.settings, studio.sessionmaker)
        await accounts.add_user("alice", PASSWORD)
        await accounts.add_user("bob", PASSWORD)
        wrong = {"username": "bob", "password": "not the password at all"}
        right = {"username": "bob", "password": PASSWORD}
        async with client(app, "10.0.0.1") as attacker, client(app, "10.0.0.2") as bob_home, \
                client(app, "10.0.0.3") as sprayer:
            for _ in range(3):
                answer = await attacker.post("/auth/signin", json=wrong)
                assert answer.status_code == 401 and answer.json()["code"] == "bad_credentials"
            # The guesser's attempts at bob are used up: even the right password waits, from there.
            retry = assert_refused(await attacker.post("/auth/signin", json=right),
                                   "sign-in attempts for this account from your address: the limit is 3 in 15 minutes")
            assert 800 <= retry <= 900
            assert_refused(await attacker.post("/auth/signin", json={**right, "username": " BOB "}),
                           "sign-in attempts for this account from your address")
            # Nobody can lock bob out: from his own address he still signs in.
            assert (await bob_home.post("/auth/signin", json=right)).status_code == 200

            # Per address: guesses spread over many accounts.
            for name in ("carol", "dave", "erin", "frank", "grace"):
                assert (await sprayer.post("/auth/signin", json={**wrong, "username": name})).status_code == 401
            assert_refused(await sprayer.post("/auth/signin", json={**wrong, "username": "heidi"}),
                           "sign-in attempts from your address: the limit is 5 an hour")
            assert_refused(await sprayer.post("/auth/signup", json={"username": "ivan", "password": PASSWORD}),
                           "sign-in attempts from your address")

            # Per account from everywhere, 10 times looser: guesses at alice from many addresses
            # (2 each, under every per-address limit) stop at 30 in 15 minutes.
            guessed = 0
            for n in range(100):
                async with client(app, f"10.9.0.{n}") as botnet:
                    for _ in range(2):
                        answer = await botnet.post("/auth/signin", json={**wrong, "username": "alice"})
                        if guessed == 30:
                            assert_refused(answer, "sign-in attempts for this account: the limit is 30 in 15 minutes")
                            break
                        assert answer.status_code == 401, answer.text
                        guessed += 1
                if guessed == 30:
                    break
            assert_refused(await bob_home.post("/auth/signin", json={**right, "username": "alice"}),
                           "sign-in attempts for this account: the limit is 30")

            clock.advance(901)  # the accounts' 15 minutes are over (the addresses' hour is not)
            assert (await bob_home.post("/auth/signin", json={**right, "username": "alice"})).status_code == 200
            assert_refused(await attacker.post("/auth/signin", json=right), "sign-in attempts from your address")
            assert_refused(await sprayer.post("/auth/signin", json=right), "sign-in attempts from your address")


async def test_password_changes_count_as_sign_in_attempts(database_url: str, tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(database_url, tmp_path, auth_mode="password", signin_attempts_per_account_15min=3,
                             signin_attempts_per_ip_hour=50)
    async with studio_app(settings) as (app, studio):
        await Accounts(studio.settings, studio.sessionmaker).add_user("alice", PASSWORD)
        async with client(app, "10.0.0.1") as thief:
            # A stolen sign-in guessing the current password (to take the account over for good).
            signed_in = await thief.post("/auth/signin", json={"username": "alice", "password": PASSWORD})
            thief.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
            for _ in range(2):
                guess = await thief.post("/auth/password", json={"current_password": "a guess at it", "new_password": "taken over!!"})
                assert guess.status_code == 403, guess.text
            refused = await thief.post("/auth/password", json={"current_password": PASSWORD, "new_password": "taken over!!"})
            assert_refused(refused, "sign-in attempts for this account from your address")
            clock.advance(901)
            done = await thief.post("/auth/password", json={"current_password": PASSWORD, "new_password": "a new password!"})
            assert done.status_code == 204, done.text


# -- off, and Redis down -------------------------------------------------------------------------------


async def test_zero_turns_each_limit_off(tmp_path: Path) -> None:
    limits = RateLimits(make_settings("sqlite+aiosqlite://", tmp_path))  # the tests' settings: all 0
    try:
        for _ in range(300):
            await limits.request_from("127.0.0.1")
            await limits.request_by("local")
            await limits.sign_in_attempt("127.0.0.1", "alice")
        assert not await limits.take_socket("local", "s1")
    finally:
        await limits.close()


async def test_with_redis_down_requests_pass_and_sign_in_is_refused(tmp_path: Path) -> None:
    dead = "redis://127.0.0.1:9/14"
    limits = RateLimits(make_settings("sqlite+aiosqlite://", tmp_path, redis_url=dead, rate_limit_ip_per_minute=1,
                                      rate_limit_user_per_hour=1, signin_attempts_per_ip_hour=5,
                                      max_sockets_per_user=1))
    try:
        for _ in range(3):  # the limits protect the service; they must not take it down with Redis
            await limits.request_from("127.0.0.1")
            await limits.request_by("local")
        assert not await limits.take_socket("local", "s1")
        with pytest.raises(ServiceUnavailable):  # never unlimited guessing
            await limits.sign_in_attempt("127.0.0.1", "alice")
    finally:
        await limits.close()


def test_the_production_defaults_stay_on() -> None:
    from agente_films.settings import Settings

    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (defaults.rate_limit_ip_per_minute, defaults.rate_limit_user_per_hour, defaults.rate_limit_runs_per_user_hour,
            defaults.max_concurrent_runs_per_user, defaults.max_sockets_per_user,
            defaults.signin_attempts_per_account_15min, defaults.signin_attempts_per_ip_hour) == (100, 1000, 60, 3, 20, 10, 50)
    assert server_env("sqlite+aiosqlite://", Path("/tmp"))["RATE_LIMIT_IP_PER_MINUTE"] == "0"
