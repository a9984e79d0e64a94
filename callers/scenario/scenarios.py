"""Scenarios: what a caller wants and knows, and the scenarios.json catalog of runnable tests.

The file keeps the seed's shape ("scenarios" entries, "test_configurations" of entry indexes) and adds two
sections so that every default is data a user can edit: "scenario_types" (per type: the default goal,
success criteria, failure conditions and the caller's context, i.e. the details it answers questions with)
and "predefined" (named personality + scenario combinations, the ids `--scenario` takes). A file written in
the seed's shape alone still works: missing sections are taken from the bundled scenarios.json.

Loading is all-or-nothing and strict: every problem is a ConfigError naming the file, the entry
(`scenarios[3]`, `predefined.angry_complaint`, `test_configurations.quick_test`) and the field, because a
load test that silently drops a misspelt scenario reports a success rate over the wrong calls.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from callers.errors import ConfigError
from callers.media.line import CLEAN_LINE, LineConditions, parse_line
from callers.scenario.datafiles import shipped
from callers.scenario.goals import CallerGoal, criterion_problem
from callers.scenario.personality import DEFAULT_PERSONALITY_DIR, find_personality_name, load_personalities
from callers.scenario.scenario_actions import ActionError, BargeInPlan, DtmfRule, parse_barge_ins, parse_dtmf_rules

DEFAULT_SCENARIOS_FILE = shipped("scenarios.json")
DEFAULT_TIMEOUT_S = 90.0
DEFAULT_LANGUAGE = "en-US"
PREDEFINED = "predefined"
CUSTOM = "custom"
ENTRY_KINDS = (PREDEFINED, CUSTOM)
GOAL_FIELDS = ("primary_goal", "secondary_goals", "success_criteria", "failure_conditions",
               "max_conversation_turns")
GOAL_TEXT_LISTS = ("secondary_goals", "success_criteria", "failure_conditions")
# Fields that shape a scenario wherever a scenario is described (type defaults, predefined, custom entry).
SCENARIO_FIELDS = GOAL_FIELDS + ("context", "language", "dtmf", "barge_ins", "line")
SECTIONS = ("description", "scenario_types", "predefined", "scenarios", "test_configurations")
CONFIGURATION_FIELDS = ("description", "scenarios", "parallel", "max_concurrent")


class ScenarioType(str, Enum):
    CARD_REPLACEMENT = "card_replacement"
    ACCOUNT_INQUIRY = "account_inquiry"
    LOAN_APPLICATION = "loan_application"
    COMPLAINT = "complaint"
    GENERAL_INQUIRY = "general_inquiry"


# Context keys the scripted caller answers from; each type's defaults in scenarios.json must define them.
COMMON_CONTEXT_KEYS = ("customer_name", "date_of_birth", "account_last4")
CONTEXT_KEYS: dict[ScenarioType, tuple[str, ...]] = {
    ScenarioType.CARD_REPLACEMENT: COMMON_CONTEXT_KEYS + ("card_type", "card_problem"),
    ScenarioType.ACCOUNT_INQUIRY: COMMON_CONTEXT_KEYS + ("question", "merchant", "transaction_amount"),
    ScenarioType.LOAN_APPLICATION: COMMON_CONTEXT_KEYS + ("loan_type", "loan_amount", "loan_purpose"),
    ScenarioType.COMPLAINT: COMMON_CONTEXT_KEYS + ("complaint_topic", "amount"),
    ScenarioType.GENERAL_INQUIRY: COMMON_CONTEXT_KEYS + ("topic",),
}


@dataclass
class CallerScenario:
    """What one caller is calling about: the kind of call, its goal, and the details it can give."""

    scenario_type: ScenarioType
    goal: CallerGoal
    context: dict = field(default_factory=dict)
    name: str = ""  # scenario id, e.g. "difficult_card_replacement" (or a custom entry's name)
    language: str = DEFAULT_LANGUAGE
    dtmf: tuple[DtmfRule, ...] = ()  # keys to press when the agent asks (callers.scenario.scenario_actions)
    barge_ins: tuple[BargeInPlan, ...] = ()  # agent prompts to talk over, and when
    line: LineConditions = CLEAN_LINE  # the phone line the caller is heard through (callers.media.line)


@dataclass
class ScenarioEntry:
    """One runnable test: a personality (by name) placing one scenario, cut off after `timeout` seconds."""

    name: str
    personality: str
    scenario: CallerScenario
    timeout: float = DEFAULT_TIMEOUT_S
    description: str = ""


@dataclass
class TestConfiguration:
    """A named suite of entries, run one after another or concurrently (at most max_concurrent at once)."""

    __test__ = False  # a library class, not a pytest test class

    name: str
    entries: list[ScenarioEntry]
    parallel: bool = False
    max_concurrent: Optional[int] = None
    description: str = ""


def _known(names: Any) -> str:
    return ", ".join(sorted(str(name) for name in names)) or "none"


def _scenario_type(value: str) -> Optional[ScenarioType]:
    """The type named by `value`, accepting "card-replacement" as well as "card_replacement"."""
    try:
        return ScenarioType(value.strip().lower().replace("-", "_"))
    except ValueError:
        return None


@dataclass
class ScenarioCatalog:
    """A loaded scenarios file. Lookups hand out copies: callers running in parallel must never share a
    mutable context or goal list with each other or with the catalog."""

    path: str
    predefined: dict[str, ScenarioEntry]
    entries: list[ScenarioEntry]
    test_configurations: dict[str, TestConfiguration]
    scenario_types: dict[ScenarioType, CallerScenario] = field(default_factory=dict)
    personality_names: list[str] = field(default_factory=list)

    def predefined_entry(self, name: str) -> ScenarioEntry:
        if name not in self.predefined:
            raise ConfigError(self.path, f"unknown scenario '{name}' (known: {_known(self.predefined)})",
                              entry=PREDEFINED)
        return copy.deepcopy(self.predefined[name])

    def custom_entry(self, personality: str, scenario_type: str, goal: Optional[str], name: Optional[str] = None,
                     timeout: float = DEFAULT_TIMEOUT_S, criteria: Sequence[str] = ()) -> ScenarioEntry:
        """An ad-hoc test from the type's defaults (context, failure conditions); a custom `goal` or `criteria`
        is what its success is judged on (custom_goal), never the type's default criteria."""
        kind = _scenario_type(scenario_type)
        if kind is None or kind not in self.scenario_types:
            raise ConfigError(self.path, f"unknown scenario type '{scenario_type}' "
                                         f"(known: {_known(t.value for t in self.scenario_types)})",
                              entry="scenario_types")
        found = find_personality_name(personality, self.personality_names)
        if found is None:
            raise ConfigError(self.path, f"unknown personality '{personality}' "
                                         f"(known: {_known(self.personality_names)})", field="personality")
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        name = name or f"custom_{found}_{kind.value}"
        try:
            overrides = custom_goal(goal, list(criteria) if criteria else None)
        except ValueError as error:
            raise ConfigError("custom call", str(error), field="criterion" if criteria else "goal") from None
        return ScenarioEntry(name, found, _resolve(self.scenario_types[kind], overrides, name), float(timeout))

    def configuration(self, name: str) -> TestConfiguration:
        if name not in self.test_configurations:
            raise ConfigError(self.path, f"unknown test configuration '{name}' "
                                         f"(known: {_known(self.test_configurations)})", entry="test_configurations")
        return copy.deepcopy(self.test_configurations[name])


