"""Retention (seed 004, section 5.5): a session idle for RETENTION_ARCHIVE_DAYS is archived
(read-only: errors.SessionArchived), one idle for RETENTION_PURGE_DAYS is deleted as DELETE
deletes it (rows, ADK session and events, documents, stream). 0 days turns a step off.

Idle means no activity since `studio_sessions.updated_at`: a run's start and end, a producer's
change (edit, undo: a run of one event), a note and a rename all move it; archiving does not
(the purge clock keeps running), unarchiving does. A session with a run is never archived.

`decide` is the rule (pure, given `now`); `RetentionJob.run` applies it in batches, on one
instance at a time (`RetentionLock`), and `RetentionJob.start` repeats it every
RETENTION_INTERVAL_SECONDS for the life of the Studio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import and_, exists, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from agente_films.db.repositories import SessionRepository
from agente_films.db.tables import Question, StudioSession, as_utc
from agente_films.errors import RunInProgress

if TYPE_CHECKING:
    from agente_films.studio import Studio

log = logging.getLogger(__name__)

Action = Literal["archive", "purge"]

BATCH_SIZE = 100
# pg_try_advisory_lock key of the retention job ("AFRETENT"): one per database.
PG_LOCK_KEY = 0x4146_5245_5445_4E54
REDIS_LOCK_KEY = "agente_films:retention"
# A pass holding the Redis lock longer than this may see another instance start one; every step
# is checked again just before it is applied, so that costs nothing but work done twice.
REDIS_LOCK_SECONDS = 600.0
# The first pass waits this long after start-up (never longer than the interval), so that
# starting is not slowed and short-lived processes (the CLI, tests) do no retention work.
FIRST_PASS_DELAY_SECONDS = 60.0


# -- the rule ----------------------------------------------------------------------------------


def decide(
    *, updated_at: datetime, archived: bool, running: bool, now: datetime, archive_days: int, purge_days: int
) -> Action | None:
    """What retention does to a session last active at `updated_at`, at `now`."""
    if running:
        return None
    idle = now - as_utc(updated_at)
    if purge_days > 0 and idle >= timedelta(days=purge_days):
        return "purge"
    if archive_days > 0 and not archived and idle >= timedelta(days=archive_days):
        return "archive"
    return None


def earliest_cutoff(now: datetime, archive_days: int, purge_days: int) -> datetime | None:
    """Sessions last active after this are left alone by every step that is on (None: all off)."""
    days = [d for d in (archive_days, purge_days) if d > 0]
    return now - timedelta(days=min(days)) if days else None


def idle_days(updated_at: datetime, now: datetime) -> int:
    return (now - as_utc(updated_at)).days


def running_in_database() -> ColumnElement[bool]:
    """Whether a session has a run, as the database says: its status, or a run (a message's, an
    edit's) still "running". What every instance and the CLI see alike; the in-memory run table
    is only this process's, and without Redis nobody else's claim is visible at all."""
    return or_(
        StudioSession.status == "running",
        exists().where(Question.session_id == StudioSession.id, Question.run_status == "running"),
    )


# -- one session: archive, unarchive -------------------------------------------------------------


async def _set_archived(studio: Studio, ids: list[str], now: datetime, cutoff: datetime | None) -> list[str]:
    """archived_at = now for the sessions not archived nor running (and idle since `cutoff`),
    their updated_at unchanged (archiving is not activity). Returns those archived."""
    if not ids:
        return []
    where = [StudioSession.id.in_(ids), StudioSession.archived_at.is_(None), ~running_in_database()]
    if cutoff is not None:
        where.append(StudioSession.updated_at <= cutoff)
    async with studio.sessionmaker.begin() as db:
        done = await db.scalars(
            update(StudioSession).where(*where)
            .values(archived_at=now, updated_at=StudioSession.updated_at)
            .returning(StudioSession.id)
        )
        archived = list(done.all())
    # A run claims its session (RunManager._claim), then looks at archived_at; here archived_at
    # is set, then the claim looked at: whichever order they interleave in, a run never works on
    # an archived session. One that claimed meanwhile keeps its session active. A claim this
    # process cannot see (another process without Redis, for the CLI) meets archived_at in the
    # database instead: RunManager._mark_running refuses a session archived meanwhile.
    busy = [sid for sid in archived if await studio.runs.active_run_id(sid) is not None]
    if busy:
        async with studio.sessionmaker.begin() as db:
            await db.execute(
                update(StudioSession).where(StudioSession.id.in_(busy), StudioSession.archived_at == now)
                .values(archived_at=None, updated_at=StudioSession.updated_at)
            )
    return [sid for sid in archived if sid not in busy]


async def archive_session(studio: Studio, row: StudioSession, now: datetime | None = None) -> None:
    """The owner archives a session by hand (409 during a run; archiving twice changes nothing)."""
    refusal = "The team is working; archive the session once this run finishes or is cancelled."
    if row.archived_at is not None:
        return
    running = await studio.runs.active_run_id(row.id)
    if running is not None:
        raise RunInProgress(running, refusal)
    if await _set_archived(studio, [row.id], now or datetime.now(UTC), None):
        return
    async with studio.sessionmaker() as db:
        fresh = await db.get(StudioSession, row.id)
    if fresh is not None and fresh.archived_at is None:  # a run claimed it meanwhile
        raise RunInProgress(await studio.runs.active_run_id(row.id), refusal)


async def unarchive_session(studio: Studio, row: StudioSession) -> None:
    """Active again, its idle clock started anew (updated_at = now)."""
    async with studio.sessionmaker.begin() as db:
        await SessionRepository(db).update(row.id, archived_at=None)


# -- the job -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: Action
    session_id: str
    user_id: str
    title: str
    idle_days: int


@dataclass
class RetentionReport:
    dry_run: bool
    now: datetime
    # False: another instance holds the lock and ran (or runs) the pass instead.
    ran: bool = True
    archived: list[Step] = field(default_factory=list)
    purged: list[Step] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ran:
            return "retention: another instance is running it; nothing done here"
        verb = ("would archive", "would purge") if self.dry_run else ("archived", "purged")
        return f"retention: {verb[0]} {len(self.archived)}, {verb[1]} {len(self.purged)} session(s)"


class RetentionLock:
    """One retention pass at a time across instances: a Redis lock (SET NX PX) when REDIS_URL
    is set, else a PostgreSQL advisory lock held on its own connection for the pass (released
    by the server if the process dies); SQLite serves one process, whose asyncio lock is enough."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._local = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[bool]:
        """Yields whether this instance got the lock (it is not waited for)."""
        if self._local.locked():
            yield False
            return
        async with self._local:
            if self.studio.redis is not None:
                async with self._redis() as got:
                    yield got
            elif not self.studio.settings.is_sqlite:
                async with self._advisory() as got:
                    yield got
            else:
                yield True

    @contextlib.asynccontextmanager
    async def _redis(self) -> AsyncIterator[bool]:
        lock = self.studio.redis.lock(REDIS_LOCK_KEY, timeout=REDIS_LOCK_SECONDS, blocking=False)
        if not await lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(Exception):  # expired: the lock is someone else's, or nobody's
                await lock.release()

    @contextlib.asynccontextmanager
    async def _advisory(self) -> AsyncIterator[bool]:
        async with self.studio.engine.connect() as connection:
            got = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY}))
            await connection.commit()  # the lock belongs to the connection, not the transaction
            try:
                yield got
            finally:
                if got:
                    try:
                        await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
                        await connection.commit()
                    except Exception:
                        # Never back into the pool holding the lock: closing it releases the lock.
                        await connection.invalidate()


