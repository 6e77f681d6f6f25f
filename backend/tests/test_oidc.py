"""AUTH_MODE=oidc against a real OpenID Connect provider (oidc-provider-mock, a Flask app on a
thread): the whole browser hand-shake with PKCE, accounts by (issuer, subject), and every way the
callback can go wrong answered with a redirect back to the app, never a 5xx. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import werkzeug.serving
from pydantic import ValidationError

from agente_films.api.app import create_app
from agente_films.auth.secrets import token_hash
from agente_films.auth.store import SignInRepository, UserRepository
from agente_films.settings import Settings
from agente_films.studio import Studio
from tests.conftest import attach_studio, make_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # authlib.jose, used by the mock

with warnings.catch_warnings():  # the mock imports authlib.jose, which warns that it is deprecated
    warnings.simplefilter("ignore")
    import oidc_provider_mock

CLIENT_ID = "agente-films"
CLIENT_SECRET = "test-secret"
LOGIN = "/api/v1/auth/oidc/login"
CALLBACK = "/api/v1/auth/oidc/callback"
APP = "http://localhost"  # a loopback name: the Host check lets it through


class Provider:
    """The mock provider on a free port, recording what the app sends to its token endpoint."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, str]] = []
        app = oidc_provider_mock.app()

        @app.before_request
        def _record() -> None:
            import flask

            if flask.request.path == "/oauth2/token":
                self.token_requests.append(dict(flask.request.form))

        # run_server_in_thread builds its own app; this one is the same, plus the recorder.
        self.server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
        self.issuer = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1})

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


def oidc_settings(database_url: str, tmp_path: Path, issuer: str, **overrides: object) -> Settings:
    return make_settings(
        database_url, tmp_path, auth_mode="oidc", oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET, **overrides,
    )


@pytest.fixture
async def app_and_studio(database_url: str, tmp_path: Path, provider: Provider) -> AsyncIterator[tuple]:
    settings = oidc_settings(database_url, tmp_path, provider.issuer)
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    yield app, studio
    await studio.close()


def browser(app) -> httpx.AsyncClient:
    """One browser: its own cookie jar, redirects followed by hand (each step is asserted)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP, timeout=30)


async def start(client: httpx.AsyncClient) -> str:
    """The app's redirect to the provider's authorize endpoint."""
    response = await client.get(LOGIN)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def authorize(authorize_url: str, sub: str | None = None, *, deny: bool = False) -> str:
    """The person at the provider: submits its authorize form; returns where it sends them back."""
    data = {"action": "deny"} if deny else {"sub": sub}
    async with httpx.AsyncClient(timeout=30) as at_provider:
        response = await at_provider.post(authorize_url, data=data)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def sign_in(client: httpx.AsyncClient, sub: str) -> httpx.Response:
    callback = await authorize(await start(client), sub)
    return await client.get(callback)


def signin_error(response: httpx.Response) -> str | None:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/"
    return parse_qs(location.query).get("signin_error", [None])[0]


async def user_of(studio: Studio, client: httpx.AsyncClient):
    """Who the browser's sign-in cookie belongs to, as the server looks it up."""
    cookie = client.cookies.get("af_session")
    assert cookie, "no sign-in cookie"
    async with studio.sessionmaker() as db:
        return await SignInRepository(db).user_for(token_hash(cookie))


async def me(client: httpx.AsyncClient) -> dict:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    return response.json()


async def test_sign_in_with_pkce_makes_one_account_per_subject_and_keeps_them_apart(app_and_studio, provider) -> None:
    app, studio = app_and_studio
    async with browser(app) as alice:
        assert (await alice.get("/api/v1/auth/me")).status_code == 401

        login = await alice.get(LOGIN)
        assert login.status_code == 302
        handshake = login.headers["set-cookie"]
        assert handshake.startswith("af_oidc=")
        assert "httponly" in handshake.lower() and "samesite=lax" in handshake.lower()
        assert "path=/api/v1/auth/oidc" in handshake.lower() and "max-age=600" in handshake.lower()

        authorize_url = login.headers["location"]
        assert authorize_url.startswith(f"{provider.issuer}/oauth2/authorize?")
        query = parse_qs(urlsplit(authorize_url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == [f"{APP}{CALLBACK}"]
        assert "openid" in query["scope"][0].split()
        assert query["state"][0] and query["nonce"][0]

        before = len(provider.token_requests)
        callback = await alice.get(await authorize(authorize_url, "alice@example.com"))
        assert signin_error(callback) is None
        cookies = callback.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookies if c.startswith("af_session="))
        assert "httponly" in session_cookie.lower() and "samesite=lax" in session_cookie.lower()
        assert any(c.startswith("af_oidc=null;") and "1970" in c for c in cookies)  # the hand-shake is over

        # PKCE: the code was exchanged with the verifier the challenge was made from.
        [exchange] = provider.token_requests[before:]
        digest = hashlib.sha256(exchange["code_verifier"].encode()).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]

        user = await user_of(studio, alice)
        assert user.username == "alice@example.com"
        assert (user.oidc_issuer, user.oidc_subject) == (provider.issuer, "alice@example.com")
        alice_me = await me(alice)
        assert (alice_me["user_id"], alice_me["username"], alice_me["via"]) == (user.id, "alice@example.com", "cookie")
        assert alice_me["is_admin"] is False
        created = await alice.post("/api/v1/sessions", json={"title": "Alice's film"},
                                   headers={"X-CSRF-Token": alice_me["csrf_token"]})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

    async with browser(app) as again:  # another browser, same person: same account
        assert signin_error(await sign_in(again, "alice@example.com")) is None
        assert (await me(again))["user_id"] == user.id
        assert (await again.get(f"/api/v1/sessions/{session_id}")).status_code == 200

    async with browser(app) as bob:
        assert signin_error(await sign_in(bob, "bob@example.com")) is None
        bob_me = await me(bob)
        assert bob_me["user_id"] != user.id and bob_me["username"] == "bob@example.com"
        assert (await bob.get(f"/api/v1/sessions/{session_id}")).status_code == 404
        assert (await bob.get("/api/v1/sessions")).json()["items"] == []


