"""Runs execute as server-side tasks, one per session at a time, independent of any socket."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from google.adk.agents import RunConfig
from google.adk.agents.run_config import StreamingMode
from google.adk.runners import Runner
from google.genai import types
from sqlalchemy.ext.asyncio import async_sessionmaker

from agente_films.db.repositories import ProjectRepository, QuestionRepository, SessionRepository
from agente_films.runs.bus import EventBus
from agente_films.runs.recorder import RunRecorder, current_run
from agente_films.settings import Settings

log = logging.getLogger(__name__)


RESUMABLE = ("interrupted", "failed")


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


@dataclass
class ActiveRun:
    session_id: str
    run_id: str | None = None
    task: asyncio.Task | None = None
    abort: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "running"


def describe_error(exc: BaseException) -> str:
    """One line a person can read: the error type, the HTTP status of a failed LLM call, the message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    status = getattr(exc, "status_code", None)
    label = f"{type(exc).__name__} (HTTP {status})" if isinstance(status, int) else type(exc).__name__
    return f"{label}: {text}"[:1000] if text else label


class RunManager:
    def __init__(
        self, *, runner: Runner, sessionmaker: async_sessionmaker, bus: EventBus, settings: Settings
    ) -> None:
        self.runner = runner
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.settings = settings
        self._active: dict[str, ActiveRun] = {}
        self._finished: dict[str, ActiveRun] = {}

    def active(self, session_id: str) -> ActiveRun | None:
        return self._active.get(session_id)

    def _claim(self, session_id: str) -> ActiveRun:
        if session_id in self._active:
            raise RunInProgress(self._active[session_id].run_id)
        # Claimed before the first await, so two messages arriving together cannot both start.
        run = self._active[session_id] = ActiveRun(session_id=session_id)
        return run

    async def start(self, *, session_id: str, user_id: str, text: str) -> ActiveRun:
        run = self._claim(session_id)
        try:
            async with self.sessionmaker.begin() as db:
                project = await ProjectRepository(db).latest_for_session(session_id)
                question = await QuestionRepository(db).create(
                    session_id=session_id, text=text, project_id=project.id if project else None
                )
                await SessionRepository(db).update(session_id, status="running")
            run.run_id = question.id
            recorder = self._recorder(run, user_id, question.project_id)
            await recorder.run_started(text)
        except BaseException:
            self._active.pop(session_id, None)
            raise
        self._launch(run, recorder, user_id, new_message=types.UserContent(text))
        return run

    async def resume(self, *, session_id: str, user_id: str, run_id: str) -> ActiveRun:
        """Continue an interrupted or failed run where ADK's checkpoints left it."""
        run = self._claim(session_id)
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
            run.run_id = run_id
            recorder = self._recorder(run, user_id, question.project_id)
            await recorder.run_started(question.question_text, resumed=True)
        except BaseException:
            self._active.pop(session_id, None)
            raise
        self._launch(run, recorder, user_id, invocation_id=question.invocation_id)
        return run

    def _recorder(self, run: ActiveRun, user_id: str, project_id: str | None) -> RunRecorder:
        return RunRecorder(
            sessionmaker=self.sessionmaker,
            bus=self.bus,
            session_id=run.session_id,
            user_id=user_id,
            run_id=run.run_id,
            project_id=project_id,
        )

    def _launch(self, run: ActiveRun, recorder: RunRecorder, user_id: str, **run_args: object) -> None:
        run.task = asyncio.create_task(self._execute(run, recorder, user_id, run_args), name=f"run-{run.run_id}")

    async def _execute(
        self, run: ActiveRun, recorder: RunRecorder, user_id: str, run_args: dict[str, object]
    ) -> None:
        current_run.set(recorder)
        status, error = "completed", None
        try:
            async for event in self.runner.run_async(
                user_id=user_id,
                session_id=run.session_id,
                run_config=RunConfig(streaming_mode=StreamingMode.SSE),
                abort_signal=run.abort,
                **run_args,
            ):
                if event.partial:
                    await recorder.on_partial(event)
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
        except Exception:
            log.exception("could not record the end of run %s", run.run_id)
        finally:
            self._active.pop(run.session_id, None)
            if run.run_id:
                self._finished[run.run_id] = run
                while len(self._finished) > 1000:
                    self._finished.pop(next(iter(self._finished)))
            run.done.set()

    def find(self, run_id: str) -> ActiveRun | None:
        for run in self._active.values():
            if run.run_id == run_id:
                return run
        return self._finished.get(run_id)

    async def cancel(self, session_id: str) -> ActiveRun | None:
        """Stop the session's run promptly; what it produced so far stays stored."""
        run = self._active.get(session_id)
        if run is None:
            return None
        run.abort.set()
        try:
            await asyncio.wait_for(run.done.wait(), timeout=self.settings.cancel_grace_seconds)
        except TimeoutError:
            # ADK checks the abort signal between steps; a step stuck in I/O is cancelled outright.
            if run.task is not None:
                run.task.cancel()
            await run.done.wait()
        return run

    async def shutdown(self) -> None:
        for session_id in list(self._active):
            await self.cancel(session_id)
