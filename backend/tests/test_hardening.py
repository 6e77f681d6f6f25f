"""Bad input and hostile browsers against a real server (`agente-films serve` in a child process),
on SQLite and PostgreSQL: every refusal is a 4xx in JSON that says what is wrong (or a socket
error frame, or a close with its code), the server stays up, the client's keep-alive connection
keeps working, and nothing stored changes. Then the Host and Origin checks, the security headers,
and the body (413) and header (431) caps.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agente_films.api.app import create_app
from agente_films.api.guards.errors import refusal_frame, refusal_response
from agente_films.errors import BadText, RateLimited, Refused, SessionNotFound, StaleVersion
from agente_films.db.engine import make_engine
from agente_films.db.tables import Base
from tests.conftest import ServerProcess, create_pg_database, drop_pg_database, make_settings, server_env

MAX_BODY = 1_000_000  # the default MAX_BODY_BYTES
MAX_HEADER = 16_384  # the default MAX_HEADER_BYTES
MAX_MESSAGE_CHARS = 500
BIG = 2**63
# A page with an inline script, as the built UI's index.html has one (its theme before paint).
INDEX_HTML = b"<!doctype html><html><head><script>document.documentElement.dataset.x='1'</script></head><body></body></html>"
ADK_TABLES = ("sessions", "events", "app_states", "user_states")


@dataclass
class Served:
    server: ServerProcess
    database_url: str
    tmp: Path
    session_id: str
    filename: str
    version: int

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per database for the module, with a session that has a pitch (so that its
    documents, versions and drafts exist to be asked about badly)."""
    tmp = tmp_path_factory.mktemp(f"hardening-{request.param}")
    dist = tmp / "dist"
    dist.mkdir()
    (dist / "index.html").write_bytes(INDEX_HTML)
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/hardening.db"
    else:
        url = asyncio.run(create_pg_database())
    env = server_env(url, tmp, MAX_MESSAGE_CHARS=str(MAX_MESSAGE_CHARS), FRONTEND_DIST=str(dist))
    server = ServerProcess(env)
    try:
        server.start(tmp / "server.log")
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=120) as api:
            session_id = api.post("/sessions", json={"title": "Sweep"}).json()["id"]
            run = api.post(f"/sessions/{session_id}/messages", json={"content": "Ada Lovelace"}).json()
            assert run["status"] == "completed", run
            filename = api.get(f"/sessions/{session_id}/pitches").json()[0]["filename"]
            version = api.get(f"/sessions/{session_id}/state").json()["version"]
        yield Served(server, url, tmp, session_id, filename, version)
    finally:
        server.stop()
        if request.param == "postgresql":
            asyncio.run(drop_pg_database(url))


async def stored(database_url: str) -> dict[str, int]:
    """Rows in every table, ours and ADK's: what a refusal must leave as it was."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as db:
            names = [t.name for t in Base.metadata.sorted_tables] + list(ADK_TABLES)
            return {name: int(await db.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0) for name in names}
    finally:
        await engine.dispose()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    will_close: bool

    def json(self) -> Any:
        return json.loads(self.body)


class KeepAlive:
    """One HTTP/1.1 connection used for request after request, as a browser or an SDK does:
    whether an answer leaves it usable is part of each case."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.connect()
        self.socket = self.connection.sock

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, response.will_close)

    @property
    def reused(self) -> bool:
        """Still the first socket: the server never closed it under us."""
        return self.connection.sock is not None and self.connection.sock is self.socket

    def close(self) -> None:
        self.connection.close()


# -- the REST sweep --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    method: str
    path: str  # {sid}, {file} and {version} are filled in
    body: str | bytes | None = None
    status: int = 422
    words: str | None = None  # in the JSON detail
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    closes: bool = False  # refused unread: the server closes the connection, and says so


def agui_body(thread: str, content: str, state: str = "{}") -> str:
    return (
        '{"threadId": %s, "runId": "r1", "state": %s, "messages": [{"id": "m1", "role": "user", "content": %s}],'
        ' "tools": [], "context": [], "forwardedProps": {}}' % (thread, state, content)
    )


