"""scenarios.json: the shipped catalog has what the seed promises, and a broken file points at the fix."""
import copy
import json
from pathlib import Path

import pytest

from callers.errors import ConfigError
from callers.scenario.personality import PersonalityType
from callers.scenario.scenarios import (CONTEXT_KEYS, DEFAULT_SCENARIOS_FILE, ScenarioType, TestConfiguration,
                                        load_scenarios)

SHIPPED = json.loads(DEFAULT_SCENARIOS_FILE.read_text())
SEED_CRITERIA = {
    ScenarioType.CARD_REPLACEMENT: ["card ordered", "delivery confirmed"],
    ScenarioType.ACCOUNT_INQUIRY: ["balance provided", "transactions explained"],
    ScenarioType.LOAN_APPLICATION: ["loan options explained", "requirements explained", "application started"],
    ScenarioType.COMPLAINT: ["complaint acknowledged", "resolution plan provided"],
    ScenarioType.GENERAL_INQUIRY: ["hours provided", "services explained"],
}


@pytest.fixture(scope="module")
def catalog():
    return load_scenarios()


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "scenarios.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def test_seed_entries_keep_their_places(catalog):
    first, second = SHIPPED["scenarios"][0], SHIPPED["scenarios"][1]
    assert first == {"name": "Difficult Card Replacement", "type": "predefined",
                     "scenario": "difficult_card_replacement", "timeout": 90.0}
    assert second == {"name": "Custom Angry Customer", "type": "custom", "personality": "angry",
                      "scenario_type": "complaint", "goal": "Get charges reversed", "timeout": 60.0}
    custom = catalog.entries[1]
    assert custom.personality == "angry" and custom.timeout == 60.0
    assert custom.scenario.scenario_type is ScenarioType.COMPLAINT
    assert custom.scenario.goal.primary_goal == "Get charges reversed"
    assert custom.scenario.goal.success_criteria == ["Get charges reversed"]  # its own goal is what is judged
    assert custom.scenario.name == "Custom Angry Customer"


def test_predefined_ids(catalog):
    required = {"difficult_card_replacement", "confused_elderly_card_replacement", "angry_complaint"}
    assert required <= set(catalog.predefined)
    assert {entry.scenario.scenario_type for entry in catalog.predefined.values()} == set(ScenarioType)
    for name, entry in catalog.predefined.items():
        assert entry.name == entry.scenario.name == name
    assert catalog.predefined["difficult_card_replacement"].personality == "difficult"
    assert catalog.predefined["angry_complaint"].scenario.scenario_type is ScenarioType.COMPLAINT
    assert catalog.predefined["confused_elderly_card_replacement"].personality == "elderly"


def test_scenario_type_defaults_follow_the_seed(catalog):
    for kind, criteria in SEED_CRITERIA.items():
        goal = catalog.scenario_types[kind].goal
        assert goal.success_criteria == criteria
        assert "transferred without resolution" in goal.failure_conditions
    card_goal = catalog.scenario_types[ScenarioType.CARD_REPLACEMENT].goal
    assert "asked for full card number or PIN" in card_goal.failure_conditions


def test_every_scenario_has_the_context_the_caller_answers_from(catalog):
    for entry in list(catalog.predefined.values()) + catalog.entries:
        context = entry.scenario.context
        for key in CONTEXT_KEYS[entry.scenario.scenario_type]:
            assert isinstance(context.get(key), str) and context[key], (entry.name, key)
    card = catalog.predefined["confused_elderly_card_replacement"].scenario.context
    assert card["card_problem"] in ("lost", "stolen", "damaged") and card["card_type"] in ("debit", "credit")


def test_test_configurations(catalog):
    configs = catalog.test_configurations
    quick = configs["quick_test"]
    assert SHIPPED["test_configurations"]["quick_test"]["scenarios"] == [0, 6, 1]
    assert len(quick.entries) == 3 and quick.parallel is False
    assert quick.entries[0].name == "Difficult Card Replacement" and quick.entries[2].name == "Custom Angry Customer"
    assert {e.personality for e in configs["personality_test"].entries} == {p.value for p in PersonalityType}
    stress = configs["stress_test"]
    assert stress.parallel is True and [e.name for e in stress.entries] == [e.name for e in catalog.entries]
    difficult = {e.personality for e in configs["difficult_customers"].entries}
    assert difficult == {"difficult", "angry", "impatient", "suspicious"}


