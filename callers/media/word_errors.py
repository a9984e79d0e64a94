"""Word error rate: how far what a recogniser heard is from what was really said.

The caller knows every word it spoke, so when a bridge reports what its recogniser heard
(`userStream.speech.recognition`) the agent's hearing can be scored per turn and per call. The same scoring
backs bench/ear_accuracy.py (our own ear on the agent's voice), so both numbers mean the same thing.

Normalisation decides what counts as an error, so it is the one Whisper's authors published for scoring
(the whisper-normalizer package's EnglishTextNormalizer), applied to both sides alike: case and punctuation
do not count, contractions are expanded ("you're" == "you are"), numbers, currency, percentages and
ordinals become digits ("two hundred dollars" == "$200", "third" == "3rd"), British spellings become
American, and hesitation fillers are dropped ("um": a recogniser that leaves out a caller's "um" heard it
right). On top of it, two ways recognisers write numbers that the normaliser keeps apart are brought to the
spoken form first (a range "2-3" is "2 to 3"; digits read one by one, "4 5 7 1", are "4571"), and a compound
written as one word on one side and as parts on the other ("overdraft" / "over-draft" / "over draft") counts
as the same word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from whisper_normalizer.english import EnglishTextNormalizer

# Fillers the published normaliser keeps (it drops hmm, mm, mhm, mmm, uh, um).
FILLERS = frozenset({"umm", "uhh", "er", "erm", "ah"})
# A compound is joined from at most this many parts ("e mail", "a b c").
MAX_COMPOUND_PARTS = 3
# "2-3 business days", "Monday to Friday 9-5": small numbers either side of a hyphen are a range, said "to"
# (a longer digit group, "555-1234", is a code and left alone).
_RANGE = re.compile(r"\b(\d{1,2})\s*-\s*(\d{1,2})\b")
_SPACED_DIGITS = re.compile(r"\b\d(?:[ ,]+\d\b)+")
# Built at import (its spelling table and patterns take a while), so the first scored turn of a call does not
# stall the other callers' audio pacing while it loads.
_NORMALISER = EnglishTextNormalizer()


def normalized_words(text: str) -> list[str]:
    """The words of `text` as they are compared: normalised, fillers dropped."""
    text = _RANGE.sub(r"\1 to \2", text)
    text = _SPACED_DIGITS.sub(lambda digits: re.sub(r"[ ,]", "", digits.group()), text)
    return [word for word in _NORMALISER(text).split() if word not in FILLERS]


def join_compounds(words: list[str], other_words: Iterable[str]) -> list[str]:
    """`words` with runs of 2..MAX_COMPOUND_PARTS adjacent words joined where the other side has the joined
    form as one word: "over draft" becomes "overdraft" when the other side says "overdraft"."""
    vocabulary = set(other_words)
    joined: list[str] = []
    index = 0
    while index < len(words):
        for parts in range(min(MAX_COMPOUND_PARTS, len(words) - index), 1, -1):
            compound = "".join(words[index:index + parts])
            if compound in vocabulary:
                joined.append(compound)
                index += parts
                break
        else:
            joined.append(words[index])
            index += 1
    return joined


def comparable(said: str, heard: str) -> tuple[list[str], list[str]]:
    """Both sides normalised and their compounds joined against each other (symmetric)."""
    reference, hypothesis = normalized_words(said), normalized_words(heard)
    return join_compounds(reference, hypothesis), join_compounds(hypothesis, reference)


def word_edits(reference: list[str], heard: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    previous = list(range(len(heard) + 1))
    for ref_index, ref_word in enumerate(reference, start=1):
        current = [ref_index]
        for heard_index, heard_word in enumerate(heard, start=1):
            current.append(min(previous[heard_index] + 1, current[heard_index - 1] + 1,
                               previous[heard_index - 1] + (ref_word != heard_word)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class WordScore:
    """Errors and reference words of one or more utterances: rates are formed from sums, so a long
    utterance weighs by its words rather than counting as much as a one-word answer."""

    errors: int
    words: int

    @property
    def wer(self) -> Optional[float]:
        return round(self.errors / self.words, 4) if self.words else None


def score(said: str, heard: str) -> WordScore:
    """How well `heard` matches `said`, after normalisation; the words are the reference's as compared
    (a compound counts once)."""
    reference, hypothesis = comparable(said, heard)
    return WordScore(word_edits(reference, hypothesis), len(reference))


def combined_wer(scores: Iterable[tuple[Optional[int], Optional[int]]]) -> Optional[float]:
    """WER over many (errors, words) pairs; pairs with a None (turns nobody scored) are left out."""
    pairs = [(errors, words) for errors, words in scores if errors is not None and words]
    return WordScore(sum(e for e, _ in pairs), sum(w for _, w in pairs)).wer if pairs else None
