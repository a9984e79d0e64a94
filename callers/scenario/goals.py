"""What the caller wants, and whether it heard the agent deliver it.

Goals are judged on what the caller HEARD (the Ear's transcript or the bridge's altText), never on what
the agent meant, because that is all a real caller has. Agents word things in many ways and transcripts
lose case and punctuation, so a criterion is not matched as a string. Instead:

1. A criterion ("delivery confirmed") is compiled once into CONCEPTS plus a MOOD, using the vocabulary in
   goal_vocabulary.toml (data: extend it when you write new criteria). "delivery" names the concept
   `delivery`, whose cues include "deliver", "arrive", "on its way", "business days"; "confirmed" is a
   statement-mood word. Words the vocabulary does not know are concepts of their own, so a criterion
   nobody added vocabulary for still works when the agent uses its words.
2. What the agent said is split into sentences (and, for unpunctuated transcripts, before embedded
   questions such as "... is there anything else"), then into clauses. Every word is stemmed lightly and
   given flags from English grammar held in this module: inside a question, after a request ("please
   tell me", "I'll need"), after a hedge or offer ("I can", "if you'd like", "let me check"), after a
   negation in its clause ("I can't order").
3. A criterion is met when, in ONE sentence, a cue of every concept occurs at a word whose flags suit the
   mood: a statement must be told, not asked, offered, hedged or negated ("Would you like a new card?"
   orders nothing); a request ("asked for ... PIN") must be asked; `any` only excludes negation.

Failure conditions use the same machinery; "without ..." in one ("transferred without resolution") means
it only counts while the success criteria are not all met. Each met goal records the turn and the sentence
that met it, so a report can show why a verdict was reached.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

from callers.errors import ConfigError
from callers.scenario.datafiles import read_toml

VOCABULARY_FILE = Path(__file__).with_name("goal_vocabulary.toml")

CRITERION = "criterion"
SECONDARY = "secondary"
STATEMENT = "statement"
REQUEST = "request"
ANY = "any"
MOODS = (STATEMENT, REQUEST, ANY)
DEFAULT_MAX_TURNS = 12
# Longest term (in words) looked up when reading a criterion, e.g. "full card number".
MAX_TERM_WORDS = 4

# ---- English grammar the matcher relies on (language, not domain vocabulary, so it lives in code) ------
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


@dataclass
class CallerGoal:
    """What a caller wants from the call and how a listener can tell it got it."""

    primary_goal: str
    secondary_goals: list[str] = field(default_factory=list)
    success_criteria: list[str] = field(default_factory=list)
    failure_conditions: list[str] = field(default_factory=list)
    max_conversation_turns: int = DEFAULT_MAX_TURNS

    def __post_init__(self) -> None:
        if not isinstance(self.primary_goal, str) or not self.primary_goal.strip():
            raise ValueError("a goal needs a primary_goal in words")
        if isinstance(self.max_conversation_turns, bool) or not isinstance(self.max_conversation_turns, int) \
                or self.max_conversation_turns < 1:
            raise ValueError(f"max_conversation_turns must be a whole number >= 1, got {self.max_conversation_turns!r}")


@dataclass
class GoalStatus:
    """One tracked goal; `evidence` is the heard sentence that met it, so a verdict can be checked by eye."""

    description: str
    kind: str  # CRITERION or SECONDARY
    met: bool = False
    evidence_turn: Optional[int] = None
    evidence: Optional[str] = None

    def to_dict(self) -> dict:
        return {"description": self.description, "kind": self.kind, "met": self.met,
                "evidence_turn": self.evidence_turn, "evidence": self.evidence}


# ---- vocabulary -------------------------------------------------------------------------------------------

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


def _words(text: str) -> list[str]:
    return [token for token in _TOKEN.findall(_normalize(text)) if token not in CLAUSE_PUNCTUATION]


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(stem(word) for word in _words(text))


@dataclass(frozen=True)
class Concept:
    """Something a criterion needs to hear, and the word sequences (stemmed) that say it."""

    name: str
    cues: tuple[tuple[str, ...], ...]
    unless: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    concepts: dict[str, Concept]
    terms: dict[tuple[str, ...], str]  # stemmed criterion words -> concept name
    moods: dict[str, str]  # stemmed mood word -> STATEMENT / REQUEST / ANY
    ignore: frozenset[str]  # stemmed words without meaning of their own


def _string_list(value: object, path: Path, entry: str, name: str, required: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value) \
            or (required and not value):
        raise ConfigError(str(path), "must be a non-empty list of non-empty strings", entry=entry, field=name)
    return value


def load_vocabulary(path: Union[str, Path] = VOCABULARY_FILE) -> Vocabulary:
    """Read a goal vocabulary file; a term claimed by two concepts is an error, not a silent preference."""
    path = Path(path)
    data = read_toml(path, "goal vocabulary")
    moods: dict[str, str] = {}
    raw_moods = data.get("moods", {})
    if not isinstance(raw_moods, dict):
        raise ConfigError(str(path), "must be a table of mood word lists", entry="moods")
    for mood, words in raw_moods.items():
        if mood not in MOODS:
            raise ConfigError(str(path), f"unknown mood (known: {', '.join(MOODS)})", entry="moods", field=mood)
        moods.update({stem(word): mood for word in _string_list(words, path, "moods", mood)})
    raw_words = data.get("words", {})
    if not isinstance(raw_words, dict):
        raise ConfigError(str(path), "must be a table with an ignore list", entry="words")
    ignore = frozenset(stem(word) for word in _string_list(raw_words.get("ignore", []), path, "words", "ignore",
                                                              required=False))
    raw_concepts = data.get("concepts")
    if not isinstance(raw_concepts, dict) or not raw_concepts:
        raise ConfigError(str(path), "the file needs [concepts.NAME] tables", entry="concepts")
    concepts: dict[str, Concept] = {}
    terms: dict[tuple[str, ...], str] = {}
    for name, spec in raw_concepts.items():
        entry = f"concepts.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(str(path), "must be a table with terms and cues", entry=entry)
        unknown = set(spec) - {"terms", "cues", "unless"}
        if unknown:
            raise ConfigError(str(path), "unknown field (known: terms, cues, unless)", entry=entry,
                              field=sorted(unknown)[0])
        for term in _string_list(spec.get("terms"), path, entry, "terms"):
            key = _phrase(term)
            owner = terms.get(key)
            if owner is not None and owner != name:
                raise ConfigError(str(path), f"term '{term}' already belongs to concept '{owner}'",
                                  entry=entry, field="terms")
            if len(key) == 1 and (key[0] in moods or key[0] in ignore):
                raise ConfigError(str(path), f"term '{term}' is also a mood or ignored word", entry=entry,
                                  field="terms")
            terms[key] = name
        cues = _cue_phrases(_string_list(spec.get("cues"), path, entry, "cues"), path, entry, "cues")
        unless = _cue_phrases(_string_list(spec.get("unless", []), path, entry, "unless", required=False), path,
                              entry, "unless")
        concepts[name] = Concept(name, cues, unless)
    return Vocabulary(concepts, terms, moods, ignore)


def _cue_phrases(cues: list[str], path: Path, entry: str, name: str) -> tuple[tuple[str, ...], ...]:
    """Stemmed cues; a cue without a single word (only punctuation) could never be heard, so it is an error."""
    phrases = tuple(_phrase(cue) for cue in cues)
    for cue, phrase in zip(cues, phrases):
        if not phrase:
            raise ConfigError(str(path), f"cue '{cue}' has no words", entry=entry, field=name)
    return phrases


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, read once per process (every call's tracker shares it)."""
    return load_vocabulary(VOCABULARY_FILE)


