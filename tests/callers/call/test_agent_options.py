"""How a caller judges its goals (--verdicts): the modes it takes, and a learned run's judge on the call loop."""
import pytest

from callers.call import agent
from callers.call.agent import CallerAgent
from callers.scenario.goals import MET, NOT_MET, UNCERTAIN
from callers.scenario.scenarios import load_scenarios


def test_an_unknown_verdicts_mode_is_refused_by_name():
    scenario = load_scenarios().predefined["normal_card_replacement"].scenario
    with pytest.raises(ValueError, match="verdicts must be one of rules, learned, not 'llm'"):
        CallerAgent("ws://127.0.0.1:9/ws", "normal", scenario, verdicts="llm")


def test_the_learned_review_asks_the_judge_on_its_own_thread(monkeypatch):
    asked = []
    monkeypatch.setattr(agent.native_threads, "run_in_thread",
                        lambda kind, threads, func, *args: asked.append((kind, func, args)) or UNCERTAIN)
    assert agent._learned_review("card ordered", "Card ordered.", MET) == UNCERTAIN
    assert agent._learned_review("card ordered", "It's on its way.", NOT_MET) == UNCERTAIN  # a rescue may meet it
    from callers.scenario import learned_judge
    assert asked == [("judge", learned_judge.second_opinion, ("card ordered", "Card ordered.", MET)),
                     ("judge", learned_judge.second_opinion, ("card ordered", "It's on its way.", NOT_MET))]


def test_learned_verdicts_without_the_model_are_refused_before_any_call(monkeypatch):
    import importlib.util

    from callers.scenario import sentence_encoder
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == sentence_encoder.MODEL_PACKAGE else real_find_spec(name, *a))
    scenario = load_scenarios().predefined["normal_card_replacement"].scenario
    with pytest.raises(ValueError, match="verdicts 'learned': the sentence model is not installed: pip install"):
        CallerAgent("ws://127.0.0.1:9/ws", "normal", scenario, verdicts="learned")


def test_a_call_records_how_its_goals_were_judged():
    import socket

    from callers.scenario.sentence_encoder import ModelUnavailable, model_dir
    try:
        model_dir()
    except ModelUnavailable as exc:
        pytest.skip(f"learned verdicts need the sentence model: {exc}")
    with socket.socket() as probe:  # a loopback port nobody listens on: the call fails at once, still recorded
        probe.bind(("127.0.0.1", 0))
        url = f"ws://127.0.0.1:{probe.getsockname()[1]}/ws/telephony"
    scenario = load_scenarios().predefined["normal_card_replacement"].scenario
    learned = CallerAgent(url, "normal", scenario, ear="alttext", verdicts="learned").run(5)
    plain = CallerAgent(url, "normal", scenario, ear="alttext").run(5)
    assert (learned.verdicts, plain.verdicts) == ("learned", "rules") and learned.error is not None
