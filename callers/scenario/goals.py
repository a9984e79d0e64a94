"""What the caller wants, and whether it heard the agent deliver it.

Goals are judged on what the caller HEARD (the Ear's transcript or the bridge's altText), never on what
the agent meant, because that is all a real caller has. Agents word things in many ways and transcripts
lose case and punctuation, so a criterion is not matched as a string. Instead:

1. A criterion ("delivery confirmed") is compiled once into CONCEPTS plus a MOOD, using the vocabulary in
   goal_vocabulary.toml (data, read by vocabulary.py: extend it when you write new criteria). "delivery"
   names the concept `delivery`, whose cues include "deliver", "arrive", "on its way", "business days";
   "confirmed" is a statement-mood word. Words the vocabulary does not know are concepts of their own, so a criterion
   nobody added vocabulary for still works when the agent uses its words.
2. What the agent said is split into sentences (and, for unpunctuated transcripts, before embedded
   questions such as "... is there anything else"), then into clauses. Every word is stemmed lightly and
   given flags from English grammar (grammar.py): inside a question, after a request ("please
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

from dataclasses import dataclass, field
from typing import Optional

from callers.scenario.grammar import STATEMENT, Sentence, analyse, split_sentences, stem, word_list
from callers.scenario.vocabulary import Concept, Vocabulary, default_vocabulary

CRITERION = "criterion"
SECONDARY = "secondary"
DEFAULT_MAX_TURNS = 12
# Longest term (in words) looked up when reading a criterion, e.g. "full card number".
MAX_TERM_WORDS = 4


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


@dataclass(frozen=True)
class GoalPattern:
    """A criterion or failure condition compiled against a vocabulary; see the module docstring."""

    text: str
    alternatives: tuple[tuple[Concept, ...], ...]  # any alternative, all of its concepts
    mood: str
    while_unmet: bool  # failure conditions with "without ...": only while the success criteria are unmet

    def heard_in(self, sentence: Sentence) -> bool:
        allowed = sentence.ok(self.mood)
        return any(all(self._concept_heard(concept, sentence, allowed) for concept in alternative)
                   for alternative in self.alternatives)

    @staticmethod
    def _concept_heard(concept: Concept, sentence: Sentence, allowed: tuple[bool, ...]) -> bool:
        if any(sentence.has(cue) for cue in concept.unless):
            return False
        return any(sentence.has(cue, allowed) for cue in concept.cues)


def compile_goal(text: str, vocabulary: Optional[Vocabulary] = None) -> GoalPattern:
    """Read a criterion's words into concepts and a mood (longest vocabulary term first)."""
    vocabulary = vocabulary or default_vocabulary()
    words = word_list(text)
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
        sentences = [analyse(text) for text in split_sentences(heard_text or "")]
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
