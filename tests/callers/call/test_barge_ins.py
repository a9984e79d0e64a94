"""BargeInLog: the verdicts on how an agent took a barge-in, from the events of the call in order; and
wait_for_stop, when an interrupted prompt stopped."""
from __future__ import annotations

import itertools
import time
from typing import Optional

import pytest

from callers.call.agent import CHUNK_SILENCE_AS_STOP_S, wait_for_stop
from callers.call.barge_ins import (ENDED_BEFORE, NO_ALT_TEXT, PREPARATION_MARGIN, RAN_TO_END, BargeInLog,
                                    PreparationTimes, StopVerdict, letters, repeats, stop_verdict)
from callers.media import audio
from callers.transport.telephony import AgentStream

PROMPT = "Your new card will be delivered to your address on file within five to seven business days."


STREAM_IDS = itertools.count(1)


def stream(started_at: float, alt_text: str = PROMPT) -> AgentStream:
    return AgentStream(str(next(STREAM_IDS)), audio.parse_media_format("raw/lpcm16"), alt_text, started_at)


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


# ---- a stop for the caller, or the prompt's own end ----------------------------------------------------

LETTERS_PER_S = 15.0  # ~170 words a minute: the pace of the prompts below


def played(audio_s: float, alt_text: Optional[str] = PROMPT, started_at: float = 10.0) -> AgentStream:
    """A prompt streamed in real time from `started_at`, `audio_s` of audio received by its end."""
    prompt = stream(started_at, alt_text)
    prompt.first_chunk_at = started_at + 0.02
    prompt.last_chunk_at = prompt.first_chunk_at + audio_s - 0.02
    prompt.received_samples = int(audio_s * 16000)
    prompt.stopped_at = prompt.first_chunk_at + audio_s
    return prompt


def whole(alt_text: str = PROMPT, letters_per_s: float = LETTERS_PER_S) -> AgentStream:
    return played(letters(alt_text) / letters_per_s, alt_text)


def test_a_prompt_that_ran_to_its_end_within_the_wait_is_not_a_stop_for_the_caller() -> None:
    # The cut-in came 1.5 s before the prompt's natural end (a late cut-in, or an agent that talks on):
    # its playStream.stop is the end of what it had to say, not a reaction.
    prompt = whole()
    log = BargeInLog([])
    record = log.add("interrupt", "Hold on.", prompt, 1, None, prompt.stopped_at - 1.5, prompt.stopped_at)
    assert (record.agent_stopped, record.stop_ms, record.undetermined) == (None, None, RAN_TO_END)
    assert not log.awaiting_resume


def test_a_prompt_cut_well_short_of_its_text_stopped_for_the_caller() -> None:
    prompt = played(1.3)  # 1.3 s of a ~5 s prompt
    log = BargeInLog([])
    record = log.add("interrupt", "Hold on.", prompt, 1, None, prompt.stopped_at - 0.03, prompt.stopped_at)
    assert (record.agent_stopped, record.stop_ms, record.undetermined) == (True, 30.0, None)
    assert log.awaiting_resume


def test_a_prompt_sent_ahead_in_one_burst_and_cut_by_playstream_stop_stopped_for_the_caller() -> None:
    # All ~5 s of audio arrived at once, but playStream.stop came 1.3 s into playing it: what was said is
    # what had played by the stop, not what was received.
    prompt = whole()
    prompt.last_chunk_at = prompt.first_chunk_at
    prompt.stopped_at = prompt.first_chunk_at + 1.3
    record = BargeInLog([]).add("interrupt", "Hold on.", prompt, 1, None, prompt.stopped_at - 0.2, prompt.stopped_at)
    assert (record.agent_stopped, record.stop_ms, record.undetermined) == (True, 200.0, None)


def test_a_prompt_over_before_the_caller_spoke_says_nothing_about_stopping() -> None:
    prompt = played(1.3)
    record = BargeInLog([]).add("interrupt", "Hold on.", prompt, 1, None, prompt.stopped_at + 0.2, prompt.stopped_at)
    assert (record.agent_stopped, record.undetermined) == (None, ENDED_BEFORE)