async def test_a_taken_username_gets_a_variant_never_the_other_account(app_and_studio) -> None:
    app, studio = app_and_studio
    async with studio.sessionmaker.begin() as db:
        carol = await UserRepository(db).create("carol@example.com", password_hash="x")
    async with browser(app) as client:
        assert signin_error(await sign_in(client, "carol@example.com")) is None
        user = await user_of(studio, client)
    assert user.id != carol.id
    assert user.username.startswith("carol@example.com-") and len(user.username) == len("carol@example.com-") + 6


async def test_signing_in_as_someone_else_ends_the_previous_sign_in(app_and_studio) -> None:
    app, studio = app_and_studio
    async with browser(app) as client:
        await sign_in(client, "dave@example.com")
        first = client.cookies["af_session"]
        await sign_in(client, "erin@example.com")
        assert (await me(client))["username"] == "erin@example.com"
    async with studio.sessionmaker() as db:
        assert await SignInRepository(db).user_for(token_hash(first)) is None


async def test_a_tampered_or_foreign_callback_signs_no_one_in(app_and_studio) -> None:
    app, _studio = app_and_studio
    async with browser(app) as client:
        callback = await authorize(await start(client), "mallory@example.com")
        parts = urlsplit(callback)
        query = parse_qs(parts.query)
        tampered = f"{CALLBACK}?code={query['code'][0]}&state={query['state'][0]}x"
        response = await client.get(tampered)
        assert signin_error(response) == "state_mismatch"
        assert "af_session" not in client.cookies
        assert (await client.get("/api/v1/auth/me")).status_code == 401
        # The hand-shake was spent by the failed attempt: the genuine callback is refused too.
        assert signin_error(await client.get(callback)) == "state_mismatch"

    async with browser(app) as attacker, browser(app) as victim:  # a callback the victim never started
        attacker_callback = await authorize(await start(attacker), "mallory@example.com")
        assert signin_error(await victim.get(attacker_callback)) == "state_mismatch"
        assert "af_session" not in victim.cookies

    async with browser(app) as client:  # replaying a callback that worked
        callback = await authorize(await start(client), "frank@example.com")
        assert signin_error(await client.get(callback)) is None
        assert signin_error(await client.get(callback)) == "state_mismatch"

    async with browser(app) as client:
        for query in ("", "?state=", "?code=x", "?state=%00%ff&code=%ud800", "?state=" + "a" * 5000):
            response = await client.get(CALLBACK + query)
            assert signin_error(response) == "state_mismatch", query


async def test_denied_or_failed_at_the_provider_goes_back_with_a_reason(app_and_studio) -> None:
    app, _studio = app_and_studio
    async with browser(app) as client:
        denied = await client.get(await authorize(await start(client), deny=True))
        assert signin_error(denied) == "access_denied"
        assert "af_session" not in client.cookies

        await start(client)
        failed = await client.get(f"{CALLBACK}?error=server_error&error_description=boom")
        assert signin_error(failed) == "provider_error"

        # A real state but a code the provider never issued: its token endpoint refuses.
        callback = await authorize(await start(client), "gina@example.com")
        state = parse_qs(urlsplit(callback).query)["state"][0]
        bad_code = await client.get(f"{CALLBACK}?code=not-a-code&state={state}")
        assert signin_error(bad_code) == "provider_error"
        assert "af_session" not in client.cookies


async def test_an_unreachable_provider_is_a_redirect_with_a_reason(database_url: str, tmp_path: Path) -> None:
    settings = oidc_settings(database_url, tmp_path, "http://127.0.0.1:9")  # nothing listens there
    app = create_app(settings)
    studio = await Studio.open(settings)
    attach_studio(app, studio)
    try:
        async with browser(app) as client:
            response = await client.get(LOGIN)
            assert signin_error(response) == "provider_unavailable"
            assert (await client.get("/health")).status_code == 200
    finally:
        await studio.close()


