"""Share links: a read-only link to a session's pitch and story, for people without an account.

A link is a ShareLink row; its URL carries the row's id signed with the server's key (itsdangerous),
so a guessed or altered token is refused before the database is asked, and revoking the row or
its expiry closes the link at once. Whatever the reason a token does not open (bad signature,
revoked, expired, session deleted), the answer is the same: None, a 404 for the API, so a
stranger cannot tell a revoked link from one that never existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agente_films import state_keys as k
from agente_films.db.tables import ShareLink, StudioSession, as_utc, utcnow
from agente_films.errors import Refused

SALT = "share-link"
DEFAULT_DAYS = 7
MAX_DAYS = 90
# Live links per session: plenty for sharing, and a bound on rows one owner can pile up.
MAX_ACTIVE_LINKS = 20
# Longer tokens are not ours (ours are about 100 characters): refused before any work.
MAX_TOKEN_CHARS = 300

# What a shared view shows of the session state: the team's work on the story as the Story tab
# shows it. Not the producer's private notes and edit marks, run bookkeeping, or app:/user: keys.
SHARED_STATE_KEYS = (
    k.PROMPT, k.PLOT_OUTLINE, k.DIRECTION, k.REVISION, k.RESEARCH, k.CRITICAL_FEEDBACK,
    k.BOX_OFFICE_REPORT, k.CASTING_REPORT, k.PITCH_DOCUMENT,
)


def shared_state(state: dict[str, object]) -> dict[str, object]:
    return {key: state[key] for key in SHARED_STATE_KEYS if key in state}


@dataclass(frozen=True)
class SharedSession:
    """What an open link gives: the link (its expiry) and the session it shows."""

    link: ShareLink
    session: StudioSession


class _LinkSigner(TimestampSigner):
    """Signs with the link's creation time instead of now: a link keeps one URL, the same in the
    owner's list as when it was made, and its signature's age is the link's age."""

    signed_at: int | None = None

    def get_timestamp(self) -> int:
        return self.signed_at if self.signed_at is not None else super().get_timestamp()


class ShareLinks:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], secret_key: str) -> None:
        self.sessionmaker = sessionmaker
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT, signer=_LinkSigner)

    def token(self, link: ShareLink) -> str:
        signer = self._serializer.make_signer()
        signer.signed_at = int(as_utc(link.created_at).timestamp())  # type: ignore[attr-defined]
        return signer.sign(self._serializer.dump_payload(link.id)).decode()

    def _link_id(self, token: str) -> str | None:
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            # No link lives longer than MAX_DAYS: an older signature is refused before the database
            # is asked; the row's own expiry (below) is the exact bound.
            link_id = self._serializer.loads(token, max_age=MAX_DAYS * 86400 + 60)
        except (BadData, UnicodeError, ValueError):
            return None
        return link_id if isinstance(link_id, str) else None

    async def create(self, session: StudioSession, days: int = DEFAULT_DAYS, now: datetime | None = None) -> ShareLink:
        """A new link to `session` by its owner, open for `days` days."""
        if not 1 <= days <= MAX_DAYS:
            raise Refused(422, f"A share link lasts 1 to {MAX_DAYS} days.")
        now = now or utcnow()
        async with self.sessionmaker.begin() as db:
            live = await db.scalar(
                select(func.count()).select_from(ShareLink).where(*_live(now), ShareLink.session_id == session.id)
            )
            if (live or 0) >= MAX_ACTIVE_LINKS:
                raise Refused(409, f"This session already has {MAX_ACTIVE_LINKS} live share links; revoke one first.")
            link = ShareLink(
                session_id=session.id, user_id=session.user_id, created_at=now, expires_at=now + timedelta(days=days)
            )
            db.add(link)
            await db.flush()
        return link

    async def for_session(self, session: StudioSession, now: datetime | None = None) -> Sequence[ShareLink]:
        """The session's live links (not revoked, not expired), newest first."""
        async with self.sessionmaker() as db:
            rows = await db.scalars(
                select(ShareLink)
                .where(*_live(now or utcnow()), ShareLink.session_id == session.id, ShareLink.user_id == session.user_id)
                .order_by(ShareLink.created_at.desc(), ShareLink.id)
            )
            return rows.all()

    async def revoke(self, session: StudioSession, link_id: str, now: datetime | None = None) -> bool:
        """Closes one live link of the session (False: there is no such live link)."""
        now = now or utcnow()
        async with self.sessionmaker.begin() as db:
            done = await db.execute(
                update(ShareLink)
                .where(*_live(now), ShareLink.id == link_id, ShareLink.session_id == session.id,
                       ShareLink.user_id == session.user_id)
                .values(revoked_at=now)
            )
        return bool(done.rowcount)

    async def resolve(self, token: str, now: datetime | None = None) -> SharedSession | None:
        """The link a token opens and its session; None when the token is not ours or was
        altered, the link is revoked or expired, or the session is gone."""
        link_id = self._link_id(token)
        if link_id is None:
            return None
        async with self.sessionmaker() as db:
            link = await db.get(ShareLink, link_id)
            if link is None or link.revoked_at is not None or as_utc(link.expires_at) <= (now or utcnow()):
                return None
            session = await db.get(StudioSession, link.session_id)
        if session is None or session.user_id != link.user_id:
            return None
        return SharedSession(link=link, session=session)


def _live(now: datetime) -> tuple:
    return (ShareLink.revoked_at.is_(None), ShareLink.expires_at > now)