def test_lookups_hand_out_copies(catalog):
    entry = catalog.predefined_entry("angry_complaint")
    entry.scenario.context["amount"] = "a million dollars"
    entry.scenario.goal.success_criteria.append("something")
    again = catalog.predefined_entry("angry_complaint")
    assert again.scenario.context["amount"] != "a million dollars"
    assert again.scenario.goal.success_criteria == SEED_CRITERIA[ScenarioType.COMPLAINT]
    config = catalog.configuration("quick_test")
    assert isinstance(config, TestConfiguration)
    config.entries[0].scenario.context.clear()
    assert catalog.configuration("quick_test").entries[0].scenario.context


def test_unknown_lookups_list_known_names(catalog):
    with pytest.raises(ConfigError) as caught:
        catalog.predefined_entry("polite_card_replacement")
    assert "angry_complaint" in str(caught.value) and "difficult_card_replacement" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        catalog.configuration("smoke")
    assert "quick_test" in str(caught.value) and "stress_test" in str(caught.value)


def test_custom_entry_uses_type_defaults_but_judges_its_own_goal(catalog):
    entry = catalog.custom_entry("tech-savvy", "card_replacement", "Replace stolen card")
    assert entry.personality == "tech_savvy" and entry.timeout == 90.0
    assert entry.name == entry.scenario.name == "custom_tech_savvy_card_replacement"
    goal = entry.scenario.goal
    defaults = catalog.scenario_types[ScenarioType.CARD_REPLACEMENT].goal
    assert goal.primary_goal == "Replace stolen card"
    assert goal.success_criteria == ["Replace stolen card"]
    assert goal.failure_conditions == defaults.failure_conditions  # the type's safety rules still hold
    assert entry.scenario.context["card_type"] == "debit"
    named = catalog.custom_entry("elderly", "complaint", None, name="ElderlyMary", timeout=30)
    assert named.name == "ElderlyMary" and named.timeout == 30.0
    assert named.scenario.goal.primary_goal == catalog.scenario_types[ScenarioType.COMPLAINT].goal.primary_goal
    assert named.scenario.goal.success_criteria == SEED_CRITERIA[ScenarioType.COMPLAINT]  # no goal: the defaults


def test_custom_entry_criteria_are_what_is_judged(catalog):
    entry = catalog.custom_entry("angry", "complaint", "Get overdraft fees removed",
                                 criteria=["fee refunded", "apology offered"])
    assert entry.scenario.goal.primary_goal == "Get overdraft fees removed"
    assert entry.scenario.goal.success_criteria == ["fee refunded", "apology offered"]
    only_criteria = catalog.custom_entry("angry", "complaint", None, criteria=["fee refunded"])
    assert only_criteria.scenario.goal.success_criteria == ["fee refunded"]


def test_custom_entry_refuses_a_goal_nothing_could_meet(catalog):
    with pytest.raises(ConfigError, match="field 'goal': 'Get it confirmed' has no words goal tracking can listen"):
        catalog.custom_entry("angry", "complaint", "Get it confirmed")
    with pytest.raises(ConfigError, match="field 'criterion': 'confirmed' has no words"):
        catalog.custom_entry("angry", "complaint", "Get fees removed", criteria=["fee refunded", "confirmed"])
    # With criteria given, the goal's words are only what the caller wants, not what is judged.
    assert catalog.custom_entry("angry", "complaint", "Get it confirmed", criteria=["fee refunded"]).scenario.goal \
        .success_criteria == ["fee refunded"]


def test_custom_entry_rejects_unknown_names(catalog):
    with pytest.raises(ConfigError, match="unknown personality 'grumpy'.*normal"):
        catalog.custom_entry("grumpy", "complaint", None)
    with pytest.raises(ConfigError, match="unknown scenario type 'mortgage'.*card_replacement"):
        catalog.custom_entry("angry", "mortgage", None)


