"""The one small interface every caller mind implements, so CallerAgent never knows which brain it runs.

A brain is consulted at four moments: the agent finished a turn (what do I say, or do I hang up?), the
agent started a prompt (will I talk over it, and when?), the moment to talk over it came (what do I say?),
and before answering (how long do I pause?).
Everything it decides is plain data the agent acts on; timing and I/O stay in CallerAgent.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Optional

from callers.goals import GoalTracker


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
    """

    text: Optional[str]
    hang_up: bool = False
    reason: str = ""
    dtmf: Optional[str] = None
    slower: bool = False


class Brain(ABC):
    name = "brain"

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

    def close(self) -> None:
        """Release per-call resources (a network session, for model-backed brains)."""
