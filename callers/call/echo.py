"""Whether a sentence the caller heard from the agent is only the caller's own words coming back.

A bridge or bot that loops the caller's audio back makes the caller hear its own line, and a goal's keywords
in that line would then count as the agent's statement. A heard sentence is an echo when most of its content
words appear, in the same order, in one of the caller's recent utterances, each word matched exactly or
within one letter (a recogniser's mishearing: "card" heard as "car"). Only sentences that are essentially
the caller's line qualify: an agent repeating a detail inside its own sentence adds words of its own.
"""
from __future__ import annotations

import re
from typing import Sequence

ECHO_NOTE = "bot echoed the caller's words"
# A sentence is an echo when at least this share of its content words follow a recent caller utterance, in
# order, and at least MIN_ECHO_WORDS of them do (a one-word "yes" proves nothing).
ECHO_SHARE = 0.8
MIN_ECHO_WORDS = 2
# How many of the caller's latest utterances an echo is looked for in.
RECENT_UTTERANCES = 3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9']+")
# Words that carry no content on their own: the agent and the caller both use them all the time.
_FUNCTION_WORDS = frozenset("""
a an the and or but so if then to of in on at for with from by as is are was were be been am do does did
can could will would shall should may might must have has had i i'm i've i'd me my mine you you're your yours
we our us he she it it's its they them their this that these those there here what which who how when where
why not no yes please just um uh er hmm oh okay ok well like
""".split())


def content_words(text: str) -> list[str]:
    """The words of `text` that say something, lower-cased, in order."""
    return [word for word in _WORD.findall(text.lower()) if word not in _FUNCTION_WORDS]


def is_echo(sentence: str, caller_lines: Sequence[str]) -> bool:
    """Whether `sentence` is essentially one of `caller_lines` heard back (see the module docstring)."""
    heard = content_words(sentence)
    if len(heard) < MIN_ECHO_WORDS:
        return False
    for line in caller_lines[-RECENT_UTTERANCES:]:
        matched = _in_order(heard, content_words(line))
        if matched >= MIN_ECHO_WORDS and matched >= ECHO_SHARE * len(heard):
            return True
    return False


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
    """How many of `heard` match words of `said` in the same order (greedy, each `said` word used once)."""
    matched, at = 0, 0
    for word in heard:
        for index in range(at, len(said)):
            if _same_word(word, said[index]):
                matched, at = matched + 1, index + 1
                break
    return matched


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
