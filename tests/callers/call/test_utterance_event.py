"""callers/call/events.py `utterance`, as docs/metrics.md describes it: one real call against the reference
bridge; every caller line once its audio has left, every agent prompt once heard, latency_ms always None."""
from __future__ import annotations

import pytest

from callers import CallerAgent, load_scenarios
from callers.call import events
from callers.scenario.scenarios import ScenarioType
from tests.reference_bridge import launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_utterances_are_the_call_s_lines_without_a_latency():
    # The bridge drops the line once the caller has spoken: a short call with a greeting and one caller line.
    bridge = launch_bridge("--voice-rate", "230", "--seed", "5", "--fault", "drop", ear="none")
    entry = load_scenarios().custom_entry("normal", ScenarioType.ACCOUNT_INQUIRY.value, None)
    heard: list[tuple[str, str, object]] = []
    sent: list[object] = []
    left: list[int] = []  # how many speech_sent events had fired when each caller utterance was announced

    def on_utterance(call, speaker, text, latency_ms) -> None:
        heard.append((speaker, text, latency_ms))
        if speaker == "caller":
            left.append(len(sent))

    def on_sent(call, timing) -> None:
        sent.append(timing)

    events.utterance.add_listener(on_utterance)
    events.speech_sent.add_listener(on_sent)
    try:
        result = CallerAgent(bridge.url, entry.personality, entry.scenario, seed=5, ear="alttext").run(90)
    finally:
        events.utterance.remove_listener(on_utterance)
        events.speech_sent.remove_listener(on_sent)
        bridge.stop()
    assert all(latency is None for _speaker, _text, latency in heard)
    caller_lines = [text for speaker, text, _latency in heard if speaker == "caller"]
    assert caller_lines and [turn.caller_text for turn in result.turn_records] == caller_lines[:result.turns]
    assert left == list(range(1, len(caller_lines) + 1))  # each announced after its own audio had left
    agent_words = " ".join(text for speaker, text, _latency in heard if speaker == "agent")
    assert result.greeting_text in agent_words
