"""RealtimeBrain on real calls: caller <-> reference bridge <-> fake Realtime model (tests/fake_realtime.py).

Everything runs on loopback with real sockets and real audio paced in real time: the caller feeds the
bridge's audio to its model session, the fake model's VAD and Whisper hear it, the fake answers with espeak
audio that the caller plays to the bridge, whose recognizer must understand it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import gevent
import pytest

from callers.brains.realtime import RealtimeBrain, caller_instructions
from callers.call.agent import CallerAgent
from callers.errors import CallFailure
from callers.results import TokenUsage
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import load_scenarios
from callers.services import pricing
from callers.services.judge import CallJudge
from callers.services.realtime_session import RealtimeSession, RealtimeSettings
from tests.fake_realtime import RESPONSE_USAGE, TRANSCRIPTION_USAGE, launch_fake_realtime
from tests.reference_bridge import REPO_ROOT, launch_bridge

pytestmark = [pytest.mark.timeout(300)]

SCRIPT = ["What are your opening hours and what services do you offer?",
          "And which services do you offer?",
          "That's all I needed, thank you. Goodbye."]
PLANTED_KEY = "sk-PLANTED-realtime-5d1e"
CALL_TIMEOUT_S = 60.0
TRUTH_WAIT_S = 5.0


@pytest.fixture(scope="module")
def fake():
    process = launch_fake_realtime(SCRIPT)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    truth = tmp_path_factory.mktemp("realtime-bridge") / "truth.jsonl"
    process = launch_bridge("--truth-log", str(truth), "--latency-ms", "150:50", "--voice-rate", "230")
    yield process.url, truth
    process.stop()


def settings_for(fake, model: str = "gpt-realtime", **extra) -> RealtimeSettings:
    return RealtimeSettings(api_key=PLANTED_KEY, model=model, websocket_base_url=fake.ws_url,
                            base_url=fake.judge_url, **extra)


def general_inquiry_caller(url: str, settings: RealtimeSettings, judge=None) -> CallerAgent:
    entry = load_scenarios().custom_entry("normal", "general_inquiry", None)
    personality = get_personality("normal")
    brain = RealtimeBrain(personality, entry.scenario, settings, seed=1)
    return CallerAgent(url, personality, entry.scenario, caller_name="RealtimeCaller", brain=brain, ear="none",
                       judge=judge)


def truth_for(truth_path: Path, call_id: str) -> dict:
    """The bridge's record of a call; it writes it once its side of the call has closed, just after ours."""
    deadline = time.monotonic() + TRUTH_WAIT_S
    while time.monotonic() < deadline:
        for line in truth_path.read_text().splitlines():
            record = json.loads(line)
            if record["conversation_id"] == call_id:
                return record
        gevent.sleep(0.1)
    raise AssertionError(f"bridge logged no call {call_id}")


def times(usage: dict, n: int) -> dict:
    return {kind: count * n for kind, count in usage.items()}


def test_instructions_make_the_model_the_caller_with_the_scenario():
    entry = load_scenarios().predefined_entry("angry_complaint")
    text = caller_instructions(get_personality("angry"), entry.scenario)
    assert "You are the CALLER" in text and "never play the agent" in text
    assert get_personality("angry").prompt.strip()[:60] in text
    assert entry.scenario.goal.primary_goal in text
    assert all(criterion in text for criterion in entry.scenario.goal.success_criteria)
    assert "Maria Gonzalez" in text  # the scenario's context: what the caller may say when asked


def test_prices_turn_usage_into_cost_and_unknown_models_into_none(tmp_path):
    prices = pricing.default_prices()
    usage: dict = {}
    pricing.add_tokens(usage, "realtime", "gpt-realtime", pricing.realtime_tokens(RESPONSE_USAGE))
    spent = usage["realtime"]
    # Cached tokens are taken out of the full-price input: 300 text of which 96 cached, 100 audio of which 32.
    assert (spent.input_text, spent.cached_text, spent.input_audio, spent.cached_audio) == (204, 96, 68, 32)
    table = prices.models["gpt-realtime"]
    expected = sum(getattr(spent, kind) * table.get(kind, 0.0) for kind in pricing.TOKEN_KINDS) / 1e6
    assert prices.cost_usd(usage) == round(expected, pricing.COST_DECIMALS)
    assert prices.cost_usd({"realtime": dataclasses.replace(spent, model="no-such-model")}) is None
    bad = tmp_path / "prices.toml"
    bad.write_text('[models."m"]\ninput_text = -1\n')
    with pytest.raises(Exception, match=r"prices.toml, entry models.m, field 'input_text'"):
        pricing.load_prices(bad)


