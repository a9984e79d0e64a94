"""Test agents in text for the offline caller: other banks' call flows, and the loop that talks them through.

The reference bridge is one agent; a caller that only passes it has learnt one agent's phrases. The flows in
agent_flows.toml (data) are other agents: verification by member number and postcode, two asks in one
turn, confirmations, holds, choices, upsells, an agent that never asks anything, and one that asks for
something no caller profile holds. `FlowAgent` plays one flow against one caller: it says a step, checks
the caller's answer against the caller's profile (as a bank checks its records), re-asks up to the flow's
limit and then gives up, as real agents do. `converse` drives any agent and a `Brain` in text, with the
same goal tracking `CallerAgent` applies to heard speech, and counts the agent questions answered.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol

from callers.brains.base import Brain, HeardTurn
from callers.scenario.goals import GoalTracker

FLOWS_FILE = Path(__file__).with_name("agent_flows.toml")
# Caller turns after which a text conversation is cut off (no flow needs this many).
MAX_TURNS = 40
# The expectations a step may have of the caller's answer.
REQUEST, NONE, YES, NO, CHOICE = "request", "none", "yes", "no", "choice"
YES_WORDS = ("yes", "yeah", "yep", "sure", "please", "go ahead", "okay", "ok", "that would be", "i'll hold",
             "i will hold", "i'll wait", "i can hold")
NO_WORDS = ("no", "nope", "not", "don't", "no thanks", "no thank you")


def unpunctuated(text: str) -> str:
    """An agent turn as a speech recogniser may give it: lower case, no punctuation."""
    return re.sub(r"[^\w\s']", "", text).lower()


def _plain(text: str) -> str:
    """Lowercase letters and digits only, words run together: "4 8 2 1" and "4821" read alike."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _has_word(text: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {' '.join(_words(text))} "
    return any(f" {phrase} " in padded for phrase in phrases)


class Agent(Protocol):
    """The bot side of a text conversation."""

    def greet(self) -> str: ...

    def respond(self, caller_text: str) -> tuple[str, bool]:
        """The agent's next turn and whether it ended the call."""


@dataclass
class Step:
    say: str
    expect: str = NONE  # REQUEST, NONE, YES, NO, CHOICE, or "fields"
    fields: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()  # for CHOICE: the option words the caller may answer with (any)
    reask: str = ""


@dataclass
class Tally:
    """One conversation's figures: agent questions asked and answered, turns, how it ended."""

    questions: int = 0
    answered: int = 0
    answered_first: int = 0  # on the first ask, without a re-ask
    unanswerable: int = 0
    agent_gave_up: bool = False


class FlowAgent:
    """One flow of agent_flows.toml played against one caller whose `profile` values it checks."""

    def __init__(self, flow: dict, services: dict, scenario_type: str, values: dict[str, str]) -> None:
        self.name = flow["name"]
        self.topics = tuple(services["topics"][scenario_type])
        self.values = values
        self.max_reasks = int(flow.get("max_reasks", 2))
        self.give_up = flow.get("give_up", "I'm sorry, I can't help you further. Goodbye.")
        self.goodbye = flow["goodbye"]
        self.unanswerable_fields = frozenset(flow.get("unanswerable", ()))
        steps = []
        for raw in flow["steps"]:
            if raw.get("service"):
                steps += [self._step(item) for item in services[scenario_type]
                          if not (raw.get("statements_only") and item.get("ask"))]
            else:
                steps.append(self._step(raw))
        self.steps = steps
        self.index = 0
        self.reasks = 0
        self.tally = Tally()

    def _step(self, raw: dict) -> Step:
        expect = raw.get("expect", NONE)
        fields: tuple[str, ...] = ()
        if isinstance(expect, list):
            fields, expect = tuple(expect), "fields"
        say = raw["say"].format_map(_Values(self.values))
        accept = tuple(option.format_map(_Values(self.values)) for option in raw.get("accept", ()))
        return Step(say, expect, fields, accept, raw.get("reask", "").format_map(_Values(self.values)))

    def greet(self) -> str:
        return self._ask(self.steps[0])

    def _ask(self, step: Step) -> str:
        if step.expect != NONE:
            self.tally.questions += 1
            if set(step.fields) & self.unanswerable_fields:
                self.tally.unanswerable += 1
        return step.say

    def respond(self, caller_text: str) -> tuple[str, bool]:
        step = self.steps[self.index]
        if self._accepts(step, caller_text):
            if step.expect != NONE:
                self.tally.answered += 1
                self.tally.answered_first += self.reasks == 0
            self.index += 1
            self.reasks = 0
            if self.index >= len(self.steps):
                return self.goodbye, True
            return self._ask(self.steps[self.index]), False
        if self.reasks >= self.max_reasks:
            self.tally.agent_gave_up = True
            return self.give_up, True
        self.reasks += 1
        return step.reask or f"Sorry, {step.say[:1].lower()}{step.say[1:]}", False

    def _accepts(self, step: Step, text: str) -> bool:
        plain = _plain(text)
        if step.expect == NONE:
            return True
        if step.expect == REQUEST:
            return any(_plain(topic) in plain for topic in self.topics)
        if step.expect == YES:
            return _has_word(text, YES_WORDS) and not _has_word(text, ("no", "nope"))
        if step.expect == NO:
            return _has_word(text, NO_WORDS)
        if step.expect == CHOICE:
            return any(_plain(option) in plain for option in step.accept)
        return all(self.values.get(name) and _plain(self.values[name]) in plain for name in step.fields)


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


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return key


def load_flows(path: Path = FLOWS_FILE) -> tuple[list[dict], dict]:
    """The flows and the per-scenario-type service steps they share."""
    with open(path, "rb") as source:
        data = tomllib.load(source)
    return data["flows"], data["services"]


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
