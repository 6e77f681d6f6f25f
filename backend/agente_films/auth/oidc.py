"""Sign-in with an OpenID Connect provider (AUTH_MODE=oidc): Google, Keycloak, Auth0, GitHub's...

The authorization-code flow with PKCE (S256) through authlib's Starlette client. authlib checks
the callback's `state` against the browser's hand-shake cookie, sends the PKCE verifier, and
validates the ID token (signature against the provider's JWKS, nonce, iss, aud, exp). We then find
the account by (issuer, subject), or make one, and open the usual sign-in cookie (auth/cookies.py).

The hand-shake (state, nonce, PKCE verifier) lives in a short-lived signed cookie of its own
(Starlette's SessionMiddleware, installed only in this mode), scoped to the OIDC routes.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI
from joserfc.errors import JoseError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response

from agente_films.auth.cookies import secure_cookies
from agente_films.auth.identity import normal_username
from agente_films.auth.secrets import load_secret_key
from agente_films.auth.store import UserRepository
from agente_films.settings import Settings

log = logging.getLogger(__name__)

# authlib's HTTP client is httpx2 when installed (httpx otherwise): a provider that is down or
# answers garbage raises either family's errors.
try:
    import httpx2

    NETWORK_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover
    NETWORK_ERRORS = (httpx.HTTPError,)

PROVIDER = "oidc"
# The routes (api/routes/oidc.py) live under this path; the hand-shake cookie is sent only there.
ROUTES_PATH = "/api/v1/auth/oidc"
CALLBACK_PATH = f"{ROUTES_PATH}/callback"
HANDSHAKE_COOKIE = "af_oidc"
# Long enough to type a password and pass a second factor at the provider, short enough that a
# forgotten tab's hand-shake is worthless.
HANDSHAKE_SECONDS = 600
# Every call to the provider (discovery, JWKS, token endpoint): a slow provider fails the sign-in,
# it never holds a request forever.
PROVIDER_TIMEOUT_SECONDS = 10.0
# users.oidc_subject is VARCHAR(255); the spec caps `sub` there too.
MAX_SUBJECT_CHARS = 255


class SignInFailed(Exception):
    """The hand-shake did not end with a trustworthy identity. `code` is what the browser is sent
    back with (/?signin_error=<code>), so the page can say what happened."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    username: str  # normalized; may be taken by someone else (user_for adds a suffix then)


def install(app: FastAPI, settings: Settings) -> None:
    """What AUTH_MODE=oidc adds to the app: the client (app.state.oidc) and the hand-shake cookie."""
    app.state.oidc = OidcSignIn(settings)
    # SessionMiddleware cannot decide per request: COOKIE_SECURE, else PUBLIC_URL's scheme.
    secure = secure_cookies(settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=load_secret_key(settings),
        session_cookie=HANDSHAKE_COOKIE,
        max_age=HANDSHAKE_SECONDS,
        path=ROUTES_PATH,
        same_site="lax",  # the provider's redirect back is a top-level GET: Lax cookies go with it
        https_only=secure,
    )


def callback_url(request: Request, settings: Settings) -> str:
    """The redirect URI registered at the provider: on PUBLIC_URL when set (behind a gateway the
    request's own host may be an internal name), else the request's own origin."""
    if settings.public_url:
        return settings.public_url.rstrip("/") + CALLBACK_PATH
    return str(request.base_url).rstrip("/") + CALLBACK_PATH


