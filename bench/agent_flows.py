"""Talking agents and the offline caller through a call in text: the loop, and the agents it can talk to.

The test agents are other banks' call flows (bridge/agent_flows.toml, played by bridge/flows.py, which the
reference bridge also serves as bots: `python -m bridge --agent-flow NAME`); in text a flow is given the
caller's profile and checks its answers against it. `ReferenceAgent` is the reference bridge's own policy
behind the same two calls, and `Unpunctuated` any agent heard through a recogniser that writes no
punctuation. `converse` drives an agent and a `Brain` in text, with the same goal tracking `CallerAgent`
applies to heard speech.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Protocol

from callers.brains.base import Brain, HeardTurn
from callers.scenario.goals import GoalTracker

# Caller turns after which a text conversation is cut off (no flow needs this many).
MAX_TURNS = 40


def unpunctuated(text: str) -> str:
    """An agent turn as a speech recogniser may give it: lower case, no punctuation."""
    return re.sub(r"[^\w\s']", "", text).lower()


class Agent(Protocol):
    """The bot side of a text conversation."""

    def greet(self) -> str: ...

    def respond(self, caller_text: str) -> tuple[str, bool]:
        """The agent's next turn and whether it ended the call."""


class ReferenceAgent:
    """The reference bridge's own policy (bridge/dialogue.py) behind the same two calls."""

    name = "reference"

    def __init__(self, scenario_type: str) -> None:
        from bridge.dialogue import BankAgent
        self.bank = BankAgent(scenario_type)

    def greet(self) -> str:
        return self.bank.greet().text

    def respond(self, caller_text: str) -> tuple[str, bool]:
        reply = self.bank.respond(caller_text)
        return reply.text, reply.action is not None


class Unpunctuated:
    """Any agent, heard through a recogniser that writes no punctuation (the caller's ear, not altText)."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    def greet(self) -> str:
        return unpunctuated(self.agent.greet())

    def respond(self, caller_text: str) -> tuple[str, bool]:
        said, ended = self.agent.respond(caller_text)
        return unpunctuated(said), ended


@dataclass
class Conversation:
    """How a text conversation ended: the caller's goal, its unanswered asks and the agent's tally."""

    goal_met: bool
    failure: Optional[str]
    unanswered: list[str]
    turns: int
    transcript: list[tuple[str, str]]
    hung_up_by: str


def converse(brain: Brain, agent: Agent, max_turns: int = MAX_TURNS) -> Conversation:
    """Talk `agent` and `brain` through one call in text, tracking the caller's goal as CallerAgent does."""
    tracker = GoalTracker(brain.scenario.goal)  # type: ignore[attr-defined]
    said = agent.greet()
    transcript = [("agent", said)]
    heard = HeardTurn(said, 0, new_goals_met=len(tracker.observe(0, said)))
    ended_by = "turn limit"
    for turn in range(1, max_turns + 1):
        reply = brain.respond(heard, tracker)
        text = reply.text if reply.text is not None else (reply.dtmf or "")
        transcript.append(("caller", text))
        if reply.hang_up:
            ended_by = "caller"
            break
        said, ended = agent.respond(text)
        transcript.append(("agent", said))
        heard = HeardTurn(said, turn, new_goals_met=len(tracker.observe(turn, said)))
        if ended:
            ended_by = "agent"
            break
    unanswered = list(getattr(brain, "unanswered_asks", lambda: [])())
    return Conversation(tracker.primary_met and tracker.failure is None, tracker.failure, unanswered,
                        len([1 for who, _ in transcript if who == "caller"]), transcript, ended_by)