def test_rate_limited_upgrade_is_retried_after_the_stated_delay_and_the_session_cap_holds(fake):
    opened = []
    session = RealtimeSession(settings_for(fake, "fail-429-once"), opened.append)
    started = time.monotonic()
    session.open({"type": "realtime", "instructions": "test"})
    assert time.monotonic() - started >= 0.4  # the fake's Retry-After
    session.close()

    capped = settings_for(fake, max_sessions=1)
    first = RealtimeSession(capped, opened.append)
    first.open({"type": "realtime"})
    second = RealtimeSession(capped, opened.append)
    waiting = gevent.spawn(second.open, {"type": "realtime"})
    gevent.sleep(0.5)
    assert not waiting.dead, "a second session opened past --max-realtime-sessions 1"
    first.close()
    waiting.get(timeout=10)
    second.close()
    with pytest.raises(CallFailure, match=r"HTTP 429"):
        RealtimeSession(settings_for(fake, "fail-429"), opened.append).open({"type": "realtime"})


@pytest.mark.slow
def test_realtime_caller_holds_a_call_that_meets_its_goal(fake, bridge):
    url, truth_path = bridge
    settings = settings_for(fake)
    result = general_inquiry_caller(url, settings, judge=CallJudge(settings)).run(CALL_TIMEOUT_S)

    assert result.error is None and result.success, (result.error, result.end_reason, result.goals)
    assert result.brain == "realtime" and result.ear == "realtime"
    # The model's own words and voice were the caller's turns, ending with its end_call tool.
    assert [t.caller_text for t in result.turn_records] == SCRIPT
    assert result.hung_up_by == "caller" and "goal met" in result.end_reason
    # What the caller heard is the model side's transcription of the bridge's audio; the goals were met on it.
    assert "open" in result.greeting_text.lower() or "help" in result.greeting_text.lower()
    assert "monday" in result.turn_records[0].agent_text.lower()
    assert all(goal["met"] for goal in result.goals if goal["kind"] == "criterion")
    truth = truth_for(truth_path, result.call_id)
    # The caller's speech reached the bridge and was understood there.
    heard = " ".join(turn["heard"] or "" for turn in truth["turns"]).lower()
    assert "opening hours" in heard and "services" in heard, heard
    assert truth["hung_up_by"] == "caller"  # with session.end
    # Usage: three responses and three transcriptions summed; the judge's tokens beside them; cost from the table.
    assert result.usage["realtime"] == TokenUsage(model="gpt-realtime", responses=3,
                                                  **times(pricing.realtime_tokens(RESPONSE_USAGE), 3))
    assert result.usage["transcription"].responses >= 3
    assert result.usage["transcription"].input_audio == (
        result.usage["transcription"].responses * TRANSCRIPTION_USAGE["input_tokens"])
    assert result.usage["judge"].responses == 1
    assert result.cost_usd == pytest.approx(pricing.default_prices().cost_usd(result.usage)) and result.cost_usd > 0
    verdicts = result.judge.verdicts
    assert [v.criterion for v in verdicts] == ["hours provided", "services explained"]
    assert all(v.met and v.evidence_found for v in verdicts)


@pytest.mark.slow
def test_model_failures_end_the_call_as_brain_error_and_the_run_goes_on(fake, bridge):
    url, truth_path = bridge
    models = ["fail-401", "fail-429", "fail-drop", "fail-error"]
    calls = [gevent.spawn(general_inquiry_caller(url, settings_for(fake, model)).run, CALL_TIMEOUT_S)
             for model in models]
    results = dict(zip(models, (call.get(timeout=CALL_TIMEOUT_S + 30) for call in calls)))

    assert {model: r.error.category for model, r in results.items()} == dict.fromkeys(models, "brain_error")
    assert "HTTP 401" in results["fail-401"].error.message
    assert "HTTP 429" in results["fail-429"].error.message
    assert "dropped" in results["fail-drop"].error.message
    assert "server_error" in results["fail-error"].error.message
    for model in ("fail-401", "fail-429"):  # refused before dialling: the bridge never saw these callers
        assert results[model].connect_ms is None and results[model].turns == 0
    for model in ("fail-drop", "fail-error"):  # mid-call: one turn spoken, then the bridge call hung up properly
        result = results[model]
        assert result.turns == 1 and not result.success
        assert truth_for(truth_path, result.call_id)["hung_up_by"] == "caller"
    for result in results.values():
        assert PLANTED_KEY not in result.to_json()