def custom_goal(goal: Optional[str], criteria: Optional[list[str]]) -> dict:
    """The goal fields a custom call replaces. A custom goal is judged on its own words unless criteria are
    given; judging it on the type's default criteria would report a verdict on a goal nobody set. Neither
    given: the type's defaults stand. ValueError (the message) when a text could never be heard as met."""
    overrides: dict = {}
    if goal:
        overrides["primary_goal"] = goal
    if criteria:
        overrides["success_criteria"] = list(criteria)
    elif goal:
        overrides["success_criteria"] = [goal]
    for text in overrides.get("success_criteria", []):
        problem = criterion_problem(text)
        if problem is not None:
            raise ValueError(problem)
    return overrides


def _resolve(template: CallerScenario, overrides: dict, name: str) -> CallerScenario:
    """A scenario from a type's defaults with some fields replaced; context keys merge one by one."""
    goal = {key: copy.copy(overrides.get(key, getattr(template.goal, key))) for key in GOAL_FIELDS}
    return CallerScenario(
        scenario_type=template.scenario_type,
        goal=CallerGoal(**goal),
        context={**template.context, **overrides.get("context", {})},
        name=name,
        language=overrides.get("language", template.language),
        dtmf=overrides.get("dtmf", template.dtmf),
        barge_ins=overrides.get("barge_ins", template.barge_ins),
        line=overrides.get("line", template.line),
    )


