"""The fence around ADK's private names (runs/session_service.py): fails when an ADK upgrade
changes any of them, before a run ever breaks on it."""

from __future__ import annotations

import importlib
import inspect

import google.adk
from google.adk.sessions import DatabaseSessionService, Session

from agente_films.runs.session_service import PRIVATE_NAMES, BatchingSessionService

OWNERS = {"DatabaseSessionService": DatabaseSessionService, "Session": Session}


def test_the_adk_version_is_the_one_the_fence_was_written_for() -> None:
    assert google.adk.__version__.startswith("2.13."), (
        f"ADK {google.adk.__version__}: re-check runs/session_service.py against its append_event, then this test"
    )


def test_every_private_adk_name_we_use_still_exists() -> None:
    for owner, name in PRIVATE_NAMES:
        target = OWNERS.get(owner) or importlib.import_module(owner)
        if owner == "Session":
            assert name in Session.model_fields or name in Session.__private_attributes__ or hasattr(Session, name), name
        else:
            assert hasattr(target, name), f"{owner}.{name} is gone"


def test_the_private_signatures_are_the_ones_we_call() -> None:
    from google.adk.sessions._session_util import extract_json_safe_state_delta
    from google.adk.sessions.database_session_service import _select_required_state

    assert list(inspect.signature(_select_required_state).parameters) == [
        "sql_session", "state_model", "predicates", "use_row_level_locking", "missing_message",
    ]
    assert len(inspect.signature(extract_json_safe_state_delta).parameters) == 1
    for name, params in (
        ("_apply_temp_state", ["self", "session", "event"]),
        ("_trim_temp_delta_state", ["self", "event"]),
        ("_commit_event_to_session", ["self", "session", "event"]),
    ):
        assert list(inspect.signature(getattr(DatabaseSessionService, name)).parameters) == params, name
    # Our override keeps ADK's public signature.
    assert inspect.signature(BatchingSessionService.append_event).parameters.keys() == inspect.signature(
        DatabaseSessionService.append_event
    ).parameters.keys()


def test_every_private_adk_name_the_resume_uses_still_exists() -> None:
    from google.adk.agents.base_agent import _agent_state_key
    from google.adk.agents.callback_context import CallbackContext
    from google.adk.agents.invocation_context import InvocationContext

    from agente_films.runs import adk_resume

    assert {name for _, name in adk_resume.PRIVATE_NAMES} == {"_agent_state_key", "_get_events", "_invocation_context"}
    assert list(inspect.signature(_agent_state_key).parameters) == ["ctx", "agent_name"]
    assert "current_invocation" in inspect.signature(InvocationContext._get_events).parameters
    # Set in the constructor of CallbackContext's base class, not declared: read the source.
    sources = "".join(inspect.getsource(cls) for cls in CallbackContext.__mro__ if cls.__module__.startswith("google.adk"))
    assert "self._invocation_context = " in sources
    for field in ("agent_states", "end_of_agents", "is_resumable"):
        assert hasattr(InvocationContext, field) or field in InvocationContext.model_fields, field


def test_the_router_warning_we_silence_is_still_adks_own() -> None:
    """studio.py drops one warning of ADK's private agent router by its logger name and words
    (events by the producer, outside the agent tree, which the router rightly passes over)."""
    router = importlib.import_module("google.adk.agents._agent_router")
    assert router.logger.name == "google_adk.google.adk.agents._agent_router"
    assert "Event from an unknown agent: %s" in inspect.getsource(router)
