"""One call's barge-ins: a record for each, and how the agent picked up again after stopping.

A good agent yields to an interruption and then answers; after a mere "uh-huh" it should not have stopped at
all, and if it did, the least it can do is carry on with what it was saying. CallerAgent tells the log what
happens (an agent prompt starts or is heard, the caller speaks, the caller talked over a prompt); the log
numbers the prompts, writes a BargeInRecord per barge-in and, after a stop, watches the agent's next prompt
to fill in whether it resumed and whether it re-said what was cut off.

A prompt that ends within the wait after the caller cut in may have stopped for the caller or merely come to
its end: the protocol's playStream.stop is the same either way. `stop_verdict` tells them apart by what the
prompt's altText needed against the audio that came (the agent's pace learnt from this call's prompts that
nobody talked over), and says "undetermined" rather than claim a stop it cannot tell from an ending.
`PreparationTimes` is how long callers of this process take from deciding to cut in to having audio ready,
so a caller decides that much ahead and speaks at the moment it planned (unless having its audio ready takes
longer than the time from the prompt's start to that moment: bench/RESULTS.md section 6).
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Optional

from callers.media.word_errors import normalized_words
from callers.results import BargeInRecord
from callers.scenario.scenario_actions import BargeInPlan
from callers.transport.telephony import AgentStream

# The next prompt "repeated" the cut-off one when it re-says at least this share of that prompt's words.
REPEAT_SHARE = 0.5
# Why an interrupted prompt's stop is no verdict on the agent (BargeInRecord.undetermined).
ENDED_BEFORE = "prompt ended before the caller's audio"
RAN_TO_END = "prompt ran to its end"
NO_ALT_TEXT = "no altText to tell a stop from the prompt's end"
# Before any prompt of the call has shown the agent's pace, the fastest a voice agent plausibly speaks:
# 25 letters a second is ~270 words a minute (synthetic voices default to 150-200). A prompt whose audio
# at its stop is shorter than its altText needs even at this pace was cut short.
FASTEST_LETTERS_PER_S = 25.0
# A whole prompt's audio per letter varies within one voice (numbers read out, pauses at commas): a prompt
# counts as having run to its end once its audio reaches this share of what its letters need at the
# fastest pace seen in the call.
END_SHARE = 0.8
# Only prompts with this much audio and text teach the agent's pace.
MIN_PACE_LETTERS = 10
MIN_PACE_AUDIO_MS = 500.0
# Decision-to-audio times kept per voice engine, and the margin on the longest of them.
PREPARATION_SAMPLES = 16
PREPARATION_MARGIN = 1.25
_LETTERS = re.compile(r"\w")


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


@dataclass(frozen=True)
class StopVerdict:
    """How an interrupted prompt took the caller's audio: `stopped` None when its end says nothing."""

    stopped: Optional[bool]
    at: Optional[float] = None  # when it stopped (stopped True only)
    undetermined: Optional[str] = None  # why `stopped` is None


def letters(text: Optional[str]) -> int:
    return len(_LETTERS.findall(text or ""))


def stop_verdict(stream: AgentStream, spoke_at: float, ended_at: Optional[float],
                 seconds_per_letter: Optional[float]) -> StopVerdict:
    """Whether the prompt the caller talked over from `spoke_at` stopped for it, given when it ended
    (`ended_at`, None: it played on past the wait) and the agent's fastest pace seen in this call. A
    prompt that had already ended, or whose audio covers all its altText, came to its end: no verdict."""
    if ended_at is None:
        return StopVerdict(False)
    if ended_at <= spoke_at:
        return StopVerdict(None, undetermined=ENDED_BEFORE)
    text_letters = letters(stream.alt_text)
    if not text_letters:
        return StopVerdict(None, undetermined=NO_ALT_TEXT)
    if seconds_per_letter is None:
        needed_s = text_letters / FASTEST_LETTERS_PER_S
    else:
        needed_s = text_letters * seconds_per_letter * END_SHARE
    if _played_s(stream, ended_at) >= needed_s:
        return StopVerdict(None, undetermined=RAN_TO_END)
    return StopVerdict(True, at=ended_at)


def _played_s(stream: AgentStream, ended_at: float) -> float:
    """The prompt's audio that had played by its end: a bot may send a whole prompt ahead in one burst and
    cut it with playStream.stop, so what was received is not what was said."""
    first = stream.first_chunk_at if stream.first_chunk_at is not None else stream.started_at
    return min(stream.audio_ms / 1000.0, max(0.0, ended_at - first))


