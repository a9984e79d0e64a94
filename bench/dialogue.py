"""Does the offline caller talk to agents other than the reference one? Goals met and questions answered.

Each test agent of bridge/agent_flows.toml (and the reference bridge's own policy, bridge/dialogue.py) is
talked through in text by the scripted brain, for every scenario type and personality and a few seeds (a
flow in another language, e.g. the Spanish `banco_sol`, with the predefined scenarios in that language
whose type it serves, under every personality):
per flow and personality, the share of calls whose goal was met and the share of the agent's answerable
questions the caller answered to the agent's satisfaction (in the end, and on the first ask: the personalities
that give part of an answer, need the question again or ask for proof first answer on a re-ask). A flow that asks
for something no profile holds counts its calls as "not prepared" (the caller said it did not have it and
recorded the question); those calls are expected to fail and are shown apart. Every flow is also played
unpunctuated and in lower case, as a speech recogniser may write the agent's turns.

    python bench/dialogue.py            # 8 personalities x 5 scenario types x 4 seeds per flow (~25 s)
    python bench/dialogue.py --quick    # 3 personalities x 5 scenario types x 1 seed

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench.agent_flows import ReferenceAgent, Unpunctuated, converse  # noqa: E402
from bridge.flows import FlowAgent, ProfileAnswers, load_flow_book  # noqa: E402
from callers.brains.scripted import ScriptedBrain  # noqa: E402
from callers.scenario.personality import get_personality  # noqa: E402
from callers.scenario.scenarios import CallerScenario, ScenarioCatalog, ScenarioType, load_scenarios  # noqa: E402

QUICK_PERSONALITIES = ("normal", "confused", "impatient")
BOOK = load_flow_book()
SEEDS, QUICK_SEEDS = 4, 1


def scenarios_for(catalog: ScenarioCatalog, flow: dict | None, language: str,
                  personality: str) -> list[CallerScenario]:
    """Who calls a flow: an English flow (and the reference policy) every scenario type's custom call of the
    personality; a flow in another language the predefined scenarios in its language of a type it serves."""
    if language == "en":
        return [catalog.custom_entry(personality, kind.value, None).scenario for kind in ScenarioType]
    types = set(BOOK.scenario_types(flow)) if flow is not None else set()
    return [entry.scenario for entry in catalog.predefined.values()
            if entry.scenario.language.split("-")[0] == language and entry.scenario.scenario_type.value in types]


def run(personalities: tuple[str, ...], seeds: int) -> dict:
    catalog = load_scenarios()
    figures: dict = {}
    for flow, plain in [(flow, plain) for flow in [None, *BOOK.flows.values()] for plain in (False, True)]:
        name = ("reference" if flow is None else flow["name"]) + (" (no punctuation)" if plain else "")
        language = "en" if flow is None else BOOK.language_of(flow)
        for personality in personalities:
            calls = met = questions = answered = first = not_prepared = 0
            for scenario in scenarios_for(catalog, flow, language, personality):
                for seed in range(seeds):
                    brain = ScriptedBrain(get_personality(personality), scenario, seed=seed)
                    if flow is None:
                        agent = ReferenceAgent(scenario.scenario_type.value)
                    else:
                        agent = FlowAgent(flow, BOOK, scenario.scenario_type.value,
                                          ProfileAnswers(brain.profile.values))
                    conversation = converse(brain, Unpunctuated(agent) if plain else agent)
                    calls += 1
                    met += conversation.goal_met
                    not_prepared += bool(conversation.unanswered) and not conversation.goal_met
                    if flow is not None:
                        questions += agent.tally.questions - agent.tally.unanswerable
                        answered += agent.tally.answered
                        first += agent.tally.answered_first
            row = {"calls": calls, "goals_met": met, "not_prepared": not_prepared}
            if flow is not None:
                row.update(questions=questions, answered=answered, answered_first=first)
            figures.setdefault(name, {})[personality] = row
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 personalities, 1 seed")
    options = parser.parse_args()
    personalities = QUICK_PERSONALITIES if options.quick else tuple(load_scenarios().personality_names)
    started = time.perf_counter()
    figures = run(personalities, QUICK_SEEDS if options.quick else SEEDS)
    print(f"{'flow':<36} {'personality':<12} {'goals met':>10} {'not prepared':>13} {'answered':>12} "
          f"{'first time':>11}")
    for flow, by_personality in figures.items():
        for personality, row in by_personality.items():
            answered = f"{row['answered']}/{row['questions']}" if "questions" in row else "-"
            first = f"{row['answered_first']}/{row['questions']}" if "questions" in row else "-"
            print(f"{flow:<36} {personality:<12} {row['goals_met']:>4}/{row['calls']:<5} {row['not_prepared']:>13} "
                  f"{answered:>12} {first:>11}")
    print(json.dumps({"bench": "dialogue", "quick": options.quick, "seconds": round(time.perf_counter() - started, 2),
                      "flows": figures}))


if __name__ == "__main__":
    main()
