"""The scripted caller against test agents with other flows (bridge/agent_flows.toml) and the reference agent's
own policy, in text: every question the profile can answer is answered, goals are met wherever the flow
allows, and a flow asking for what no profile holds ends as "caller not prepared"."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.agent_flows import ReferenceAgent, Unpunctuated, converse
from bridge.flows import FlowAgent, ProfileAnswers, load_flow_book
from callers.brains.scripted import ScriptedBrain
from callers.outcome import Outcome, outcome_of
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import ScenarioType, load_scenarios

REPO = Path(__file__).resolve().parents[2]
PERSONALITIES = ("normal", "confused", "impatient", "suspicious")
UNPREPARED_FLOWS = {"security_question"}
BOOK = load_flow_book()
FLOWS = [flow for flow in BOOK.flows.values() if BOOK.language_of(flow) == "en"]


def scenario(personality: str, scenario_type: ScenarioType):
    return load_scenarios().custom_entry(personality, scenario_type.value, None).scenario


@pytest.mark.parametrize("plain", [False, True], ids=["punctuated", "unpunctuated"])
@pytest.mark.parametrize("flow", FLOWS, ids=[flow["name"] for flow in FLOWS])
def test_every_answerable_question_is_answered_and_the_goal_met_where_the_flow_allows(flow, plain):
    for personality in PERSONALITIES:
        for scenario_type in ScenarioType:
            for seed in range(2):
                brain = ScriptedBrain(get_personality(personality), scenario(personality, scenario_type), seed=seed)
                agent = FlowAgent(flow, BOOK, scenario_type.value, ProfileAnswers(brain.profile.values))
                conversation = converse(brain, Unpunctuated(agent) if plain else agent)
                where = (flow["name"], personality, scenario_type.value, seed, conversation.transcript)
                tally = agent.tally
                outcome = outcome_of(conversation.goal_met, None, len(conversation.unanswered))
                if flow["name"] in UNPREPARED_FLOWS:
                    assert outcome is Outcome.CALLER_NOT_PREPARED, where
                    assert any("security question" in ask for ask in conversation.unanswered), where
                    assert tally.answered == tally.questions - tally.unanswerable, where
                else:
                    assert outcome is Outcome.SUCCESS, where
                    assert tally.answered == tally.questions and not tally.agent_gave_up, where
                    assert conversation.unanswered == [], where


@pytest.mark.parametrize("plain", [False, True], ids=["punctuated", "unpunctuated"])
def test_the_spanish_scenario_meets_its_goals_against_the_spanish_flow(plain):
    """es-ES: the caller reads a Spanish agent's asks from the Spanish cue table and answers in Spanish."""
    spanish = load_scenarios().predefined_entry("spanish_card_replacement").scenario
    for personality in load_scenarios().personality_names:
        for seed in range(2):
            brain = ScriptedBrain(get_personality(personality), spanish, seed=seed)
            agent = FlowAgent(BOOK.flow("banco_sol"), BOOK, "card_replacement", ProfileAnswers(brain.profile.values))
            conversation = converse(brain, Unpunctuated(agent) if plain else agent)
            where = (personality, seed, conversation.transcript)
            assert conversation.goal_met and conversation.unanswered == [], where
            assert agent.tally.answered == agent.tally.questions and not agent.tally.agent_gave_up, where
            said = " ".join(text for who, text in conversation.transcript if who == "caller")
            assert "Mi número de cliente es el" in said and "customer" not in said, where


@pytest.mark.parametrize("plain", [False, True], ids=["punctuated", "unpunctuated"])
def test_the_reference_agents_flow_still_meets_every_goal(plain):
    for personality in load_scenarios().personality_names:
        for scenario_type in ScenarioType:
            for seed in range(3):
                brain = ScriptedBrain(get_personality(personality), scenario(personality, scenario_type), seed=seed)
                agent = ReferenceAgent(scenario_type.value)
                conversation = converse(brain, Unpunctuated(agent) if plain else agent)
                assert conversation.goal_met, (personality, scenario_type.value, seed, conversation.transcript)


def test_the_bench_prints_per_flow_and_personality_figures_last_as_json():
    run = subprocess.run([sys.executable, str(REPO / "bench" / "dialogue.py"), "--quick"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "dialogue" and figures["quick"] is True
    names = {"reference"} | set(BOOK.flows)
    assert set(figures["flows"]) == names | {f"{name} (no punctuation)" for name in names}
    credit_union = figures["flows"]["credit_union"]["normal"]
    assert credit_union["goals_met"] == credit_union["calls"] == 5
    assert credit_union["answered"] == credit_union["questions"] > 0
    assert figures["flows"]["security_question"]["normal"]["not_prepared"] == 5
