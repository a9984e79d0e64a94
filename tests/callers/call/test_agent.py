"""Real calls: CallerAgent <-> the reference bridge (a subprocess), real audio in real time, checked against
the bridge's ground-truth log."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import gevent
import gevent.monkey
import pytest

from callers import CallerAgent, ResultWriter, create_caller, load_scenarios
from callers.call import events
from callers.call.agent import FELL_BEHIND_GAP_MS, pacing_note
from callers.results import read_results
from callers.scenario.scenarios import ScenarioType
from tests.reference_bridge import REPO_ROOT, launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
# The caller's voice-to-voice latency and the bridge's own log of when it heard the end of the caller and
# sent its first voiced audio must agree this closely (loopback transit plus scheduling).
TRUTH_TOLERANCE_MS = 30.0


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    truth = tmp_path_factory.mktemp("bridge") / "truth.jsonl"
    # A brisk agent voice keeps calls short; the caller still speaks and listens in real time.
    process = launch_bridge("--truth-log", str(truth), "--latency-ms", "150:50", "--seed", "3", "--voice-rate", "230")
    yield process.url, truth
    process.stop()


def truth_for(truth_path, call_id: str) -> dict:
    for line in truth_path.read_text().splitlines():
        record = json.loads(line)
        if record["conversation_id"] == call_id:
            return record
    raise AssertionError(f"bridge logged no call {call_id}")


def assert_latencies_match_truth(result, truth: dict) -> None:
    spoken = [t for t in truth["turns"] if t["caller_audio_end"] is not None and t["response_latency_ms"] is not None]
    compared = 0
    for record in result.turn_records:
        if record.response_latency_ms is None:
            continue
        speech_end = result.t0_monotonic + record.caller_speech_end
        match = min(spoken, key=lambda t: abs(t["caller_audio_end"] - speech_end))
        assert abs(match["caller_audio_end"] - speech_end) < 0.05, "no bridge turn for this caller utterance"
        error = abs(record.response_latency_ms - match["response_latency_ms"])
        assert error <= TRUTH_TOLERANCE_MS, (record.index, record.response_latency_ms, match["response_latency_ms"])
        compared += 1
    assert compared >= 3


def test_each_scenario_type_reaches_its_goal(bridge, tmp_path):
    """One normal caller per scenario type, all five calls at once (as a batch would run them)."""
    url, truth_path = bridge
    catalog = load_scenarios()
    writer = ResultWriter(tmp_path / "calls.jsonl")
    callers = [CallerAgent(url, entry.personality, entry.scenario, caller_name="E2E", seed=11, writer=writer)
               for entry in (catalog.custom_entry("normal", kind.value, None) for kind in ScenarioType)]
    announced = []  # events.speech_sent: each utterance with its frames' pacing, as a bench needs it

    def spoke(call, timing) -> None:
        announced.append((call, timing))

    events.speech_sent.add_listener(spoke)
    try:
        jobs = [gevent.spawn(caller.run, 120) for caller in callers]
        gevent.joinall(jobs, raise_error=True)
    finally:
        events.speech_sent.remove_listener(spoke)
    for caller, job in zip(callers, jobs):
        result = job.value
        timings = [timing for call, timing in announced if call is caller]
        assert len(timings) >= result.turns
        assert all(timing.frames == len(timing.lateness_ms) > 0 for timing in timings)
        announced_p99s = {round(timing.p99_lateness_ms, 2) for timing in timings}
        assert all(record.pacing_p99_ms in announced_p99s for record in result.turn_records)
        assert result.error is None, (result.scenario_type, result.error)
        assert result.success, (result.scenario_type, result.goals, [t.agent_text for t in result.turn_records])
        assert result.turns >= 3, result.scenario_type
        assert result.connect_ms is not None and result.greeting_latency_ms is not None
        assert all(goal["evidence_turn"] is not None for goal in result.goals if goal["met"])
        truth = truth_for(truth_path, result.call_id)
        assert_latencies_match_truth(result, truth)
        assert truth["fulfilled"], truth
    on_disk = {r.call_id: r for r in read_results(writer.path)}
    assert set(on_disk) == {job.value.call_id for job in jobs}
    first = jobs[0].value
    assert on_disk[first.call_id].turn_records[0].response_latency_ms == first.turn_records[0].response_latency_ms


def test_a_caller_with_the_natural_voice_is_heard_by_the_agent_and_says_which_voice(bridge):
    """End to end with --voice-engine piper: rendered off the loop, paced, recognised by the bridge's Whisper."""
    url, _ = bridge
    # The shortest call: a brisk caller with a general question, following the agent by altText.
    entry = load_scenarios().custom_entry("impatient", ScenarioType.GENERAL_INQUIRY.value, None)
    result = CallerAgent(url, entry.personality, entry.scenario, seed=3, ear="alttext", voice_engine="piper").run(60)
    assert result.error is None and result.success, (result.error, [t.agent_text for t in result.turn_records])
    assert result.voice_engine == "piper" and result.hearing_wer is not None  # the bridge recognised it