async def test_public_url_sets_the_redirect_uri(database_url: str, tmp_path: Path, provider: Provider) -> None:
    settings = oidc_settings(database_url, tmp_path, provider.issuer, public_url="https://films.example.com/")
    app = create_app(settings)
    async with browser(app) as client:
        response = await client.get(LOGIN)
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["redirect_uri"] == [f"https://films.example.com{CALLBACK}"]
    # Reached over https: the hand-shake cookie is Secure.
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("mode", ["none", "password", "proxy"])
async def test_the_routes_are_not_there_in_other_modes(mode: str, tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/test.db", tmp_path, auth_mode=mode)
    app = create_app(settings)
    async with browser(app) as client:
        for path in (LOGIN, CALLBACK):
            response = await client.get(path)
            assert response.status_code == 404
            assert "AUTH_MODE is not oidc" in response.json()["detail"]
            assert "set-cookie" not in response.headers


def test_oidc_mode_without_its_settings_fails_at_startup_naming_them() -> None:
    with pytest.raises(ValidationError) as both:
        Settings(_env_file=None, auth_mode="oidc")  # type: ignore[call-arg]
    assert "OIDC_ISSUER and OIDC_CLIENT_ID" in str(both.value)
    with pytest.raises(ValidationError) as one:
        Settings(_env_file=None, auth_mode="oidc", oidc_issuer="https://accounts.google.com")  # type: ignore[call-arg]
    assert "needs OIDC_CLIENT_ID" in str(one.value) and "OIDC_ISSUER" not in str(one.value)
    Settings(_env_file=None, auth_mode="oidc", oidc_issuer="https://id.example.com", oidc_client_id="x")  # type: ignore[call-arg]


async def test_a_real_server_signs_in_through_the_provider(database_url: str, provider: Provider, start_server) -> None:
    """`agente-films serve` configured from the environment, as a deployment is."""
    server = start_server(
        database_url, AUTH_MODE="oidc", OIDC_ISSUER=provider.issuer, OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        login = await client.get(LOGIN)
        assert login.status_code == 302
        query = parse_qs(urlsplit(login.headers["location"]).query)
        assert query["redirect_uri"] == [f"{server.url}{CALLBACK}"]
        assert query["code_challenge_method"] == ["S256"]
        callback = await client.get(await authorize(login.headers["location"], "hana@example.com"))
        assert signin_error(callback) is None
        assert (await me(client))["username"] == "hana@example.com"
        assert signin_error(await client.get(f"{CALLBACK}?code=x&state=forged")) == "state_mismatch"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://elsewhere.example", "sub": "a"}, "another issuer"),
        ({"sub": "a"}, "another issuer"),
        ({"iss": "https://id.example.com", "sub": ""}, "no usable subject"),
        ({"iss": "https://id.example.com", "sub": 42}, "no usable subject"),
        ({"iss": "https://id.example.com", "sub": "a\x00b"}, "no usable subject"),
        ({"iss": "https://id.example.com", "sub": "\ud800"}, "no usable subject"),
        ({"iss": "https://id.example.com", "sub": "x" * 256}, "no usable subject"),
    ],
)
def test_an_id_token_without_a_usable_identity_is_refused(claims: dict, reason: str, tmp_path: Path) -> None:
    from agente_films.auth.oidc import OidcSignIn, SignInFailed

    oidc = OidcSignIn(oidc_settings("sqlite+aiosqlite://", tmp_path, "https://id.example.com/"))
    with pytest.raises(SignInFailed, match=reason) as refused:
        oidc.identity(claims)
    assert refused.value.code == "invalid_token"


def test_the_username_is_the_verified_email_else_the_provider_name_else_the_subject(tmp_path: Path) -> None:
    from agente_films.auth.oidc import OidcSignIn

    oidc = OidcSignIn(oidc_settings("sqlite+aiosqlite://", tmp_path, "https://id.example.com"))
    base = {"iss": "https://id.example.com/", "sub": "10769150350006150715113082367"}
    verified = {**base, "email_verified": True}
    assert oidc.identity({**verified, "email": "Ada@Example.com", "preferred_username": "ada"}).username == "ada@example.com"
    assert oidc.identity({**verified, "email": "not an email", "preferred_username": "Ada.L"}).username == "ada.l"
    # An address the provider did not verify may be anybody's: it never names the account.
    for unverified in ({}, {"email_verified": False}, {"email_verified": "true"}):
        claims = {**base, **unverified, "email": "admin@example.com"}
        assert oidc.identity({**claims, "preferred_username": "ada"}).username == "ada"
        assert oidc.identity(claims).username == "10769150350006150715113082367"
    assert oidc.identity(base).username == "10769150350006150715113082367"
    assert oidc.identity({**base, "sub": "../../etc"}).username == "user"
    assert oidc.identity(base).issuer == "https://id.example.com"
