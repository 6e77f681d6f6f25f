"""Run facts -> AG-UI frames. Pure: no I/O, no clock; the same translator serves the live stream
and the history rebuilt from stored rows (`runs/timeline.py`), so both read the same.

The translator keeps the stream valid AG-UI: every message, tool call and step it opens it closes
before the run's terminal frame, and each run is RUN_STARTED ... RUN_FINISHED | RUN_ERROR.
"""

from __future__ import annotations

import re
from typing import Any

import ag_ui.core as agui

from agente_films import notes as producer_notes
from agente_films import protocol as p
from agente_films import state_keys as keys
from agente_films.runs.facts import TOOL_TEXT_LIMIT, EventFacts, to_json
from agente_films.runs.track import RunTrack, StepFacts
from agente_films.urls import pitch_urls

# What a person reads when a run failed; the raw error stays in the stored run and the logs.
FAILED_MESSAGE = "The team stopped with an error before finishing the pitch."
INTERRUPTED_MESSAGE = "The server running this run stopped before it finished."



def readable_error(status: str, error: str | None) -> str:
    """A sentence for the person, from a stored error such as 'RateLimitError (HTTP 429): ...'."""
    if status == "interrupted":
        return INTERRUPTED_MESSAGE
    text = error or ""
    http = re.search(r"HTTP (\d{3})", text)
    if "BudgetExceeded" in text or "budget of $" in text:
        sentence = text.split(": ", 1)[-1]
    elif "timeout" in text.lower() or "timed out" in text.lower():
        sentence = "The model took too long to answer (timeout)."
    elif http and http.group(1) == "429":
        sentence = "The model's provider is rate-limiting us (HTTP 429)."
    elif http and http.group(1) in ("401", "403"):
        sentence = f"The model's provider refused our API key (HTTP {http.group(1)})."
    elif http:
        sentence = f"The model's provider answered with an error (HTTP {http.group(1)})."
    elif "APIConnectionError" in text or "ConnectError" in text:
        sentence = "The model's provider could not be reached."
    elif "could not store" in text:
        sentence = "The database refused to store the run."
    else:
        sentence = FAILED_MESSAGE
    return sentence  # whether it can be resumed is RUN_ERROR.resumable