DEEP = "[" * 1500 + "]" * 1500
REST_CASES = [
    # Integers past what the database holds, in paths and queries: 422, never an OverflowError.
    Case("offset 2^63", "GET", f"/api/v1/sessions?offset={BIG}", words="less than or equal"),
    Case("offset 2^64", "GET", f"/api/v1/sessions?offset={2**64}", words="less than or equal"),
    Case("offset -1", "GET", "/api/v1/sessions?offset=-1", words="greater than or equal"),
    Case("offset not a number", "GET", "/api/v1/sessions?offset=many", words="integer"),
    Case("limit 2^63", "GET", f"/api/v1/sessions?limit={BIG}", words="less than or equal"),
    Case("project offset 2^63", "GET", f"/api/v1/projects?offset={BIG}", words="less than or equal"),
    Case("state version 2^63", "GET", f"/api/v1/sessions/{{sid}}/states/{BIG}", words="less than or equal"),
    Case("state version 2^31", "GET", f"/api/v1/sessions/{{sid}}/states/{2**31}", words="less than or equal"),
    Case("draft version 2^63", "GET", f"/api/v1/sessions/{{sid}}/drafts/{BIG}", words="less than or equal"),
    Case("pitch version 2^63", "GET", f"/api/v1/sessions/{{sid}}/pitches/{{file}}?version={BIG}", words="less than or equal"),
    Case("compare draft 2^63", "GET", f"/api/v1/sessions/{{sid}}/compare?a=draft:{{sid}}:{BIG}&b=draft:{{sid}}:1",
         words="not a version number"),
    Case("session id 2^63", "GET", f"/api/v1/sessions/{BIG}", words="UUID"),
    Case("run id not a UUID", "GET", "/api/v1/sessions/{sid}/runs/..%2f..", status=404),
    Case("events run_id NUL", "GET", "/api/v1/sessions/{sid}/events?run_id=%00", words="UUID"),
    # File names: never a path, never longer than file systems allow.
    Case("pitch name 300 bytes", "GET", "/api/v1/sessions/{sid}/pitches/" + "x" * 300 + ".md", status=404, words="No pitch"),
    Case("pitch name 400 UTF-8 bytes", "GET", "/api/v1/sessions/{sid}/pitches/" + quote("é" * 200), status=404, words="No pitch"),
    Case("pitch name traversal", "GET", "/api/v1/sessions/{sid}/pitches/..%2F..%2Fsecret.md", status=404),
    Case("pitch name user scope", "GET", "/api/v1/sessions/{sid}/pitches/user:notes.md", status=404, words="No pitch"),
    Case("pitch name NUL", "GET", "/api/v1/sessions/{sid}/pitches/a%00b.md", status=404, words="No pitch"),
    Case("compare long pitch name", "GET",
         "/api/v1/sessions/{sid}/compare?a=pitch:{sid}:" + "x" * 300 + ":0&b=pitch:{sid}:" + "x" * 300 + ":0",
         status=404, words="No version 0"),
    # JSON that JSON does not allow, or too deep: refused as the body is read.
    Case("NaN", "POST", "/api/v1/sessions", '{"title": NaN}', words="NaN is not a JSON number"),
    Case("Infinity", "POST", "/api/v1/sessions", '{"title": Infinity}', words="Infinity"),
    Case("-Infinity", "PATCH", "/api/v1/sessions/{sid}/state", '{"expected_version": -Infinity, "changes": {"direction": "x"}}',
         words="Infinity"),
    Case("1e400", "PATCH", "/api/v1/sessions/{sid}/state", '{"expected_version": 1e400, "changes": {"direction": "x"}}',
         words="finite"),
    Case("NaN inside changes", "PATCH", "/api/v1/sessions/{sid}/state", '{"expected_version": {version}, "changes": {"direction": NaN}}',
         words="NaN"),
    Case("NaN in AG-UI state", "POST", "/api/v1/agui", agui_body('"{sid}"', '"Ada"', state="NaN"), words="NaN"),
    Case("1,500 deep", "POST", "/api/v1/sessions", DEEP, words="nested"),
    Case("1,500 deep in a field", "POST", "/api/v1/sessions", '{"title": ' + DEEP + "}", words="nested"),
    Case("1,500 deep in AG-UI", "POST", "/api/v1/agui", agui_body('"{sid}"', DEEP), words="nested"),
    Case("a 5,000-digit number", "POST", "/api/v1/sessions", '{"title": ' + "9" * 5000 + "}", words="too long"),
    Case("not JSON", "POST", "/api/v1/sessions", '{"title": "x",', words="not valid JSON"),
    Case("not UTF-8", "POST", "/api/v1/sessions", b'{"title": "\xff\xfe"}'),
    Case("state version 2^63 in a body", "PATCH", "/api/v1/sessions/{sid}/state",
         '{"expected_version": %d, "changes": {"direction": "x"}}' % BIG, words="less than or equal"),
    Case("branch version 2^63", "POST", "/api/v1/sessions/{sid}/branches", '{"from_version": %d}' % BIG, words="less than or equal"),
    # Text that cannot be stored: a lone surrogate (valid JSON, not Unicode), NUL (PostgreSQL refuses it).
    Case("title surrogate", "POST", "/api/v1/sessions", '{"title": "a\\ud800b"}', words="string"),
    Case("title NUL", "POST", "/api/v1/sessions", '{"title": "a\\u0000b"}', words="control characters"),
    Case("rename NUL", "PATCH", "/api/v1/sessions/{sid}", '{"title": "a\\u0000"}', words="control characters"),
    Case("rename surrogate", "PATCH", "/api/v1/sessions/{sid}", '{"title": "\\udc00"}', words="string"),
    Case("rename too long", "PATCH", "/api/v1/sessions/{sid}", json.dumps({"title": "x" * 900_000}), words="at most 200"),
    Case("message NUL", "POST", "/api/v1/sessions/{sid}/messages/async", '{"content": "Ada\\u0000"}', words="control characters"),
    Case("message surrogate", "POST", "/api/v1/sessions/{sid}/messages/async", '{"content": "Ada\\ud800"}', words="surrogate"),
    Case("message empty", "POST", "/api/v1/sessions/{sid}/messages/async", '{"content": "   "}', words="empty"),
    Case("message too long", "POST", "/api/v1/sessions/{sid}/messages/async", json.dumps({"content": "x" * 600}),
         status=413, words="limit is 500"),
    Case("direction surrogate", "POST", "/api/v1/sessions/{sid}/messages/async", '{"content": "Ada", "direction": ["\\ud800"]}'),
    Case("project title NUL", "POST", "/api/v1/projects", '{"session_id": "{sid}", "title": "a\\u0000", "subject": "b"}',
         words="control characters"),
    Case("project subject NUL", "POST", "/api/v1/projects", '{"session_id": "{sid}", "title": "a", "subject": "b\\u0000"}',
         words="control characters"),
    Case("project session NUL", "POST", "/api/v1/projects", '{"session_id": "\\u0000", "title": "a", "subject": "b"}',
         words="not a valid id"),
    Case("edit NUL", "PATCH", "/api/v1/sessions/{sid}/state", '{"expected_version": {version}, "changes": {"direction": "a\\u0000"}}',
         words="control"),
    Case("edit surrogate", "PATCH", "/api/v1/sessions/{sid}/state", '{"expected_version": {version}, "changes": {"direction": "a\\ud800"}}',
         words="surrogate"),
    Case("branch title NUL", "POST", "/api/v1/sessions/{sid}/branches", '{"from_version": 1, "title": "a\\u0000"}', words="control"),
    Case("branch run id NUL", "POST", "/api/v1/sessions/{sid}/branches", '{"from_round": 1, "run_id": "\\u0000"}', words="control"),
    Case("AG-UI message NUL", "POST", "/api/v1/agui", agui_body('"{sid}"', '"Ada\\u0000"'), words="control characters"),
    Case("AG-UI thread surrogate", "POST", "/api/v1/agui", agui_body('"\\ud800"', '"Ada"'), words="UUID"),
    # Sizes: a body over the cap is refused before it is read; the server drops the rest as it
    # comes, and the connection goes on.
    Case("body 2 MB", "POST", "/api/v1/sessions", json.dumps({"title": "x" * 2_000_000}), status=413, words="1000000 bytes"),
    Case("body 10 MB", "POST", "/api/v1/agui", b"{" + b" " * 10_000_000 + b"}", status=413, words="1000000 bytes"),
    Case("headers 20 KB", "GET", "/api/v1/sessions", status=431, words="16384 bytes", headers={"X-Big": "a" * 20_000},
         closes=True),
]


