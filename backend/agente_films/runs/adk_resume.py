"""Resuming a run where ADK's checkpoints left it.

FENCED: besides `runs/session_service.py`, the only module that touches private ADK names
(listed in PRIVATE_NAMES; `tests/test_adk_contract.py` fails when one changes). Written against
google-adk 2.13 (`runners.py`, `agents/base_agent.py`, `workflow/_node_runner.py`).

Why it is needed, measured: after kill -9 at four points a resumed run stored 11, 12, 13 and 16
answers instead of 10 and once saved the pitch twice, because ADK 2.13 resumed every workflow
agent from its first sub-agent (see `restore_checkpoints`).
"""

from __future__ import annotations

from typing import Any

from google.adk.agents import BaseAgent
from google.adk.agents.base_agent import _agent_state_key
from google.adk.agents.callback_context import CallbackContext
from google.adk.agents.invocation_context import InvocationContext


PRIVATE_NAMES = (
    ("google.adk.agents.base_agent", "_agent_state_key"),
    ("google.adk.agents.invocation_context.InvocationContext", "_get_events"),
    ("google.adk.agents.callback_context.CallbackContext", "_invocation_context"),
)


def _subtree(agent: BaseAgent) -> list[str]:
    names = [agent.name]
    for sub_agent in agent.sub_agents:
        names.extend(_subtree(sub_agent))
    return names


def _rounds_begun(loop: BaseAgent, state: dict[str, Any] | None) -> int:
    """For a loop resumed from its checkpoint: the rounds it finished, plus the one it is in
    unless it resumes at its first agent (whose start begins that round again)."""
    if not state:
        return 0
    rounds = int(state.get("times_looped") or 0)
    if state.get("current_sub_agent") not in (None, "", loop.sub_agents[0].name):
        rounds += 1
    return rounds


def restore_checkpoints(ctx: InvocationContext) -> set[str]:
    """Rebuild ADK's agent checkpoints (agent_state, end_of_agent) from the invocation's stored
    events, as `InvocationContext.populate_invocation_agent_states` would; returns the agents
    whose last stored run ended by escalating (exit_loop).

    ADK 2.13 runs a root LlmAgent on its node runtime (runners.py `_run_node_async`), which never
    calls `populate_invocation_agent_states` (only the legacy path does, runners.py:2104), so a
    resumed run started every workflow agent from its first sub-agent and a loop from round 1.
    ADK's own populate would not do either: the node runtime stamps every event of the team with
    the team's node path (workflow/_node_runner.py `_enrich_event`), so all the agents'
    checkpoints would land under one key. Keyed by author, they are found where the agents look
    (`_agent_state_key` is the agent's name below a node, and the node falls back to its name).

    An agent about to start (named by its parent's checkpoint) starts afresh: its, its later
    siblings' and their sub-agents' earlier ends are dropped, as LoopAgent's
    `reset_sub_agent_states` does live at each new round.
    """
    if not ctx.is_resumable:
        return set()
    root = ctx.agent
    while root.parent_agent is not None:
        root = root.parent_agent
    states: dict[str, dict[str, Any]] = {}
    ends: dict[str, bool] = {}
    escalating: set[str] = set()
    escalated: set[str] = set()
    for event in ctx._get_events(current_invocation=True):
        author = event.author
        if not author or author == "user":
            continue
        actions = event.actions
        if actions.escalate:
            escalating.add(author)
        if actions.end_of_agent:
            ends[author] = True
            states.pop(author, None)
            if author in escalating:
                escalated.add(author)
            else:
                escalated.discard(author)
            escalating.discard(author)
        elif actions.agent_state is not None:
            states[author] = actions.agent_state
            ends.pop(author, None)
            # The sub-agent it starts now and those after it run afresh in this pass (all of a
            # ParallelAgent's); a loop's later agents still hold the previous round's ends.
            agent = root.find_agent(author)
            sub_agents = agent.sub_agents if agent is not None else []
            current = actions.agent_state.get("current_sub_agent")
            names = [a.name for a in sub_agents]
            start = names.index(current) if current in names else 0
            for sub_agent in sub_agents[start:]:
                for name in _subtree(sub_agent):
                    states.pop(name, None)
                    ends.pop(name, None)
                    escalating.discard(name)
                    escalated.discard(name)
    ctx.agent_states.update(states)
    ctx.end_of_agents.update(ends)
    return escalated


def invocation_of(callback_context: CallbackContext) -> InvocationContext:
    return callback_context._invocation_context


def agent_ended(ctx: InvocationContext, agent_name: str) -> bool:
    """Its end is stored for this invocation: a resumed run passes over it."""
    key = _agent_state_key(ctx, agent_name)
    return bool(ctx.end_of_agents.get(key, ctx.end_of_agents.get(agent_name)))


def agent_state(ctx: InvocationContext, agent_name: str) -> dict[str, Any] | None:
    key = _agent_state_key(ctx, agent_name)
    return ctx.agent_states.get(key, ctx.agent_states.get(agent_name))


def rounds_begun(loop: BaseAgent, state: dict[str, Any] | None) -> int:
    return _rounds_begun(loop, state)
