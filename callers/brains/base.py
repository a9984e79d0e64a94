"""The one small interface every caller mind implements, so CallerAgent never knows which brain it runs.

A brain is consulted at four moments: the agent finished a turn (what do I say, or do I hang up?), the
agent started a prompt (will I talk over it, and when?), the moment to talk over it came (what do I say?),
and before answering (how long do I pause?).
Everything it decides is plain data the agent acts on; timing and I/O stay in CallerAgent.

A *live* brain (a speech model with its own connection) also listens to the line itself: it is opened
before the bridge is dialled, follows the call's audio, says when it wants the floor (its own turn
detection), hears the agent for itself (what the goals are judged on) and answers with its own voice.
The hooks for that have do-nothing defaults, so a text brain ignores them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from callers.results import TokenUsage
from callers.scenario.goals import GoalTracker

if TYPE_CHECKING:
    from callers.transport.telephony import AudioCodesClient


@dataclass
class HeardTurn:
    """What the caller experienced in the agent's last turn: the words and how long it had to wait."""

    text: str
    turn: int
    response_latency_ms: Optional[float] = None
    new_goals_met: int = 0
    was_cut_off: bool = False


@dataclass
class Reply:
    """What the caller does next: say `text` (if any), optionally key `dtmf`, then hang up if asked.

    `slower`: say it more slowly than usual, as people do when they were not understood the first time.
    `audio`: the caller's own voice (int16 at `audio_rate`) to play instead of rendering `text`, which is
    then the transcript of that audio.
    """

    text: Optional[str]
    hang_up: bool = False
    reason: str = ""
    dtmf: Optional[str] = None
    slower: bool = False
    audio: Optional[np.ndarray] = None
    audio_rate: int = 0


class Brain(ABC):
    name = "brain"
    live = False  # follows the line audio and is polled with wants_to_speak while the agent talks
    hearing: Optional[str] = None  # the name of its own ear, when it hears the agent for itself

    @abstractmethod
    def respond(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        """Decide the caller's next move after the agent's turn."""

    @abstractmethod
    def interruption_offset(self, alt_text: Optional[str]) -> Optional[float]:
        """Seconds into an agent prompt at which to talk over it, or None to let it finish."""

    @abstractmethod
    def barge_in(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        """What the caller says when it talks over the agent, having heard only part of the prompt."""

    @abstractmethod
    def pause_before_reply(self) -> float:
        """Seconds of thinking before speaking (slow personalities pause longer)."""

    def open(self) -> None:
        """Connect what the brain needs before the bridge is dialled (a model session); may raise CallFailure."""

    def listen_to(self, client: "AudioCodesClient") -> None:
        """The bridge accepted the call: follow its line audio from now on (live brains)."""

    def wants_to_speak(self, agent_talking: bool) -> bool:
        """Whether the caller takes the floor now (over the agent when `agent_talking`); may raise CallFailure."""
        return False

    def heard_text(self, fallback: str) -> str:
        """What the caller heard of the agent's last turn; `fallback` is the CallerAgent's ear's version."""
        return fallback

    def unanswered_asks(self) -> list[str]:
        """The agent's questions the caller could not answer (its profile did not hold the answer), for the
        result: a call failing after one is the caller's gap, not the agent's failure (callers/outcome.py)."""
        return []

    def usage(self) -> Optional[dict[str, TokenUsage]]:
        """Tokens spent in this call, by part and kind (see callers.services.pricing), for model-backed brains."""
        return None

    def close(self) -> None:
        """Release per-call resources (a network session, for model-backed brains)."""
