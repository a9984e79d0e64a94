"""A cut-in against an agent that never stops (the reference bridge's `no-barge-in` fault), with a voice that
is slow to render: the caller must still speak at the moment it planned, and the prompt's natural end after
the cut-in must never be recorded as the agent stopping for it (issue 25: with piper, the angry caller's
barge-in on the greeting was judged "stopped" at the greeting's own end)."""
from __future__ import annotations

import time
from collections import OrderedDict

import pytest

from callers import CallerAgent, load_scenarios
from callers.call import agent
from callers.call.barge_ins import RAN_TO_END, PreparationTimes
from callers.media import phrasebook
from callers.runtime.warmup import prepare_for_realtime
from tests.reference_bridge import launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

# The greeting at a normal pace (~4 s) is long enough to be talked over; the angry caller cuts in 0.8-1.8 s in.
AGENT_WPM = "175"
SEED = 3
# Long enough for the greeting, the cut-in and the whole interrupting utterance; the call then times out.
CALL_S = 13.0
# A voice this slow to render (a loaded host running piper) used to push the cut-in to near the greeting's end.
SLOW_RENDER_S = 2.0


@pytest.fixture(scope="module")
def talks_on():
    bridge = launch_bridge("--fault", "no-barge-in", "--voice-rate", AGENT_WPM, "--seed", "7", ear="none")
    yield bridge.url
    bridge.stop()


@pytest.fixture
def fresh_caller_process(monkeypatch):
    """No phrase rendered and no preparation time measured yet, as in a new process."""
    monkeypatch.setattr(phrasebook, "_CACHE", OrderedDict())
    monkeypatch.setattr(agent, "PREPARATION", PreparationTimes())


def interrupting_call(url: str, engine: str):
    scenario = load_scenarios().custom_entry("angry", "general_inquiry", None).scenario
    caller = CallerAgent(url, "angry", scenario, caller_name="Barge", ear="alttext", seed=SEED, voice_engine=engine)
    return caller.run(CALL_S)


def assert_no_stop_claimed(result) -> None:
    assert result.barge_ins, "the angry caller never cut in: the test proves nothing"
    first = result.barge_ins[0]
    assert first.prompt == 1 and first.planned_offset_ms is not None
    for record in result.barge_ins:
        # Talking on past the wait is False; an end within it is no verdict, never a stop.
        assert record.agent_stopped is not True, record
        assert record.agent_stopped is False or record.undetermined == RAN_TO_END, record


def test_a_slow_voice_still_cuts_in_when_planned_and_no_stop_is_claimed(talks_on, fresh_caller_process,
                                                                       monkeypatch):
    render = phrasebook._frames

    def slow_render(*key):
        time.sleep(SLOW_RENDER_S)  # on the render thread, as a slow voice would be
        return render(*key)

    monkeypatch.setattr(phrasebook, "_frames", slow_render)
    result = interrupting_call(talks_on, "espeak")
    assert_no_stop_claimed(result)
    first = result.barge_ins[0]
    # Decided as the greeting began, the cut-in waits out the render instead of following it: late only by
    # what the render took beyond the planned offset, never by the whole render.
    assert first.offset_ms - first.planned_offset_ms < SLOW_RENDER_S * 1000.0, first


def test_a_piper_caller_never_takes_the_greetings_end_for_a_stop(talks_on, fresh_caller_process):
    prepare_for_realtime("piper")  # as the CLI does before its first call
    assert_no_stop_claimed(interrupting_call(talks_on, "piper"))