@pytest.mark.parametrize("case", REST_CASES, ids=[c.name for c in REST_CASES])
async def test_rest_sweep(served: Served, case: Case) -> None:
    fill = {"{sid}": served.session_id, "{file}": served.filename, "{version}": str(served.version)}
    path, body = case.path, case.body
    for key, value in fill.items():
        path = path.replace(key, value)
        if isinstance(body, str):
            body = body.replace(key, value)
    before = await stored(served.database_url)
    wire = KeepAlive(served.port)
    try:
        headers = {"Content-Type": case.content_type, **case.headers} if body is not None else dict(case.headers)
        answer = wire.request(case.method, path, body.encode() if isinstance(body, str) else body, headers)
        assert answer.status == case.status, (case.name, answer.status, answer.body[:500])
        assert answer.headers["content-type"] == "application/json", answer.headers
        detail = answer.json()["detail"]
        assert detail, answer.body
        if case.words:
            assert case.words in json.dumps(detail, ensure_ascii=False), (case.name, detail)
        # A short answer (never the input echoed back), and no server path in it.
        assert len(answer.body) < 2_000, (case.name, len(answer.body))
        for secret in (str(served.tmp), os.getcwd()):
            assert secret not in answer.body.decode("utf-8", "replace"), answer.body
        if case.closes:  # the rest of the body is not read: the server closes, and says so
            assert answer.will_close and answer.headers.get("connection") == "close"
        else:
            after = wire.request("GET", "/api/v1/sessions?limit=1")
            assert after.status == 200 and wire.reused, "the refusal broke the keep-alive connection"
    finally:
        wire.close()
    assert await stored(served.database_url) == before
    assert httpx.get(f"{served.server.url}/health").status_code == 200