class OidcSignIn:
    def __init__(self, settings: Settings) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("AUTH_MODE=oidc needs OIDC_ISSUER and OIDC_CLIENT_ID")
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        scopes = settings.oidc_scopes.split()
        if "openid" not in scopes:  # without it there is no ID token, so no verified identity
            scopes.insert(0, "openid")
        client_kwargs: dict[str, object] = {
            "scope": " ".join(scopes),
            "code_challenge_method": "S256",
            "timeout": PROVIDER_TIMEOUT_SECONDS,
        }
        if not settings.oidc_client_secret:
            # A public client (no secret): PKCE alone protects the code exchange.
            client_kwargs["token_endpoint_auth_method"] = "none"
        self.client = OAuth().register(
            name=PROVIDER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    async def start(self, request: Request, redirect_uri: str) -> Response:
        """The redirect to the provider's sign-in page (state, nonce and PKCE challenge in it)."""
        try:
            return await self.client.authorize_redirect(request, redirect_uri)
        except (*NETWORK_ERRORS, AuthlibBaseError, RuntimeError, ValueError) as exc:
            # Discovery failed: the provider is down, or OIDC_ISSUER points at something else.
            log.warning("OIDC provider discovery failed: %s", exc)
            raise SignInFailed("provider_unavailable", "The sign-in provider cannot be reached.") from exc

    async def finish(self, request: Request) -> Identity:
        """The identity the provider vouched for on its redirect back (raises SignInFailed)."""
        try:
            token = await self.client.authorize_access_token(request)
        except MismatchingStateError as exc:
            # No hand-shake cookie, an expired one, or a state that is not ours (a forged callback).
            raise SignInFailed("state_mismatch", "The sign-in expired or was not started here.") from exc
        except OAuthError as exc:
            if exc.error == "access_denied":
                raise SignInFailed("access_denied", "The sign-in was cancelled at the provider.") from exc
            log.warning("OIDC provider refused the sign-in: %s %s", exc.error, exc.description)
            raise SignInFailed("provider_error", "The sign-in provider refused the sign-in.") from exc
        except NETWORK_ERRORS as exc:
            log.warning("OIDC provider unreachable at the callback: %s", exc)
            raise SignInFailed("provider_unavailable", "The sign-in provider cannot be reached.") from exc
        except (JoseError, AuthlibBaseError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            # A bad signature, wrong audience or issuer, a replayed nonce, an expired token, or an
            # answer that is not what the spec says.
            log.warning("OIDC ID token refused: %s: %s", type(exc).__name__, exc)
            raise SignInFailed("invalid_token", "The provider's ID token could not be verified.") from exc
        finally:
            request.session.clear()  # the hand-shake is single use; the cookie goes with it
        claims = token.get("userinfo") if isinstance(token, dict) else None
        if not claims:
            raise SignInFailed("invalid_token", "The provider sent no ID token.")
        return self.identity(claims)

    def identity(self, claims: dict) -> Identity:
        issuer, subject = claims.get("iss"), claims.get("sub")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
            # authlib checked iss against the discovery document; it must also be the issuer we
            # were configured with (OpenID Connect Discovery 4.3).
            raise SignInFailed("invalid_token", "The ID token comes from another issuer.")
        if not _storable(subject, MAX_SUBJECT_CHARS):
            raise SignInFailed("invalid_token", "The ID token has no usable subject.")
        return Identity(issuer=self.issuer, subject=subject, username=_username(claims))

    async def user_for(self, sessionmaker: async_sessionmaker, identity: Identity) -> str:
        """The account of this (issuer, subject), made on the first sign-in: its id."""
        for _ in range(3):
            try:
                async with sessionmaker.begin() as db:
                    users = UserRepository(db)
                    user = await users.by_oidc(identity.issuer, identity.subject)
                    if user is not None:
                        return user.id
                    name = identity.username
                    if await users.by_username(name) is not None:
                        # Someone else has the name (a password account, another provider's
                        # user): never theirs to take over, so this person gets a variant.
                        name = _with_suffix(name)
                    user = await users.create(name, oidc_issuer=identity.issuer, oidc_subject=identity.subject)
                    return user.id
            except IntegrityError:
                # The same person's first sign-in in two tabs at once, or the name taken meanwhile:
                # look again.
                continue
        raise SignInFailed("account_conflict", "The account could not be created; try again.")


def _storable(value: object, max_chars: int) -> bool:
    if not isinstance(value, str) or not value or len(value) > max_chars or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON allows "\ud800")
        return False
    return True


def _username(claims: dict) -> str:
    """What the person is shown as: their e-mail when the provider verified it (an unverified
    one may be anybody's address), else the provider's user name, else the subject."""
    keys = ("email", "preferred_username", "sub") if claims.get("email_verified") is True else ("preferred_username", "sub")
    for key in keys:
        value = claims.get(key)
        if isinstance(value, str) and (name := normal_username(value)):
            return name
    return "user"


def _with_suffix(name: str) -> str:
    return f"{name[:120]}-{secrets.token_hex(3)}"