def test_seed_api_with_and_async_with(bridge):
    """The seed's two spellings: `with caller: caller.start_call()` and `async with` / `await start_call()`."""
    url, _ = bridge

    def with_style() -> bool:
        with create_caller("normal_account_inquiry", url, seed=5, ear="alttext") as caller:
            outcome = caller.start_call(timeout=120)
        assert bool(outcome) == caller.result.success
        return bool(outcome)

    async def async_style() -> bool:
        async with create_caller("normal_account_inquiry", url, seed=6, ear="alttext") as caller:
            return await caller.start_call(timeout=120)

    background = gevent.spawn(with_style)
    assert asyncio.run(async_style()) is True
    assert background.get() is True


def hogged_call(url: str, block_s: float):
    """A call while something hogs the caller's process: blocking sleeps of `block_s` on the loop every
    0.1 s of loop time, which delay the caller's own audio by up to that much."""
    blocking_sleep = gevent.monkey.get_original("time", "sleep")

    def hog() -> None:
        while True:
            blocking_sleep(block_s)
            gevent.sleep(0.1)

    caller = create_caller("normal_account_inquiry", url, seed=5, ear="alttext")
    hogging = gevent.spawn_later(0.5, hog)
    try:
        return caller.run(timeout=60)
    finally:
        hogging.kill()


def test_a_caller_whose_audio_stops_long_enough_to_end_its_utterance_is_a_simulator_error(bridge):
    """A 300 ms hole in the caller's speech could be an agent's end of utterance: the call says so instead
    of blaming the agent for what it then did."""
    url, _ = bridge
    result = hogged_call(url, 0.3)
    assert result.error.category == "simulator_error", result.error
    assert "fell behind real time" in result.error.message
    turn = result.turn_records[-1]
    assert turn.pacing_gap_ms > FELL_BEHIND_GAP_MS
    assert result.caller_overloaded and turn.caller_overloaded
    assert result.success is False
    assert "says nothing about the agent" in pacing_note(result)


def test_a_caller_paced_late_without_such_a_hole_keeps_its_verdict(bridge):
    """40 ms stalls make the turns late (flagged), but the agent heard the same words with no pause that
    could end them: the verdict stands and the console says why and what to do."""
    url, _ = bridge
    result = hogged_call(url, 0.04)
    assert result.error is None, result.error
    assert result.success
    assert result.caller_overloaded and any(turn.caller_overloaded for turn in result.turn_records)
    assert all(turn.pacing_gap_ms <= FELL_BEHIND_GAP_MS for turn in result.turn_records)
    note = pacing_note(result)
    assert "the verdict stands" in note and "--ear alttext" in note


def test_interrupting_personality_barges_in_more(bridge):
    """tendency_to_interrupt shows in real calls: angry (0.9) barges in, normal (small) rarely does."""
    url, _ = bridge
    catalog = load_scenarios()
    calls = []
    for personality in ("angry", "normal"):
        entry = catalog.custom_entry(personality, "general_inquiry", None)
        for seed in range(3):
            calls.append((personality, CallerAgent(url, entry.personality, entry.scenario, seed=100 + seed,
                                                   ear="alttext")))
    jobs = [gevent.spawn(agent.run, 120) for _, agent in calls]
    gevent.joinall(jobs, raise_error=True)
    barge_ins = {"angry": 0, "normal": 0}
    for (personality, _), job in zip(calls, jobs):
        barge_ins[personality] += sum(t.barge_in for t in job.value.turn_records)
        for turn in job.value.turn_records:
            if turn.barge_in:
                assert turn.agent_stopped and turn.barge_in_stop_ms < 100
    assert barge_ins["angry"] > barge_ins["normal"], barge_ins


@pytest.fixture(scope="module", autouse=True)
def acceptance_run(tmp_path_factory):
    """The issue's acceptance command, started with the module so it runs alongside the other calls.
    It has a bridge of its own: a difficult caller (patience 3) counts an answer slower than 1.75 s against
    the agent, and on a shared bridge its turns would wait for the recognition of the module's other calls."""
    agent = launch_bridge("--latency-ms", "150:50", "--seed", "3", "--voice-rate", "230")
    output = tmp_path_factory.mktemp("accept") / "accept"
    process = subprocess.Popen([sys.executable, "caller_cli.py", "--scenario", "difficult_card_replacement",
                                "--bridge-url", agent.url, "--output", str(output), "--seed", "1"],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process, output
    if process.poll() is None:
        process.kill()
    agent.stop()


def test_cli_acceptance_command(acceptance_run):
    process, output = acceptance_run
    transcript, _ = process.communicate(timeout=200)
    assert process.returncode == 0, transcript
    assert "SUCCESS" in transcript and "AGENT" in transcript
    (result,) = read_results(output / "calls.jsonl")
    assert result.success and result.turns >= 3
    assert all(t.response_latency_ms for t in result.turn_records if t.agent_text)
