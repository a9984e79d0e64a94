"""Scenario DTMF rules and timed barge-ins: parsed from scenarios.json with errors naming file, entry, field."""
from __future__ import annotations

import json

import pytest

from callers.errors import ConfigError
from callers.scenario.scenario_actions import (BACKCHANNEL, DEFAULT_BACKCHANNEL, barge_in_plan_for, dtmf_rule_for,
                                               parse_barge_ins, parse_dtmf_rules)
from callers.scenario.scenarios import load_scenarios


def write_scenarios(tmp_path, **custom_fields) -> str:
    entry = {"name": "Keypad", "type": "custom", "personality": "normal", "scenario_type": "card_replacement",
             **custom_fields}
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps({"scenarios": [entry]}))
    return str(path)


def test_a_custom_entry_carries_its_dtmf_rules_and_barge_ins(tmp_path) -> None:
    path = write_scenarios(tmp_path, dtmf=[{"when": ["on your keypad", "account number"], "digits": "1406 1986"}],
                           barge_ins=[{"prompt": 2, "at_ms": 300, "kind": "backchannel"},
                                      {"prompt": 4, "at_ms": 1500, "kind": "interrupt"}])
    scenario = load_scenarios(path).entries[0].scenario
    rule = dtmf_rule_for(scenario.dtmf, "Please key in your date of birth ON YOUR KEYPAD, as eight digits.")
    assert rule is not None and rule.digits == "14061986"
    assert dtmf_rule_for(scenario.dtmf, "What is your date of birth?") is None
    backchannel = barge_in_plan_for(scenario.barge_ins, 2)
    assert backchannel.kind == BACKCHANNEL and backchannel.say == DEFAULT_BACKCHANNEL and backchannel.at_s == 0.3
    assert barge_in_plan_for(scenario.barge_ins, 3) is None


def test_cues_match_whole_words_only() -> None:
    (rule,) = parse_dtmf_rules([{"when": "pin", "digits": "1"}])
    assert rule.matches("Enter your PIN now") and not rule.matches("We are spinning")


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"dtmf": {"when": "x", "digits": "1"}}, "dtmf", "list"),
    ({"dtmf": [{"when": "keypad", "digits": 1234}]}, "dtmf[0].digits", "leading zeros"),
    ({"dtmf": [{"when": "keypad", "digits": "12x4"}]}, "dtmf[0].digits", "not phone keys"),
    ({"dtmf": [{"when": [], "digits": "1"}]}, "dtmf[0].when", "cue"),
    ({"dtmf": [{"when": "keypad", "digits": "1", "delay": 2}]}, "dtmf[0].delay", "unknown field"),
    ({"barge_ins": [{"prompt": 0, "at_ms": 300, "kind": "interrupt"}]}, "barge_ins[0].prompt", ">= 1"),
    ({"barge_ins": [{"prompt": 2, "at_ms": -5, "kind": "interrupt"}]}, "barge_ins[0].at_ms", "number of ms"),
    ({"barge_ins": [{"prompt": 2, "at_ms": 300, "kind": "cough"}]}, "barge_ins[0].kind", "interrupt, backchannel"),
    ({"barge_ins": [{"prompt": 2, "at_ms": 300, "kind": "interrupt", "say": "hi"}]}, "barge_ins[0].say",
     "only a backchannel"),
    ({"barge_ins": [{"prompt": 2, "at_ms": 1, "kind": "interrupt"}, {"prompt": 2, "at_ms": 9, "kind": "interrupt"}]},
     "barge_ins[1].prompt", "already"),
])
def test_bad_entries_name_file_entry_and_field(tmp_path, fields, field, words) -> None:
    path = write_scenarios(tmp_path, **fields)
    with pytest.raises(ConfigError) as caught:
        load_scenarios(path)
    assert caught.value.path == path and caught.value.entry == "scenarios[0]" and caught.value.field == field
    assert words in str(caught.value)


def test_plans_keep_their_order_and_offsets() -> None:
    plans = parse_barge_ins([{"prompt": 3, "at_ms": 1500, "kind": "backchannel", "say": "Okay."}])
    assert plans[0].say == "Okay." and plans[0].at_ms == 1500.0
