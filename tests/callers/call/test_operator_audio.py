"""End to end against the reference bridge: the agent's hearing (WER), keyed DTMF, timed barge-ins, phone lines.

Two bridges, both asking for the date of birth on the keypad: a good agent that talks on through an "uh-huh"
(`--barge-in-min-ms 600`) and one that stops at the first voiced chunk (the default), for contrast. Each is
checked against its own ground-truth log. A third caller places the same call to the good agent over a
noisy telephone line, which must show in the agent's word error rate; a fourth calls in Spanish.
"""
from __future__ import annotations

import json

import gevent
import pytest

from callers import CallerAgent, create_caller, load_scenarios
from callers.media.word_errors import score
from tests.reference_bridge import launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
DATE_OF_BIRTH_KEYS = "14061986"
BACKCHANNEL_AT_MS = 1200
# A good agent yields once the caller has talked this long over it; an "uh-huh" is shorter.
MIN_BARGE_IN_MS = 600
SCENARIO = {
    "name": "Keypad and backchannel", "type": "custom", "personality": "normal", "scenario_type": "card_replacement",
    "dtmf": [{"when": "date of birth on your keypad", "digits": DATE_OF_BIRTH_KEYS}],
    # Prompt 2 asks for the keypad entry (a 6 s prompt): "uh-huh" 1.2 s in, with most of it still to come.
    # Prompt 3 confirms and orders the card: the caller cuts in 0.8 s in.
    "barge_ins": [{"prompt": 2, "at_ms": BACKCHANNEL_AT_MS, "kind": "backchannel", "say": "Uh-huh."},
                  {"prompt": 3, "at_ms": 800, "kind": "interrupt"}],
}
NOISY_LINE = {"band_limit": True, "mulaw": True, "snr_db": 5}


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """One call to each bridge, both at once."""
    folder = tmp_path_factory.mktemp("operator")
    scenarios = folder / "scenarios.json"
    noisy = {**SCENARIO, "name": "Noisy line", "line": NOISY_LINE}
    del noisy["barge_ins"]
    scenarios.write_text(json.dumps({"scenarios": [SCENARIO, noisy]}))
    entry, noisy_entry = load_scenarios(scenarios).entries
    bridges = {}
    try:
        for name, extra in (("good", ["--barge-in-min-ms", str(MIN_BARGE_IN_MS)]), ("bad", [])):
            truth = folder / f"{name}.jsonl"
            bridges[name] = (launch_bridge("--keypad-identity", "--voice-rate", "230", "--truth-log", str(truth),
                                           *extra), truth)
        jobs = {name: gevent.spawn(CallerAgent(process.url, entry.personality, entry.scenario, seed=4,
                                               ear="alttext").run, 120)
                for name, (process, _) in bridges.items()}
        jobs["spanish"] = gevent.spawn(create_caller("spanish_card_replacement", bridges["good"][0].url, seed=3,
                                                     ear="auto").run, 120)
        jobs["noisy"] = gevent.spawn(CallerAgent(bridges["good"][0].url, noisy_entry.personality,
                                                 noisy_entry.scenario, seed=4, ear="alttext").run, 120)
        gevent.joinall(list(jobs.values()), raise_error=True)
    finally:
        for process, _ in bridges.values():
            process.stop()
    results = {}
    for name, job in jobs.items():
        truths = {(record := json.loads(line))["conversation_id"]: record
                  for line in bridges["bad" if name == "bad" else "good"][1].read_text().splitlines()}
        results[name] = (job.value, truths[job.value.call_id])
    return results


def test_keyed_digits_verify_the_caller(calls) -> None:
    result, truth = calls["good"]
    assert result.success, (result.error, [(t.caller_text, t.agent_text) for t in result.turn_records])
    keyed = [t for t in result.turn_records if t.dtmf]
    assert [t.dtmf for t in keyed] == [DATE_OF_BIRTH_KEYS] and keyed[0].caller_text == ""
    assert keyed[0].response_latency_ms is not None and keyed[0].agent_text.startswith("Thank you")
    assert [t["heard"] for t in truth["turns"] if t["trigger"] == "dtmf"] == [DATE_OF_BIRTH_KEYS]
    assert truth["verified"]