# -- the socket sweep ------------------------------------------------------------------------


@dataclass
class Frame:
    name: str
    payload: str | bytes
    code: str | None = None  # the error frame's code; the socket stays open
    close: int | None = None  # or the close code the socket ends with
    text: bool = True  # send bytes as a text frame (invalid UTF-8)


SOCKET_CASES = [
    Frame("binary frame", b"\x00\x01\x02", close=1003),
    Frame("invalid UTF-8", b'{"type": "ping", "x": "\xff\xfe"}', close=1007, text=True),
    Frame("over the frame cap", "x" * (MAX_BODY + 1), close=1009),
    # (A frame over 2 * MAX_MESSAGE_CHARS + 1 KiB is refused by its size before it is parsed.)
    Frame("900 deep", "[" * 900 + "]" * 900, code="bad_frame"),
    Frame("900 deep in content", '{"type": "message", "content": ' + "[" * 900 + "]" * 900 + "}", code="bad_frame"),
    Frame("NaN", '{"type": "message", "content": NaN}', code="bad_frame"),
    Frame("Infinity", '{"type": "message", "content": "x", "direction": [Infinity]}', code="bad_frame"),
    Frame("1e400", '{"type": "ping", "n": 1e400}', code="bad_frame"),
    Frame("-Infinity", '{"type": "ping", "n": -Infinity}', code="bad_frame"),
    Frame("not JSON", "hello", code="bad_frame"),
    Frame("a list", "[1, 2]", code="bad_frame"),
    Frame("no type", '{"content": "Ada"}', code="bad_frame"),
    Frame("unknown type, surrogate", '{"type": "\\ud800"}', code="unknown_type"),
    Frame("content surrogate", '{"type": "message", "content": "Ada\\ud800"}', code="bad_text"),
    Frame("content NUL", '{"type": "message", "content": "Ada\\u0000"}', code="bad_text"),
    Frame("content empty", '{"type": "message", "content": " "}', code="empty_message"),
    Frame("content not text", '{"type": "message", "content": 42}', code="bad_frame"),
    Frame("content too long", json.dumps({"type": "message", "content": "x" * (MAX_MESSAGE_CHARS + 1)}), code="message_too_long"),
    Frame("frame too long", json.dumps({"type": "message", "content": "x" * (MAX_MESSAGE_CHARS * 5)}), code="frame_too_large"),
    Frame("direction surrogate", '{"type": "message", "content": "Ada", "direction": ["\\ud800"]}', code="bad_frame"),
    Frame("direction unknown", '{"type": "message", "content": "Ada", "direction": ["sepia"]}', code="bad_frame"),
    Frame("cancel without a run", '{"type": "cancel"}', code="no_run"),
]