class FrameTranslator:
    def __init__(self, *, session_id: str, run_id: str, track: RunTrack) -> None:
        self.session_id = session_id
        self.run_id = run_id
        self.track = track
        self._stored_open: dict[str, list[StepFacts]] = {}

    # -- run ---------------------------------------------------------------------------------

    def run_started(
        self, question: str, *, resumed: bool, state: dict[str, Any] | None,
        kind: p.RunKind = "message", stage: p.Stage | None = None,
    ) -> list[Any]:
        """`kind` is what the question is (a message, an edit, an undo); a message with a `stage`
        is a regeneration."""
        if kind == "message" and stage is not None:
            kind = "regenerate"
        frames: list[Any] = [
            p.RunStarted(
                thread_id=self.session_id,
                run_id=self.run_id,
                question=question,
                resumed=resumed,
                kind=kind,
                stage=stage,
                protocol_version=p.PROTOCOL_VERSION,
            )
        ]
        if state is not None:  # for a client that joins now: the state the run starts from
            frames.append(p.StateSnapshot(run_id=self.run_id, snapshot=state, version=self.track.state_version))
        return frames

    def run_queued(self, ahead: int) -> list[Any]:
        return [p.RunQueued(run_id=self.run_id, value=p.RunQueuedValue(ahead=ahead))]

    def _close_open(self) -> list[Any]:
        frames: list[Any] = [
            p.TextMessageEnd(run_id=self.run_id, message_id=message_id)
            for message_id in sorted(self.track.open_messages)
        ]
        self.track.open_messages.clear()
        for name, count in list(self.track.open_steps.items()):
            for _ in range(count):
                step = self.track.finish_step(name)
                if step is not None:
                    frames.append(self._step(p.StepFinished, step))
        for steps in self._stored_open.values():
            frames += [self._step(p.StepFinished, step) for step in reversed(steps)]
        self._stored_open.clear()
        return frames

    def run_finished(
        self, status: str, error: str | None, *, state: dict[str, Any] | None, resumable: bool = False,
        branched_at: dict[str, Any] | None = None,
    ) -> list[Any]:
        """The run's last frames: whatever is still open, closed; the final state; the end."""
        frames = self._close_open()
        if state is not None:
            frames.append(p.StateSnapshot(run_id=self.run_id, snapshot=state, version=self.track.state_version))
        usage = (
            [agui.TokenUsage(input_tokens=self.track.prompt_tokens, output_tokens=self.track.completion_tokens,
                             total_tokens=self.track.prompt_tokens + self.track.completion_tokens)]
            if self.track.prompt_tokens or self.track.completion_tokens
            else None
        )
        if status in ("failed", "interrupted"):
            frames.append(
                p.RunError(
                    run_id=self.run_id,
                    message=readable_error(status, error),
                    code=p.RUN_INTERRUPTED if status == "interrupted" else p.RUN_FAILED,
                    status=status,
                    resumable=resumable,
                    usage=usage,
                    cost_usd=self.track.run_cost or None,
                )
            )
        else:
            frames.append(
                p.RunFinished(
                    thread_id=self.session_id,
                    run_id=self.run_id,
                    result=p.RunResult(
                        status=status, error=error,
                        branched_at=p.BranchedAt.model_validate(branched_at) if branched_at else None,
                    ),
                    outcome={"type": "cancelled"} if status == "cancelled" else {"type": "success"},
                    usage=usage,
                    cost_usd=self.track.run_cost or None,
                )
            )
        return frames

    # -- steps -------------------------------------------------------------------------------

    def _step(self, cls: type[p.StepStarted] | type[p.StepFinished], step: StepFacts) -> Any:
        return cls(
            run_id=self.run_id,
            step_name=step.agent,
            agent=step.agent,
            agent_kind=step.kind,
            parent=step.parent,
            iteration=step.iteration,
            max_iterations=step.max_iterations,
            handed_off_to=step.handed_off_to,
            kept=step.kept or None,
        )

    def step_started(self, step: StepFacts) -> list[Any]:
        return [self._step(p.StepStarted, step)]

    def step_finished(self, step: StepFacts | None) -> list[Any]:
        return [self._step(p.StepFinished, step)] if step is not None else []

    def stored_step(self, started: bool, step: StepFacts) -> list[Any]:
        """A step from its stored row (history): kept open until its end row, or the run's end."""
        if started:
            self._stored_open.setdefault(step.agent, []).append(step)
            return self.step_started(step)
        if not self._stored_open.get(step.agent):
            return []
        self._stored_open[step.agent].pop()
        return self.step_finished(step)

    # -- events ------------------------------------------------------------------------------

    def partial(self, facts: EventFacts) -> list[Any]:
        """A streamed chunk: text only (ADK sends tool calls whole in the final event)."""
        if not facts.text:
            return []
        frames: list[Any] = []
        if facts.event_id not in self.track.open_messages:
            self.track.open_messages.add(facts.event_id)
            frames.append(
                p.TextMessageStart(run_id=self.run_id, message_id=facts.event_id, role="assistant", agent=facts.author)
            )
        frames.append(
            p.TextMessageContent(run_id=self.run_id, message_id=facts.event_id, delta=facts.text, agent=facts.author)
        )
        return frames

    def stored(self, facts: EventFacts, *, failure_message: str | None = None) -> list[Any]:
        """A whole (stored) event. Its text was streamed already when chunks came first."""
        agent = facts.author
        if agent == "user":
            return []
        run_id = self.run_id
        frames: list[Any] = []
        if facts.text:
            if facts.event_id not in self.track.open_messages:
                frames.append(p.TextMessageStart(run_id=run_id, message_id=facts.event_id, role="assistant", agent=agent))
                frames.append(p.TextMessageContent(run_id=run_id, message_id=facts.event_id, delta=facts.text, agent=agent))
            self.track.open_messages.discard(facts.event_id)
            frames.append(p.TextMessageEnd(run_id=run_id, message_id=facts.event_id, agent=agent))
        for call in facts.calls:
            frames.append(
                p.ToolCallStart(run_id=run_id, tool_call_id=call.id, tool_call_name=call.name,
                                parent_message_id=facts.event_id, agent=agent)
            )
            frames.append(p.ToolCallArgs(run_id=run_id, tool_call_id=call.id, delta=to_json(call.args), agent=agent))
            frames.append(p.ToolCallEnd(run_id=run_id, tool_call_id=call.id, agent=agent))
        for result in facts.results:
            frames.append(
                p.ToolCallResult(
                    run_id=run_id,
                    message_id=f"{facts.event_id}-{result.id}",
                    tool_call_id=result.id,
                    content=to_json(result.response)[:TOOL_TEXT_LIMIT],
                    role="tool",
                    agent=agent,
                    tool_name=result.name,
                )
            )
        if facts.state_delta:
            frames.append(
                p.StateDelta(
                    run_id=run_id,
                    delta=[{"op": "add", "path": f"/{key}", "value": value} for key, value in facts.state_delta.items()],
                    agent=agent,
                    version=self.track.state_version,
                )
            )
        if keys.PRODUCER_NOTES in facts.state_delta:
            frames += self.notes_moved(agent, facts.state_delta[keys.PRODUCER_NOTES])
        for filename, version in facts.artifact_delta.items():
            frames.append(
                p.ArtifactSaved(
                    run_id=run_id,
                    agent=agent,
                    value=p.ArtifactSavedValue(filename=filename, version=version, agent=agent,
                                               **_snake(pitch_urls(self.session_id, filename, version))),
                )
            )
        if facts.transfer_to:
            # The agent's step ends here too: the recorder finishes it (and stores that).
            frames.append(p.AgentTransfer(run_id=run_id, agent=agent,
                                          value=p.AgentTransferValue(from_=agent, to=facts.transfer_to)))
        if facts.escalate:
            loop, iteration = self.track.loop_of(agent)
            frames.append(p.LoopExit(run_id=run_id, agent=agent,
                                     value=p.LoopExitValue(agent=agent, loop=loop, iteration=iteration)))
        if facts.failure:
            frames.append(p.AgentError(run_id=run_id, agent=agent,
                                       value=p.AgentErrorValue(agent=agent, message=failure_message or facts.failure)))
        return frames

    def note_received(self, note_id: str, text: str, *, kept_for_next_run: bool = False) -> list[Any]:
        return [p.NoteReceived(run_id=self.run_id, agent="producer", value=p.NoteReceivedValue(
            note_id=note_id, text=text, kept_for_next_run=kept_for_next_run))]

    def notes_moved(self, agent: str, value: Any) -> list[Any]:
        """The producer's notes as a state delta has them: a frame for each note taken or judged
        since the track last saw it (the track holds the statuses across a session's runs)."""
        frames: list[Any] = []
        for note in producer_notes.as_notes(value):
            if self.track.note_status.get(note["id"]) == note["status"]:
                continue
            self.track.note_status[note["id"]] = note["status"]
            if note["status"] == "taken":
                frames.append(p.NoteTaken(run_id=self.run_id, agent=agent, value=p.NoteTakenValue(
                    note_id=note["id"], text=note["text"], round=int(note.get("round") or 1),
                    revision=int(note.get("revision") or 0))))
            elif note["status"] in ("addressed", "not_addressed"):
                frames.append(p.NoteVerdict(run_id=self.run_id, agent=agent, value=p.NoteVerdictValue(
                    note_id=note["id"], text=note["text"], addressed=note["status"] == "addressed",
                    verdict=str(note.get("verdict") or ""), round=note.get("round"))))
        return frames

    def usage(self, *, agent: str, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float) -> list[Any]:
        return [
            p.Usage(
                run_id=self.run_id,
                agent=agent,
                value=p.UsageValue(agent=agent, model=model, prompt_tokens=prompt_tokens,
                                   completion_tokens=completion_tokens, cost_usd=cost_usd,
                                   run_cost_usd=self.track.run_cost),
            )
        ]


def _snake(urls: dict[str, str]) -> dict[str, str]:
    return {"markdown_url": urls["markdownUrl"], "pdf_url": urls["pdfUrl"]}