def test_agent_wer_is_scored_per_turn_from_what_the_bridge_recognised(calls) -> None:
    for name in ("good", "bad", "noisy"):
        result, truth = calls[name]
        utterances = [t for t in truth["turns"] if t["trigger"] == "speech"]
        spoken = [t for t in result.turn_records if t.caller_text]
        assert sum(t.bot_heard is not None for t in spoken) >= 2, name
        errors = words = 0
        for turn in spoken:
            # The bridge logs when each utterance ended on the same monotonic clock the caller's times count from.
            ended = result.t0_monotonic + turn.caller_speech_end
            match = min(utterances, key=lambda t: abs(t["caller_audio_end"] - ended))
            if abs(match["caller_audio_end"] - ended) >= 0.05 or match["heard"] is None:
                # Never recognised (e.g. said while hanging up: the bridge logs the utterance, but the call
                # ends before its recognition does): nothing reported, nothing scored.
                assert turn.bot_heard is None and turn.heard_wer is None, name
                continue
            assert turn.bot_heard == match["heard"], name
            expected = score(turn.caller_text, turn.bot_heard)
            assert (turn.heard_errors, turn.heard_words, turn.heard_wer) == (expected.errors, expected.words,
                                                                             expected.wer)
            errors, words = errors + expected.errors, words + expected.words
        assert result.hearing_wer == round(errors / words, 4)


def test_a_noisy_telephone_line_shows_in_the_agents_wer(calls) -> None:
    clean, _ = calls["good"]
    noisy, _ = calls["noisy"]
    assert sum(t.heard_words is not None for t in noisy.turn_records) >= 2
    assert noisy.hearing_wer > clean.hearing_wer, (noisy.hearing_wer, clean.hearing_wer)


def test_a_spanish_caller_is_answered_in_spanish_end_to_end(calls) -> None:
    result, truth = calls["spanish"]
    assert result.success, (result.error, result.goals)
    assert result.greeting_text.startswith("Gracias por llamar")
    assert result.turn_records[0].caller_text.startswith(("Hola", "Buenos"))
    # Neither side's bundled recogniser hears Spanish: the caller followed the altText, and the bridge said so
    # by assuming the caller's answers instead of sending English-sounding recognition results.
    assert result.ear == "alttext" and result.hearing_wer is None
    assert truth["language"] == "es" and all(t["heard"] is None and t["assumed"] for t in truth["turns"][1:])
    assert truth["fulfilled"] == ["card_ordered", "delivery_date"]


def test_a_good_agent_talks_through_a_backchannel_and_yields_to_an_interrupt(calls) -> None:
    result, truth = calls["good"]
    backchannel, interrupt = result.barge_ins
    assert backchannel.kind == "backchannel" and backchannel.prompt == 2
    assert backchannel.offset_ms == pytest.approx(BACKCHANNEL_AT_MS, abs=100)
    assert backchannel.agent_stopped is False and backchannel.stop_ms is None
    assert truth["backchannels"] == 1
    assert interrupt.kind == "interrupt" and interrupt.prompt == 3 and interrupt.agent_stopped
    # It waited for enough speech before yielding, but not for the end of the sentence.
    assert MIN_BARGE_IN_MS - 100 < interrupt.stop_ms < MIN_BARGE_IN_MS + 700
    assert interrupt.agent_resumed and interrupt.repeated, interrupt
    assert truth["barge_ins"] == 1


def test_an_agent_that_stops_for_uh_huh_is_caught(calls) -> None:
    result, truth = calls["bad"]
    backchannel = result.barge_ins[0]
    assert backchannel.kind == "backchannel" and backchannel.agent_stopped is True
    assert backchannel.stop_ms < 100
    assert backchannel.agent_resumed is True and backchannel.resume_ms is not None
    assert truth["backchannels"] == 0 and truth["barge_ins"] >= 1