def test_without_alt_text_a_stop_cannot_be_told_from_an_end() -> None:
    prompt = played(1.3, alt_text=None)
    verdict = stop_verdict(prompt, prompt.stopped_at - 0.03, prompt.stopped_at, None)
    assert verdict == StopVerdict(None, undetermined=NO_ALT_TEXT)


def test_talking_on_past_the_wait_is_not_stopping_whatever_the_text() -> None:
    assert stop_verdict(played(1.3, alt_text=None), 10.5, None, None) == StopVerdict(False)


def test_the_agents_pace_comes_from_its_whole_prompts_in_the_call() -> None:
    # A bot speaking at ~450 words a minute: before the call has shown its pace, a whole prompt of it is
    # faster than any voice is assumed to be, so its end reads as a stop; once one prompt has been heard
    # whole, an end at that pace is recognised as the prompt's end.
    fast = 40.0
    log = BargeInLog([])
    first = whole(letters_per_s=fast)
    assert stop_verdict(first, first.stopped_at - 0.5, first.stopped_at, log.seconds_per_letter).stopped is True
    log.prompt_ended(whole("Thanks for calling, how can I help you today with your account?", fast))
    assert log.seconds_per_letter == pytest.approx(1 / fast, rel=0.02)
    record = log.add("interrupt", "Hold on.", first, 2, None, first.stopped_at - 0.5, first.stopped_at)
    assert record.undetermined == RAN_TO_END
    # A prompt the caller talked over is no measure of the agent's pace, even if it then ended by itself.
    cut = played(0.8)
    log.add("backchannel", "Uh-huh.", cut, 3, None, cut.stopped_at - 0.2, cut.stopped_at)
    log.prompt_ended(cut)
    assert log.seconds_per_letter == pytest.approx(1 / fast, rel=0.02)


def test_preparation_lead_is_the_longest_recent_decision_to_audio_per_engine() -> None:
    times = PreparationTimes()
    assert times.lead("piper") is None  # nothing known yet: decide as early as the prompt allows
    for seconds in (0.4, 1.2, 0.8):
        times.add("piper", seconds)
    times.add("espeak", 0.02)
    assert times.lead("piper") == pytest.approx(1.2 * PREPARATION_MARGIN)
    assert times.lead("espeak") == pytest.approx(0.02 * PREPARATION_MARGIN)


def test_an_end_left_open_on_the_first_prompt_is_settled_by_the_agents_pace_later() -> None:
    # The greeting cut 2.4 s in (late): the fastest pace assumed could have said its 53 letters by then, so
    # at the time nothing can be said; the call's later whole prompts show a pace of ~14 letters a second.
    greeting = "Thank you for calling First Example Bank. How can I help you today?"
    log = BargeInLog([])
    stopped = played(2.4, greeting)
    early = log.add("interrupt", "Hold on.", stopped, 1, None, stopped.stopped_at - 0.05, stopped.stopped_at)
    ended = whole(greeting, 13.0)
    natural = log.add("interrupt", "Hold on.", ended, 2, None, ended.stopped_at - 1.5, ended.stopped_at)
    assert (early.agent_stopped, early.undetermined) == (None, RAN_TO_END)
    log.prompt_ended(whole("Our branches are open Monday to Friday nine to five, and Saturday nine to one.", 14.4))
    assert log.settle() == [early]
    assert (early.agent_stopped, early.stop_ms, early.undetermined) == (True, 50.0, None)
    assert (natural.agent_stopped, natural.undetermined) == (None, RAN_TO_END)  # it did run to its end
    assert log.settle() == []


def test_without_a_whole_prompt_later_an_open_end_stays_open() -> None:
    log = BargeInLog([])
    stopped = played(2.4, "Thank you for calling First Example Bank. How can I help you today?")
    record = log.add("interrupt", "Hold on.", stopped, 1, None, stopped.stopped_at - 0.05, stopped.stopped_at)
    assert log.settle() == [] and record.agent_stopped is None
