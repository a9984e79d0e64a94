"""The goal vocabulary: goal_vocabulary.toml read into concepts (what a criterion's words mean, and the cues
that say it), mood words and words without meaning of their own, all stemmed as heard words are.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

from callers.errors import ConfigError
from callers.scenario.datafiles import read_toml
from callers.scenario.grammar import MOODS, stem, stemmed_phrase

VOCABULARY_FILE = Path(__file__).with_name("goal_vocabulary.toml")


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
        unless = _cue_phrases(_string_list(spec.get("unless", []), path, entry, "unless", required=False), path,
                              entry, "unless")
        concepts[name] = Concept(name, cues, unless)
    return Vocabulary(concepts, terms, moods, ignore)


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
