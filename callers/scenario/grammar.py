"""The English a goal tracker needs to read what the caller heard: sentences and clauses, questions,
requests, hedges and negation, light stemming, and whether a cue's words stand together in a sentence.

This is language, not domain vocabulary, so it lives in code; what a criterion's words mean is data
(vocabulary.py reads goal_vocabulary.toml), and how the two decide a goal is goals.py's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

# Moods a criterion can ask for: told as a fact, asked of the caller, or merely said (not negated).
STATEMENT = "statement"
REQUEST = "request"
ANY = "any"
MOODS = (STATEMENT, REQUEST, ANY)

NEGATIONS = frozenset({"not", "no", "never", "cannot", "unable", "nothing", "neither", "nor",
                       "cant", "wont", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "havent", "hasnt"})
NEGATION_SUFFIX = "n't"
# Negative words that do not negate anything ("no problem, I've ordered it").
HARMLESS_NEGATIONS = re.compile(r"\b(?:no problem|no worries|not a problem|no trouble|not at all)\b")
# A clause ends at these words or punctuation; negation reaches only to the end of its clause.
CLAUSE_WORDS = frozenset({"and", "but", "so", "because", "although", "though", "while", "however", "or",
                          "plus", "then"})
CLAUSE_PUNCTUATION = frozenset({",", ";", ":"})
# Skipped at the start of a clause before looking for a question opener ("Okay, thank you, can you ...").
FILLERS = (("thank", "you"), ("thanks",), ("okay",), ("ok",), ("alright",), ("all", "right"), ("right",),
           ("so",), ("well",), ("now",), ("great",), ("perfect",), ("sure",), ("um",), ("uh",), ("oh",),
           ("and",), ("or",), ("also",), ("just",), ("then",))
AUXILIARIES = frozenset({"can", "could", "would", "will", "do", "does", "did", "may", "shall", "should",
                         "is", "are", "was", "were", "have", "has", "might"})
SUBJECTS = frozenset({"you", "i", "we", "there", "that", "this", "it", "he", "she", "they", "your"})
WH_WORDS = frozenset({"what", "which", "when", "where", "who", "whom", "whose", "why", "how"})
WH_CONTRACTIONS = frozenset({"what's", "where's", "when's", "who's", "how's", "which's"})
# After a wh-word these make it a question ("what kind of card ..."); "when your card arrives" is not one.
WH_FOLLOWERS = AUXILIARIES | frozenset({"kind", "type", "sort", "much", "many", "long", "often"})
# An unpunctuated transcript is split before these, so "... ordered your card is there anything else"
# keeps its statement apart from its question.
EMBEDDED_QUESTION = re.compile(
    r"\s+(?=(?:(?:can|could|would|will|do|did|may|shall|should)\s+(?:you|i|we)|is\s+there|are\s+you"
    r"|what(?:'s|\s+is)\s+your)\b)")
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
# Hedges, offers and look-ups: what follows them in the sentence has not happened yet.
TENTATIVE_MARKERS = (
    ("i", "can"), ("we", "can"), ("i", "could"), ("we", "could"), ("if",), ("unless",), ("once",),
    ("would", "you", "like"), ("do", "you", "want"), ("i'd", "be", "happy"), ("happy", "to"), ("glad", "to"),
    ("let", "me", "check"), ("let", "me", "look"), ("let", "me", "see"), ("let", "me", "pull"),
    ("let", "me", "find"), ("let", "me", "verify"), ("let", "me", "get"), ("one", "moment"), ("hold", "on"),
    ("bear", "with"), ("i'll", "check"), ("i'll", "look"), ("i", "will", "check"), ("i", "will", "look"),
    ("i'm", "checking"), ("i'm", "looking"), ("before", "i"), ("before", "we"), ("maybe",), ("might",),
    ("possibly",), ("try", "to"),
)
# "I can confirm / I can see that ..." report a fact rather than offer one: marker -> words that cancel it.
TENTATIVE_EXCEPTIONS = {("i", "can"): frozenset({"confirm", "see"}), ("we", "can"): frozenset({"confirm", "see"})}
# Requests for something from the caller: what follows is asked for, not told.
REQUEST_MARKERS = (
    ("please", "tell"), ("please", "give"), ("please", "provide"), ("please", "confirm"), ("please", "read"),
    ("please", "say"), ("please", "spell"), ("please", "enter"), ("please", "share"), ("tell", "me"),
    ("give", "me"), ("read", "me"), ("i", "need"), ("i'll", "need"), ("i", "will", "need"), ("we", "need"),
    ("we'll", "need"), ("i", "just", "need"), ("i'd", "need"), ("can", "i", "have"), ("may", "i", "have"),
    ("could", "i", "have"), ("i'd", "like", "your"), ("key", "in"), ("type", "in"),
)
# Heard sentences whose analysis is kept: agents say the same sentences call after call ("Is there anything
# else I can help you with?"), and a worker with hundreds of calls would analyse each one again every turn.
ANALYSED_SENTENCES = 4096
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[,;:]")
_DIGIT_GROUPING = re.compile(r"(?<=\d),(?=\d)")
_VOWELS = frozenset("aeiouy")


def stem(word: str) -> str:
    """Light suffix stripping so "delivered", "delivers" and "delivering" meet; applied alike to criteria,
    cues and heard words, so only consistency matters, not linguistic correctness."""
    if word.endswith("'s"):
        word = word[:-2]
    if "'" in word or len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and not word.endswith("eed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "ss", "z")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def _normalize(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _DIGIT_GROUPING.sub("", text).replace("%", " percent ").replace("&", " and ")
    return HARMLESS_NEGATIONS.sub(" ", text)


def word_list(text: str) -> list[str]:
    """The words of a criterion or cue, normalized as heard text is (clause punctuation dropped)."""
    return [token for token in _TOKEN.findall(_normalize(text)) if token not in CLAUSE_PUNCTUATION]


def stemmed_phrase(text: str) -> tuple[str, ...]:
    """A term or cue as the stems it is matched on."""
    return tuple(stem(word) for word in word_list(text))


@dataclass(frozen=True)
class Sentence:
    """One heard sentence: its stemmed words and, per word, which moods it can support. Read-only: one
    analysis is shared by every call that hears the sentence."""

    text: str
    stems: tuple[str, ...]
    told: tuple[bool, ...]  # a plain statement: not asked, not hedged, not negated
    asked: tuple[bool, ...]  # asked of the caller, not negated
    said: tuple[bool, ...]  # anything not negated
    starts: dict[str, list[int]]  # stem -> where it stands: a cue is only tried where its first word is

    def ok(self, mood: str) -> tuple[bool, ...]:
        return {STATEMENT: self.told, REQUEST: self.asked, ANY: self.said}[mood]

    def has(self, cue: tuple[str, ...], allowed: Optional[tuple[bool, ...]] = None) -> bool:
        """Whether the words of `cue` (never empty) stand together here, starting on an `allowed` word."""
        width = len(cue)
        stems = self.stems
        for i in self.starts.get(cue[0], ()):
            if stems[i:i + width] == cue and (allowed is None or allowed[i]):
                return True
        return False


def split_sentences(text: str) -> list[str]:
    """Sentences of heard text; a transcript without any punctuation is also cut before embedded questions."""
    parts = [part.strip() for part in SENTENCE_BREAK.split(text) if part.strip()]
    if not re.search(r"[.!?]", text):
        parts = [piece.strip() for part in parts for piece in EMBEDDED_QUESTION.split(part) if piece.strip()]
    return parts


def _starts_with(words: list[str], start: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[start:start + len(phrase)]) == phrase


def _opens_question(words: list[str]) -> bool:
    """Does a clause begin like a question ("can you ...", "what is ...", "is there ...")?"""
    start = 0
    skipped = True
    while skipped:
        skipped = False
        for filler in FILLERS:
            if _starts_with(words, start, filler) and start + len(filler) < len(words):
                start += len(filler)
                skipped = True
                break
    if start >= len(words):
        return False
    first = words[start]
    following = words[start + 1] if start + 1 < len(words) else ""
    if first in WH_CONTRACTIONS:
        return True
    if first in WH_WORDS:
        return following in WH_FOLLOWERS
    return first in AUXILIARIES and following in SUBJECTS


def _by_first_word(markers: tuple[tuple[str, ...], ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Markers grouped by their first word, in their own order: a word is only tried against its markers."""
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for marker in markers:
        grouped.setdefault(marker[0], []).append(marker)
    return {word: tuple(group) for word, group in grouped.items()}


