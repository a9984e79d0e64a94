"""Calls kept for a while after their connection dropped, so the caller can continue them (session.resume).

The AudioCodes side reconnects after an unexpected drop and sends session.resume with the conversation id; a
bot that still knows the conversation answers session.accepted and the call goes on where it was. The
reference bridge keeps what a call needs to go on (its dialogue, its ground truth, the negotiated formats)
for a grace period. A call not resumed in time is over: its truth is written then, as dropped, so the truth
log still holds one line per call whether or not the call was resumed.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from bridge.dialogue import BankAgent
from bridge.flows import FlowBot
from bridge.faults import Fault
from bridge.truth import CallTruth
from callers.media.audio import MediaFormat

# Dropped calls kept at once; beyond it the oldest is given up early, so a storm of drops cannot grow memory.
MAX_PARKED_CALLS = 10_000


@dataclass
class ParkedCall:
    """A dropped call's state, as the session that served it left it."""

    conversation_id: str
    truth: CallTruth
    agent: Optional[BankAgent | FlowBot]
    fmt: MediaFormat
    play_fmt: MediaFormat
    rng: random.Random
    fault: Optional[Fault]
    stream_ids: Iterator[int]
    garbage_sent: int


class ResumableCalls:
    """Dropped calls by conversation id, each until it is claimed by a session.resume or its grace runs out.

    Used from the event loop only."""

    def __init__(self, grace_s: float, on_expired: Callable[[ParkedCall], None]) -> None:
        self.grace_s = grace_s
        self._on_expired = on_expired
        self._parked: dict[str, tuple[ParkedCall, asyncio.TimerHandle]] = {}

    def park(self, call: ParkedCall) -> None:
        if len(self._parked) >= MAX_PARKED_CALLS:
            self._expire(next(iter(self._parked)))
        timer = asyncio.get_running_loop().call_later(self.grace_s, self._expire, call.conversation_id)
        self._parked[call.conversation_id] = (call, timer)

    def claim(self, conversation_id: str) -> Optional[ParkedCall]:
        """The parked call with this id, taken out of the store; None if there is none (any more)."""
        entry = self._parked.pop(conversation_id, None)
        if entry is None:
            return None
        call, timer = entry
        timer.cancel()
        return call

    def expire_all(self) -> None:
        """The bridge is stopping: every parked call is over now."""
        for conversation_id in list(self._parked):
            self._expire(conversation_id)

    def __len__(self) -> int:
        return len(self._parked)

    def _expire(self, conversation_id: str) -> None:
        call = self.claim(conversation_id)
        if call is not None:
            self._on_expired(call)