class RetentionJob:
    """Applies the rule to every session, in batches; repeats every RETENTION_INTERVAL_SECONDS."""

    def __init__(self, studio: Studio, batch_size: int = BATCH_SIZE) -> None:
        self.studio = studio
        self.batch_size = batch_size
        self.lock = RetentionLock(studio)
        self._task: asyncio.Task | None = None

    async def run(self, *, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
        """One pass over every session (dry_run: what it would do, changing nothing)."""
        now = now or datetime.now(UTC)
        report = RetentionReport(dry_run=dry_run, now=now)
        async with self.lock.hold() as got:
            if not got:
                report.ran = False
                return report
            await self._pass(report)
        if not dry_run and (report.archived or report.purged):
            log.info("%s", report.summary())
        return report

    async def _pass(self, report: RetentionReport) -> None:
        settings = self.studio.settings
        archive_days, purge_days = settings.retention_archive_days, settings.retention_purge_days
        cutoff = earliest_cutoff(report.now, archive_days, purge_days)
        if cutoff is None:
            return
        after: tuple[datetime, str] | None = None
        while True:
            rows = await self._candidates(cutoff, after)
            if not rows:
                return
            after = (rows[-1][0].updated_at, rows[-1][0].id)
            to_archive: list[Step] = []
            for row, running in rows:
                action = decide(
                    updated_at=row.updated_at, archived=row.archived_at is not None,
                    running=running or await self.studio.runs.active_run_id(row.id) is not None,
                    now=report.now, archive_days=archive_days, purge_days=purge_days,
                )
                if action is None:
                    continue
                step = Step(action, row.id, row.user_id, row.title, idle_days(row.updated_at, report.now))
                if action == "archive":
                    to_archive.append(step)
                elif report.dry_run or await self._purge(row, report.now - timedelta(days=purge_days)):
                    report.purged.append(step)
            if report.dry_run:
                report.archived += to_archive
            else:
                done = set(await _set_archived(
                    self.studio, [s.session_id for s in to_archive], report.now,
                    report.now - timedelta(days=archive_days),
                ))
                report.archived += [s for s in to_archive if s.session_id in done]
            if len(rows) < self.batch_size:
                return
            await asyncio.sleep(0)  # a big backlog leaves room for requests between batches

    async def _candidates(
        self, cutoff: datetime, after: tuple[datetime, str] | None
    ) -> list[tuple[StudioSession, bool]]:
        """The next batch of sessions last active by `cutoff`, oldest first (keyset: a session
        left alone is not looked at twice), each with whether the database says it has a run."""
        query = select(StudioSession, running_in_database()).where(StudioSession.updated_at <= cutoff)
        if after is not None:
            moment, session_id = after
            query = query.where(or_(
                StudioSession.updated_at > moment,
                and_(StudioSession.updated_at == moment, StudioSession.id > session_id),
            ))
        query = query.order_by(StudioSession.updated_at, StudioSession.id).limit(self.batch_size)
        async with self.studio.sessionmaker() as db:
            return [(row, bool(running)) for row, running in (await db.execute(query)).all()]

    async def _purge(self, row: StudioSession, cutoff: datetime) -> bool:
        """Deleted as DELETE deletes it, unless it was used since it was picked."""
        async with self.studio.sessionmaker() as db:
            found = (await db.execute(
                select(StudioSession, running_in_database()).where(StudioSession.id == row.id)
            )).first()
        if found is None:
            return False
        fresh, running = found
        if as_utc(fresh.updated_at) > cutoff or running or await self.studio.runs.active_run_id(row.id):
            return False
        await self.studio.delete_session(fresh)
        return True

    # -- periodic --------------------------------------------------------------------------------

    def start(self) -> None:
        """Every RETENTION_INTERVAL_SECONDS from now on (on whichever instance gets the lock)."""
        settings = self.studio.settings
        if self._task is None and (settings.retention_archive_days or settings.retention_purge_days):
            self._task = asyncio.create_task(self._forever(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _forever(self) -> None:
        interval = self.studio.settings.retention_interval_seconds
        await asyncio.sleep(min(FIRST_PASS_DELAY_SECONDS, interval))
        while True:
            try:
                report = await self.run()
                if report.ran:
                    log.debug("%s", report.summary())
            except Exception:  # the database is away for a while: the next pass tries again
                log.warning("retention pass failed", exc_info=True)
            await asyncio.sleep(interval)


def describe(report: RetentionReport) -> list[str]:
    """The report as lines for a person (the CLI)."""
    lines = [report.summary()]
    verb = ("would archive", "would purge") if report.dry_run else ("archived", "purged")
    for label, steps in ((verb[0], report.archived), (verb[1], report.purged)):
        for step in steps:
            lines.append(f"  {label} {step.session_id} {step.title!r} (user {step.user_id}, idle {step.idle_days} days)")
    return lines