class _Reader:
    """Validates one scenarios file; every check knows which entry it is reading so errors can say so."""

    def __init__(self, path: Path, personality_names: list[str]) -> None:
        self.path = str(path)
        self.personality_names = personality_names

    def error(self, message: str, entry: Optional[str] = None, name: Optional[str] = None) -> ConfigError:
        return ConfigError(self.path, message, entry=entry, field=name)

    def table(self, value: Any, entry: str, name: Optional[str] = None) -> dict:
        if not isinstance(value, dict):
            raise self.error(f"must be a JSON object, got {type(value).__name__}", entry, name)
        return value

    def only(self, raw: dict, allowed: tuple[str, ...], entry: str) -> None:
        for key in raw:
            if key not in allowed:
                raise self.error(f"unknown field (known: {', '.join(allowed)})", entry, key)

    def text(self, raw: dict, key: str, entry: str) -> str:
        if key not in raw:
            raise self.error("required field is missing", entry, key)
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty string, got {value!r}", entry, key)
        return value

    def description(self, raw: dict, entry: str) -> str:
        """Optional free text shown by `--list`; may be empty, but must be text."""
        value = raw.get("description", "")
        if not isinstance(value, str):
            raise self.error(f"must be a string, got {value!r}", entry, "description")
        return value.strip()

    def timeout(self, raw: dict, entry: str, default: float) -> float:
        value = raw.get("timeout", default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"must be a number of seconds, got {value!r}", entry, "timeout")
        if not math.isfinite(value) or value <= 0:
            raise self.error(f"must be a positive, finite number of seconds, got {value}", entry, "timeout")
        return float(value)

    def personality(self, raw: dict, entry: str) -> str:
        name = self.text(raw, "personality", entry)
        found = find_personality_name(name, self.personality_names)
        if found is None:
            raise self.error(f"unknown personality '{name}' (known: {_known(self.personality_names)})",
                             entry, "personality")
        return found

    def kind(self, raw: dict, entry: str, types: dict[ScenarioType, CallerScenario]) -> ScenarioType:
        value = self.text(raw, "scenario_type", entry)
        kind = _scenario_type(value)
        if kind is None or kind not in types:
            raise self.error(f"unknown scenario type '{value}' (known: {_known(t.value for t in types)})",
                             entry, "scenario_type")
        return kind

    def scenario_fields(self, raw: dict, entry: str) -> dict:
        """The goal / context / language fields present in `raw`, checked; absent ones are left to defaults."""
        found: dict = {}
        if "primary_goal" in raw:
            found["primary_goal"] = self.text(raw, "primary_goal", entry)
        for key in GOAL_TEXT_LISTS:
            if key in raw:
                found[key] = self.goal_texts(raw[key], entry, key)
        if "max_conversation_turns" in raw:
            turns = raw["max_conversation_turns"]
            if isinstance(turns, bool) or not isinstance(turns, int) or turns < 1:
                raise self.error(f"must be a whole number >= 1, got {turns!r}", entry, "max_conversation_turns")
            found["max_conversation_turns"] = turns
        if "context" in raw:
            context = self.table(raw["context"], entry, "context")
            for key, value in context.items():
                if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    raise self.error(f"must be a string or a number, got {value!r}", entry, f"context.{key}")
            found["context"] = dict(context)
        if "language" in raw:
            found["language"] = self.text(raw, "language", entry)
        try:
            if "dtmf" in raw:
                found["dtmf"] = parse_dtmf_rules(raw["dtmf"])
            if "barge_ins" in raw:
                found["barge_ins"] = parse_barge_ins(raw["barge_ins"])
        except ActionError as error:
            raise self.error(error.message, entry, error.field) from None
        if "line" in raw:
            try:
                found["line"] = parse_line(raw["line"])
            except ValueError as error:
                field_name, _, message = str(error).partition(": ")
                raise self.error(message, entry, field_name) from None
        return found

    def goal_texts(self, value: Any, entry: str, key: str) -> list[str]:
        if not isinstance(value, list):
            raise self.error(f"must be a list of strings, got {type(value).__name__}", entry, key)
        for index, text in enumerate(value):
            if not isinstance(text, str) or not text.strip():
                raise self.error(f"must be a non-empty string, got {text!r}", entry, f"{key}[{index}]")
            problem = criterion_problem(text)
            if problem is not None:
                raise self.error(problem, entry, f"{key}[{index}]")
        return list(value)

    # ---- sections ---------------------------------------------------------------------------------------

    def scenario_types(self, raw: Any) -> dict[ScenarioType, CallerScenario]:
        types: dict[ScenarioType, CallerScenario] = {}
        for key, spec in self.table(raw, "scenario_types").items():
            entry = f"scenario_types.{key}"
            kind = _scenario_type(key)
            if kind is None:
                raise self.error(f"unknown scenario type (known: {_known(t.value for t in ScenarioType)})", entry)
            spec = self.table(spec, entry)
            self.only(spec, ("description",) + SCENARIO_FIELDS, entry)
            values = self.scenario_fields(spec, entry)
            for required in ("primary_goal", "success_criteria", "context"):
                if required not in values:
                    raise self.error("required field is missing", entry, required)
            if not values["success_criteria"]:
                raise self.error("needs at least one criterion", entry, "success_criteria")
            for context_key in CONTEXT_KEYS[kind]:
                if context_key not in values["context"]:
                    raise self.error("the scripted caller needs this detail", entry, f"context.{context_key}")
            goal = CallerGoal(**{k: values[k] for k in GOAL_FIELDS if k in values})
            types[kind] = CallerScenario(kind, goal, values["context"], name=kind.value,
                                         language=values.get("language", DEFAULT_LANGUAGE),
                                         dtmf=values.get("dtmf", ()), barge_ins=values.get("barge_ins", ()),
                                         line=values.get("line", CLEAN_LINE))
        return types

    def predefined(self, raw: Any, types: dict[ScenarioType, CallerScenario]) -> dict[str, ScenarioEntry]:
        found: dict[str, ScenarioEntry] = {}
        for name, spec in self.table(raw, PREDEFINED).items():
            entry = f"predefined.{name}"
            spec = self.table(spec, entry)
            self.only(spec, ("description", "personality", "scenario_type", "timeout") + SCENARIO_FIELDS, entry)
            personality = self.personality(spec, entry)
            kind = self.kind(spec, entry, types)
            scenario = _resolve(types[kind], self.scenario_fields(spec, entry), name)
            found[name] = ScenarioEntry(name, personality, scenario, self.timeout(spec, entry, DEFAULT_TIMEOUT_S),
                                        self.description(spec, entry))
        return found

    def entries(self, raw: Any, types: dict[ScenarioType, CallerScenario],
                predefined: dict[str, ScenarioEntry]) -> list[ScenarioEntry]:
        if not isinstance(raw, list):
            raise self.error(f"must be a JSON list of entries, got {type(raw).__name__}", "scenarios")
        return [self.entry(spec, f"scenarios[{index}]", types, predefined) for index, spec in enumerate(raw)]

    def entry(self, raw: Any, entry: str, types: dict[ScenarioType, CallerScenario],
              predefined: dict[str, ScenarioEntry]) -> ScenarioEntry:
        spec = self.table(raw, entry)
        name = self.text(spec, "name", entry)
        kind = self.text(spec, "type", entry)
        if kind == PREDEFINED:
            self.only(spec, ("name", "type", "scenario", "timeout", "description"), entry)
            scenario_id = self.text(spec, "scenario", entry)
            if scenario_id not in predefined:
                raise self.error(f"unknown predefined scenario '{scenario_id}' (known: {_known(predefined)})",
                                 entry, "scenario")
            chosen = copy.deepcopy(predefined[scenario_id])
            return ScenarioEntry(name, chosen.personality, chosen.scenario, self.timeout(spec, entry, chosen.timeout),
                                 self.description(spec, entry) or chosen.description)
        if kind == CUSTOM:
            self.only(spec, ("name", "type", "personality", "scenario_type", "goal", "timeout", "description")
                      + tuple(f for f in SCENARIO_FIELDS if f != "primary_goal"), entry)
            personality = self.personality(spec, entry)
            scenario_type = self.kind(spec, entry, types)
            overrides = self.scenario_fields(spec, entry)
            goal = self.text(spec, "goal", entry) if "goal" in spec else None
            try:  # success_criteria, when given, were checked one by one above
                overrides.update(custom_goal(goal, overrides.get("success_criteria")))
            except ValueError as error:
                raise self.error(str(error), entry, "goal") from None
            scenario = _resolve(types[scenario_type], overrides, name)
            return ScenarioEntry(name, personality, scenario, self.timeout(spec, entry, DEFAULT_TIMEOUT_S),
                                 self.description(spec, entry))
        raise self.error(f"must be one of {', '.join(ENTRY_KINDS)}, got {kind!r}", entry, "type")

    def configurations(self, raw: Any, entries: list[ScenarioEntry]) -> dict[str, TestConfiguration]:
        found: dict[str, TestConfiguration] = {}
        for name, spec in self.table(raw, "test_configurations").items():
            entry = f"test_configurations.{name}"
            spec = self.table(spec, entry)
            self.only(spec, CONFIGURATION_FIELDS, entry)
            if "scenarios" not in spec:
                raise self.error("required field is missing", entry, "scenarios")
            indexes = spec["scenarios"]
            if not isinstance(indexes, list) or not indexes:
                raise self.error("must be a non-empty list of indexes into \"scenarios\"", entry, "scenarios")
            chosen: list[ScenarioEntry] = []
            for position, index in enumerate(indexes):
                if isinstance(index, bool) or not isinstance(index, int):
                    raise self.error(f"must be an index into \"scenarios\", got {index!r}", entry,
                                     f"scenarios[{position}]")
                if not 0 <= index < len(entries):
                    raise self.error(f"index {index} is out of range: \"scenarios\" has {len(entries)} entries "
                                     f"(0..{len(entries) - 1})", entry, f"scenarios[{position}]")
                chosen.append(entries[index])
            parallel = spec.get("parallel", False)
            if not isinstance(parallel, bool):
                raise self.error(f"must be true or false, got {parallel!r}", entry, "parallel")
            limit = spec.get("max_concurrent")
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
                raise self.error(f"must be a whole number >= 1, got {limit!r}", entry, "max_concurrent")
            found[name] = TestConfiguration(name, chosen, parallel, limit, self.description(spec, entry))
        return found


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as source:
            data = json.load(source)
    except FileNotFoundError:
        raise ConfigError(str(path), "scenarios file not found") from None
    except json.JSONDecodeError as error:
        raise ConfigError(str(path), f"invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}") \
            from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), f"cannot read scenarios file: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"the top level must be a JSON object, got {type(data).__name__}")
    return data


