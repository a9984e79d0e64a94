"""The labelled goal-verdict corpora in bench/data/verdicts/: schema, goals that exist, and the held-out split.

A corpus line names a goal string of scenarios.json; if the goal is renamed there, the line would silently score
nothing, so every goal must still exist for its scenario type with the same kind. The held-out split is whatever
file is named heldout.jsonl: between rounds there is none (the last one was opened for tuning and the next is
being written blind), and its checks skip until it lands.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "bench" / "data" / "verdicts"
HELDOUT = CORPUS_DIR / "heldout.jsonl"

FIELDS = {"id", "scenario_type", "goal", "goal_kind", "text", "label", "voice", "note"}
LABELS = {"met", "not_met"}
VOICES = {"ivr", "llm", "formal", "non_native", "stt"}
KIND_OF_FIELD = {"success_criteria": "criterion", "secondary_goals": "secondary",
                 "failure_conditions": "failure"}


def _goals_by_type() -> dict[str, dict[str, set[str]]]:
    """scenario type -> goal string -> the kinds it has anywhere in scenarios.json (types, predefined, custom)."""
    data = json.loads((ROOT / "scenarios.json").read_text(encoding="utf-8"))
    goals: dict[str, dict[str, set[str]]] = {}

    def add(scenario_type: str, entry: dict) -> None:
        for field, kind in KIND_OF_FIELD.items():
            for goal in entry.get(field, []):
                goals.setdefault(scenario_type, {}).setdefault(goal, set()).add(kind)

    for name, entry in data["scenario_types"].items():
        add(name, entry)
    for entry in data["predefined"].values():
        add(entry["scenario_type"], entry)
    for entry in data["scenarios"]:
        if entry.get("type") == "custom":
            add(entry["scenario_type"], entry)
            if "goal" in entry and "success_criteria" not in entry:
                goals.setdefault(entry["scenario_type"], {}).setdefault(entry["goal"], set()).add("criterion")
    return goals


def _load(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path.name}:{number}: not JSON ({exc})")
    return rows


CORPORA = sorted(CORPUS_DIR.glob("*.jsonl"))


HELDOUT_ABSENT = pytest.mark.skipif(not HELDOUT.is_file(), reason="no heldout.jsonl yet: the next held-out split "
                                    "is written blind and lands after this round")


def test_every_other_corpus_is_a_tuning_split():
    """Files other than heldout.jsonl are tuned on; naming them tuning* keeps that visible to whoever scores."""
    assert [path.name for path in CORPORA if path != HELDOUT and not path.name.startswith("tuning")] == []


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.name)
def test_every_line_has_the_schema_and_a_goal_of_scenarios_json(path: Path):
    goals = _goals_by_type()
    problems = []
    for number, row in _load(path):
        where = f"{path.name}:{number}"
        if set(row) != FIELDS:
            problems.append(f"{where}: fields {sorted(row)} != {sorted(FIELDS)}")
            continue
        if not all(isinstance(row[key], str) and row[key].strip() for key in FIELDS):
            problems.append(f"{where}: every field must be a non-empty string")
            continue
        if row["label"] not in LABELS:
            problems.append(f"{where}: label {row['label']!r} not in {sorted(LABELS)}")
        if row["voice"] not in VOICES:
            problems.append(f"{where}: voice {row['voice']!r} not in {sorted(VOICES)}")
        kinds = goals.get(row["scenario_type"], {}).get(row["goal"])
        if kinds is None:
            problems.append(f"{where}: goal {row['goal']!r} is not in scenarios.json for {row['scenario_type']!r}")
        elif row["goal_kind"] not in kinds:
            problems.append(f"{where}: goal {row['goal']!r} is a {sorted(kinds)} there, not {row['goal_kind']!r}")
    assert not problems, "\n".join(problems)


def test_ids_are_unique_across_every_corpus():
    seen: dict[str, str] = {}
    clashes = []
    for path in CORPORA:
        for number, row in _load(path):
            where = f"{path.name}:{number}"
            if row.get("id") in seen:
                clashes.append(f"{where}: id {row.get('id')!r} already used at {seen[row['id']]}")
            else:
                seen[row.get("id")] = where
    assert not clashes, "\n".join(clashes)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@HELDOUT_ABSENT
def test_no_held_out_turn_appears_in_another_corpus():
    """The held-out split is only worth its score while nothing tuned on carries its turns."""
    held = {_words(row["text"]): number for number, row in _load(HELDOUT)}
    leaks = [f"{path.name}:{number} repeats heldout.jsonl:{held[_words(row['text'])]}"
             for path in CORPORA if path != HELDOUT
             for number, row in _load(path) if _words(row.get("text", "")) in held]
    assert not leaks, "\n".join(leaks)


@HELDOUT_ABSENT
def test_the_held_out_corpus_covers_every_goal_and_keeps_its_shares():
    rows = [row for _, row in _load(HELDOUT)]
    per_goal = Counter((row["scenario_type"], row["goal"]) for row in rows)
    labels_per_goal = {key: {row["label"] for row in rows if (row["scenario_type"], row["goal"]) == key}
                       for key in per_goal}
    missing = [(scenario_type, goal) for scenario_type, goals in _goals_by_type().items() for goal in goals
               if per_goal[(scenario_type, goal)] < 4]
    assert not missing, f"goals with fewer than 4 held-out turns: {missing}"
    one_sided = [key for key, labels in labels_per_goal.items() if labels != LABELS]
    assert not one_sided, f"goals without both a met and a not_met turn: {one_sided}"
    assert len(rows) >= 220
    assert sum(row["label"] == "not_met" for row in rows) >= 0.40 * len(rows)
    voices = Counter(row["voice"] for row in rows)
    assert all(voices[voice] >= 0.15 * len(rows) for voice in VOICES), voices
