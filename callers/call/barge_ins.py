"""One call's barge-ins: a record for each, and how the agent picked up again after stopping.

A good agent yields to an interruption and then answers; after a mere "uh-huh" it should not have stopped at
all, and if it did, the least it can do is carry on with what it was saying. CallerAgent tells the log what
happens (an agent prompt starts or is heard, the caller speaks, the caller talked over a prompt); the log
numbers the prompts, writes a BargeInRecord per barge-in and, after a stop, watches the agent's next prompt
to fill in whether it resumed and whether it re-said what was cut off.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from callers.media.word_errors import normalized_words
from callers.results import BargeInRecord
from callers.scenario.scenario_actions import BargeInPlan
from callers.transport.telephony import AgentStream

# The next prompt "repeated" the cut-off one when it re-says at least this share of that prompt's words.
REPEAT_SHARE = 0.5


@dataclass
class _ResumeWatch:
    """Open from the agent's stop until its next prompt is heard or the caller speaks again."""

    record: BargeInRecord
    cut_text: Optional[str]  # the cut-off prompt's full text (altText), when the bridge sent it
    stopped_at: float
    resumed_at: Optional[float] = None

    @property
    def settled(self) -> bool:
        return self.record.agent_resumed is False or (self.resumed_at is not None
                                                      and (self.record.repeated is not None or not self.cut_text))


class BargeInLog:
    def __init__(self, records: list) -> None:
        self.records = records  # the CallResult's list, filled in place
        self.prompts = 0  # agent prompts so far: scenario barge-ins name one by its number (1 = greeting)
        self._watch: Optional[_ResumeWatch] = None

    @property
    def awaiting_resume(self) -> bool:
        """The agent stopped for a barge-in and has not spoken since: the caller waits for it to go on."""
        return self._watch is not None and self._watch.resumed_at is None

    def prompt_started(self, at: float) -> int:
        """Count a new agent prompt; returns its number."""
        self.prompts += 1
        watch = self._watch
        if watch is not None and watch.resumed_at is None:
            watch.resumed_at = at
            watch.record.agent_resumed = True
            watch.record.resume_ms = round(max(0.0, at - watch.stopped_at) * 1000.0, 2)
        self._close_if_settled()
        return self.prompts

    def prompt_heard(self, text: str) -> None:
        """A whole prompt's words: when it is the one the agent resumed with, did it re-tell the cut-off one?"""
        watch = self._watch
        if watch is not None and watch.resumed_at is not None and watch.cut_text:
            watch.record.repeated = repeats(watch.cut_text, text)
        self._close_if_settled()

    def caller_spoke(self) -> None:
        """The caller said something else (or the call ended): an agent that has not resumed by now did not."""
        if self._watch is not None and self._watch.resumed_at is None:
            self._watch.record.agent_resumed = False
        self._watch = None

    def add(self, kind: str, text: str, stream: AgentStream, prompt: int, plan: Optional[BargeInPlan],
            spoke_at: float, stopped_at: Optional[float]) -> BargeInRecord:
        """Record one barge-in: `spoke_at` the caller's first interrupting audio, `stopped_at` when the
        prompt stopped (None: it talked on)."""
        record = BargeInRecord(kind=kind, prompt=prompt, text=text,
                               offset_ms=round((spoke_at - stream.started_at) * 1000.0, 2),
                               planned_offset_ms=plan.at_ms if plan is not None else None,
                               agent_stopped=stopped_at is not None)
        if stopped_at is not None:
            record.stop_ms = round(max(0.0, stopped_at - spoke_at) * 1000.0, 2)
            self._watch = _ResumeWatch(record, stream.alt_text, stopped_at)
        self.records.append(record)
        return record

    def _close_if_settled(self) -> None:
        if self._watch is not None and self._watch.settled:
            self._watch = None


def repeats(cut_text: str, next_text: str) -> bool:
    """Whether `next_text` re-says most of `cut_text`'s words (order ignored: a rephrase counts)."""
    cut = set(normalized_words(cut_text))
    if not cut:
        return False
    return len(cut & set(normalized_words(next_text))) >= REPEAT_SHARE * len(cut)
