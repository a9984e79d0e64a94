"""Each bench script in its smoke mode: it runs to the end and prints its figures as one JSON line.

Behaviour only: the figures themselves depend on the machine and its load, so no threshold is checked.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.verdicts import CORPUS_DIR, read_corpus
from callers.scenario.scenarios import load_scenarios

REPO = Path(__file__).resolve().parents[2]


def _final_json(script: str, timeout: float, *options: str) -> dict:
    run = subprocess.run([sys.executable, str(REPO / "bench" / script), "--quick", *options], cwd=REPO,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    return json.loads(last)


def _has_machine(figures: dict) -> None:
    assert figures["machine"]["cpu_model"] and figures["machine"]["cores"] >= 1
    assert len(figures["machine"]["loadavg"]) == 3 and len(figures["loadavg_end"]) == 3
    assert figures["machine"]["speed_ms"] > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_capacity_quick_prints_both_counts_their_ratio_and_costs():
    figures = _final_json("capacity.py", timeout=110)
    assert figures["bench"] == "capacity" and figures["quick"] is True
    for key in ("callers_per_core", "baseline_callers_per_core", "ratio", "p99_lateness_ms", "drift_ms",
                "cpu_ms_per_caller_s", "kernel_share_of_cpu", "rss_per_caller_mb", "steps", "sink"):
        assert key in figures, key
    if figures["kernel_share_of_cpu"] is not None:
        assert 0 < figures["kernel_share_of_cpu"] < 1  # sends and reads cost some kernel time, never all
    kinds = {step["kind"] for step in figures["steps"]}
    assert kinds == {"caller", "naive"}
    assert all("error" not in step for step in figures["steps"]), figures["steps"]
    assert figures["sink"]["caller_chunks"] > 0 and figures["sink"]["agent_frames"] > 0
    assert all(step["speed_ms"] > 0 for step in figures["steps"])  # the host's speed beside every step
    _has_machine(figures)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_capacity_quick_conversation_places_whole_scripted_calls():
    figures = _final_json("capacity.py", 110, "--kinds", "conversation")
    assert {step["kind"] for step in figures["steps"]} == {"conversation"}
    assert all("error" not in step for step in figures["steps"]), figures["steps"]
    for step in figures["steps"]:
        assert step["frames_in_window"] > 0  # every utterance's frames reached the tally (events.speech_sent)
        assert "calls_completed" in step and step["agent_frames_per_caller_s"] is None
    conversation = figures["conversation"]
    assert set(conversation) >= {"callers", "p99_lateness_ms", "cpu_ms_per_caller_s", "rss_per_caller_mb"}
    assert figures["callers_per_core"] is None and figures["ratio"] is None  # the duplex search did not run
    assert figures["dialogue_sink"]["caller_messages"] > 0 and figures["sink"] == {}
    _has_machine(figures)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_fidelity_quick_compares_caller_latency_with_bridge_truth_at_two_loads():
    figures = _final_json("fidelity.py", timeout=140)
    assert figures["bench"] == "fidelity"
    for key in ("light_p50_error_ms", "light_p99_error_ms", "loaded_p50_error_ms", "loaded_p99_error_ms",
                "overloaded_turns_light", "overloaded_turns_loaded"):
        assert key in figures, key
    for level in figures["levels"].values():
        assert level["turns"] > 0, level  # caller turns were matched with the bridge's ground truth
    _has_machine(figures)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_scaling_quick_runs_locust_with_one_and_two_processes():
    figures = _final_json("scaling.py", timeout=140)
    assert figures["bench"] == "scaling"
    for key in ("calls_per_s_1", "calls_per_s_2", "calls_per_s_scaling", "concurrent_callers_1",
                "concurrent_callers_2", "concurrent_scaling"):
        assert key in figures, key
    assert [run["processes"] for run in figures["runs"]] == [1, 2]
    assert all(run["error"] is None and run["calls_on_disk"] > 0 for run in figures["runs"]), figures["runs"]
    _has_machine(figures)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_locust_capacity_quick_runs_a_master_and_one_worker_beside_the_capacity_step():
    figures = _final_json("locust_capacity.py", timeout=110)
    assert figures["bench"] == "locust_capacity" and figures["quick"] is True and figures["target"] == "sink"
    for key in ("callers_per_worker", "capacity_callers_per_core", "locust_share", "workers_needed",
                "reference_success_rate", "worker_cpu_ms_per_caller_s", "capacity_cpu_ms_per_caller_s"):
        assert key in figures, key
    (step,) = figures["steps"]  # the smoke run's one Locust step
    assert "error" not in step, step
    assert step["goals"]["calls"] > 0 and step["calls_on_disk"] > 0  # the master counted the worker's calls
    assert step["worker_cpu_share"] > 0 and step["target_cpu_share"] > 0
    assert [s["kind"] for s in figures["capacity_steps"]] == ["conversation"]  # capacity.py's figure, same run
    if figures["callers_per_worker"]:
        assert figures["workers_needed"] == -(-figures["target_callers"] // figures["callers_per_worker"])
    _has_machine(figures)


def _verdict_turn(turn_id: str, text: str, label: str, goal: str = "balance provided",
                  kind: str = "criterion") -> str:
    return json.dumps({"id": turn_id, "scenario_type": "account_inquiry", "goal": goal, "goal_kind": kind,
                       "text": text, "label": label, "voice": "llm", "note": "test"})


def test_verdicts_scores_each_corpus_file_as_a_split(tmp_path):
    """Labels against the matcher: one turn right each way, one false met, one uncertain, one failure."""
    (tmp_path / "mine.jsonl").write_text("\n".join([
        _verdict_turn("a", "Your balance is $120.50.", "met"),
        _verdict_turn("b", "I can check your balance for you.", "not_met"),
        _verdict_turn("c", "Your balance is $99.", "not_met"),  # mislabelled on purpose: a false met
        _verdict_turn("d", "Your balance is healthy.", "met"),  # no amount: not met
        _verdict_turn("e", "What is your PIN?", "met", "asked for full card number or PIN", "failure"),
    ]) + "\n")
    run = subprocess.run([sys.executable, str(REPO / "bench" / "verdicts.py"), "--corpus", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    overall = figures["splits"]["mine"]["overall"]
    assert (overall["turns"], overall["labelled_met"], overall["accuracy"]) == (5, 3, 0.6)
    assert overall["false_met_rate"] == 0.5 and overall["false_unmet_rate"] == round(1 / 3, 4)
    assert set(overall["wrong"]) == {"c", "d"}
    assert figures["splits"]["mine"]["by_goal"]["asked for full card number or PIN"]["accuracy"] == 1.0
    assert "wrong c [balance provided] label=not_met verdict=met" in run.stdout


def test_verdicts_counts_uncertain_apart(tmp_path):
    (tmp_path / "hours.jsonl").write_text(json.dumps({
        "id": "h", "scenario_type": "general_inquiry", "goal": "hours provided", "goal_kind": "criterion",
        "text": "We're open on Saturdays.", "label": "met", "voice": "ivr", "note": "weekday, no hours"}) + "\n")
    run = subprocess.run([sys.executable, str(REPO / "bench" / "verdicts.py"), "--corpus", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    overall = json.loads(run.stdout.strip().splitlines()[-1])["splits"]["hours"]["overall"]
    assert (overall["accuracy"], overall["uncertain"], overall["uncertain_share"]) == (0.0, 1, 1.0)


@pytest.mark.parametrize("line, message", [
    ("{not json", "mine.jsonl:1: not a JSON object"),
    (_verdict_turn("a", "x", "maybe"), "mine.jsonl:1: field 'label' must be one of met, not_met"),
    (_verdict_turn("a", "x", "met", goal="card ordered"), "'card ordered' is not a goal of account_inquiry"),
])
def test_verdicts_names_a_bad_corpus_line(tmp_path, line, message):
    (tmp_path / "mine.jsonl").write_text(line + "\n")
    run = subprocess.run([sys.executable, str(REPO / "bench" / "verdicts.py"), "--corpus", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_the_tuning_corpus_covers_every_goal_in_every_voice():
    """The shipped corpus: every line readable, every goal of every scenario type labelled both ways."""
    types = {kind.value: goal.goal for kind, goal in load_scenarios().scenario_types.items()}
    goals = {name: set(goal.success_criteria + goal.secondary_goals + goal.failure_conditions)
             for name, goal in types.items()}
    turns = read_corpus(CORPUS_DIR / "tuning.jsonl", goals)
    labelled = {(turn.scenario_type, turn.goal, turn.label) for turn in turns}
    for name, wanted in goals.items():
        for goal in wanted:
            assert (name, goal, "met") in labelled and (name, goal, "not_met") in labelled, (name, goal)
    assert sum(turn.label == "not_met" for turn in turns) >= 0.4 * len(turns)
    assert {turn.voice for turn in turns} == {"ivr", "llm", "formal", "non_native", "stt"}
