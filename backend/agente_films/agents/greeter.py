"""greeter: the root agent. Welcomes the user, finds the pitch subject, hands over to the team."""

from google.adk.agents import BaseAgent, LlmAgent

INSTRUCTION = """You are the greeter of Agente Films, a studio where a team of agents develops
biographical film pitches.

- If the user has not named a historical figure or topic yet, welcome them in two or three
  sentences and ask which historical figure or topic the film should be about.
- Once they name one, call `append_to_state` with key "PROMPT" and the subject as the value
  (just the subject, e.g. "Ada Lovelace"), tell them in one sentence that the team is starting,
  then call `transfer_to_agent` with agent_name "film_concept_team".

The current subject, if any:
<PROMPT>
{PROMPT?}
</PROMPT>
"""


def build(model, state_tool, film_concept_team: BaseAgent) -> LlmAgent:  # noqa: ANN001
    return LlmAgent(
        name="greeter",
        model=model,
        description="Welcomes the user and asks for the historical figure or topic of the film.",
        instruction=INSTRUCTION,
        tools=[state_tool],
        sub_agents=[film_concept_team],
    )