def run_cli(tmp_path: Path, *args: str, key: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    if key:
        env["OPENAI_API_KEY"] = PLANTED_KEY
    return subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


MISSING_KEY = ("--brain realtime needs an OpenAI API key: set OPENAI_API_KEY in the environment "
               "(the scripted brain runs without one)")


def test_cli_without_a_key_says_so_before_dialling(tmp_path):
    run = run_cli(tmp_path, "--brain", "realtime", "--scenario", "angry_complaint", "--output", "out", key=False)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"error: {MISSING_KEY}"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [
    [str(REPO_ROOT / "batch_caller_test.py"), "--config", "quick_test", "--results-dir", "out", "--brain", "realtime"],
    ["-m", "locust", "-f", str(REPO_ROOT / "locustfile.py"), "--headless", "-u", "1", "-t", "2s",
     "--host", "ws://127.0.0.1:9/ws/telephony", "--results-dir", "out", "--brain", "realtime"],
], ids=["batch_caller_test", "locust"])
def test_batch_and_locust_without_a_key_stop_before_dialling(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    run = subprocess.run([sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and MISSING_KEY in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert not list(tmp_path.rglob("*.jsonl"))


@pytest.mark.slow
def test_cli_realtime_calls_never_show_the_key(fake, bridge, tmp_path):
    """The planted key goes through the verbose CLI on a call that fails mid-way and on a refused one."""
    url, _ = bridge
    base = fake.ws_url.replace("ws://", "http://")
    runs = {model: run_cli(tmp_path, "--brain", "realtime", "--personality", "normal", "--scenario-type",
                           "general_inquiry", "--bridge-url", url, "--openai-base-url", base, "--model", model,
                           "--verbose", "--output", f"out-{model}")
            for model in ("fail-error", "fail-401")}
    for model, run in runs.items():
        assert run.returncode == 1, run.stdout + run.stderr
        assert run.stdout.startswith("Brain: realtime (fail-"), run.stdout
        (line,) = (tmp_path / f"out-{model}" / "calls.jsonl").read_text().splitlines()
        assert json.loads(line)["error"]["category"] == "brain_error"
        assert "Traceback" not in run.stderr
    leaks = [name for name, run in runs.items() if PLANTED_KEY in run.stdout + run.stderr]
    leaks += [str(path) for path in tmp_path.rglob("*") if path.is_file() and PLANTED_KEY.encode() in path.read_bytes()]
    assert leaks == []
    assert (tmp_path / "logs" / "caller_agent.log").stat().st_size > 0


@pytest.mark.slow
def test_locust_realtime_run_at_debug_level_never_shows_the_key(fake, bridge, tmp_path):
    """Locust logs at DEBUG everything its libraries say, the websockets handshake headers included."""
    url, _ = bridge
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    run = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO_ROOT / "locustfile.py"), "--headless", "-u", "1", "-r", "1",
         "-t", "6s", "--host", url, "--brain", "realtime", "--openai-base-url", fake.ws_url.replace("ws://", "http://"),
         "--results-dir", str(tmp_path / "results"), "--logfile", str(tmp_path / "locust.log"), "--loglevel", "DEBUG",
         "--ear", "none", "NormalCaller"],
        cwd=tmp_path, env={**env, "OPENAI_API_KEY": PLANTED_KEY}, capture_output=True, text=True, timeout=90)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    calls = [json.loads(line) for path in (tmp_path / "results").glob("*.jsonl")
             for line in path.read_text().splitlines()]
    assert calls and all(call["brain"] == "realtime" for call in calls), run.stderr[-2000:]
    leaks = [name for name, text in (("stdout", run.stdout), ("stderr", run.stderr)) if PLANTED_KEY in text]
    leaks += [str(p) for p in tmp_path.rglob("*") if p.is_file() and PLANTED_KEY.encode() in p.read_bytes()]
    assert leaks == []

