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


def cookie_secure(auth: Authenticator, request: Request) -> bool:
    if auth.settings.cookie_secure is not None:
        return auth.settings.cookie_secure
    # uvicorn sets the scheme from X-Forwarded-Proto when the proxy is trusted (FORWARDED_ALLOW_IPS).
    return request.url.scheme == "https"


async def open_sign_in(auth: Authenticator, request: Request, response: Response, user_id: str) -> str:
    """Signs `user_id` in on this browser; returns the sign-in's hash (what CSRF tokens bind to)."""
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
        secure=cookie_secure(auth, request),
        path="/",
    )
    return digest


async def close_sign_in(auth: Authenticator, request: Request, response: Response) -> None:
    """Ends this browser's sign-in (the row goes, so the cookie is worthless even if kept)."""
    token = request.cookies.get(auth.settings.session_cookie_name)
    if token:
        async with auth.sessionmaker.begin() as db:
            await SignInRepository(db).delete(token_hash(token))
    response.delete_cookie(auth.settings.session_cookie_name, path="/", httponly=True, samesite="lax")