async def control_frame(socket: Any) -> dict:
    """The next control message (a run's AG-UI events of other tests may be replayed first)."""
    async with asyncio.timeout(15):
        while True:
            message = json.loads(await socket.recv())
            if "control" in message:
                return message


@pytest.mark.parametrize("case", SOCKET_CASES, ids=[c.name for c in SOCKET_CASES])
async def test_socket_sweep(served: Served, case: Frame) -> None:
    before = await stored(served.database_url)
    url = f"ws://127.0.0.1:{served.port}/api/v1/ws/{served.session_id}"
    async with connect(url, max_size=None) as ws:
        assert (await control_frame(ws))["control"] == "hello"
        if isinstance(case.payload, bytes):
            await ws.send(case.payload, text=case.text and case.close != 1003)
        else:
            await ws.send(case.payload)
        if case.close is not None:
            with pytest.raises(ConnectionClosed) as closed:
                await control_frame(ws)
            assert closed.value.rcvd is not None, "the socket was dropped without a close frame"
            assert closed.value.rcvd.code == case.close, closed.value.rcvd
            if case.close == 1003:
                assert "binary" in closed.value.rcvd.reason
        else:
            error = await control_frame(ws)
            assert error["control"] == "error" and error["code"] == case.code, error
            assert error["message"] and len(error["message"]) < 500 and 400 <= error["status"] < 500, error
            await ws.send('{"type": "ping"}')  # the same socket goes on
            assert (await control_frame(ws))["control"] == "pong"
    assert await stored(served.database_url) == before
    assert httpx.get(f"{served.server.url}/health").status_code == 200


# -- races, orphans, errors ------------------------------------------------------------------


async def test_a_message_and_a_delete_at_once_answer_2xx_404_or_409_never_500(served: Served) -> None:
    async with httpx.AsyncClient(base_url=f"{served.server.url}/api/v1", timeout=120) as api:
        seen: set[tuple[str, int]] = set()
        for path in ("/messages/async", "/messages") * 10:
            session_id = (await api.post("/sessions")).json()["id"]
            said, deleted = await asyncio.gather(
                api.post(f"/sessions/{session_id}{path}", json={"content": "Ada Lovelace"}),
                api.delete(f"/sessions/{session_id}"),
            )
            seen |= {("message", said.status_code), ("delete", deleted.status_code)}
            assert said.status_code in (200, 202, 404, 409), said.text
            assert deleted.status_code in (204, 404, 409), deleted.text
            assert (await api.get(f"/sessions/{session_id}")).status_code == 404
        assert ("delete", 204) in seen
    assert httpx.get(f"{served.server.url}/health").status_code == 200


