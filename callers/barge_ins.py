"""After the caller talked over a prompt and the agent stopped: did it pick up again, and sensibly?

A good agent yields to an interruption and then answers; after a mere "uh-huh" it should not have stopped at
all, and if it did, the least it can do is carry on with what it was saying. CallerAgent opens a ResumeWatch
when an agent stops for a barge-in and feeds it what happens next; the verdict lands in the BargeInRecord.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from callers.results import BargeInRecord
from callers.word_errors import normalized_words

# The next prompt "repeated" the cut-off one when it re-says at least this share of that prompt's words.
REPEAT_SHARE = 0.5


@dataclass
class ResumeWatch:
    """Open from the agent's stop until its next prompt is heard or the caller speaks again."""

    record: BargeInRecord
    cut_text: Optional[str]  # the cut-off prompt's full text (altText), when the bridge sent it
    stopped_at: float
    resumed_at: Optional[float] = None

    def prompt_started(self, at: float) -> None:
        if self.resumed_at is None:
            self.resumed_at = at
            self.record.agent_resumed = True
            self.record.resume_ms = round(max(0.0, at - self.stopped_at) * 1000.0, 2)

    def prompt_heard(self, text: str) -> None:
        """The resumed prompt's words: a re-telling of the cut-off prompt is a sensible way to resume."""
        if self.cut_text and self.resumed_at is not None:
            self.record.repeated = repeats(self.cut_text, text)

    def caller_spoke(self) -> None:
        if self.resumed_at is None:
            self.record.agent_resumed = False

    @property
    def settled(self) -> bool:
        return self.record.agent_resumed is not None and (self.record.repeated is not None or not self.cut_text
                                                          or self.record.agent_resumed is False)


def repeats(cut_text: str, next_text: str) -> bool:
    """Whether `next_text` re-says most of `cut_text`'s words (order ignored: a rephrase counts)."""
    cut = set(normalized_words(cut_text))
    if not cut:
        return False
    return len(cut & set(normalized_words(next_text))) >= REPEAT_SHARE * len(cut)
