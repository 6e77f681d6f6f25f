"""The browser's sign-in cookie: opened after a password or OIDC sign-in, closed on sign-out.

HttpOnly (page scripts never see it), SameSite=Lax (other sites' sub-requests do not carry it),
Secure behind TLS. The cookie holds a random token; the database keeps its SHA-256 (auth/store.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from agente_films.auth.identity import Authenticator
from agente_films.auth.secrets import new_token, token_hash
from agente_films.auth.store import SignInRepository
from agente_films.settings import Settings


def secure_cookies(settings: Settings, request: Request | None = None) -> bool:
    """Whether our cookies (the sign-in's, the OIDC hand-shake's) get the Secure flag:
    COOKIE_SECURE when set; else when PUBLIC_URL is https (behind an outer TLS terminator the
    request itself may arrive as plain http, e.g. docker-compose's nginx on port 80); else from the
    request's scheme (uvicorn takes it from X-Forwarded-Proto of a FORWARDED_ALLOW_IPS proxy)."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    if (settings.public_url or "").lower().startswith("https://"):
        return True
    return request is not None and request.url.scheme == "https"


async def open_sign_in(auth: Authenticator, request: Request, response: Response, user_id: str) -> str:
    """Signs `user_id` in on this browser; returns the sign-in's hash (what CSRF tokens bind to).
    The sign-in the browser came with, if any, ends first: a sign-in never reuses a cookie someone
    may have planted."""
    await end_sign_in(auth, request)
    token = new_token()
    digest = token_hash(token)
    async with auth.sessionmaker.begin() as db:
        await SignInRepository(db).create(digest, user_id, auth.session_lifetime)
    response.set_cookie(
        auth.settings.session_cookie_name,
        token,
        max_age=int(auth.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(auth.settings, request),
        path="/",
    )
    return digest


async def end_sign_in(auth: Authenticator, request: Request) -> None:
    """Ends the sign-in this browser's cookie names, if any: its row goes, so the cookie is
    worthless even if kept. The one way a sign-in ends (sign-out, a new sign-in, OIDC's callback)."""
    token = request.cookies.get(auth.settings.session_cookie_name)
    if token:
        async with auth.sessionmaker.begin() as db:
            await SignInRepository(db).delete(token_hash(token))


async def close_sign_in(auth: Authenticator, request: Request, response: Response) -> None:
    """Signs this browser out: the sign-in ends and the cookie is cleared."""
    await end_sign_in(auth, request)
    response.delete_cookie(auth.settings.session_cookie_name, path="/", httponly=True, samesite="lax")
