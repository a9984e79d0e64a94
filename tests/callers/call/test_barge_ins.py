"""BargeInLog: the verdicts on how an agent took a barge-in, from the events of the call in order."""
from __future__ import annotations

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