# ---- what was heard ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Sentence:
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


def _split_sentences(text: str) -> list[str]:
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
def _analyse(text: str) -> _Sentence:
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
    return _Sentence(
        text=text.strip(),
        stems=stems,
        told=tuple(not (asked[i] or negated[i] or i >= hedge_from) for i in range(len(words))),
        asked=tuple(asked[i] and not negated[i] for i in range(len(words))),
        said=tuple(not negated[i] for i in range(len(words))),
        starts=starts,
    )


# ---- criteria ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GoalPattern:
    """A criterion or failure condition compiled against a vocabulary; see the module docstring."""

    text: str
    alternatives: tuple[tuple[Concept, ...], ...]  # any alternative, all of its concepts
    mood: str
    while_unmet: bool  # failure conditions with "without ...": only while the success criteria are unmet

    def heard_in(self, sentence: _Sentence) -> bool:
        allowed = sentence.ok(self.mood)
        return any(all(self._concept_heard(concept, sentence, allowed) for concept in alternative)
                   for alternative in self.alternatives)

    @staticmethod
    def _concept_heard(concept: Concept, sentence: _Sentence, allowed: tuple[bool, ...]) -> bool:
        if any(sentence.has(cue) for cue in concept.unless):
            return False
        return any(sentence.has(cue, allowed) for cue in concept.cues)


