"""BargeInLog: the verdicts on how an agent took a barge-in, from the events of the call in order; and
wait_for_stop, when an interrupted prompt stopped."""
from __future__ import annotations

import time

import pytest

from callers.call.agent import CHUNK_SILENCE_AS_STOP_S, wait_for_stop
from callers.call.barge_ins import BargeInLog, repeats
from callers.media import audio
from callers.transport.telephony import AgentStream

PROMPT = "Your new card will be delivered to your address on file within five to seven business days."


def stream(started_at: float, alt_text: str = PROMPT) -> AgentStream:
    return AgentStream("1", audio.parse_media_format("raw/lpcm16"), alt_text, started_at)


def test_an_agent_that_talks_on_through_a_backchannel_opens_no_watch() -> None:
    log = BargeInLog([])
    assert log.prompt_started(10.0) == 1
    record = log.add("backchannel", "Uh-huh.", stream(10.0), 1, None, spoke_at=11.5, stopped_at=None)
    assert (record.offset_ms, record.agent_stopped, record.stop_ms) == (1500.0, False, None)
    assert not log.awaiting_resume and log.records == [record]


def test_stopping_then_re_telling_the_cut_prompt_is_a_sensible_resume() -> None:
    log = BargeInLog([])
    log.prompt_started(10.0)
    record = log.add("backchannel", "Uh-huh.", stream(10.0), 1, None, spoke_at=11.0, stopped_at=11.02)
    assert record.stop_ms == 20.0 and log.awaiting_resume
    log.prompt_heard(PROMPT)  # the cut-off prompt itself, heard as it stopped: not a resume
    assert record.repeated is None
    assert log.prompt_started(12.0) == 2 and record.agent_resumed and record.resume_ms == 980.0
    log.prompt_heard("Sorry. " + PROMPT)
    assert record.repeated is True and not log.awaiting_resume


def test_an_agent_that_goes_quiet_until_the_caller_speaks_did_not_resume() -> None:
    log = BargeInLog([])
    record = log.add("interrupt", "Wait.", stream(10.0), 1, None, spoke_at=10.5, stopped_at=10.55)
    log.caller_spoke()
    assert record.agent_resumed is False and record.repeated is None and not log.awaiting_resume


def test_repeats_needs_most_of_the_words() -> None:
    assert repeats(PROMPT, "It will be delivered to your address within five to seven business days.")
    assert not repeats(PROMPT, "I still need your date of birth to verify you.")


def burst(seconds: float, sent_ago: float) -> AgentStream:
    """A prompt whose `seconds` of audio all arrived in one burst `sent_ago` seconds ago, no playStream.stop."""
    sent = time.monotonic() - sent_ago
    prompt = stream(sent)
    prompt.first_chunk_at = prompt.last_chunk_at = sent
    prompt.received_samples = int(seconds * 16000)
    return prompt


def test_a_prompt_sent_in_one_burst_is_still_talking_while_its_audio_plays():
    # 3 s of audio sent at once just before the caller cut in: it plays on past the 2 s a stop may take.
    cut_in = time.monotonic()
    assert wait_for_stop(burst(3.0, 0.05), cut_in) is None


def test_a_burst_prompt_stops_when_its_audio_has_played_out():
    prompt = burst(0.3, 0.05)
    cut_in = time.monotonic()
    stopped = wait_for_stop(prompt, cut_in)
    assert stopped == pytest.approx(prompt.first_chunk_at + 0.3)
    assert time.monotonic() >= stopped + CHUNK_SILENCE_AS_STOP_S  # judged after the quiet that ends a prompt


def test_a_burst_prompt_cut_by_playstream_stop_stopped_then():
    prompt = burst(3.0, 0.05)
    prompt.stopped_at = time.monotonic()
    assert wait_for_stop(prompt, prompt.stopped_at - 0.1) == prompt.stopped_at
