"""What the caller wants, and whether it heard the agent deliver it.

Goals are judged on what the caller HEARD (the Ear's transcript or the bridge's altText), never on what
the agent meant, because that is all a real caller has. Agents word things in many ways and transcripts
lose case and punctuation, so a criterion is not matched as a string, and talking ABOUT a thing is not
doing it. Instead:

1. A criterion ("delivery confirmed") is compiled once into CONCEPTS plus a MOOD, using the vocabulary in
   goal_vocabulary.toml (data, read by vocabulary.py: extend it when you write new criteria). "delivery"
   names the concept `delivery`, whose cues include "deliver", "arrive", "on its way", and whose evidence
   is a duration or a date; "confirmed" is a statement-mood word. Words the vocabulary does not know are
   concepts of their own (heard when the word is; a past participle such as "booked" is an act that must
   be reported done), so a criterion nobody added vocabulary for still works when the agent uses its words.
2. What the agent said is split into sentences and clauses, and every word gets flags from English grammar
   (grammar.py): asked, requested, offered or hedged, put to the caller as an instruction, an echo of the
   caller, negated, in a sentence that reports a failure; and every clause whether it reports an act done.
3. In ONE sentence, per concept of the criterion:
   - a statement (the default mood) needs POSITIVE EVIDENCE: an act concept ("ordered", "blocked",
     "refunded") a cue in a clause that reports it done or firmly committed ("I've ordered", "has been
     issued", "is on its way", "we'll reverse it") by the agent, outside offers, hedges, conditions,
     instructions and failures; a fact concept ("balance", "hours") a told cue plus the thing itself (an
     amount, a clock time, a list of services...). A concept with no evidence in the vocabulary (a topic
     such as "card") needs a told cue;
   - a request ("asked for ... PIN") must be asked; `any` ("offered", "mentioned") only excludes negation.
   Every concept with evidence: MET. Every concept at least heard plainly, some only with weak evidence (an
   act in a construction the grammar cannot place, "we order cards through the branch"; a fact with only
   part of what it needs, a weekday but no hours): UNCERTAIN. Anything else: NOT_MET.

Weak evidence is said so: a sentence that turns ("but", "unfortunately") and then negates, or a statement's
MET sentence followed in the same turn by one that reports a failure or a thing still there, gives UNCERTAIN
at most (a later failure unsays no mention or request).
A tracker may take a second opinion (`review`, e.g. the learned judge's veto: callers/scenario/learned_judge.py).

Failure conditions use the same machinery and count only when MET; "without ..." in one ("transferred
without resolution") means it only counts while the success criteria are not all met. Each goal records
the turn and the sentence that met it (or left it uncertain), so a report can show why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from callers.scenario.grammar import (REQUEST, STATEMENT, YOU, Sentence, analyse, split_sentences, stem,
                                      stemmed_phrase, word_list)
from callers.scenario.vocabulary import (DONE, FAILURES, ITEMS, OFFERS, REQUESTS, Concept, Vocabulary,
                                         default_vocabulary)

CRITERION = "criterion"
SECONDARY = "secondary"
DEFAULT_MAX_TURNS = 12
# A goal's verdict: heard done or given, never heard, or heard only under a construction the grammar cannot
# place. Success needs every criterion MET; an UNCERTAIN criterion is shown apart, never counted as met.
MET = "met"
NOT_MET = "not_met"
UNCERTAIN = "uncertain"
_LEVEL = {NOT_MET: 0, UNCERTAIN: 1, MET: 2}
_VERDICT_OF_LEVEL = {level: verdict for verdict, level in _LEVEL.items()}
# Words before an act's cue that make it an intention or the caller's own act, never weak evidence of it.
CALLERS_OWN = frozenset({"to"}) | YOU
# How a call's goals are judged: by the rules alone, or with the learned judge's second opinion
# (callers/scenario/learned_judge.py; its sentence model is an extra install).
RULES = "rules"
LEARNED = "learned"
VERDICT_MODES = (RULES, LEARNED)
# A second opinion on one goal and one heard turn: (goal text, turn text, the rules' verdict) -> the verdict.
Review = Callable[[str, str, str], str]
# Longest term (in words) looked up when reading a criterion, e.g. "full card number".
MAX_TERM_WORDS = 4
# After an act's word these make it the name of a document or process, not the act done.
PAPERWORK = frozenset({"request", "requests", "form", "forms", "claim", "ticket", "application", "process", "policy"})
# "... a request to have the fee refunded": the act is what was asked for, not what was done.
REQUESTED_ACT = (("to", "have"), ("to", "get"))
REQUESTED_ACT_REACH = 5
# "A colleague will call you about replacing it": the act is what the call is about.
ABOUT = frozenset({"about", "regarding", "discuss", "discussing"})
# Words of a hand-over for a further matter, once the caller's own has been dealt with.
ANOTHER_MATTER = ("too", "also", "as well", "separately", "another matter", "other question")


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
    """One tracked goal; `evidence` is the heard sentence that met it (or left it uncertain), so a verdict
    can be checked by eye."""

    description: str
    kind: str  # CRITERION or SECONDARY
    verdict: str = NOT_MET
    evidence_turn: Optional[int] = None
    evidence: Optional[str] = None

    @property
    def met(self) -> bool:
        return self.verdict == MET

    @property
    def uncertain(self) -> bool:
        return self.verdict == UNCERTAIN

    def to_dict(self) -> dict:
        return {"description": self.description, "kind": self.kind, "met": self.met, "verdict": self.verdict,
                "evidence_turn": self.evidence_turn, "evidence": self.evidence}


@dataclass(frozen=True)
class GoalPattern:
    """A criterion or failure condition compiled against a vocabulary; see the module docstring."""

    text: str
    alternatives: tuple[tuple[Concept, ...], ...]  # any alternative, all of its concepts
    mood: str
    while_unmet: bool  # failure conditions with "without ...": only while the success criteria are unmet

    def heard_in(self, sentence: Sentence, before: Sequence[Sentence] = ()) -> bool:
        return self.verdict_in(sentence, before) == MET

    def verdict_in(self, sentence: Sentence, before: Sequence[Sentence] = (),
                   turn: Sequence[Sentence] = ()) -> str:
        """MET, UNCERTAIN or NOT_MET for one heard sentence (the best of the alternatives). A topic the
        statement needs may have been told in an earlier sentence of the same turn (`before`): "I've looked
        at the three charges you flagged. I've reversed all of them." reverses the charges. A vague act's
        other evidence may be anywhere in the `turn` ("Your case has been escalated. Expect a call within 2
        days.")."""
        best = 0
        for alternative in self.alternatives:
            # a topic beside a concept that needs evidence only says what the sentence is about
            anchored = any(concept.evidence for concept in alternative)
            level = min((self._level(concept, sentence, before if anchored else (), anchored, turn)
                         for concept in alternative), default=0)
            best = max(best, level)
        if sentence.doubted:  # a contrast and a negation after it: heard, but not as plain evidence
            best = min(best, _LEVEL[UNCERTAIN])
        return _VERDICT_OF_LEVEL[best]

    def undone_in(self, sentence: Sentence) -> bool:
        """Whether the sentence undoes an act the goal needs ("... so I've reactivated it")."""
        return any(sentence.has(cue) for alternative in self.alternatives for concept in alternative
                   for cue in concept.undo)

    def _level(self, concept: Concept, sentence: Sentence, before: Sequence[Sentence] = (),
               anchored: bool = False, turn: Sequence[Sentence] = ()) -> int:
        if any(sentence.has(cue) for cue in concept.unless + concept.undo):
            return 0
        if self.mood == STATEMENT and not concept.evidence and any(
                _named(concept, earlier) for earlier in before):
            return 2
        if self.mood != STATEMENT:
            allowed = sentence.asked if self.mood == REQUEST else sentence.said
            return 2 if any(sentence.has(cue, allowed) for cue in concept.all_cues) else 0
        if concept.is_act:
            return _act_level(concept, sentence, turn)
        # A topic ("card", "loan") beside what must be done or given only names what the sentence is about:
        # it may stand in an offer ("We can give you a car loan or a personal loan"); the evidence decides.
        told = sentence.said if anchored and not concept.evidence else _told_mask(concept, sentence)
        if not any(sentence.has(cue, told) for cue in concept.all_cues) \
                and not any(sentence.gives(kind, told) for kind in concept.kinds):
            return 0
        if not concept.evidence:
            return 2
        if any(_gives(concept, kind, sentence, told, strong=True) for kind in concept.evidence):
            return 2
        weak = any(_gives(concept, kind, sentence, told, strong=False) for kind in concept.weak + concept.evidence)
        return 1 if weak else 0


def _named(concept: Concept, sentence: Sentence) -> bool:
    """Whether a topic concept is named in the sentence as what it is about: not asked, negated, echoed or
    cancelled there ("Would you like me to block the card? It'll stop all payments." blocks nothing)."""
    if any(sentence.has(cue) for cue in concept.unless + concept.undo):
        return False
    return any(sentence.has(cue, sentence.described) for cue in concept.all_cues)


def _told_mask(concept: Concept, sentence: Sentence) -> tuple[bool, ...]:
    """Which words tell the concept: plain statements, and what the concept also allows."""
    masks = [sentence.told] + [mask for allowed, mask in ((REQUESTS, sentence.told_or_asked),
                                                          (OFFERS, sentence.described)) if allowed in concept.allow]
    return masks[0] if len(masks) == 1 else tuple(any(flags) for flags in zip(*masks))


def _act_level(concept: Concept, sentence: Sentence, turn: Sequence[Sentence] = ()) -> int:
    """2: a cue of the act where the sentence reports it done, or after a label with the content the concept
    also takes as evidence ("Next step: fee review within 3 days"; without the label, "reviews take 5 days"
    is what is usual); 1: a plain cue whose clause the grammar cannot place as done or not; 0: not heard,
    or only offered, hedged, put to the caller, failed."""
    acted = sentence.acted_on_failure if FAILURES in concept.allow else sentence.acted
    for phrase in concept.done:
        index = next(sentence.positions(phrase, acted), None)
        if index is not None:
            return 1 if _denied_later(concept, sentence, index) else 2
    given = any(sentence.gives(kind, acted) for kind in concept.evidence if kind != DONE)
    level = 0
    for cue in concept.cues:
        for index in sentence.positions(cue, acted):
            if _named_not_done(sentence.words, index, len(cue)):
                continue
            if _only_part(sentence.words, index, len(cue)):
                level = max(level, 1)
                continue
            if (given and sentence.labelled[index]) or sentence.done_at(index) \
                    or sentence.base_after_auxiliary(index):
                if cue in concept.vague and not given and not _timed(concept, turn):
                    level = max(level, 1)  # "We will look into it": a process promised, nothing concrete
                    continue
                return 1 if _denied_later(concept, sentence, index) else 2
            if not index or sentence.words[index - 1] not in CALLERS_OWN:  # not "to order", "you ordered"
                level = 1
    return level


def _timed(concept: Concept, turn: Sequence[Sentence]) -> bool:
    """Whether a sentence of the turn tells the concept's other evidence (when a promised review happens)."""
    return any(other.gives(kind, other.told) for other in turn for kind in concept.evidence if kind != DONE)


def _denied_later(concept: Concept, sentence: Sentence, index: int) -> bool:
    """"I've taken the fee off ... so it's not actually refunded": the act named again, negated, later in the
    same sentence leaves what was reported done in doubt."""
    return any(later > index and not sentence.said[later]
               for cue in concept.cues + concept.done for later in sentence.positions(cue))


def _named_not_done(words: tuple[str, ...], index: int, width: int) -> bool:
    """An act's word that names paperwork or what was asked for, not the act: "I've raised your refund
    request", "I've put in a request to have the fee refunded"."""
    after = words[index + width] if index + width < len(words) else ""
    before = words[max(0, index - REQUESTED_ACT_REACH):index]
    return after in PAPERWORK or (index > 0 and words[index - 1] in ABOUT) \
        or any(pair in zip(before, before[1:]) for pair in REQUESTED_ACT)


def _only_part(words: tuple[str, ...], index: int, width: int) -> bool:
    """"I reverse only the small one", "I've only refunded part of it": part of the act, not all of it
    ("only just" is a time, not a part)."""
    before = words[index - 1] if index else ""
    after = words[index + width: index + width + 2]
    return (before == "only") or (bool(after) and after[0] == "only" and after[1:] != ("just",))


def _gives(concept: Concept, kind: str, sentence: Sentence, allowed: tuple[bool, ...], strong: bool) -> bool:
    """Whether the sentence gives this kind of evidence for the concept; items count against `min_items`
    (strong) or at least one (weak)."""
    if kind == ITEMS:
        return _items_named(concept, sentence, allowed) >= (concept.min_items if strong else 1)
    return sentence.gives(kind, allowed)


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
                    act = (DONE,) if segment[index].endswith("ed") and len(segment[index]) > 4 else ()
                    concepts.setdefault(word, Concept(word, ((word,),), evidence=act))
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

    def __init__(self, goal: CallerGoal, vocabulary: Optional[Vocabulary] = None,
                 review: Optional[Review] = None) -> None:
        vocabulary = vocabulary or default_vocabulary()
        self.goal = goal
        self._review = review
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
            verdict, sentence = _best(pattern, sentences)
            later = sentences[sentences.index(sentence) + 1:] if sentence is not None else []
            if verdict == MET and any(pattern.undone_in(after) for after in later):
                verdict = NOT_MET  # "I've put a block on it. But as you've found it, I've lifted it again."
            elif verdict == MET and pattern.mood == STATEMENT and any(after.takes_back for after in later):
                verdict = UNCERTAIN  # "I've submitted the order. Hmm, hold on, that didn't go through."
            if self._review is not None and sentences:
                verdict = self._review(status.description, heard_text, verdict)
            if _LEVEL[verdict] > _LEVEL[status.verdict]:
                evidence = sentence.text if sentence is not None else heard_text  # a rescue names the turn
                status.verdict, status.evidence_turn, status.evidence = verdict, turn, evidence
                if verdict == MET:
                    newly_met.append(status)
        # "without ...": not once the criteria are met, nor for another matter after a sentence of this turn
        # that met one ("I've refunded the fee. You asked about savings too, so I'll pass you to our accounts
        # team")
        resolved_by = min((sentences.index(sentence) for status in newly_met
                           for sentence in sentences if sentence.text == status.evidence), default=len(sentences))
        if self.failure is None:
            for pattern in self._failures:
                if pattern.while_unmet and self.primary_met:
                    continue
                hit = next((sentence for index, sentence in enumerate(sentences)
                            if pattern.heard_in(sentence, sentences[:index])
                            and not (pattern.while_unmet and index >= resolved_by and _another_matter(sentence))),
                           None)
                evidence = hit.text if hit is not None else heard_text
                if self._review is not None and sentences and (
                        self._review(pattern.text, heard_text, MET if hit is not None else NOT_MET) == MET):
                    hit = hit or sentences[-1]  # the second opinion keeps it, or hears what the rules did not
                elif self._review is not None:
                    hit = None
                if hit is not None:
                    self.failure, self.failure_turn, self.failure_evidence = pattern.text, turn, evidence
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
    def uncertain(self) -> int:
        """Goals heard only under a construction the grammar cannot place (not counted as met)."""
        return sum(status.uncertain for status in self.statuses)

    @property
    def total(self) -> int:
        return len(self.statuses)

    def unmet(self) -> list[GoalStatus]:
        return [status for status in self.statuses if not status.met]


def _another_matter(sentence: Sentence) -> bool:
    """Whether the sentence turns to a further matter ("You asked about savings too", "as well")."""
    return any(sentence.has(phrase) for phrase in _ANOTHER_MATTER_STEMS)


_ANOTHER_MATTER_STEMS = tuple(stemmed_phrase(phrase) for phrase in ANOTHER_MATTER)


def _items_named(concept: Concept, sentence: Sentence, allowed: tuple[bool, ...]) -> int:
    """How many different items the sentence names, longest first, each word counted once ("savings
    account" is one item, not "savings" and "account"; "your card ... your card" is one)."""
    taken: set[int] = set()
    named = 0
    for item in sorted(concept.items, key=len, reverse=True):
        for start in sentence.positions(item, allowed):
            span = set(range(start, start + len(item)))
            if not span & taken:
                taken |= span
                named += 1
                break
    return named


def _best(pattern: GoalPattern, sentences: list[Sentence]) -> tuple[str, Optional[Sentence]]:
    """The turn's verdict on one goal: its first MET sentence, else its first UNCERTAIN one."""
    found: tuple[str, Optional[Sentence]] = (NOT_MET, None)
    for index, sentence in enumerate(sentences):
        verdict = pattern.verdict_in(sentence, sentences[:index], sentences)
        if verdict == MET:
            return verdict, sentence
        if verdict == UNCERTAIN and found[1] is None:
            found = (verdict, sentence)
    return found
