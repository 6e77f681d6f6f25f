"""Accounts, browser sign-ins and API tokens in the database. Each takes an open AsyncSession;
callers own the transaction (as db/repositories.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agente_films.db.tables import ApiToken, SignIn, User, as_utc, utcnow

# A token's last use is written at most this often: the list shows "used today", not the second,
# and a script's every request would otherwise be a write (SQLite has one writer at a time).
LAST_USED_RESOLUTION = timedelta(minutes=5)


class UserRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, user_id: str) -> User | None:
        return await self.db.get(User, user_id)

    async def by_username(self, username: str) -> User | None:
        return await self.db.scalar(select(User).where(User.username == username))

    async def by_oidc(self, issuer: str, subject: str) -> User | None:
        return await self.db.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))

    async def create(
        self, username: str, *, password_hash: str | None = None, is_admin: bool = False,
        oidc_issuer: str | None = None, oidc_subject: str | None = None,
    ) -> User:
        row = User(
            username=username, password_hash=password_hash, is_admin=is_admin,
            oidc_issuer=oidc_issuer, oidc_subject=oidc_subject,
        )
        self.db.add(row)
        await self.db.flush()
        return row

    async def list(self) -> Sequence[User]:
        return (await self.db.scalars(select(User).order_by(User.username))).all()

    async def count(self) -> int:
        return len((await self.db.scalars(select(User.id))).all())

    async def set_password(self, user_id: str, password_hash: str) -> None:
        await self.db.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))

    async def delete(self, user_id: str) -> None:
        await self.db.execute(delete(User).where(User.id == user_id))


class SignInRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(self, token_hash: str, user_id: str, lifetime: timedelta) -> SignIn:
        now = utcnow()
        row = SignIn(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=now + lifetime)
        self.db.add(row)
        await self.db.flush()
        return row

    async def user_for(self, token_hash: str, now: datetime | None = None) -> User | None:
        """The user a live sign-in belongs to (None: unknown, signed out or expired)."""
        return await self.db.scalar(
            select(User)
            .join(SignIn, SignIn.user_id == User.id)
            .where(SignIn.token_hash == token_hash, SignIn.expires_at > (now or utcnow()))
        )

    async def delete(self, token_hash: str) -> None:
        await self.db.execute(delete(SignIn).where(SignIn.token_hash == token_hash))

    async def delete_for_user(self, user_id: str, *, keep: str | None = None) -> None:
        """Signs a user out everywhere (but the sign-in `keep`): after a password change."""
        query = delete(SignIn).where(SignIn.user_id == user_id)
        if keep is not None:
            query = query.where(SignIn.token_hash != keep)
        await self.db.execute(query)


class ApiTokenRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def create(
        self, user_id: str, name: str, token_hash: str, prefix: str, expires_at: datetime | None = None
    ) -> ApiToken:
        row = ApiToken(user_id=user_id, name=name, token_hash=token_hash, prefix=prefix, expires_at=expires_at)
        self.db.add(row)
        await self.db.flush()
        return row

    async def for_user(self, user_id: str) -> Sequence[ApiToken]:
        return (
            await self.db.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.created_at.desc())
            )
        ).all()

    async def user_for(self, token_hash: str, now: datetime | None = None) -> User | None:
        """The owner of a live token (None: unknown, revoked or expired); marks it used (at most
        every LAST_USED_RESOLUTION)."""
        now = now or utcnow()
        token = await self.db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        if token is None or token.revoked_at is not None:
            return None
        if token.expires_at is not None and as_utc(token.expires_at) <= now:
            return None
        if token.last_used_at is None or as_utc(token.last_used_at) <= now - LAST_USED_RESOLUTION:
            await self.db.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        return await self.db.get(User, token.user_id)

    async def revoke(self, user_id: str, token_id: str) -> bool:
        done = await self.db.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(done.rowcount)
