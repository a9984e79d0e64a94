"""Call lifecycle events, so faces (CLI transcript, Locust stats) listen without being threaded through layers.

Modelled on Locust's EventHook: listeners are added at module level and fired synchronously, in order, by
CallerAgent. A failing listener is logged and never breaks the call that fired it.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)


class EventHook:
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[..., Any]] = []

    def add_listener(self, listener: Callable[..., Any]) -> Callable[..., Any]:
        self._listeners.append(listener)
        return listener

    def remove_listener(self, listener: Callable[..., Any]) -> None:
        self._listeners.remove(listener)

    def fire(self, **kwargs: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(**kwargs)
            except Exception:  # noqa: BLE001 - a broken listener must not fail the call
                log.exception("listener %r of %s failed", listener, self.name)


call_connected = EventHook("call_connected")
"""(call, connect_ms): session accepted."""
utterance = EventHook("utterance")
"""(call, speaker, text, latency_ms): a caller utterance has left or an agent prompt was heard; speaker is "agent"
or "caller". latency_ms is always None (turn_completed and greeting_heard carry the latencies)."""
greeting_heard = EventHook("greeting_heard")
"""(call, latency_ms, text): the agent's first prompt ended; latency from acceptance to its first audio."""
speech_sent = EventHook("speech_sent")
"""(call, timing): a caller utterance has left; `timing` is its SpeechTiming, with every frame's pacing lateness."""
turn_completed = EventHook("turn_completed")
"""(call, turn): a TurnRecord is final (the agent answered, or did not)."""
call_resumed = EventHook("call_resumed")
"""(call, resume): the connection dropped and session.resume was tried; `resume` is the CallResult.resumes entry."""
call_finished = EventHook("call_finished")
"""(call, result): the CallResult is on disk."""
