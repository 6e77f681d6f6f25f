"""What a run has open and where it is: steps (with the writers' room round), streaming messages,
the state snapshot version, tokens and cost. Plain bookkeeping, no I/O; the frame and row
translators read it, the recorder moves it forward."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from google.adk.agents import BaseAgent


@dataclass(frozen=True, slots=True)
class StepFacts:
    """One agent starting or finishing, as the stream and the step rows tell it."""

    agent: str
    kind: str
    parent: str | None = None
    iteration: int | None = None
    max_iterations: int | None = None
    handed_off_to: str | None = None
    # The agent was passed over and kept its earlier report (a revision no note of which concerns it).
    kept: bool = False

    def as_row(self) -> dict[str, Any]:
        """The step row's event_data (camelCase, as it has always been stored)."""
        row: dict[str, Any] = {"agent": self.agent, "agentKind": self.kind}
        for key, value in (
            ("parent", self.parent),
            ("iteration", self.iteration),
            ("maxIterations", self.max_iterations),
            ("handedOffTo", self.handed_off_to),
            ("kept", self.kept or None),
        ):
            if value is not None:
                row[key] = value
        return row

    @classmethod
    def from_row(cls, data: dict[str, Any]) -> StepFacts:
        return cls(
            agent=str(data.get("agent") or "agent"),
            kind=str(data.get("agentKind") or "agent"),
            parent=data.get("parent"),
            iteration=data.get("iteration"),
            max_iterations=data.get("maxIterations"),
            handed_off_to=data.get("handedOffTo"),
            kept=bool(data.get("kept")),
        )


def agent_kind(agent: BaseAgent) -> str:
    return type(agent).__name__.removesuffix("Agent").lower() or "agent"


def is_loop(agent: BaseAgent | None) -> bool:
    return agent is not None and getattr(agent, "max_iterations", None) is not None and bool(agent.sub_agents)


@dataclass
class RunTrack:
    open_messages: set[str] = field(default_factory=set)
    loop_iterations: dict[str, int] = field(default_factory=dict)
    open_steps: dict[str, int] = field(default_factory=dict)
    agents: dict[str, BaseAgent] = field(default_factory=dict)
    finished_steps: set[str] = field(default_factory=set)
    state_version: int = 0
    run_cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    invocation_recorded: bool = False
    # The status of each producer's note as last seen (a note frame goes out when it moves).
    note_status: dict[str, str] = field(default_factory=dict)

    # -- steps ------------------------------------------------------------------------------

    def _facts(self, agent: BaseAgent, handed_off_to: str | None = None) -> StepFacts:
        parent = agent.parent_agent
        iteration = max_iterations = None
        if parent is not None and parent.name in self.loop_iterations:
            iteration = self.loop_iterations[parent.name]
            max_iterations = getattr(parent, "max_iterations", None)
        return StepFacts(
            agent=agent.name,
            kind=agent_kind(agent),
            parent=parent.name if parent is not None else None,
            iteration=iteration,
            max_iterations=max_iterations,
            handed_off_to=handed_off_to,
        )

    def count_round(self, agent: BaseAgent) -> None:
        """A loop's first agent starting (or passed over by a resume) begins a round."""
        parent = agent.parent_agent
        if parent is not None and parent.name in self.loop_iterations and parent.sub_agents[0].name == agent.name:
            self.loop_iterations[parent.name] += 1

    def start_step(self, agent: BaseAgent, rounds_before: int = 0) -> StepFacts:
        """`rounds_before`: for a loop resumed from its checkpoint, the rounds it had begun."""
        if is_loop(agent):
            self.loop_iterations[agent.name] = rounds_before
        self.count_round(agent)
        self.open_steps[agent.name] = self.open_steps.get(agent.name, 0) + 1
        self.agents[agent.name] = agent
        return self._facts(agent)

    def remember_notes(self, notes: Any) -> None:
        for note in notes if isinstance(notes, list) else []:
            if isinstance(note, dict) and note.get("id"):
                self.note_status[str(note["id"])] = str(note.get("status"))

    def finish_step(
        self, agent_name: str, handed_off_to: str | None = None, *, kept: bool = False
    ) -> StepFacts | None:
        """None when the agent has no open step: one that transfers away is finished then, and
        ADK may report its end again later."""
        agent = self.agents.get(agent_name)
        if agent is None or self.open_steps.get(agent_name, 0) <= 0:
            return None
        self.open_steps[agent_name] -= 1
        self.finished_steps.add(agent_name)
        facts = self._facts(agent, handed_off_to)
        return replace(facts, kept=True) if kept else facts

    def loop_of(self, agent_name: str) -> tuple[str | None, int | None]:
        """The loop an agent works in, and the round it is in."""
        agent = self.agents.get(agent_name)
        parent = agent.parent_agent if agent is not None else None
        if parent is None or parent.name not in self.loop_iterations:
            return None, None
        return parent.name, self.loop_iterations[parent.name]