async def test_a_failed_session_create_leaves_no_adk_session(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agente_films.agents.team import APP_NAME
    from agente_films.db.repositories import SessionRepository
    from agente_films.studio import Studio

    studio = await Studio.open(make_settings(database_url, tmp_path))
    try:
        async def refused(self: Any, **values: Any) -> Any:
            raise ValueError("the database refused the row")

        monkeypatch.setattr(SessionRepository, "create", refused)
        with pytest.raises(ValueError):
            await studio.create_session("local", "Ada", session_id="00000000-0000-4000-8000-000000000001")
        gone = await studio.session_service.get_session(
            app_name=APP_NAME, user_id="local", session_id="00000000-0000-4000-8000-000000000001"
        )
        assert gone is None
    finally:
        await studio.close()


def test_an_unexpected_error_is_a_500_in_json_and_the_connection_survives(tmp_path: Path) -> None:
    """Starlette's net answers 500 and then re-raises, and uvicorn closes the connection under a
    client that was told keep-alive. The app's own net (security.ErrorNet) answers and keeps the
    error: httpx's in-process transport re-raises whatever an app raises, so a 500 here is it."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", tmp_path, frontend_dist=tmp_path / "no-ui"))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug with /srv/secret/path in it")

    answer = InProcess(app).request("GET", "/boom", {})
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Internal error: RuntimeError", "code": "internal_error"}
    assert answer.headers["x-frame-options"] == "DENY" and "connection" not in answer.headers


def test_run_errors_name_no_server_paths() -> None:
    import errno

    from agente_films.runs.manager import describe_error

    told = describe_error(OSError(errno.ENAMETOOLONG, "File name too long", "/srv/app/sessions/artifacts/x.md"))
    assert told == "OSError: File name too long"
    told = describe_error(ValueError("resolves outside of /srv/app/sessions/artifacts; see https://api.example.com/v1/x"))
    assert "/srv" not in told and "https://api.example.com/v1/x" in told


# -- Host ------------------------------------------------------------------------------------


def test_the_host_check_refuses_names_it_does_not_serve(served: Served) -> None:
    wire = KeepAlive(served.port)
    try:
        for host in ("evil.example", "evil.example:80", "localhost.evil.example", ""):
            answer = wire.request("GET", "/health", headers={"Host": host})
            assert answer.status == 400, (host, answer.body)
            assert "is not served here" in answer.json()["detail"] and answer.json()["code"] == "bad_request"
        # Loopback names, with or without a port, and addresses (which no one can rebind).
        for host in ("localhost", f"localhost:{served.port}", f"127.0.0.1:{served.port}", "[::1]", "10.1.2.3:8000"):
            answer = wire.request("GET", "/health", headers={"Host": host})
            assert answer.status == 200, (host, answer.body)
        assert wire.reused
    finally:
        wire.close()


async def test_the_host_check_refuses_a_socket_before_its_handshake(served: Served) -> None:
    # A name the attacker's DNS pointed at this server: the socket reaches it, the name is refused.
    url = f"ws://rebound.evil.example:{served.port}/api/v1/ws/{served.session_id}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, sock=socket.create_connection(("127.0.0.1", served.port))):
            pass
    assert refused.value.response.status_code == 400
    assert b"is not served here" in refused.value.response.body


def test_allowed_hosts_public_url_and_star(tmp_path: Path) -> None:
    def status(settings_overrides: dict[str, Any], host: str) -> int:
        app = create_app(make_settings("sqlite+aiosqlite:///:memory:", tmp_path, **settings_overrides))
        return InProcess(app).request("GET", "/openapi.json", {"Host": host}).status_code

    assert status({"allowed_hosts": ["films.example.com"]}, "films.example.com") == 200
    assert status({"allowed_hosts": ["films.example.com"]}, "FILMS.example.com.:443") == 200
    assert status({"allowed_hosts": ["films.example.com"]}, "other.example.com") == 400
    assert status({"allowed_hosts": ["*.example.com"]}, "a.example.com") == 200
    assert status({"allowed_hosts": ["*.example.com"]}, "example.org") == 400
    assert status({"public_url": "https://pitch.example.org/"}, "pitch.example.org") == 200
    assert status({"host": "films.lan"}, "films.lan:8000") == 200
    assert status({"allowed_hosts": ["*"], "auth_mode": "password"}, "anything.example") == 200  # "*" needs sign-in (settings.py)
    assert status({}, "test") == 200  # the tests' in-process host (conftest.make_settings)


class InProcess:
    """A synchronous client of an app in process, for requests that never reach the studio."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, headers: dict[str, str], content: bytes = b"") -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.request(method, path, headers=headers, content=content)

        return asyncio.run(go())


# -- Origin ----------------------------------------------------------------------------------


async def test_a_cross_site_post_is_refused_and_creates_nothing(served: Served) -> None:
    before = await stored(served.database_url)
    own = f"http://127.0.0.1:{served.port}"
    wire = KeepAlive(served.port)
    try:
        refused = [
            # A "simple" request: no CORS preflight, so only this check stops it.
            ("POST", "/api/v1/sessions", {"Origin": "http://evil.example", "Content-Type": "text/plain"}, b'{"title": "x"}'),
            ("POST", "/api/v1/sessions", {"Origin": "null", "Content-Type": "text/plain"}, b"{}"),
            ("POST", "/api/v1/sessions", {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"}, b"{}"),
            ("POST", f"/api/v1/sessions/{served.session_id}/cancel", {"Origin": "http://evil.example"}, None),
            ("DELETE", f"/api/v1/sessions/{served.session_id}", {"Origin": "https://127.0.0.1.evil.example"}, None),
            ("POST", "/api/v1/agui", {"Origin": "http://evil.example", "Content-Type": "text/plain"},
             agui_body(f'"{served.session_id}"', '"Ada"').encode()),
        ]
        for method, path, headers, body in refused:
            answer = wire.request(method, path, body, headers)
            assert answer.status == 403, (path, headers, answer.body)
            assert answer.json()["code"] == "origin_refused", answer.body
        assert wire.reused
    finally:
        wire.close()
    assert await stored(served.database_url) == before
    # The app's own page, a same-site fetch and a script (no Origin) are served.
    async with httpx.AsyncClient(base_url=f"{own}/api/v1") as api:
        for headers in ({"Origin": own}, {"Origin": own, "Sec-Fetch-Site": "same-origin"}, {}):
            created = await api.post("/sessions", json={"title": "mine"}, headers=headers)
            assert created.status_code == 201, created.text
            assert (await api.delete(f"/sessions/{created.json()['id']}", headers=headers)).status_code == 204
        # Reading is not a change: another site's GET is answered (CORS keeps its body from it).
        assert (await api.get("/sessions", headers={"Origin": "http://evil.example"})).status_code == 200


def test_cors_origins_may_change_things(tmp_path: Path) -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", tmp_path, cors_origins=["https://ui.example.com"]))
    client = InProcess(app)
    # Refused by Origin before any route (so no studio is needed to see it).
    assert client.request("POST", "/api/v1/sessions", {"Origin": "https://evil.example"}).status_code == 403
    # An allowed origin passes the check and reaches the route (405 here: a POST to the schema).
    assert client.request("POST", "/openapi.json", {"Origin": "https://ui.example.com"}).status_code == 405


# -- security headers ------------------------------------------------------------------------


def csp_hash(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def test_security_headers_on_the_ui_and_the_api(served: Served) -> None:
    base = served.server.url
    wire = KeepAlive(served.port)
    try:
        answers = {
            "/": wire.request("GET", "/"),
            "/some/client/route": wire.request("GET", "/some/client/route"),
            "/api/v1/sessions": wire.request("GET", "/api/v1/sessions"),
            "/api/v1/sessions/{bad}": wire.request("GET", "/api/v1/sessions/nope"),
            "/health": wire.request("GET", "/health"),
            "/api/v1/nothing": wire.request("GET", "/api/v1/nothing"),
            "refused Host": wire.request("GET", "/", headers={"Host": "evil.example"}),
        }
    finally:
        wire.close()
    assert answers["/"].status == 200 and answers["/"].body == INDEX_HTML
    inline = re.search(rb"<script>(.*?)</script>", INDEX_HTML).group(1)  # type: ignore[union-attr]
    for where, answer in answers.items():
        policy = answer.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'", (where, policy)
        assert directives["script-src"] == f"'self' {csp_hash(inline)}", (where, policy)
        assert "unsafe-inline" not in directives["script-src"] and "unsafe-inline" not in directives["style-src"]
        assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
        assert directives["object-src"] == "'none'" and directives["form-action"] == "'self'"
        assert directives["img-src"] == "'self' data:"
        assert answer.headers["x-content-type-options"] == "nosniff", where
        assert answer.headers["x-frame-options"] == "DENY", where
        assert answer.headers["referrer-policy"] == "no-referrer", where
    assert f"ws://127.0.0.1:{served.port}" in answers["/"].headers["content-security-policy"]
    # FastAPI's docs page: its own inline start-up script by hash, still no 'unsafe-inline' scripts.
    docs = httpx.get(f"{base}/docs")
    policy = docs.headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    scripts = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", docs.content, re.DOTALL)
    assert scripts and all(csp_hash(s) in script_src for s in scripts)
    assert "unsafe-inline" not in script_src and "frame-ancestors 'none'" in policy


# -- size caps -------------------------------------------------------------------------------


def raw_exchange(port: int, head: bytes, chunks: Iterator[bytes] = iter(())) -> bytes:
    """Send `head` then `chunks` on a fresh connection (stopping if the server closes it) and
    return what the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before taking it all: that is the point
        answer = b""
        try:
            while part := sock.recv(65536):
                answer += part
        except OSError:
            pass
    return answer


async def test_a_chunked_or_huge_body_is_cut_at_the_cap_with_413(served: Served) -> None:
    before = await stored(served.database_url)
    head = (
        f"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"x" * 65536
    chunks = iter([b'10\r\n{"title": "xxxxx\r\n'] + [b"%x\r\n%s\r\n" % (len(piece), piece)] * 40 + [b"0\r\n\r\n"])
    answer = raw_exchange(served.port, head, chunks)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large" or status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"connection: close" in rest.lower()
    assert b'"code":"too_large"' in answer and b"1000000 bytes" in answer
    # Announced far over the cap: 413 at once, without waiting for a byte of it, and closed.
    head = (
        f"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000000\r\n\r\n"
    ).encode()
    answer = raw_exchange(served.port, head)
    assert answer.startswith(b"HTTP/1.1 413 ") and b"connection: close" in answer.lower(), answer[:300]
    assert await stored(served.database_url) == before


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_headers_over_the_cap_get_431_and_cost_the_server_no_memory(served: Served) -> None:
    head = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nX-Big: ".encode()
    answer = raw_exchange(served.port, head + b"a" * (MAX_HEADER + 1024) + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code":"too_large"' in answer and str(MAX_HEADER).encode() in answer
    # Headers under the cap are served as ever.
    ok = raw_exchange(served.port, head + b"a" * 8000 + b"\r\nConnection: close\r\n\r\n")
    assert ok.startswith(b"HTTP/1.1 200 "), ok[:200]

    # The attack of the issue: 10 connections each sending an unfinished 32 MiB header.
    before = rss_mib(served.pid)
    answers: list[bytes] = []
    peak = before

    def attack() -> None:
        chunks = (b"a" * 65536 for _ in range(512))  # 32 MiB, never finished
        answers.append(raw_exchange(served.port, head, chunks))

    threads = [threading.Thread(target=attack) for _ in range(10)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_mib(served.pid))
        time.sleep(0.02)
    assert all(a.startswith(b"HTTP/1.1 431 ") for a in answers), [a[:40] for a in answers]
    assert peak - before < 30, f"the server grew from {before:.0f} to {peak:.0f} MiB"
    assert httpx.get(f"{served.server.url}/health").status_code == 200


async def test_the_413_and_422_answers_never_echo_a_large_body(served: Served) -> None:
    async with httpx.AsyncClient(base_url=f"{served.server.url}/api/v1") as api:
        near_cap = await api.post("/sessions", json={"title": "y" * 990_000})
        assert near_cap.status_code == 422 and len(near_cap.content) < 1_000, near_cap.text[:300]
        over_cap = await api.post("/sessions", content=b'{"title": "' + b"y" * 5_000_000 + b'"}',
                                  headers={"Content-Type": "application/json"})
        assert over_cap.status_code == 413 and len(over_cap.content) < 1_000


# -- one mapping of a refusal ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("refusal", "body", "headers"),
    [
        (SessionNotFound("s1"), {"detail": "Session s1 not found (it may have been deleted).", "code": "session_not_found"}, {}),
        (BadText("The message contains control characters; send plain text."),
         {"detail": "The message contains control characters; send plain text.", "code": "bad_text"}, {}),
        (Refused(413, "Too big."), {"detail": "Too big.", "code": "too_large"}, {}),
        (RateLimited("Slow down.", 7), {"detail": "Slow down.", "code": "rate_limited", "retry_after": 7}, {"retry-after": "7"}),
        (StaleVersion(3, 5), {"detail": StaleVersion(3, 5).args[0], "code": "stale_version", "current_version": 5}, {}),
    ],
)
def test_a_refusal_is_one_body_for_rest_and_one_frame_for_the_socket(refusal, body, headers) -> None:  # noqa: ANN001
    response = refusal_response(refusal)
    assert response.status_code == refusal.status_code
    assert json.loads(response.body) == body  # ErrorOut without its empty fields
    assert {name: response.headers[name] for name in headers} == headers
    frame = refusal_frame(refusal)
    assert frame["control"] == "error" and frame["code"] == body["code"] and frame["message"] == body["detail"]
    assert frame["status"] == refusal.status_code and frame.get("retryAfter") == body.get("retry_after")
