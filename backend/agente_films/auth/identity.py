"""Who a request or a socket comes from, in every AUTH_MODE: the one place that decides.

REST (api/deps.py), the WebSocket and the AG-UI stream all call `Authenticator.identify` with the
connection, so they authenticate the same way. A client's X-User-Id is never read.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import HTTPConnection

from agente_films.auth.peers import transport_peer
from agente_films.auth.principal import Principal
from agente_films.auth.secrets import keyed_digest, same, token_hash
from agente_films.auth.store import ApiTokenRepository, SignInRepository, UserRepository
from agente_films.db.tables import User
from agente_films.settings import Settings

# Names people sign in with, and that a gateway may assert: no spaces, control characters or
# path separators (they are shown and logged, never used as paths: ids are server-made).
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@+-]{0,127}$")
CSRF_HEADER = "X-CSRF-Token"


def normal_username(value: str) -> str | None:
    name = value.strip().lower()
    return name if USERNAME.match(name) else None


def bearer_token(connection: HTTPConnection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Authenticator:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker, secret_key: str) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.secret_key = secret_key
        self.local = Principal(
            user_id=settings.default_user_id, username=settings.default_user_id, is_admin=True, via="none"
        )
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]

    @property
    def signs_in(self) -> bool:
        return self.settings.auth_mode != "none"

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(days=self.settings.session_days)

    async def identify(self, connection: HTTPConnection) -> Principal | None:
        """The caller, or None when they are not signed in (a 401 for routes that need someone)."""
        mode = self.settings.auth_mode
        if mode == "none":
            return self.local
        token = bearer_token(connection)
        if token is not None:
            return await self._from_api_token(token)
        if mode == "proxy":
            return await self._from_proxy(connection)
        cookie = connection.cookies.get(self.settings.session_cookie_name)
        if cookie:
            return await self._from_cookie(cookie)
        return None

    def csrf_token(self, principal: Principal) -> str | None:
        """The token a browser page sends back in X-CSRF-Token on every change, when the browser
        is what authenticates it (another site can make the browser send credentials, not read
        or guess this): bound to the sign-in for the cookie; for a gateway's user (whose browser
        carries the gateway's cookie) to the user. None for tokens and AUTH_MODE=none."""
        if principal.sign_in:
            return keyed_digest(self.secret_key, "csrf", principal.sign_in)
        if principal.via == "proxy":
            return keyed_digest(self.secret_key, "csrf-proxy", principal.user_id)
        return None

    def csrf_ok(self, principal: Principal, sent: str | None) -> bool:
        expected = self.csrf_token(principal)
        return expected is None or (sent is not None and same(expected, sent))

    def from_trusted_proxy(self, connection: HTTPConnection) -> bool:
        """Whether the machine that opened the connection is in TRUSTED_PROXIES: the transport
        peer, never an address from X-Forwarded-For (auth/peers.py)."""
        host = transport_peer(connection)
        if not host:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._proxies)

    async def _from_api_token(self, token: str) -> Principal | None:
        async with self.sessionmaker.begin() as db:
            user = await ApiTokenRepository(db).user_for(token_hash(token))
        return _principal(user, "token") if user else None

    async def _from_cookie(self, cookie: str) -> Principal | None:
        digest = token_hash(cookie)
        async with self.sessionmaker() as db:
            user = await SignInRepository(db).user_for(digest)
        return _principal(user, "cookie", sign_in=digest) if user else None

    async def _from_proxy(self, connection: HTTPConnection) -> Principal | None:
        asserted = connection.headers.get(self.settings.proxy_user_header)
        if not asserted or not self.from_trusted_proxy(connection):
            return None
        username = normal_username(asserted)
        if username is None:
            return None
        return _principal(await self._proxy_account(username), "proxy")

    async def _proxy_account(self, username: str) -> User:
        """The gateway vouches for the name; the first request makes the account. Two first
        requests at once both try: the loser's insert breaks the unique name, and it reads the
        winner's row."""
        async with self.sessionmaker() as db:
            user = await UserRepository(db).by_username(username)
        if user is not None:
            return user
        try:
            async with self.sessionmaker.begin() as db:
                return await UserRepository(db).create(username)
        except IntegrityError:
            async with self.sessionmaker() as db:
                user = await UserRepository(db).by_username(username)
            if user is None:  # not a lost race after all
                raise
            return user


def _principal(user: User, via: str, sign_in: str | None = None) -> Principal:
    return Principal(user_id=user.id, username=user.username, is_admin=user.is_admin, via=via, sign_in=sign_in)  # type: ignore[arg-type]