def test_seed_format_file_uses_bundled_types_and_predefined(tmp_path):
    seed = {
        "scenarios": [
            {"name": "Difficult Card Replacement", "type": "predefined", "scenario": "difficult_card_replacement",
             "timeout": 90.0},
            {"name": "Custom Angry Customer", "type": "custom", "personality": "angry",
             "scenario_type": "complaint", "goal": "Get charges reversed", "timeout": 60.0},
        ],
        "test_configurations": {"quick_test": {"scenarios": [0, 1], "parallel": False}},
    }
    loaded = load_scenarios(write(tmp_path, seed))
    assert [e.name for e in loaded.configuration("quick_test").entries] == ["Difficult Card Replacement",
                                                                           "Custom Angry Customer"]
    assert loaded.entries[1].scenario.goal.success_criteria == ["Get charges reversed"]


def test_seed_example_verbatim_points_at_its_out_of_range_index(tmp_path):
    """The seed's own example lists index 6 with only two entries; the loader says exactly that."""
    seed = {"scenarios": SHIPPED["scenarios"][:2],
            "test_configurations": {"quick_test": {"scenarios": [0, 6, 1], "parallel": False}}}
    path = write(tmp_path, seed)
    with pytest.raises(ConfigError) as caught:
        load_scenarios(path)
    error = caught.value
    assert (error.path, error.entry, error.field) == (str(path), "test_configurations.quick_test", "scenarios[1]")
    assert "out of range" in str(error) and "2 entries" in str(error)


def test_custom_entry_overrides_in_the_file(tmp_path):
    data = copy.deepcopy(SHIPPED)
    data["scenarios"].append({"name": "Dispute", "type": "custom", "personality": "normal",
                              "scenario_type": "account_inquiry", "goal": "Dispute a transaction",
                              "success_criteria": ["dispute filed", "timeline provided"],
                              "context": {"merchant": "Unknown Store", "transaction_amount": "$234.56"}})
    entry = load_scenarios(write(tmp_path, data)).entries[-1]
    assert entry.scenario.goal.success_criteria == ["dispute filed", "timeline provided"]
    assert entry.scenario.context["merchant"] == "Unknown Store"
    assert entry.scenario.context["customer_name"]  # the type's defaults fill what the entry leaves out
    assert entry.timeout == 90.0


def drop(section, name, key):
    return lambda data: data[section][name].pop(key)


def put(section, name, key, value):
    return lambda data: data[section][name].__setitem__(key, value)


