"""RealtimeBrain's turn-taking, driven by the server events it would receive (no connection is opened:
events go straight to its handler, and what it would send is dropped by the unopened session)."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from callers.brains.base import HeardTurn
from callers.brains.realtime import REALTIME_RATE, RealtimeBrain
from callers.errors import CallFailure
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import get_personality
from callers.scenario.scenarios import load_scenarios
from callers.services.realtime_session import RealtimeSettings

SETTINGS = RealtimeSettings(api_key="sk-unused")


def brain_with(tendency_to_interrupt: float) -> tuple[RealtimeBrain, GoalTracker]:
    entry = load_scenarios().custom_entry("normal", "general_inquiry", None)
    personality = get_personality("normal")
    personality.tendency_to_interrupt = tendency_to_interrupt
    return RealtimeBrain(personality, entry.scenario, SETTINGS, seed=4), GoalTracker(entry.scenario.goal)


def answer(brain: RealtimeBrain, response_id: str, text: str, end_call: bool = False) -> None:
    """One completed model response: 100 ms of audio, its transcript, optionally the end_call tool."""
    audio = base64.b64encode(np.full(REALTIME_RATE // 10, 1000, dtype="<i2").tobytes()).decode("ascii")
    where = {"response_id": response_id, "item_id": f"item-{response_id}"}
    brain._on_event({"type": "response.created", "response": {"id": response_id}})
    brain._on_event({"type": "response.output_audio.delta", **where, "delta": audio})
    brain._on_event({"type": "response.output_audio_transcript.done", **where, "transcript": text})
    if end_call:
        brain._on_event({"type": "response.function_call_arguments.done", "response_id": response_id,
                         "name": "end_call", "arguments": json.dumps({"reason": "all done"})})
    brain._on_event({"type": "response.done", "response": {"id": response_id, "status": "completed"}})


def test_a_polite_caller_waits_for_the_agent_and_drops_an_answer_the_agent_talked_over():
    brain, goals = brain_with(0.0)
    assert not brain.wants_to_speak(agent_talking=False)  # nothing to say yet
    answer(brain, "r1", "Hello?")
    assert not brain.wants_to_speak(agent_talking=True)
    brain._on_event({"type": "input_audio_buffer.speech_started", "item_id": "a1"})  # the agent goes on
    assert not brain.wants_to_speak(agent_talking=False), "an answer to half a turn was kept"
    answer(brain, "r2", "What are your opening hours?")
    assert brain.wants_to_speak(agent_talking=False)
    reply = brain.respond(HeardTurn(text="How can I help?", turn=0), goals)
    assert reply.text == "What are your opening hours?" and reply.audio_rate == REALTIME_RATE
    assert len(reply.audio) == REALTIME_RATE // 10 and not reply.hang_up


def test_an_interrupting_caller_cuts_in_but_never_twice_in_a_row():
    brain, goals = brain_with(1.0)
    answer(brain, "r1", "Just tell me the hours!")
    assert brain.wants_to_speak(agent_talking=True)
    brain.barge_in(HeardTurn(text="Our branches", turn=1), goals)
    answer(brain, "r2", "And the services?")
    assert not brain.wants_to_speak(agent_talking=True)
    assert brain.wants_to_speak(agent_talking=False)


def test_end_call_hangs_up_after_saying_goodbye_and_usage_is_summed():
    brain, goals = brain_with(0.0)
    answer(brain, "r1", "Thanks, goodbye.", end_call=True)
    brain._on_event({"type": "conversation.item.input_audio_transcription.completed", "item_id": "a1",
                     "transcript": "Anything else?", "usage": {"type": "tokens", "input_tokens": 7,
                                                                "output_tokens": 3, "total_tokens": 10}})
    assert brain.heard_text("") == "Anything else?"
    reply = brain.respond(HeardTurn(text="Anything else?", turn=2), goals)
    assert reply.hang_up and "all done" in reply.reason and reply.text == "Thanks, goodbye."
    assert brain.usage()["transcription"].input_audio == 7


def test_a_failed_response_or_server_error_is_a_brain_error():
    brain, goals = brain_with(0.0)
    brain._on_event({"type": "response.created", "response": {"id": "r1"}})
    brain._on_event({"type": "response.done", "response": {
        "id": "r1", "status": "failed", "status_details": {"error": {"code": "server_error"}}}})
    with pytest.raises(CallFailure, match="server_error") as failure:
        brain.wants_to_speak(agent_talking=False)
    assert failure.value.category.value == "brain_error"
