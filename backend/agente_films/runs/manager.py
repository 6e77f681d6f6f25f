"""Runs execute as server-side tasks, one per session at a time, independent of any socket.

With Redis (several API instances) the one-run-per-session rule holds across instances through a
lock with expiry and renewal, a cancel reaches the instance that runs the run over pub/sub, and a
run whose instance died (its lock expired) is marked interrupted by whichever instance notices.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from google.adk.agents import RunConfig
from google.adk.agents.run_config import StreamingMode
from google.adk.runners import Runner
from google.adk.sessions.base_session_service import GetSessionConfig
from google.genai import types
from sqlalchemy.ext.asyncio import async_sessionmaker

from agente_films.agents.team import TEAM_AGENT
from agente_films.db.repositories import (
    ProjectRepository,
    QuestionRepository,
    ReasoningRepository,
    SessionRepository,
)
from agente_films.db.tables import new_id
from agente_films import protocol as p
from agente_films.runs.bus import EventBus, LocalAnnouncer
from agente_films.runs.context import enter_run
from agente_films.runs.frames import FrameTranslator
from agente_films.runs.locks import LocalRunLocks, RunLocks
from agente_films.runs.recorder import RunRecorder
from agente_films.runs.track import RunTrack
from agente_films.settings import Settings

log = logging.getLogger(__name__)

RESUMABLE = ("interrupted", "failed")
INTERRUPTED = "The server running this run stopped before it finished; resume it or send the message again."
CANCEL_CHANNEL = "agente_films:cancel"


class RunNotResumable(Exception):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class RunInProgress(Exception):
    def __init__(self, run_id: str | None) -> None:
        super().__init__(
            "A run is already in progress for this session; wait for it to finish or cancel it."
        )
        self.run_id = run_id


class ServiceUnavailable(Exception):
    """Something a run needs (Redis) is down: HTTP 503, and nothing stored is touched."""


@dataclass
class ActiveRun:
    session_id: str
    run_id: str
    owner: str
    task: asyncio.Task | None = None
    abort: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "running"


def freeze_long_lived_objects() -> None:
    """Hide everything alive now from the garbage collector: full collections stop walking it
    (and it is never freed). ADK, LiteLLM and their pydantic models leave ~500k such objects at
    start-up and ~190k more in the first run (LiteLLM imports lazily); walked by each full
    collection, every few seconds under load, they paused every stream for 100-500 ms."""
    gc.collect()
    gc.freeze()


def describe_error(exc: BaseException) -> str:
    """One line a person can read: the error type, the HTTP status of a failed LLM call, the message."""
    while exc.__cause__ is not None:  # ADK wraps plugin and node errors; the cause says what happened
        exc = exc.__cause__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    status = getattr(exc, "status_code", None)
    label = f"{type(exc).__name__} (HTTP {status})" if isinstance(status, int) else type(exc).__name__
    return f"{label}: {text}"[:1000] if text else label


def _run_id_of(owner: str | None) -> str | None:
    return owner.rsplit("/", 1)[-1] if owner else None


class RunManager:
    _warmed_up = False  # per process, as the garbage collector is

    def __init__(
        self,
        *,
        runner: Runner,
        sessionmaker: async_sessionmaker,
        bus: EventBus,
        settings: Settings,
        locks: RunLocks | None = None,
        redis: Any = None,
        announcer: LocalAnnouncer | None = None,
    ) -> None:
        self.runner = runner
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.settings = settings
        self.locks = locks or LocalRunLocks()
        self.redis = redis
        self.announcer = announcer or LocalAnnouncer()
        self.instance_id = uuid.uuid4().hex[:12]
        self._active: dict[str, ActiveRun] = {}
        self._finished: dict[str, ActiveRun] = {}
        self._background: list[asyncio.Task] = []
        # Admission control: past a few dozen runs a process only gets slower for all of them,
        # and their database transactions queue for connections until they time out.
        self._slots = asyncio.Semaphore(settings.max_active_runs)
        self._queued = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        await self.reap_interrupted()
        if self.redis is not None:
            self._background.append(asyncio.create_task(self._listen_for_cancels(), name="cancel-listener"))
            self._background.append(asyncio.create_task(self._reap_forever(), name="run-reaper"))

    async def shutdown(self) -> None:
        for session_id in list(self._active):
            await self.cancel(session_id)
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def reap_interrupted(self) -> int:
        """Mark runs whose process died as interrupted, so that nobody waits for them forever.

        Embedded mode: at start-up every "running" run belonged to the previous process. With
        Redis: a running run whose lock expired lost its instance.
        """
        async with self.sessionmaker.begin() as db:
            questions = QuestionRepository(db)
            running = await questions.running()
            dead = []
            for question in running:
                if question.session_id in self._active:
                    continue
                if self.redis is not None:
                    try:
                        if await self.locks.holder(question.session_id) is not None:
                            continue
                    except Exception:  # Redis down: decide later, never guess
                        return 0
                dead.append(question)
            sessions = SessionRepository(db)
            for question in dead:
                await questions.finish(question.id, status="interrupted", error=INTERRUPTED)
                await sessions.update(question.session_id, status="interrupted")
        for question in dead:
            # Sockets following the session learn it now, not at their next reconnect.
            frames = FrameTranslator(session_id=question.session_id, run_id=question.id, track=RunTrack()).run_finished(
                "interrupted", INTERRUPTED, state=None, resumable=question.invocation_id is not None
            )
            with contextlib.suppress(Exception):
                for frame in frames:
                    await self.bus.publish(question.session_id, p.dump(frame))
        if dead:
            log.warning("marked %d run(s) interrupted: %s", len(dead), [q.id for q in dead])
        return len(dead)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self.locks.ttl_seconds, 1.0))
            try:
                await self.reap_interrupted()
            except Exception:
                log.warning("could not check for interrupted runs", exc_info=True)

    # -- starting ----------------------------------------------------------------------------

    async def _claim(self, session_id: str, run_id: str) -> ActiveRun:
        if session_id in self._active:
            raise RunInProgress(self._active[session_id].run_id)
        # Claimed before the first await, so two messages arriving together cannot both start.
        run = self._active[session_id] = ActiveRun(
            session_id=session_id, run_id=run_id, owner=f"{self.instance_id}/{run_id}"
        )
        try:
            holder = await self.locks.acquire(session_id, run.owner)
        except Exception as exc:
            self._active.pop(session_id, None)
            raise ServiceUnavailable(f"Redis is unavailable, so no run can start: {describe_error(exc)}") from exc
        if holder is not None:
            self._active.pop(session_id, None)
            raise RunInProgress(_run_id_of(holder))
        return run

    async def _unclaim(self, run: ActiveRun) -> None:
        self._active.pop(run.session_id, None)
        with contextlib.suppress(Exception):
            await self.locks.release(run.session_id, run.owner)

    async def start(self, *, session_id: str, user_id: str, text: str) -> ActiveRun:
        run = await self._claim(session_id, new_id())
        try:
            async with self.sessionmaker.begin() as db:
                project = await ProjectRepository(db).latest_for_session(session_id)
                await QuestionRepository(db).create(
                    question_id=run.run_id,
                    session_id=session_id,
                    text=text,
                    project_id=project.id if project else None,
                )
                await SessionRepository(db).update(session_id, status="running")
            recorder = self._recorder(run, user_id, project.id if project else None)
            await recorder.run_started(text, state=await self._state(session_id, user_id))
        except BaseException:
            await self._unclaim(run)
            raise
        self._launch(run, recorder, user_id, new_message=types.UserContent(text))
        return run

    async def resume(self, *, session_id: str, user_id: str, run_id: str) -> ActiveRun:
        """Continue an interrupted or failed run where ADK's checkpoints left it."""
        run = await self._claim(session_id, run_id)
        try:
            async with self.sessionmaker.begin() as db:
                question = await QuestionRepository(db).get(run_id, session_id)
                if question is None:
                    raise RunNotResumable(f"Run {run_id} not found in this session.", 404)
                if question.run_status not in RESUMABLE or not question.invocation_id:
                    raise RunNotResumable(
                        f"Run {run_id} is {question.run_status}; only interrupted or failed runs "
                        "that got as far as the agents can be resumed.",
                        409,
                    )
                await QuestionRepository(db).reopen(run_id)
                await SessionRepository(db).update(session_id, status="running")
            # The attempt that stopped ended on the stream; the resumed one is a new stream, so
            # that a client reads the run once (it reloads the history, then follows along).
            with contextlib.suppress(Exception):
                await self.bus.restart(session_id)
            recorder = self._recorder(run, user_id, question.project_id)
            await recorder.run_started(
                question.question_text, state=await self._state(session_id, user_id), resumed=True
            )
        except BaseException:
            await self._unclaim(run)
            raise
        self._launch(run, recorder, user_id, invocation_id=question.invocation_id)
        return run

    async def _state(self, session_id: str, user_id: str) -> dict[str, Any]:
        """The state a run starts from (its first STATE_SNAPSHOT): the state alone, no events."""
        session = await self.runner.session_service.get_session(
            app_name=self.runner.app_name, user_id=user_id, session_id=session_id,
            config=GetSessionConfig(num_recent_events=0),
        )
        return dict(session.state) if session is not None else {}

    def _recorder(self, run: ActiveRun, user_id: str, project_id: str | None) -> RunRecorder:
        return RunRecorder(
            sessionmaker=self.sessionmaker,
            bus=self.bus,
            announcer=self.announcer,
            session_id=run.session_id,
            user_id=user_id,
            run_id=run.run_id,
            project_id=project_id,
        )

    def _launch(self, run: ActiveRun, recorder: RunRecorder, user_id: str, **run_args: object) -> None:
        run.task = asyncio.create_task(self._execute(run, recorder, user_id, run_args), name=f"run-{run.run_id}")

    # -- running -----------------------------------------------------------------------------

    async def _keep_lock(self, run: ActiveRun) -> None:
        while True:
            await asyncio.sleep(self.locks.ttl_seconds / 3)
            try:
                if not await self.locks.renew(run.session_id, run.owner):
                    log.warning("run %s lost its lock; another instance may start a run", run.run_id)
            except Exception:
                log.warning("could not renew the lock of run %s", run.run_id, exc_info=True)

    async def _execute(
        self, run: ActiveRun, recorder: RunRecorder, user_id: str, run_args: dict[str, object]
    ) -> None:
        enter_run(recorder)
        keeper = asyncio.create_task(self._keep_lock(run)) if self.locks.ttl_seconds else None
        status, error = "completed", None
        try:
            async with self._slot(recorder):
                await self._run_team(run, recorder, user_id, run_args)
            if run.abort.is_set():
                status = "cancelled"
            elif recorder.error:
                status, error = "failed", recorder.error
        except asyncio.CancelledError:
            status = "cancelled"
        except Exception as exc:  # an LLM or tool failure ends the run, never the server
            log.warning("run %s failed", run.run_id, exc_info=True)
            status, error = "failed", describe_error(exc)
        run.status = status
        try:
            await asyncio.shield(recorder.run_finished(status, error))
            await self.bus.expire(run.session_id, self.settings.run_stream_ttl_seconds)
        except Exception:
            log.exception("could not record the end of run %s", run.run_id)
        finally:
            if keeper is not None:
                keeper.cancel()
            await self._unclaim(run)
            self._finished[run.run_id] = run
            while len(self._finished) > 1000:
                self._finished.pop(next(iter(self._finished)))
            run.done.set()
            if not self._active and not RunManager._warmed_up:
                # Idle after a first run: what stays now was loaded to serve runs. Called soon,
                # once this task has let go of the run's objects, so they are not kept with it.
                RunManager._warmed_up = True
                asyncio.get_running_loop().call_soon(freeze_long_lived_objects)

    @contextlib.asynccontextmanager
    async def _slot(self, recorder: RunRecorder) -> AsyncIterator[None]:
        if self._slots.locked():
            await recorder.run_queued(ahead=self._queued)
        self._queued += 1
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
        try:
            yield
        finally:
            self._slots.release()

    async def _run_team(
        self, run: ActiveRun, recorder: RunRecorder, user_id: str, run_args: dict[str, object]
    ) -> None:
        attempts = 0
        while not run.abort.is_set():  # a run cancelled while queued never starts
            attempts += 1
            recorder.stored_events = 0
            async for event in self.runner.run_async(
                user_id=user_id,
                session_id=run.session_id,
                run_config=RunConfig(streaming_mode=StreamingMode.SSE),
                abort_signal=run.abort,
                **run_args,
            ):
                await recorder.on_event(event)
            # ADK 2.13 resumes an agent cut off right after a tool result, but then stops
            # without going back up to the workflow; resuming once more continues the team.
            resumed = "invocation_id" in run_args
            if not (resumed and attempts < 4 and recorder.stored_events and not run.abort.is_set()):
                return
            await recorder.flush()
            if TEAM_AGENT in recorder.finished_steps or not await self._transferred(run.run_id):
                return

    async def _transferred(self, run_id: str) -> bool:
        async with self.sessionmaker() as db:
            return await ReasoningRepository(db).has_type(run_id, "transfer")

    # -- looking up and cancelling --------------------------------------------------------------

    def active(self, session_id: str) -> ActiveRun | None:
        return self._active.get(session_id)

    async def active_run_id(self, session_id: str) -> str | None:
        """The session's running run, on this instance or (with Redis) on any other."""
        run = self._active.get(session_id)
        if run is not None:
            return run.run_id
        try:
            return _run_id_of(await self.locks.holder(session_id))
        except Exception:
            return None

    async def cancel(self, session_id: str) -> str | None:
        """Stop the session's run promptly, wherever it runs; what it produced so far stays stored.
        Returns the cancelled run's id, or None when nothing was running."""
        run = self._active.get(session_id)
        if run is not None:
            await self._cancel_local(run)
            return run.run_id
        run_id = await self.active_run_id(session_id)
        if run_id is None or self.redis is None:
            return None
        await self.redis.publish(CANCEL_CHANNEL, json.dumps({"session_id": session_id}))
        deadline = asyncio.get_running_loop().time() + self.settings.cancel_grace_seconds + 5
        while asyncio.get_running_loop().time() < deadline:
            if await self.locks.holder(session_id) is None:
                break
            await asyncio.sleep(0.1)
        return run_id

    async def _cancel_local(self, run: ActiveRun) -> None:
        run.abort.set()
        try:
            await asyncio.wait_for(run.done.wait(), timeout=self.settings.cancel_grace_seconds)
        except TimeoutError:
            # ADK checks the abort signal between steps; a step stuck in I/O is cancelled outright.
            if run.task is not None:
                run.task.cancel()
            await run.done.wait()

    async def _listen_for_cancels(self) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(CANCEL_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    session_id = json.loads(message["data"]).get("session_id")
                    run = self._active.get(session_id)
                    if run is not None:
                        asyncio.create_task(self._cancel_local(run))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cancel channel lost; retrying", exc_info=True)
                await asyncio.sleep(1)

    def find(self, run_id: str) -> ActiveRun | None:
        for run in self._active.values():
            if run.run_id == run_id:
                return run
        return self._finished.get(run_id)