BROKEN = [
    ("missing personality", drop("scenarios", 1, "personality"), "scenarios[1]", "personality", "missing"),
    ("negative timeout", put("scenarios", 0, "timeout", -5), "scenarios[0]", "timeout", "positive"),
    ("text timeout", put("scenarios", 0, "timeout", "fast"), "scenarios[0]", "timeout", "number"),
    ("unknown personality", put("scenarios", 1, "personality", "grumpy"), "scenarios[1]", "personality", "grumpy"),
    ("unknown scenario type", put("scenarios", 1, "scenario_type", "mortgage"), "scenarios[1]", "scenario_type",
     "mortgage"),
    ("unknown predefined id", put("scenarios", 0, "scenario", "polite_card"), "scenarios[0]", "scenario",
     "polite_card"),
    ("bad entry type", put("scenarios", 0, "type", "builtin"), "scenarios[0]", "type", "predefined, custom"),
    ("missing name", drop("scenarios", 2, "name"), "scenarios[2]", "name", "missing"),
    ("typo field", put("scenarios", 3, "timout", 5), "scenarios[3]", "timout", "unknown field"),
    ("goal not text", put("scenarios", 1, "goal", 42), "scenarios[1]", "goal", "string"),
    ("custom goal nothing could meet", put("scenarios", 1, "goal", "Get it confirmed"), "scenarios[1]", "goal",
     "'Get it confirmed' has no words goal tracking can listen for"),
    ("nested context", put("scenarios", 1, "context", {"amount": {"value": 3}}), "scenarios[1]", "context.amount",
     "string or a number"),
    ("index out of range", put("test_configurations", "quick_test", "scenarios", [0, 99]),
     "test_configurations.quick_test", "scenarios[1]", "out of range"),
    ("index not a number", put("test_configurations", "quick_test", "scenarios", [0, "1"]),
     "test_configurations.quick_test", "scenarios[1]", "index"),
    ("parallel not bool", put("test_configurations", "stress_test", "parallel", "yes"),
     "test_configurations.stress_test", "parallel", "true or false"),
    ("max_concurrent zero", put("test_configurations", "stress_test", "max_concurrent", 0),
     "test_configurations.stress_test", "max_concurrent", ">= 1"),
    ("predefined unknown personality", put("predefined", "angry_complaint", "personality", "furious"),
     "predefined.angry_complaint", "personality", "furious"),
    ("predefined missing type", drop("predefined", "angry_complaint", "scenario_type"),
     "predefined.angry_complaint", "scenario_type", "missing"),
    ("predefined negative timeout", put("predefined", "angry_complaint", "timeout", -1),
     "predefined.angry_complaint", "timeout", "positive"),
    ("predefined zero turns", put("predefined", "angry_complaint", "max_conversation_turns", 0),
     "predefined.angry_complaint", "max_conversation_turns", ">= 1"),
    ("type default missing context key", lambda d: d["scenario_types"]["complaint"]["context"].pop("amount"),
     "scenario_types.complaint", "context.amount", "scripted caller"),
    ("criteria not a list", put("scenario_types", "complaint", "success_criteria", "complaint acknowledged"),
     "scenario_types.complaint", "success_criteria", "list"),
    ("criterion without content", put("scenario_types", "complaint", "success_criteria", ["acknowledged", "provided"]),
     "scenario_types.complaint", "success_criteria[1]", "no words"),
    ("unknown scenario type section", lambda d: d["scenario_types"].__setitem__("mortgage", {}),
     "scenario_types.mortgage", None, "unknown scenario type"),
]


@pytest.mark.parametrize("label, mutate, entry, field, words", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_file_names_file_entry_and_field(tmp_path, label, mutate, entry, field, words):
    data = copy.deepcopy(SHIPPED)
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_scenarios(path)
    error = caught.value
    assert (error.path, error.entry, error.field) == (str(path), entry, field)
    message = str(error)
    assert str(path) in message and entry in message and words in message
    if field:
        assert f"'{field}'" in message


def test_bad_json_reports_line_and_column(tmp_path):
    text = json.dumps(SHIPPED, indent=2).replace('"timeout": 60.0', '"timeout": 60.0,,', 1)
    line = next(number for number, row in enumerate(text.splitlines(), start=1) if ",," in row)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_scenarios(path)
    assert str(path) in str(caught.value) and f"line {line}, column" in str(caught.value)


@pytest.mark.parametrize("data, words", [([1, 2], "top level"), ({"scenarios": [], "bogus": 1}, "unknown section"),
                                         ({"test_configurations": {}}, "missing")])
def test_bad_top_level(tmp_path, data, words):
    with pytest.raises(ConfigError, match=words):
        load_scenarios(write(tmp_path, data))


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        load_scenarios("/nonexistent/scenarios.json")


def test_personalities_are_checked_against_the_given_directory(tmp_path):
    people = tmp_path / "people"
    people.mkdir()
    (people / "angry.toml").write_text(
        'type = "angry"\ntraits = ["x"]\ncommunication_style = "x"\npatience_level = 2\ntech_comfort = 5\n'
        "tendency_to_interrupt = 0.9\nprovides_clear_info = 0.5\n")
    data = {"scenario_types": SHIPPED["scenario_types"], "predefined": {},
            "scenarios": [SHIPPED["scenarios"][1], SHIPPED["scenarios"][0]]}
    with pytest.raises(ConfigError) as caught:
        load_scenarios(write(tmp_path, data), personality_dir=people)
    assert (caught.value.entry, caught.value.field) == ("scenarios[1]", "scenario")
    data["scenarios"] = [dict(SHIPPED["scenarios"][1], personality="normal")]
    with pytest.raises(ConfigError) as caught:
        load_scenarios(write(tmp_path, data), personality_dir=people)
    assert (caught.value.entry, caught.value.field) == ("scenarios[0]", "personality")
    assert "known: angry" in str(caught.value)