def compile_goal(text: str, vocabulary: Optional[Vocabulary] = None) -> GoalPattern:
    """Read a criterion's words into concepts and a mood (longest vocabulary term first)."""
    vocabulary = vocabulary or default_vocabulary()
    words = _words(text)
    while_unmet = "without" in words
    if while_unmet:
        words = words[:words.index("without")]
    segments: list[list[str]] = [[]]
    for word in words:
        if word == "or":
            segments.append([])
        else:
            segments[-1].append(word)
    mood: Optional[str] = None
    alternatives: list[tuple[Concept, ...]] = []
    for segment in segments:
        stems = [stem(word) for word in segment]
        concepts: dict[str, Concept] = {}
        index = 0
        while index < len(stems):
            for width in range(min(MAX_TERM_WORDS, len(stems) - index), 0, -1):
                name = vocabulary.terms.get(tuple(stems[index:index + width]))
                if name is not None:
                    concepts[name] = vocabulary.concepts[name]
                    index += width
                    break
            else:
                word = stems[index]
                if word in vocabulary.moods:
                    mood = mood or vocabulary.moods[word]
                elif word not in vocabulary.ignore:
                    concepts.setdefault(word, Concept(word, ((word,),)))
                index += 1
        if concepts:
            alternatives.append(tuple(concepts.values()))
    return GoalPattern(text, tuple(alternatives), mood or STATEMENT, while_unmet)


def criterion_problem(text: str, vocabulary: Optional[Vocabulary] = None) -> Optional[str]:
    """Why `text` cannot be a criterion (None: it can). A criterion made only of mood and filler words would
    compile to nothing to listen for, and could never be met, whatever the agent said; words the vocabulary
    does not know are fine, they are listened for as they are (see the module docstring)."""
    if compile_goal(text, vocabulary).alternatives:
        return None
    return (f"'{text}' has no words goal tracking can listen for (only mood or filler words); name what the "
            "agent should say")


class GoalTracker:
    """Follows one call's goal turn by turn: which criteria the caller has heard met, and any failure.

    With no success criteria the primary goal's own words are the criterion, so a goal written only as a
    sentence ("Get overdraft fees removed") can still succeed.
    """

    def __init__(self, goal: CallerGoal, vocabulary: Optional[Vocabulary] = None) -> None:
        vocabulary = vocabulary or default_vocabulary()
        self.goal = goal
        criteria = goal.success_criteria or [goal.primary_goal]
        self.statuses: list[GoalStatus] = ([GoalStatus(text, CRITERION) for text in criteria]
                                           + [GoalStatus(text, SECONDARY) for text in goal.secondary_goals])
        self._patterns = [compile_goal(status.description, vocabulary) for status in self.statuses]
        self._failures = [compile_goal(text, vocabulary) for text in goal.failure_conditions]
        self.failure: Optional[str] = None
        self.failure_turn: Optional[int] = None
        self.failure_evidence: Optional[str] = None

    def observe(self, turn: int, heard_text: str) -> list[GoalStatus]:
        """Judge one agent turn; returns the goals it newly met. Criteria are judged before failures, so a
        turn that resolves the problem and then hands over is not a transfer "without resolution"."""
        sentences = [_analyse(text) for text in _split_sentences(heard_text or "")]
        newly_met: list[GoalStatus] = []
        for status, pattern in zip(self.statuses, self._patterns):
            if status.met:
                continue
            hit = next((sentence for sentence in sentences if pattern.heard_in(sentence)), None)
            if hit is not None:
                status.met, status.evidence_turn, status.evidence = True, turn, hit.text
                newly_met.append(status)
        if self.failure is None:
            for pattern in self._failures:
                if pattern.while_unmet and self.primary_met:
                    continue
                hit = next((sentence for sentence in sentences if pattern.heard_in(sentence)), None)
                if hit is not None:
                    self.failure, self.failure_turn, self.failure_evidence = pattern.text, turn, hit.text
                    break
        return newly_met

    @property
    def primary_met(self) -> bool:
        """All success criteria heard (the call's success also needs no failure and no error)."""
        return all(status.met for status in self.statuses if status.kind == CRITERION)

    @property
    def achieved(self) -> int:
        return sum(status.met for status in self.statuses)

    @property
    def total(self) -> int:
        return len(self.statuses)

    def unmet(self) -> list[GoalStatus]:
        return [status for status in self.statuses if not status.met]
