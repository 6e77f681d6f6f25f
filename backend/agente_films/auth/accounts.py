"""Local accounts (AUTH_MODE=password) and everyone's personal API tokens: sign up, sign in,
change a password, make and revoke tokens, and the admin's add/remove/list (the CLI).

No web framework here: the REST routes (api/routes/auth.py) and the CLI both call this. Refusals
are domain errors (errors.py), mapped to HTTP once in api/app.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from agente_films.auth.identity import normal_username
from agente_films.auth.passwords import hash_password, password_problem, verify_password
from agente_films.auth.secrets import new_api_token, token_hash
from agente_films.auth.store import ApiTokenRepository, SignInRepository, UserRepository
from agente_films.db.tables import ApiToken, ShareLink, User, utcnow
from agente_films.errors import BadCredentials, Forbidden, Refused
from agente_films.settings import Settings
from agente_films.text import plain_text_problem

# Enough for every script and machine a person has; a bound, so a stolen sign-in cannot mint
# tokens without end.
MAX_TOKENS_PER_USER = 100
MAX_TOKEN_DAYS = 3650
# What a token list shows of each token ("afp_" and 8 more characters): enough to tell them apart.
TOKEN_PREFIX_CHARS = 12

_MODE_OFF = {
    "none": "Sign-in is off in AUTH_MODE=none: everyone who can reach this server is the local user.",
    "oidc": "Accounts here sign in through the OpenID Connect provider (AUTH_MODE=oidc), not with a password.",
    "proxy": "The gateway in front of this server signs people in (AUTH_MODE=proxy), not a password here.",
}


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown to its owner this once and stored only as a hash."""

    row: ApiToken
    secret: str


def checked_username(value: str) -> str:
    name = normal_username(value)
    if name is None:
        raise Refused(
            422,
            "A username has 1 to 128 characters: lower-case letters, digits and . _ @ + -, "
            "starting with a letter or a digit.",
        )
    return name


def checked_new_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise Refused(422, problem)
    return password


class Accounts:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker

    def _need_passwords(self) -> None:
        """Password sign-in, sign-up and password changes exist in AUTH_MODE=password only."""
        if self.settings.auth_mode != "password":
            raise Refused(404, _MODE_OFF[self.settings.auth_mode])

    # People

    async def sign_up(self, username: str, password: str) -> User:
        """A new account through the web: only while SIGNUP_OPEN (admins add people otherwise)."""
        self._need_passwords()
        if not self.settings.signup_open:
            raise Forbidden("Sign-up is closed on this server; ask its admin for an account.")
        return await self.add_user(username, password)

    async def add_user(self, username: str, password: str, *, is_admin: bool = False) -> User:
        """A new password account, whatever SIGNUP_OPEN says (the admin's CLI; sign-up checks first)."""
        name = checked_username(username)
        digest = await hash_password(checked_new_password(password))
        taken = Refused(409, f"The username {name!r} is taken.")
        try:
            async with self.sessionmaker.begin() as db:
                users = UserRepository(db)
                if await users.by_username(name) is not None:
                    raise taken
                return await users.create(name, password_hash=digest, is_admin=is_admin)
        except IntegrityError:  # the same name, signed up at the same moment
            raise taken from None

    async def has_users(self) -> bool:
        async with self.sessionmaker() as db:
            return await UserRepository(db).count() > 0

    async def users(self) -> Sequence[User]:
        async with self.sessionmaker() as db:
            return await UserRepository(db).list()

    async def remove_user(self, username: str) -> User:
        """Deletes the account with its sign-ins, tokens and share links (they stop working at
        once, in one transaction). Its sessions stay stored, reachable by nobody: deleting work is
        a separate decision."""
        name = normal_username(username)
        async with self.sessionmaker.begin() as db:
            users = UserRepository(db)
            user = await users.by_username(name) if name else None
            if user is None:
                raise Refused(404, f"No account is named {username[:130]!r}.")
            await SignInRepository(db).delete_for_user(user.id)
            # share_links.user_id has no foreign key (links name a session); they go explicitly.
            await db.execute(delete(ShareLink).where(ShareLink.user_id == user.id))
            await users.delete(user.id)
        return user

    async def user_named(self, username: str) -> User:
        name = normal_username(username)
        async with self.sessionmaker() as db:
            user = await UserRepository(db).by_username(name) if name else None
        if user is None:
            raise Refused(404, f"No account is named {username[:130]!r}.")
        return user

    # Signing in

    async def sign_in(self, username: str, password: str) -> User:
        """The account these credentials open, or BadCredentials (the same for an unknown name
        and a wrong password, and as slow: the hash check runs either way)."""
        self._need_passwords()
        name = normal_username(username)
        user = None
        if name is not None:
            async with self.sessionmaker() as db:
                user = await UserRepository(db).by_username(name)
        if not await verify_password(password, user.password_hash if user else None) or user is None:
            raise BadCredentials()
        return user

    async def change_password(self, user_id: str, current: str, new: str, *, keep_sign_in: str | None) -> None:
        """Needs the current password; every other browser signed in as this user is signed out
        (whoever knew the old password is out). API tokens stay: they are revoked one by one."""
        self._need_passwords()
        async with self.sessionmaker() as db:
            user = await UserRepository(db).get(user_id)
        if user is None:
            raise Refused(404, "This account no longer exists.")
        if not await verify_password(current, user.password_hash):
            raise Forbidden("The current password is wrong.")
        digest = await hash_password(checked_new_password(new))
        async with self.sessionmaker.begin() as db:
            await UserRepository(db).set_password(user_id, digest)
            await SignInRepository(db).delete_for_user(user_id, keep=keep_sign_in)

    # API tokens

    def _need_sign_in(self) -> None:
        if self.settings.auth_mode == "none":
            raise Refused(404, "API tokens are off in AUTH_MODE=none: no request needs one.")

    async def create_token(self, user_id: str, name: str, expires_in_days: int | None = None) -> NewToken:
        self._need_sign_in()
        label = name.strip()
        problem = plain_text_problem(label) if label else "is empty"
        if problem or len(label) > 100:
            raise Refused(422, f"The token's name {problem or 'has more than 100 characters'}.")
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise Refused(422, f"A token lasts 1 to {MAX_TOKEN_DAYS} days (or leave expiry out).")
        secret = new_api_token()
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        async with self.sessionmaker.begin() as db:
            tokens = ApiTokenRepository(db)
            if len(await tokens.for_user(user_id)) >= MAX_TOKENS_PER_USER:
                raise Refused(409, f"You have {MAX_TOKENS_PER_USER} tokens; revoke one you no longer use first.")
            row = await tokens.create(
                user_id, label, token_hash(secret), secret[:TOKEN_PREFIX_CHARS], expires_at=expires_at
            )
        return NewToken(row=row, secret=secret)

    async def tokens(self, user_id: str) -> Sequence[ApiToken]:
        """The user's tokens that are not revoked (expired ones included, to be seen and revoked)."""
        self._need_sign_in()
        async with self.sessionmaker() as db:
            return await ApiTokenRepository(db).for_user(user_id)

    async def revoke_token(self, user_id: str, token_id: str) -> None:
        self._need_sign_in()
        async with self.sessionmaker.begin() as db:
            if not await ApiTokenRepository(db).revoke(user_id, token_id):
                raise Refused(404, f"Token {token_id} not found.")

