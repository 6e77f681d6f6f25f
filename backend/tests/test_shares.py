"""Share links (in process, AUTH_MODE=password, SQLite and PostgreSQL): the owner makes a signed,
expiring, revocable link; anyone opens it signed out and reads the story and the pitch; a tampered,
revoked or expired link, or one to a deleted session, gets the same 404; nobody else manages
the owner's links; the shared routes are read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import update

from agente_films import state_keys as k
from agente_films.api.app import create_app
from agente_films.api.routes.shares import LINK_GONE
from agente_films.auth.secrets import keyed_digest, load_secret_key, new_api_token, new_token, token_hash
from agente_films.auth.store import ApiTokenRepository, SignInRepository, UserRepository
from agente_films.db.tables import ShareLink, utcnow
from agente_films.sharing import MAX_ACTIVE_LINKS, SALT, ShareLinks
from agente_films.studio import Studio
from tests.conftest import attach_studio, make_settings

BASE = "http://localhost"


@dataclass
class World:
    studio: Studio
    alice: httpx.AsyncClient
    bob: httpx.AsyncClient
    anon: httpx.AsyncClient
    alice_id: str
    session_id: str


async def new_user(studio: Studio, username: str) -> tuple[str, str]:
    """A user and a personal API token of theirs."""
    token = new_api_token()
    async with studio.sessionmaker.begin() as db:
        user = await UserRepository(db).create(username, password_hash="unused")
        await ApiTokenRepository(db).create(user.id, "tests", token_hash(token), token[:12])
    return user.id, token


@pytest.fixture
async def world(database_url: str, tmp_path: Path):
    """The real app in password mode, alice with a finished pitch, bob, and a visitor signed out."""
    settings = make_settings(database_url, tmp_path, auth_mode="password", rate_limit_ip_per_minute=0,
                             rate_limit_user_per_hour=0)
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    alice_id, alice_token = await new_user(studio, "alice")
    _, bob_token = await new_user(studio, "bob")
    row = await studio.create_session(alice_id, "Ada")
    run = await studio.runs.start(session_id=row.id, user_id=alice_id, text="Ada Lovelace")
    await run.done.wait()

    def client(**headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)

    async with (
        client(Authorization=f"Bearer {alice_token}") as alice,
        client(Authorization=f"Bearer {bob_token}") as bob,
        client() as anon,
    ):
        yield World(studio, alice, bob, anon, alice_id, row.id)
    await studio.close()


async def share(w: World, **body: int) -> dict:
    response = await w.alice.post(f"/api/v1/sessions/{w.session_id}/shares", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def token_of(link: dict) -> str:
    assert link["url"].startswith(f"{BASE}/shared/")
    return link["url"].removeprefix(f"{BASE}/shared/")


async def assert_gone(w: World, token: str) -> None:
    response = await w.anon.get(f"/api/v1/shared/{token}")
    assert response.status_code == 404
    # Revoked, expired, tampered, deleted: one answer, so a stranger cannot tell them apart.
    assert response.json() == {"detail": LINK_GONE, "code": "not_found"}
    assert response.headers["cache-control"] == "no-store"


async def test_a_link_opens_the_story_and_the_pitch_signed_out(world: World) -> None:
    w = world
    assert (await w.anon.get(f"/api/v1/sessions/{w.session_id}")).status_code == 401  # truly signed out
    link = await share(w, days=7)
    token = token_of(link)
    assert abs((_parse(link["expires_at"]) - utcnow()) - timedelta(days=7)) < timedelta(minutes=1)

    response = await w.anon.get(f"/api/v1/shared/{token}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "noindex" in response.headers["x-robots-tag"]
    view = response.json()
    owner_view = (await w.alice.get(f"/api/v1/sessions/{w.session_id}")).json()
    assert (view["title"], view["subject"]) == (owner_view["title"], owner_view["subject"]) == ("Ada Lovelace", "Ada Lovelace")
    assert view["expires_at"] == link["expires_at"]
    owner_state = (await w.alice.get(f"/api/v1/sessions/{w.session_id}/state")).json()["state"]
    # The story as the owner sees it, and nothing but the story.
    for key in (k.PROMPT, k.PLOT_OUTLINE, k.RESEARCH, k.BOX_OFFICE_REPORT, k.CASTING_REPORT, k.PITCH_DOCUMENT):
        assert view["state"][key] == owner_state[key]
    assert set(view["state"]) <= {k.PROMPT, k.PLOT_OUTLINE, k.DIRECTION, k.REVISION, k.RESEARCH, k.CRITICAL_FEEDBACK,
                                  k.BOX_OFFICE_REPORT, k.CASTING_REPORT, k.PITCH_DOCUMENT}
    assert w.alice_id not in response.text and w.session_id not in response.text

    [pitch] = view["pitches"]
    [version] = pitch["versions"]
    assert version["markdown_url"].startswith(f"/api/v1/shared/{token}/pitches/")
    markdown = await w.anon.get(version["markdown_url"])
    assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["cache-control"] == "no-store"
    owners = await w.alice.get(f"/api/v1/sessions/{w.session_id}/pitches/{pitch['filename']}", params={"version": 0})
    assert markdown.content == owners.content and "## Casting report" in markdown.text
    pdf = await w.anon.get(version["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'attachment; filename="{pitch["filename"].removesuffix(".md")}-v0.pdf"'
    latest = await w.anon.get(f"/api/v1/shared/{token}/pitches/{pitch['filename']}")
    assert latest.content == owners.content
    missing = await w.anon.get(f"/api/v1/shared/{token}/pitches/nope.md")
    assert missing.status_code == 404 and w.session_id not in missing.text
    traversal = await w.anon.get(f"/api/v1/shared/{token}/pitches/..%2F..%2Fsecret.md")
    assert traversal.status_code == 404

    # The owner lists it, with the same URL (a link keeps one URL).
    listed = (await w.alice.get(f"/api/v1/sessions/{w.session_id}/shares")).json()
    assert listed == [link]
    # The page itself is the UI's (index.html when the frontend is built); never cached either.
    page = await w.anon.get(f"/shared/{token}")
    assert page.headers["cache-control"] == "no-store" and "noindex" in page.headers["x-robots-tag"]


async def test_the_shared_view_has_no_notes_run_ids_or_ids(world: World) -> None:
    """A revision with a producer's note first, so that the owner's list has notes, run ids and
    undo marks: none of them reaches a visitor, nor the user's or the session's id."""
    w = world
    revision = await w.studio.runs.start(session_id=w.session_id, user_id=w.alice_id, text="Make it darker")
    await revision.done.wait()
    owners = (await w.alice.get(f"/api/v1/sessions/{w.session_id}/pitches")).json()
    [owned] = owners
    assert [(v["revision"], v["notes"]) for v in owned["versions"]] == [(0, []), (1, ["Make it darker"])]
    run_ids = {v["run_id"] for v in owned["versions"]}
    history = (await w.alice.get(f"/api/v1/sessions/{w.session_id}/history")).json()
    run_ids |= {item["question"]["id"] for item in history["items"]}
    assert len(run_ids - {None}) >= 2

    response = await w.anon.get(f"/api/v1/shared/{token_of(await share(w))}")
    assert response.status_code == 200, response.text
    view = response.json()
    [pitch] = view["pitches"]
    assert pitch["filename"] == owned["filename"] and pitch["latest_version"] == 1
    for version in pitch["versions"]:
        assert set(version) == {"version", "created_at", "size", "revision", "markdown_url", "pdf_url"}
    assert [v["revision"] for v in pitch["versions"]] == [0, 1]
    # The note's text is not listed with the versions, and the state has no producer's notes.
    assert "Make it darker" not in str(view["pitches"]) and k.PRODUCER_NOTES not in view["state"]
    for secret in (*(run_ids - {None}), w.alice_id, w.session_id):
        assert secret not in response.text, secret


async def test_a_tampered_or_foreign_token_gets_404(world: World) -> None:
    w = world
    link = await share(w)
    token = token_of(link)
    payload, timestamp, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    key = load_secret_key(w.studio.settings)
    not_a_link = URLSafeTimedSerializer(key, salt=SALT).dumps("not-a-link")
    other_purpose = URLSafeTimedSerializer(key, salt="another-purpose").dumps(link["id"])
    other_key = URLSafeTimedSerializer("another server's key", salt=SALT).dumps(link["id"])
    for bad in (f"{payload}.{timestamp}.{flipped}", f"{payload}x.{timestamp}.{signature}", "nonsense",
                token[:-1], not_a_link, other_purpose, other_key, "a" * 5000, "%F0%9F%8E%AC", "%00"):
        await assert_gone(w, bad)
        assert (await w.anon.get(f"/api/v1/shared/{bad}/pitches/x.md")).status_code == 404
    # The real one still opens.
    assert (await w.anon.get(f"/api/v1/shared/{token}")).status_code == 200


async def test_a_revoked_link_gets_404_and_leaves_the_list(world: World) -> None:
    w = world
    keep, gone = await share(w), await share(w)
    response = await w.alice.delete(f"/api/v1/sessions/{w.session_id}/shares/{gone['id']}")
    assert response.status_code == 204
    await assert_gone(w, token_of(gone))
    assert (await w.anon.get(f"/api/v1/shared/{token_of(gone)}/pitches/x.md")).status_code == 404
    assert (await w.alice.get(f"/api/v1/sessions/{w.session_id}/shares")).json() == [keep]
    again = await w.alice.delete(f"/api/v1/sessions/{w.session_id}/shares/{gone['id']}")
    assert again.status_code == 404
    assert (await w.anon.get(f"/api/v1/shared/{token_of(keep)}")).status_code == 200


async def test_an_expired_link_gets_the_same_404(world: World) -> None:
    w = world
    link = await share(w, days=1)
    links = ShareLinks(w.studio.sessionmaker, load_secret_key(w.studio.settings))
    now = utcnow()
    # A controlled clock: open the day it was made, closed once its day is over.
    assert await links.resolve(token_of(link), now=now + timedelta(hours=23)) is not None
    assert await links.resolve(token_of(link), now=now + timedelta(days=1, minutes=1)) is None
    # And through the API, with its expiry moved into the past.
    async with w.studio.sessionmaker.begin() as db:
        await db.execute(update(ShareLink).where(ShareLink.id == link["id"]).values(expires_at=now - timedelta(seconds=1)))
    await assert_gone(w, token_of(link))
    assert (await w.alice.get(f"/api/v1/sessions/{w.session_id}/shares")).json() == []
    # Revoking an expired link: there is no live link to revoke.
    assert (await w.alice.delete(f"/api/v1/sessions/{w.session_id}/shares/{link['id']}")).status_code == 404


async def test_a_deleted_sessions_link_gets_404(world: World) -> None:
    w = world
    token = token_of(await share(w))
    assert (await w.alice.delete(f"/api/v1/sessions/{w.session_id}")).status_code == 204
    await assert_gone(w, token)
    assert (await w.anon.get(f"/api/v1/shared/{token}/pitches/x.md")).status_code == 404


async def test_only_the_owner_makes_lists_and_revokes_links(world: World) -> None:
    w = world
    link = await share(w)
    shares = f"/api/v1/sessions/{w.session_id}/shares"
    for client, status in ((w.bob, 404), (w.anon, 401)):
        assert (await client.get(shares)).status_code == status
        assert (await client.post(shares, json={})).status_code == status
        assert (await client.delete(f"{shares}/{link['id']}")).status_code == status
    assert (await w.anon.get(f"/api/v1/shared/{token_of(link)}")).status_code == 200, "bob did not revoke it"
    assert (await w.alice.get(shares)).json() == [link], "and made none"
    # Bob's own session: alice's link id does not revoke through it.
    bobs = (await w.bob.post("/api/v1/sessions", json={})).json()["id"]
    assert (await w.bob.delete(f"/api/v1/sessions/{bobs}/shares/{link['id']}")).status_code == 404
    assert (await w.anon.get(f"/api/v1/shared/{token_of(link)}")).status_code == 200


async def test_a_cookie_signed_in_owner_needs_the_csrf_token(world: World) -> None:
    w = world
    cookie = new_token()
    async with w.studio.sessionmaker.begin() as db:
        await SignInRepository(db).create(token_hash(cookie), w.alice_id, timedelta(days=1))
    w.anon.cookies.set(w.studio.settings.session_cookie_name, cookie)
    shares = f"/api/v1/sessions/{w.session_id}/shares"
    refused = await w.anon.post(shares, json={})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    csrf = keyed_digest(load_secret_key(w.studio.settings), "csrf", token_hash(cookie))
    made = await w.anon.post(shares, json={}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    assert (await w.anon.delete(f"{shares}/{made.json()['id']}")).status_code == 403
    assert (await w.anon.delete(f"{shares}/{made.json()['id']}", headers={"X-CSRF-Token": csrf})).status_code == 204


async def test_shared_routes_are_read_only(world: World) -> None:
    w = world
    token = token_of(await share(w))
    for path in (f"/api/v1/shared/{token}", f"/api/v1/shared/{token}/pitches/x.md"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for client in (w.anon, w.alice):
                response = await client.request(method, path, json={"title": "mine now"})
                assert response.status_code in (404, 405), (method, path, response.status_code)
                assert response.headers["cache-control"] == "no-store"
    assert (await w.anon.get(f"/api/v1/shared/{token}")).json()["title"] == "Ada Lovelace"


async def test_expiry_choices_and_limits(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    shares = f"/api/v1/sessions/{w.session_id}/shares"
    plain = await w.alice.post(shares)  # no body: the default, a week
    assert plain.status_code == 201
    assert abs(_parse(plain.json()["expires_at"]) - utcnow() - timedelta(days=7)) < timedelta(minutes=1)
    for days in (0, -1, 91, 10**30, "soon"):
        response = await w.alice.post(shares, json={"days": days})
        assert response.status_code == 422, (days, response.text)
    ninety = await share(w, days=90)
    assert abs(_parse(ninety["expires_at"]) - utcnow() - timedelta(days=90)) < timedelta(minutes=1)
    assert (await w.alice.delete(f"{shares}/not-a-uuid")).status_code == 422
    for _ in range(MAX_ACTIVE_LINKS - 2):
        await share(w)
    refused = await w.alice.post(shares, json={})
    assert refused.status_code == 409 and "revoke one" in refused.json()["detail"]
    # Behind a proxy, the link is built on PUBLIC_URL.
    monkeypatch.setattr(w.studio.settings, "public_url", "https://films.example.com/")
    listed = (await w.alice.get(shares)).json()
    assert all(link["url"].startswith("https://films.example.com/shared/") for link in listed)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
