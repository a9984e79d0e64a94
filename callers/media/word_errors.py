"""Word error rate: how far what a recogniser heard is from what was really said.

The caller knows every word it spoke, so when a bridge reports what its recogniser heard
(`userStream.speech.recognition`) the agent's hearing can be scored per turn and per call. The same scoring
backs bench/ear_accuracy.py (our own ear on the agent's voice), so both numbers mean the same thing.

Normalisation decides what counts as an error, so it follows common WER practice: case and punctuation do not
count, numbers are compared as words ("$2,412" == "two thousand four hundred and twelve"), and hesitation
fillers ("um", "uh") are dropped on both sides: a recogniser that leaves out a caller's "um" heard it right.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm", "mm", "ah"})

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                    "nine": "ninth", "twelve": "twelfth"}
_NUMBER_WORDS = set(_ONES) | set(_TENS[2:]) | {"hundred", "thousand", "million"}
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?|[a-z']+")


def cardinal_words(number: int) -> list[str]:
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        return [_TENS[number // 10]] + ([_ONES[number % 10]] if number % 10 else [])
    size, name = next((size, name) for size, name in _SCALES if number >= size)
    rest = number % size
    return cardinal_words(number // size) + [name] + (cardinal_words(rest) if rest else [])


def ordinal_words(number: int) -> list[str]:
    words = cardinal_words(number)
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        words[-1] = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def digits_to_words(token: str) -> list[str]:
    """Recognisers' number formats, minimally: "$2,412" (amounts carry commas), "1950" (years are read in
    pairs), "4571" (other long digit strings are references, read digit by digit), "3rd", "6.9"."""
    ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", token)
    if ordinal:
        return ordinal_words(int(ordinal.group(1)))
    if "." in token:
        whole, _, fraction = token.partition(".")
        return digits_to_words(whole or "0") + ["point"] + [_ONES[int(digit)] for digit in fraction]
    if "," in token:
        return cardinal_words(int(token.replace(",", "")))
    number = int(token)
    if len(token) == 4 and 2000 <= number <= 2009:
        return cardinal_words(number)
    if len(token) == 4 and (1100 <= number <= 1999 or 2010 <= number <= 2099):
        high, low = divmod(number, 100)
        if low == 0:
            return cardinal_words(high) + ["hundred"]
        return cardinal_words(high) + (["oh"] if low < 10 else []) + cardinal_words(low)
    if len(token) >= 4:
        return [_ONES[int(digit)] for digit in token]
    return cardinal_words(number)


def normalized_words(text: str) -> list[str]:
    """Lower-case words with numbers spelled out and fillers dropped; "and" between number words is dropped
    because a recogniser's "$2,412" carries no "and" while the spoken "two thousand four hundred and twelve"
    does."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = text.replace("%", " percent")
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token[0].isdigit():
            words.extend(digits_to_words(token.rstrip(",")))
        elif token.strip("'") and token.strip("'") not in FILLERS:
            words.append(token.strip("'"))
    return [word for index, word in enumerate(words)
            if not (word == "and" and 0 < index < len(words) - 1
                    and words[index - 1] in _NUMBER_WORDS and words[index + 1] in _NUMBER_WORDS)]


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
    """How well `heard` matches `said`, after normalisation."""
    reference = normalized_words(said)
    return WordScore(word_edits(reference, normalized_words(heard)), len(reference))


def combined_wer(scores: Iterable[tuple[Optional[int], Optional[int]]]) -> Optional[float]:
    """WER over many (errors, words) pairs; pairs with a None (turns nobody scored) are left out."""
    pairs = [(errors, words) for errors, words in scores if errors is not None and words]
    return WordScore(sum(e for e, _ in pairs), sum(w for _, w in pairs)).wer if pairs else None
