"""bench/verdict_truth.py's comparison of the caller's verdicts with the bridge's truth log, on made-up records."""
from __future__ import annotations

import pytest

from bench.verdict_truth import TruthMap, agreement, compare, load_truth_map, write_scenarios
from callers.errors import ConfigError
from callers.scenario.goals import CallerGoal

CARD_GOAL = CallerGoal(primary_goal="Replace a lost card", success_criteria=["card ordered", "delivery confirmed"],
                       failure_conditions=["transferred without resolution", "asked for full card number or PIN"])
TRUTH_MAP = TruthMap(criteria={"card ordered": ("card_ordered",), "delivery confirmed": ("delivery_date",)},
                     failures={"transferred without resolution": "transferred_unresolved",
                               "asked for full card number or PIN": "never"},
                     lines={"clean": {}})
GREETING = "Thank you for calling First Example Bank. How can I help you today?"
ORDERED = "I've blocked your old debit card and ordered a replacement card."
DELIVERY = "Your new card will be delivered to your address on file within five to seven business days."


def _truth(call_id: str, replies: list[str], fulfilled: list[str], transferred: bool = False) -> dict:
    return {"conversation_id": call_id, "fulfilled": fulfilled, "transferred": transferred,
            "turns": [{"index": i, "reply": reply} for i, reply in enumerate(replies)]}


def _call(call_id: str, heard: list[str], met: dict[str, bool], success: bool, failure=None, error=None) -> dict:
    goals = [{"description": name, "kind": "criterion", "met": value, "evidence_turn": None, "evidence": None}
             for name, value in met.items()]
    goals.append({"description": "old card blocked", "kind": "secondary", "met": False})
    return {"call_id": call_id, "scenario": "card", "personality": "normal", "error": error, "success": success,
            "failure_condition": failure, "greeting_text": heard[0], "goals": goals,
            "turn_records": [{"index": i, "agent_text": text} for i, text in enumerate(heard) if i]}


def test_verdicts_that_match_the_truth_agree_per_criterion_and_per_call():
    replies = [GREETING, "Please tell me your full name and date of birth.", ORDERED, DELIVERY]
    calls = [_call("a", replies, {"card ordered": True, "delivery confirmed": True}, success=True)]
    comparisons = compare(calls, [_truth("a", replies, ["card_ordered", "delivery_date"])], {"card": CARD_GOAL},
                          TRUTH_MAP, "clean")
    figures = agreement(comparisons)
    assert figures["verdicts"] == 4 and figures["verdict_agreement"] == 1.0  # 2 criteria + 2 failure conditions
    assert figures["call_verdicts"] == 1 and figures["call_agreement"] == 1.0
    assert figures["per_criterion"]["criterion: delivery confirmed"] == {"agree": 1, "of": 1, "rate": 1.0}
    assert figures["differences"] == [] and figures["unmapped"] == []


def test_a_wrong_verdict_on_misheard_words_is_put_down_to_the_ear():
    said = [GREETING, ORDERED, DELIVERY]
    heard = [GREETING, ORDERED, "Your new card will be deleted to your address on file."]
    calls = [_call("a", heard, {"card ordered": True, "delivery confirmed": False}, success=False)]
    figures = agreement(compare(calls, [_truth("a", said, ["card_ordered", "delivery_date"])], {"card": CARD_GOAL},
                                TRUTH_MAP, "clean"))
    assert figures["verdict_agreement"] == 0.75 and figures["call_agreement"] == 0.0
    assert figures["misheard"] == 1 and figures["matcher"] == 0
    difference = figures["differences"][0]
    assert (difference["name"], difference["caller"], difference["truth"], difference["why"]) == \
        ("delivery confirmed", False, True, "misheard")
    assert difference["said"] == DELIVERY and "deleted" in difference["heard"]
    assert figures["differences"][1]["kind"] == "call" and figures["differences"][1]["why"] == "misheard"


def test_a_wrong_verdict_on_the_words_really_said_is_put_down_to_the_matcher():
    # The ear heard every word as said; the verdict still differs from what the bridge logged, so it is the
    # reading of those words (here made wrong on purpose: the log says the balance was never given).
    said = [GREETING, "Your current balance is two thousand four hundred and twelve dollars."]
    goal = CallerGoal(primary_goal="Check my balance", success_criteria=["balance provided"])
    truth_map = TruthMap(criteria={"balance provided": ("balance",)}, failures={}, lines={})
    calls = [_call("a", said, {"balance provided": True}, success=True)]
    figures = agreement(compare(calls, [_truth("a", said, [])], {"card": goal}, truth_map, "clean"))
    assert figures["matcher"] == 1 and figures["misheard"] == 0
    assert [d["why"] for d in figures["differences"]] == ["matcher", "matcher"]
    assert figures["differences"][0]["said"] == said[1]


