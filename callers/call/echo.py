"""Whether a sentence the caller heard from the agent is only the caller's own words coming back.

A bridge or bot that loops the caller's audio back makes the caller hear its own line, and a goal's keywords
in that line would then count as the agent's statement. A heard sentence is an echo when nearly all its words
appear, in the same order, in one of the caller's recent utterances, each word matched exactly or within one
letter (a recogniser's mishearing: "card" heard as "car"). All words count, not only content words: an agent
that repeats a detail back says it in its own sentence ("your", "I've ordered", a statement for a question),
which an echo never does.
"""
from __future__ import annotations

import re
from typing import Sequence

ECHO_NOTE = "bot echoed the caller's words"
# A sentence is an echo when at least this share of its words follow a recent caller utterance in order, and
# it has at least MIN_ECHO_WORDS words (a "yes, please" proves nothing).
ECHO_SHARE = 0.8
MIN_ECHO_WORDS = 3
# How many of the caller's latest utterances an echo is looked for in.
RECENT_UTTERANCES = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, in order."""
    return _WORD.findall(text.lower())


def is_echo(sentence: str, caller_lines: Sequence[str]) -> bool:
    """Whether `sentence` is essentially one of `caller_lines` heard back (see the module docstring)."""
    heard = words(sentence)
    if len(heard) < MIN_ECHO_WORDS:
        return False
    return any(_in_order(heard, words(line)) >= ECHO_SHARE * len(heard)
               for line in caller_lines[-RECENT_UTTERANCES:])


def split_echoes(text: str, caller_lines: Sequence[str]) -> tuple[str, int]:
    """`text` without the sentences that echo the caller, and how many were taken out."""
    kept, echoed = [], 0
    for sentence in _SENTENCE_END.split(text.strip()):
        if sentence and is_echo(sentence, caller_lines):
            echoed += 1
        elif sentence:
            kept.append(sentence)
    return " ".join(kept), echoed


def _in_order(heard: list[str], said: list[str]) -> int:
    """How many of `heard` match words of `said` in the same order: the longest common subsequence."""
    previous = [0] * (len(said) + 1)
    for word in heard:
        current = [0]
        for index, other in enumerate(said):
            current.append(previous[index] + 1 if _same_word(word, other) else max(previous[index + 1], current[-1]))
        previous = current
    return previous[-1]


def _same_word(heard: str, said: str) -> bool:
    """Equal, or one letter apart (added, dropped or changed) in words long enough to be misheard that way."""
    if heard == said:
        return True
    if min(len(heard), len(said)) < 3 or abs(len(heard) - len(said)) > 1:
        return False
    if len(heard) == len(said):
        return sum(a != b for a, b in zip(heard, said)) == 1
    short, long_ = sorted((heard, said), key=len)
    return any(long_[:index] + long_[index + 1:] == short for index in range(len(long_)))
