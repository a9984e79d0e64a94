"""The goal vocabulary: goal_vocabulary.toml read into concepts (what a criterion's words mean, the cues
that say it and the evidence that it was done or given), mood words and words without meaning of their
own, all stemmed as heard words are.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

from callers.errors import ConfigError
from callers.scenario.datafiles import read_toml
from callers.scenario.grammar import CONTENT_KINDS, MOODS, stem, stemmed_phrase

VOCABULARY_FILE = Path(__file__).with_name("goal_vocabulary.toml")
# Evidence a concept can need before a statement counts: an act reported done, a grammar content kind
# (grammar.CONTENT_KINDS) or enough of the concept's own `items`.
DONE = "done"
ITEMS = "items"
EVIDENCE_KINDS = (DONE, ITEMS) + CONTENT_KINDS
# Words outside a question that ask the caller for something, when they still give the concept
# ("I'll need a photo ID and proof of income" explains requirements).
REQUESTS = "requests"
# Words said as what the caller can have, in offers and instructions ("we can open accounts, arrange
# mortgages ...", "you can take the auto loan or a personal one"), when they still describe the concept.
OFFERS = "offers"
# An act that is what an agent does BECAUSE something failed ("I'm unable to locate your account; you are
# being transferred"): it counts in a sentence that reports a failure.
FAILURES = "failures"
ALLOWED = (REQUESTS, OFFERS, FAILURES)
Phrases = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Concept:
    """Something a criterion needs to hear, the word sequences (stemmed) that say it, and what shows it
    done or given (empty `evidence`: hearing it told is enough)."""

    name: str
    cues: Phrases
    unless: Phrases = ()
    evidence: tuple[str, ...] = ()  # any of these is full evidence
    weak: tuple[str, ...] = ()  # any of these, without full evidence, makes the verdict uncertain
    done: Phrases = ()  # phrases that report the act done by themselves ("on its way")
    items: Phrases = ()  # the things a list of this concept names ("personal", "auto" for loan options)
    min_items: int = 1
    allow: frozenset[str] = frozenset()  # REQUESTS / OFFERS: asked-for / offered words count as told
    kinds: tuple[str, ...] = ()  # content kinds that stand for the concept ("$35 has been credited": the fee)
    undo: Phrases = ()  # phrases that undo the act, in its sentence or a later one of the turn ("reactivated")
    vague: Phrases = ()  # cues that report the act done only beside other evidence ("we'll look into it")

    @property
    def is_act(self) -> bool:
        return DONE in self.evidence

    @property
    def all_cues(self) -> Phrases:
        """Every phrase that shows the concept was talked about."""
        return self.cues + self.done + self.items


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
        unknown = set(spec) - set(CONCEPT_FIELDS)
        if unknown:
            raise ConfigError(str(path), f"unknown field (known: {', '.join(CONCEPT_FIELDS)})", entry=entry,
                              field=sorted(unknown)[0])
        for term in _string_list(spec.get("terms"), path, entry, "terms"):
            key = stemmed_phrase(term)
            owner = terms.get(key)
            if owner is not None and owner != name:
                raise ConfigError(str(path), f"term '{term}' already belongs to concept '{owner}'",
                                  entry=entry, field="terms")
            if len(key) == 1 and (key[0] in moods or key[0] in ignore):
                raise ConfigError(str(path), f"term '{term}' is also a mood or ignored word", entry=entry,
                                  field="terms")
            terms[key] = name
        cues = _cue_phrases(_string_list(spec.get("cues"), path, entry, "cues"), path, entry, "cues")
        optional = {key: _cue_phrases(_string_list(spec.get(key, []), path, entry, key, required=False), path,
                                      entry, key) for key in ("unless", "done", "items", "undo", "vague")}
        evidence = _kinds(spec, "evidence", path, entry)
        weak = _kinds(spec, "weak", path, entry)
        if ITEMS in evidence + weak and not optional["items"]:
            raise ConfigError(str(path), "evidence 'items' needs an items list", entry=entry, field="items")
        min_items = spec.get("min_items", 1)
        if isinstance(min_items, bool) or not isinstance(min_items, int) or min_items < 1:
            raise ConfigError(str(path), "must be a whole number >= 1", entry=entry, field="min_items")
        allow = _string_list(spec.get("allow", []), path, entry, "allow", required=False)
        if set(allow) - set(ALLOWED):
            raise ConfigError(str(path), f"unknown value (known: {', '.join(ALLOWED)})", entry=entry, field="allow")
        kinds = _kinds(spec, "kinds", path, entry)
        if set(kinds) - set(CONTENT_KINDS):
            raise ConfigError(str(path), f"kinds must be content kinds ({', '.join(CONTENT_KINDS)})", entry=entry,
                              field="kinds")
        concepts[name] = Concept(name, cues, optional["unless"], evidence, weak, optional["done"],
                                 optional["items"], min_items, frozenset(allow), kinds, optional["undo"],
                                 optional["vague"])
    return Vocabulary(concepts, terms, moods, ignore)


CONCEPT_FIELDS = ("terms", "cues", "unless", "evidence", "weak", "done", "items", "min_items", "allow", "kinds",
                  "undo", "vague")


def _kinds(spec: dict, key: str, path: Path, entry: str) -> tuple[str, ...]:
    kinds = _string_list(spec.get(key, []), path, entry, key, required=False)
    for kind in kinds:
        if kind not in EVIDENCE_KINDS:
            raise ConfigError(str(path), f"unknown evidence '{kind}' (known: {', '.join(EVIDENCE_KINDS)})",
                              entry=entry, field=key)
    return tuple(kinds)


def _cue_phrases(cues: list[str], path: Path, entry: str, name: str) -> tuple[tuple[str, ...], ...]:
    """Stemmed cues; a cue without a single word (only punctuation) could never be heard, so it is an error."""
    phrases = tuple(stemmed_phrase(cue) for cue in cues)
    for cue, phrase in zip(cues, phrases):
        if not phrase:
            raise ConfigError(str(path), f"cue '{cue}' has no words", entry=entry, field=name)
    return phrases


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, read once per process (every call's tracker shares it)."""
    return load_vocabulary(VOCABULARY_FILE)