def test_a_transfer_before_the_criteria_were_met_is_the_failure_condition():
    said = [GREETING, "I'm transferring you to an agent who can help."]
    calls = [_call("a", said, {"card ordered": False, "delivery confirmed": False}, success=False,
                   failure="transferred without resolution")]
    figures = agreement(compare(calls, [_truth("a", said, [], transferred=True)], {"card": CARD_GOAL},
                                TRUTH_MAP, "clean"))
    assert figures["verdict_agreement"] == 1.0 and figures["call_agreement"] == 1.0


def test_calls_with_errors_or_no_truth_are_skipped_and_unmapped_criteria_named():
    said = [GREETING]
    calls = [_call("a", said, {"card ordered": False}, success=False, error={"category": "no_answer"}),
             _call("b", said, {"card ordered": False}, success=False),
             _call("c", said, {"card ordered": False, "something new": False}, success=False)]
    goals = {"card": CallerGoal(primary_goal="x", success_criteria=["card ordered", "something new"])}
    figures = agreement(compare(calls, [_truth("a", said, []), _truth("c", said, [])], goals, TRUTH_MAP, "clean"))
    assert figures["skipped"] == {"a": "call error no_answer", "b": "no truth log line"}
    assert figures["compared_calls"] == 1 and figures["unmapped"] == ["something new"]
    assert figures["call_verdicts"] == 0  # a call verdict needs every criterion mapped


def test_the_shipped_truth_map_covers_every_english_criterion_and_failure_condition(tmp_path):
    truth_map = load_truth_map()
    from callers.scenario.scenarios import load_scenarios

    catalog = load_scenarios(write_scenarios(tmp_path, 12, truth_map.lines["mulaw"]))
    for entry in catalog.entries:
        assert set(entry.scenario.goal.success_criteria) <= set(truth_map.criteria), entry.name
        assert set(entry.scenario.goal.failure_conditions) <= set(truth_map.failures), entry.name
        assert entry.scenario.line.mulaw  # the line condition reached every scenario
    assert len({entry.scenario.scenario_type for entry in catalog.entries[:5]}) == 5


def test_a_bad_truth_map_names_the_file_entry_and_field(tmp_path):
    path = tmp_path / "truth.toml"
    path.write_text('[failure_conditions]\n"transferred without resolution" = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="failure_conditions.*transferred without resolution.*sometimes"):
        load_truth_map(path)


def test_skipped_calls_are_counted_by_reason_and_a_misheard_turn_carries_its_word_errors():
    said = [GREETING, ORDERED, DELIVERY]
    heard = [GREETING, ORDERED, "Your new card will be deleted to your address on file."]
    calls = [_call("a", heard, {"card ordered": True, "delivery confirmed": False}, success=False),
             _call("b", said, {}, success=False, error={"category": "simulator_error"}),
             _call("c", said, {}, success=False, error={"category": "simulator_error"})]
    truths = [_truth(call_id, said, ["card_ordered", "delivery_date"]) for call_id in "abc"]
    figures = agreement(compare(calls, truths, {"card": CARD_GOAL}, TRUTH_MAP, "clean"))
    assert figures["skipped_by_reason"] == {"call error simulator_error": 2}
    difference = figures["differences"][0]
    assert difference["why"] == "misheard"
    # "delivered" -> "deleted", and "within five to seven business days" lost: 7 errors in 17 words.
    assert difference["heard_wer"] == round(7 / 17, 4)


def test_the_calls_judge_their_goals_the_way_asked(tmp_path, monkeypatch):
    """--verdicts reaches the batch the calls run in, so the bench can measure the learned judge in calls."""
    import bench.verdict_truth as verdict_truth
    commands = []
    monkeypatch.setattr(verdict_truth, "start_bridge", lambda *args: (None, "ws://127.0.0.1:9/ws"))
    monkeypatch.setattr(verdict_truth, "stop_process", lambda process: None)
    monkeypatch.setattr(verdict_truth.subprocess, "run", lambda command, **kwargs: commands.append(command))
    monkeypatch.setattr(verdict_truth, "read_jsonl", lambda path: [])
    verdict_truth.run_line("clean", {}, 2, tmp_path, 1, "espeak", 1, "learned")
    (command,) = commands
    assert command[command.index("--verdicts") + 1] == "learned"