def load_scenarios(path: Union[str, Path] = DEFAULT_SCENARIOS_FILE,
                   personality_dir: Union[str, Path] = DEFAULT_PERSONALITY_DIR) -> ScenarioCatalog:
    """Load and check a whole scenarios file; personalities are checked against `personality_dir`."""
    path = Path(path)
    raw = _read_json(path)
    personality_names = list(load_personalities(personality_dir))
    reader = _Reader(path, personality_names)
    for key in raw:
        if key not in SECTIONS:
            raise reader.error(f"unknown section (known: {', '.join(SECTIONS)})", key)
    if "scenarios" not in raw:
        raise reader.error("required section is missing", "scenarios")
    bundled: Optional[ScenarioCatalog] = None
    missing = [section for section in ("scenario_types", PREDEFINED) if section not in raw]
    if missing:
        if path.resolve() == DEFAULT_SCENARIOS_FILE.resolve():
            raise reader.error("required section is missing", missing[0])
        bundled = load_scenarios(DEFAULT_SCENARIOS_FILE, personality_dir)
    types = reader.scenario_types(raw["scenario_types"]) if "scenario_types" in raw else bundled.scenario_types
    predefined = reader.predefined(raw[PREDEFINED], types) if PREDEFINED in raw else bundled.predefined
    entries = reader.entries(raw["scenarios"], types, predefined)
    configurations = reader.configurations(raw.get("test_configurations", {}), entries)
    return ScenarioCatalog(str(path), predefined, entries, configurations, types, personality_names)