_REQUEST_MARKERS_BY_WORD = _by_first_word(REQUEST_MARKERS)
_TENTATIVE_MARKERS_BY_WORD = _by_first_word(TENTATIVE_MARKERS)


def _first_marker(words: list[str], markers_by_word: dict[str, tuple[tuple[str, ...], ...]],
                  exceptions: Optional[dict[tuple[str, ...], frozenset[str]]] = None) -> int:
    """Index of the first word of the earliest marker in the sentence, or len(words) if none."""
    exceptions = exceptions or {}
    for index, word in enumerate(words):
        for marker in markers_by_word.get(word, ()):
            if _starts_with(words, index, marker):
                after = index + len(marker)
                if after < len(words) and words[after] in exceptions.get(marker, ()):
                    continue
                return index
    return len(words)


@lru_cache(maxsize=ANALYSED_SENTENCES)
def analyse(text: str) -> Sentence:
    """One heard sentence read once into stems and per-word mood flags (cached: agents repeat themselves)."""
    ends_in_question = text.rstrip().endswith("?")
    words: list[str] = []
    clause_of: list[int] = []
    clause = 0
    for token in _TOKEN.findall(_normalize(text)):
        if token in CLAUSE_PUNCTUATION:
            clause += 1
            continue
        if token in CLAUSE_WORDS and words:
            clause += 1
        words.append(token)
        clause_of.append(clause)
    clause_count = clause + 1
    questioning = [False] * clause_count
    in_question = False
    for number in range(clause_count):
        clause_words = [w for w, c in zip(words, clause_of) if c == number]
        in_question = in_question or _opens_question(clause_words)
        questioning[number] = in_question
    if ends_in_question:
        questioning[clause_of[-1] if words else 0] = True
    request_from = _first_marker(words, _REQUEST_MARKERS_BY_WORD)
    hedge_from = _first_marker(words, _TENTATIVE_MARKERS_BY_WORD, TENTATIVE_EXCEPTIONS)
    negated: list[bool] = []
    for index, word in enumerate(words):
        starts_clause = index == 0 or clause_of[index] != clause_of[index - 1]
        carried = not starts_clause and negated[index - 1]
        negated.append(carried or word in NEGATIONS or word.endswith(NEGATION_SUFFIX))
    asked = [questioning[clause_of[i]] or i >= request_from for i in range(len(words))]
    stems = tuple(stem(word) for word in words)
    starts: dict[str, list[int]] = {}
    for index, word_stem in enumerate(stems):
        starts.setdefault(word_stem, []).append(index)
    return Sentence(
        text=text.strip(),
        stems=stems,
        told=tuple(not (asked[i] or negated[i] or i >= hedge_from) for i in range(len(words))),
        asked=tuple(asked[i] and not negated[i] for i in range(len(words))),
        said=tuple(not negated[i] for i in range(len(words))),
        starts=starts,
    )