class PreparationTimes:
    """How long a caller takes from deciding to cut in to having its audio ready, per voice engine, over
    this process's recent barge-ins (rendering waits its turn on one thread, so load shows here)."""

    def __init__(self) -> None:
        self._seconds: dict[str, deque] = {}

    def add(self, engine: str, seconds: float) -> None:
        self._seconds.setdefault(engine, deque(maxlen=PREPARATION_SAMPLES)).append(seconds)

    def lead(self, engine: str) -> Optional[float]:
        """How far ahead of its moment to decide; None before any measure (decide as early as it may)."""
        seen = self._seconds.get(engine)
        return max(seen) * PREPARATION_MARGIN if seen else None


PREPARATION = PreparationTimes()


class BargeInLog:
    def __init__(self, records: list) -> None:
        self.records = records  # the CallResult's list, filled in place
        self.prompts = 0  # agent prompts so far: scenario barge-ins name one by its number (1 = greeting)
        self._watch: Optional[_ResumeWatch] = None
        self._talked_over: set[str] = set()  # stream ids of prompts the caller spoke or keyed over
        self.seconds_per_letter: Optional[float] = None  # the agent's fastest pace in a whole prompt
        # Ends judged before the call had shown the agent's pace, only by the fastest pace assumed: the
        # call's later prompts may show this agent's pace, and with it a stop (see settle).
        self._unsettled: list[tuple[BargeInRecord, AgentStream, float, float]] = []

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

    def prompt_ended(self, stream: AgentStream) -> None:
        """A prompt came to its end with nobody talking over it: its audio per letter of altText is the
        agent's pace."""
        text_letters = letters(stream.alt_text)
        if (stream.stream_id in self._talked_over or text_letters < MIN_PACE_LETTERS
                or stream.audio_ms < MIN_PACE_AUDIO_MS):
            return
        pace = stream.audio_ms / 1000.0 / text_letters
        if self.seconds_per_letter is None or pace < self.seconds_per_letter:
            self.seconds_per_letter = pace

    def caller_spoke(self) -> None:
        """The caller said something else (or the call ended): an agent that has not resumed by now did not."""
        if self._watch is not None and self._watch.resumed_at is None:
            self._watch.record.agent_resumed = False
        self._watch = None

    def add(self, kind: str, text: str, stream: AgentStream, prompt: int, plan: Optional[BargeInPlan],
            spoke_at: float, stopped_at: Optional[float]) -> BargeInRecord:
        """Record one barge-in: `spoke_at` the caller's first interrupting audio, `stopped_at` when the
        prompt stopped or ended (None: it talked on past the wait), judged by `stop_verdict`."""
        self._talked_over.add(stream.stream_id)
        verdict = stop_verdict(stream, spoke_at, stopped_at, self.seconds_per_letter)
        record = BargeInRecord(kind=kind, prompt=prompt, text=text,
                               offset_ms=round((spoke_at - stream.started_at) * 1000.0, 2),
                               planned_offset_ms=plan.at_ms if plan is not None else None,
                               agent_stopped=verdict.stopped, undetermined=verdict.undetermined)
        if verdict.at is not None:
            record.stop_ms = round(max(0.0, verdict.at - spoke_at) * 1000.0, 2)
            self._watch = _ResumeWatch(record, stream.alt_text, verdict.at)
        elif verdict.undetermined == RAN_TO_END and self.seconds_per_letter is None:
            self._unsettled.append((record, stream, spoke_at, stopped_at))
        self.records.append(record)
        return record

    def settle(self) -> list[BargeInRecord]:
        """At the call's end: the barge-ins left without a verdict because the agent's pace was not known
        yet, judged again by the pace its later whole prompts showed; returns those now judged."""
        judged = []
        for record, stream, spoke_at, stopped_at in self._unsettled if self.seconds_per_letter is not None else ():
            verdict = stop_verdict(stream, spoke_at, stopped_at, self.seconds_per_letter)
            if verdict.stopped is not None:
                record.agent_stopped, record.undetermined = verdict.stopped, None
                record.stop_ms = round(max(0.0, verdict.at - spoke_at) * 1000.0, 2)
                judged.append(record)
        self._unsettled = []
        return judged

    def _close_if_settled(self) -> None:
        if self._watch is not None and self._watch.settled:
            self._watch = None


def repeats(cut_text: str, next_text: str) -> bool:
    """Whether `next_text` re-says most of `cut_text`'s words (order ignored: a rephrase counts)."""
    cut = set(normalized_words(cut_text))
    if not cut:
        return False
    return len(cut & set(normalized_words(next_text))) >= REPEAT_SHARE * len(cut)
