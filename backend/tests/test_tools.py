"""The state tool's allow-list and the document tool's naming and size cap (what the codelab got
wrong), and the `agente-films pitch` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.adk.artifacts.base_artifact_service import ArtifactVersion
from google.adk.events.event_actions import EventActions

from agente_films import state_keys as keys
from agente_films import notes
from agente_films.tools.brief import make_brief_tool
from agente_films.tools.notes import make_note_verdict_tool
from agente_films.tools.pitch_document import make_pitch_document_tool, pitch_filename
from agente_films.tools.state import make_state_tool
from tests.conftest import DEAD_WIKIPEDIA


class FakeToolContext:
    def __init__(self, invocation_id: str = "e-1") -> None:
        self.state: dict[str, Any] = {}
        self.saved: list[tuple[str, Any, dict]] = []
        self.invocation_id = invocation_id
        self.actions = EventActions()

    async def save_artifact(self, filename: str, artifact: Any, custom_metadata: dict | None = None) -> int:
        self.saved.append((filename, artifact, custom_metadata or {}))
        return len([s for s in self.saved if s[0] == filename]) - 1

    async def get_artifact_version(self, filename: str) -> ArtifactVersion | None:
        versions = [s for s in self.saved if s[0] == filename]
        if not versions:
            return None
        return ArtifactVersion(version=len(versions) - 1, canonical_uri="fake://", custom_metadata=versions[-1][2])


@pytest.mark.parametrize("key", ["app:theme", "user:name", "temp:scratch", "PLOT_OUTLINE", "research"])
def test_the_state_tool_writes_only_its_agents_keys(key: str) -> None:
    tool = make_state_tool({keys.CRITICAL_FEEDBACK}, max_chars=100)
    context = FakeToolContext()
    result = tool(key=key, value="x", tool_context=context)
    assert result["status"] == "error" and "not writable" in result["message"] and "CRITICAL_FEEDBACK" in result["message"]
    assert context.state == {}


def test_the_state_tool_appends_and_caps() -> None:
    context = FakeToolContext()
    research = make_state_tool({keys.RESEARCH}, max_chars=50)
    assert research(key="research", value="fact one", tool_context=context)["entries"] == 1
    assert research(key="research", value="fact two", tool_context=context)["entries"] == 2
    assert research(key="research", value="  ", tool_context=context)["status"] == "error"
    too_long = research(key="research", value="x" * 51, tool_context=context)
    assert too_long["status"] == "error" and "limit is 50" in too_long["message"]
    assert context.state["research"] == ["fact one", "fact two"]
    for not_writable in ("app:anything", keys.PROMPT, keys.PRODUCER_NOTES):
        with pytest.raises(ValueError):
            make_state_tool({not_writable}, max_chars=10)


def test_the_brief_resets_a_pitch_on_a_new_subject_and_hands_over() -> None:
    context = FakeToolContext()
    context.state.update({"research": ["fact"], "PLOT_OUTLINE": "old draft", "revision": 2,
                          "producer_edits": {"sections": ["Logline"], "revision": 1, "version": 9},
                          "producer_notes": [{"id": "n1", "text": "darker", "status": "addressed"}]})
    brief = make_brief_tool("film_concept_team", max_chars=50)
    result = brief(intent="switch", subject="Nikola Tesla", direction="thriller", tool_context=context)
    assert result == {"status": "ok", "intent": "switch", "subject": "Nikola Tesla", "direction": "thriller"}
    assert context.state == {
        "PROMPT": "Nikola Tesla", "direction": "thriller", "research": [], "PLOT_OUTLINE": "",
        "CRITICAL_FEEDBACK": [], "box_office_report": "", "casting_report": "", "producer_notes": [],
        "revision": 0, "pitch_document": "", "producer_edits": {}, "regenerate": {},
    }
    assert context.actions.transfer_to_agent == "film_concept_team"


def test_a_revision_brief_keeps_the_pitch_and_adds_a_pending_note() -> None:
    context = FakeToolContext()
    brief = make_brief_tool("film_concept_team", max_chars=50)
    refused = brief(intent="revision", note="make it darker", tool_context=context)
    assert refused["status"] == "error" and "no pitch to revise" in refused["message"]
    assert context.actions.transfer_to_agent is None and context.state == {}

    context.state.update({"PROMPT": "Ada Lovelace", "research": ["fact"], "PLOT_OUTLINE": "draft"})
    assert brief(intent="revision", note="", tool_context=context)["status"] == "error"
    assert brief(intent="sequel", tool_context=context)["status"] == "error"
    result = brief(intent="revision", note="make it darker", tool_context=context)
    assert result["status"] == "ok" and result["revision"] == 1
    assert context.state["PROMPT"] == "Ada Lovelace" and context.state["research"] == ["fact"]
    assert context.state["PLOT_OUTLINE"] == "draft" and context.state["revision"] == 1
    [note] = context.state["producer_notes"]
    assert (note["text"], note["status"], note["revision"], note["round"]) == ("make it darker", "pending", 1, None)
    assert context.actions.transfer_to_agent == "film_concept_team"
    # Notes that came with the message (said after the last writers' room): hand over, add nothing.
    context.actions = EventActions()
    assert brief(intent="revision", note="", tool_context=context)["notes"] == ["make it darker"]
    assert len(context.state["producer_notes"]) == 1 and context.state["revision"] == 1
    assert context.actions.transfer_to_agent == "film_concept_team"


def test_the_critic_judges_only_taken_notes() -> None:
    context = FakeToolContext()
    context.state["producer_notes"] = [
        notes.new_note("n1", "make it darker", 1), {**notes.new_note("n2", "Act II drags", 1), "status": "taken", "round": 1},
    ]
    judge = make_note_verdict_tool(max_chars=80)
    assert judge(note_id="n1", addressed=True, verdict="ok", tool_context=context)["status"] == "error"
    assert judge(note_id="n2", addressed=True, verdict=" ", tool_context=context)["status"] == "error"
    result = judge(note_id="n2", addressed=False, verdict="Act II is unchanged.", tool_context=context)
    assert result == {"status": "ok", "note_id": "n2", "addressed": False}
    judged = context.state["producer_notes"][1]
    assert (judged["status"], judged["addressed"], judged["verdict"]) == ("not_addressed", False, "Act II is unchanged.")
    # A note not addressed is taken again at the next round, with the new pending one.
    taken_again, taken = notes.take(context.state["producer_notes"], 2)
    assert [n["id"] for n in taken] == ["n1", "n2"] and all(n["round"] == 2 for n in taken)


@pytest.mark.parametrize(
    ("title", "filename"),
    [
        ("Ada Lovelace: The Engine!", "ada-lovelace-the-engine.md"),
        ("../../etc/passwd", "etc-passwd.md"),
        ("/absolute/path.md", "absolute-path-md.md"),
        ("Gödel, Escher & Bach", "godel-escher-bach.md"),
        ("   ", "film-pitch.md"),
        ("x" * 300, "x" * 80 + ".md"),
    ],
)
def test_the_server_names_the_document_never_the_model(title: str, filename: str) -> None:
    assert pitch_filename(title) == filename


async def test_the_document_tool_saves_versions_and_refuses_oversized_documents() -> None:
    tool = make_pitch_document_tool(max_bytes=1000)
    context = FakeToolContext()
    first = await tool(title="The Engine", markdown="# The Engine\n", tool_context=context)
    second = await tool(title="The Engine", markdown="# The Engine v2\n", tool_context=context)
    assert (first["filename"], first["version"], second["version"]) == ("the-engine.md", 0, 1)
    assert context.saved[0][1].inline_data.mime_type == "text/markdown"
    too_big = await tool(title="Big", markdown="x" * 1001, tool_context=context)
    assert too_big["status"] == "error" and "limit is 1000" in too_big["message"]
    assert (await tool(title="Empty", markdown=" \n", tool_context=context))["status"] == "error"
    assert len(context.saved) == 2


async def test_the_document_tool_saves_a_document_once_per_run() -> None:
    """A resumed run that makes the same call again gets the version it saved, not a new one."""
    tool = make_pitch_document_tool(max_bytes=1000)
    context = FakeToolContext("e-1")
    first = await tool(title="The Engine", markdown="# The Engine\n", tool_context=context)
    again = FakeToolContext("e-1")
    again.saved = context.saved
    repeated = await tool(title="The Engine", markdown="# The Engine\n", tool_context=again)
    assert repeated == first and len(context.saved) == 1
    assert again.actions.artifact_delta == {"the-engine.md": 0}
    later = FakeToolContext("e-2")
    later.saved = context.saved
    assert (await tool(title="The Engine", markdown="# The Engine\n", tool_context=later))["version"] == 1


def test_pitch_command_runs_the_team_in_the_terminal(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "OFFLINE_CHUNK_DELAY_MS": "0",
        "WIKIPEDIA_BASE_URL": DEAD_WIKIPEDIA,
        "LLM_MODEL": "offline",
        "REDIS_URL": "",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "agente_films.cli", "pitch", "Ada Lovelace"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "writers' room round 2 of 5" in " ".join(done.stdout.split())
    assert "Pitch document:" in done.stdout
    stored = [p for p in (tmp_path / "artifacts").rglob("*.md") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_text().startswith("# ")
    assert str(stored[0].parent) in done.stdout.replace("\n", "")
