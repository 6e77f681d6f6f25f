"""ADK's DatabaseSessionService, whose events, inside a run, are stored by the run's writer.

FENCED: this module is the only one that touches private ADK names, and
`tests/test_adk_contract.py` fails when any of them changes. Written against google-adk 2.13
(`google/adk/sessions/database_session_service.py`); after an ADK upgrade, run that test first.

Outside a run (creating a session, the stock API) this is ADK's service unchanged. Inside a run,
`append_event` does ADK's in-memory part at once and hands the event to the run (through
`runs/context.py`), whose writer stores it with our rows for it in its next transaction. ADK's own
append costs a transaction of five statements per event, and resumability makes half of a turn's
~50 events pure checkpoints: written one by one they were the largest cost a turn had besides the
model. ADK's `BaseSessionService.flush` exists for exactly such buffering services.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from google.adk.errors import StaleSessionError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events import Event
from google.adk.sessions import DatabaseSessionService, Session
from google.adk.sessions._session_util import extract_json_safe_state_delta
from google.adk.sessions.database_session_service import _select_required_state
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agente_films.runs.context import running

# Every private ADK name used below, for the contract test: (object, attribute) pairs.
PRIVATE_NAMES = (
    ("DatabaseSessionService", "_apply_temp_state"),
    ("DatabaseSessionService", "_trim_temp_delta_state"),
    ("DatabaseSessionService", "_commit_event_to_session"),
    ("DatabaseSessionService", "_get_schema_classes"),
    ("DatabaseSessionService", "_supports_row_level_locking"),
    ("DatabaseSessionService", "_uses_naive_datetime"),
    ("Session", "_storage_update_marker"),
    ("google.adk.sessions._session_util", "extract_json_safe_state_delta"),
    ("google.adk.sessions.database_session_service", "_select_required_state"),
)


class BatchingSessionService(DatabaseSessionService):
    async def append_event(self, session: Session, event: Event) -> Event:
        run = running()
        if run is None or event.partial or run.session_id != session.id:
            return await super().append_event(session, event)
        await self.prepare_tables()
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        self._commit_event_to_session(session, event)
        run.queue_event(self, session, event)
        return event

    async def store_events(self, db: AsyncSession, session: Session, events: list[Event]) -> tuple[float, str]:
        """ADK's `append_event` storage part, for several events of one session, in `db`'s
        transaction: same stale-writer check, same state merge, same rows. Returns the session's
        new update time and revision marker, for `mark_stored` after the commit."""
        schema = self._get_schema_classes()
        row_locks = self._supports_row_level_locking()
        query = select(schema.StorageSession).filter_by(
            app_name=session.app_name, user_id=session.user_id, id=session.id
        )
        stored = (await db.execute(query.with_for_update() if row_locks else query)).scalars().one_or_none()
        if stored is None:
            raise SessionNotFoundError(f"Session {session.id} not found.")
        if session._storage_update_marker not in (None, stored.get_update_marker()):
            raise StaleSessionError("The session was changed by another writer during this run.")
        deltas: dict[str, dict[str, Any]] = {"app": {}, "user": {}, "session": {}}
        for event in events:
            for scope, delta in extract_json_safe_state_delta(event.actions.state_delta or {}).items():
                deltas[scope].update(delta)
        scoped_states = (
            ("app", schema.StorageAppState, (schema.StorageAppState.app_name == session.app_name,)),
            ("user", schema.StorageUserState, (
                schema.StorageUserState.app_name == session.app_name,
                schema.StorageUserState.user_id == session.user_id,
            )),
        )
        for scope, model, predicates in scoped_states:
            if deltas[scope]:
                state_row = await _select_required_state(
                    sql_session=db,
                    state_model=model,
                    predicates=predicates,
                    use_row_level_locking=row_locks,
                    missing_message=f"{scope} state missing for session {session.id}",
                )
                state_row.state.update(deltas[scope])
        if deltas["session"]:
            stored.state.update(deltas["session"])
        update_time = datetime.fromtimestamp(events[-1].timestamp, timezone.utc)
        stored.update_time = update_time.replace(tzinfo=None) if self._uses_naive_datetime() else update_time
        db.add_all(schema.StorageEvent.from_event(session, event) for event in events)
        # Read before the commit (ADK does the same: after it, asyncpg may not lazy-load); set on
        # the session only once the commit succeeded, so that a retried batch checks against the
        # revision that is really stored.
        return stored.get_update_timestamp(), stored.get_update_marker()

    @staticmethod
    def mark_stored(session: Session, revision: tuple[float, str]) -> None:
        session.last_update_time, session._storage_update_marker = revision
