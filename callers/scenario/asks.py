"""What an agent's turn asks of the caller: read once per turn, whichever agent said it.

A caller that only knows one agent's phrases answers another agent's "What's your member number?" with
its next question, and fails a call the agent did nothing wrong in. So a turn is read for what it does,
with the words agents use kept as data (asks.toml, laid over by asks.<language>.toml):
- a question for one or more pieces of information (FIELD asks: which fields, from the field cues);
- a yes/no question (YES_NO): an offer, a confirmation, a permission, or any other;
- a choice between named options (CHOICE, with the options as said);
- an open invitation to say why one called, "anything else?", a reprompt, a request to hold, a goodbye;
- and otherwise only information.
An agent may do several at once ("Thanks. Can I have your member number and your postcode?"); every ask is
kept, in order. The English sentence machinery (sentences, questions, requests) is grammar.py's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Union

from callers.errors import ConfigError
from callers.scenario.datafiles import read_toml
from callers.scenario.grammar import (AUXILIARIES, CLAUSE_WORDS, FILLERS, SUBJECTS, WH_CONTRACTIONS, WH_WORDS,
                                      Sentence, analyse, split_sentences, stem, stemmed_phrase, word_list)

ASKS_FILE = Path(__file__).with_name("asks.toml")
LANGUAGE_PATTERN = "asks.{code}.toml"
FIELD, YES_NO, CHOICE = "field", "yes_no", "choice"
OFFER, CONFIRM, PERMISSION, QUESTION = "offer", "confirm", "permission", "question"
TURN_CUES = ("goodbye", "closing", "reprompt", "anything_else", "open", "hold", "offer", "confirm", "permission",
             "upsell", "transfer", "agent_acts", "question")
# Turn cues a language may leave empty: English questions are read from their word order (grammar.py).
OPTIONAL_CUES = frozenset({"question"})
CHOICE_WORDS = ("or", "lead", "not_options", "no")
# Mid-sentence, an auxiliary before one of these opens a question ("thanks for waiting is this about ..."),
# unless a subject stands before it ("i can help"); "your" is left out ("here is your balance").
QUESTION_SUBJECTS = SUBJECTS - {"your", "there"}
# "Was the card lost ...?", "Is your postcode still ...?": an auxiliary opening a sentence before one of these
# asks too ("have" and "do" are left out: "have a nice day", "do the following" tell).
DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "your", "my", "any"})
DETERMINER_AUXILIARIES = AUXILIARIES - {"have", "has", "had", "do"}
# After a wh-word, these keep it one question ("how much | would you like to borrow" is not two sentences).
WH_PHRASE_ENDS = WH_WORDS | frozenset({"much", "many", "long", "often", "kind", "type", "sort"})
_OPTION_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|,")  # words in any alphabet ("débito"), and commas


@dataclass(frozen=True)
class FieldSpec:
    """A piece of information agents ask for: the words they use, and the profile keys that answer it."""

    name: str
    cues: tuple[tuple[str, ...], ...]
    unless: tuple[tuple[str, ...], ...]
    profile: tuple[str, ...]
    withhold: bool


@dataclass(frozen=True)
class AskBook:
    """asks.toml read: the fields, the option sets, the turn cues (all stemmed) and the ask words (plain)."""

    fields: dict[str, FieldSpec]
    options: dict[str, tuple[str, ...]]
    turns: dict[str, tuple[tuple[str, ...], ...]]
    ask_words: frozenset[str]
    fragment_lead: frozenset[str]  # stems that may stand before a field's words in a fragment
    fragment_tail: frozenset[str]  # stems that may follow them ("on your account", "please")
    choice: dict[str, frozenset[str]]  # [choices]: the words that join options, lead up to them, end a list


@dataclass(frozen=True)
class Ask:
    """One thing the agent asked. `context` is the sentence with the one before it: "I can order you a new
    card. Would you like that?" offers a card even though the question alone names nothing."""

    kind: str  # FIELD, YES_NO or CHOICE
    sentence: str
    context: str
    fields: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    about: str = ""  # for YES_NO: OFFER, CONFIRM, PERMISSION or QUESTION


@dataclass(frozen=True)
class TurnReading:
    """Everything one agent turn asks or does, in the order it was said."""

    text: str
    asks: tuple[Ask, ...] = ()
    open: bool = False
    anything_else: bool = False
    reprompt: bool = False
    hold: bool = False
    goodbye: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field asked for in the turn, in order, once each."""
        seen: dict[str, None] = {}
        for ask in self.asks:
            if ask.kind == FIELD:
                seen.update(dict.fromkeys(ask.fields))
        return tuple(seen)

    def first(self, kind: str) -> Ask | None:
        return next((ask for ask in self.asks if ask.kind == kind), None)

    @property
    def asks_anything(self) -> bool:
        return bool(self.asks) or self.open or self.anything_else or self.reprompt


def _strings(value: object, path: Path, entry: str, name: str, required: bool = True) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value) \
            or (required and not value):
        raise ConfigError(str(path), "must be a list of non-empty strings" + (" (not empty)" if required else ""),
                          entry=entry, field=name)
    return value


def _phrases(cues: list[str], path: Path, entry: str, name: str) -> tuple[tuple[str, ...], ...]:
    phrases = tuple(stemmed_phrase(cue) for cue in cues)
    for cue, phrase in zip(cues, phrases):
        if not phrase:
            raise ConfigError(str(path), f"cue '{cue}' has no words", entry=entry, field=name)
    return phrases


def _merged(path: Path, overlay: Path | None) -> dict:
    data = read_toml(path, "asks")
    if overlay is not None and overlay.is_file():
        for section, values in read_toml(overlay, "asks").items():
            if isinstance(values, dict) and isinstance(data.get(section), dict):
                data[section] = {**data[section], **values}
            else:
                data[section] = values
    return data


def load_asks(path: Union[str, Path] = ASKS_FILE, overlay: Union[str, Path, None] = None) -> AskBook:
    """Read an asks file (and a language's overlay); every problem names the file, table and key."""
    path = Path(path)
    data = _merged(path, Path(overlay) if overlay is not None else None)
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise ConfigError(str(path), "the file needs [fields.NAME] tables", entry="fields")
    fields: dict[str, FieldSpec] = {}
    for name, spec in raw_fields.items():
        entry = f"fields.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(str(path), "must be a table with cues", entry=entry)
        unknown = set(spec) - {"cues", "unless", "profile", "withhold"}
        if unknown:
            raise ConfigError(str(path), "unknown key (known: cues, unless, profile, withhold)", entry=entry,
                              field=sorted(unknown)[0])
        withhold = spec.get("withhold", False)
        if not isinstance(withhold, bool):
            raise ConfigError(str(path), "must be true or false", entry=entry, field="withhold")
        fields[name] = FieldSpec(
            name, _phrases(_strings(spec.get("cues"), path, entry, "cues"), path, entry, "cues"),
            _phrases(_strings(spec.get("unless", []), path, entry, "unless", required=False), path, entry, "unless"),
            tuple(_strings(spec.get("profile", []), path, entry, "profile", required=False)), withhold)
    options: dict[str, tuple[str, ...]] = {}
    for name, spec in (data.get("options") or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError(str(path), "must be a table with values", entry=f"options.{name}")
        options[name] = tuple(value.lower() for value in _strings(spec.get("values"), path, f"options.{name}",
                                                                    "values"))
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, dict):
        raise ConfigError(str(path), "the file needs a [turns] table", entry="turns")
    turns = {}
    for name in TURN_CUES:
        cues = _strings(raw_turns.get(name), path, "turns", name, required=name not in OPTIONAL_CUES)
        turns[name] = _phrases(cues, path, "turns", name)
    ask_words = frozenset(_strings(raw_turns.get("ask_words"), path, "turns", "ask_words"))
    fragments = data.get("fragments")
    if not isinstance(fragments, dict):
        raise ConfigError(str(path), "the file needs a [fragments] table with lead and tail", entry="fragments")
    lead, tail = (frozenset(stem(word) for item in _strings(fragments.get(name), path, "fragments", name)
                            for word in word_list(item)) for name in ("lead", "tail"))
    choices = data.get("choices")
    if not isinstance(choices, dict):
        raise ConfigError(str(path), "the file needs a [choices] table (or, lead, not_options, no)", entry="choices")
    choice = {name: frozenset(word.lower() for word in _strings(choices.get(name), path, "choices", name))
              for name in CHOICE_WORDS}
    return AskBook(fields, options, turns, ask_words, lead, tail, choice)


@lru_cache(maxsize=8)
def asks_for(language: str) -> AskBook:
    """The shipped asks for a scenario language (its overlay, if the project has one), read once."""
    code = language.split("-")[0].lower()
    overlay = ASKS_FILE.with_name(LANGUAGE_PATTERN.format(code=code))
    return load_asks(ASKS_FILE, overlay if code != "en" and overlay.is_file() else None)


class TurnReader:
    """Reads agent turns against one AskBook; cheap to keep per caller (sentences are analysed once, cached)."""

    def __init__(self, book: AskBook) -> None:
        self.book = book

    def read(self, text: str) -> TurnReading:
        sentences = _sentences(text or "")
        asks: list[Ask] = []
        flags = dict.fromkeys(("open", "anything_else", "reprompt", "hold", "goodbye", "closing"), False)
        previous = ""
        for raw in sentences:
            sentence = analyse(raw)
            for name in flags:
                flags[name] = flags[name] or self.cue(sentence, name)
            asks += self._asks_in(raw, sentence, previous)
            previous = raw
        asks_anything = bool(asks) or flags["open"] or flags["anything_else"] or flags["reprompt"]
        # "Is there anything else?" and "Could you repeat that?" are no yes/no questions about something, and
        # an invitation is no offer.
        if flags["anything_else"] or flags["open"] or flags["reprompt"]:
            asks = [ask for ask in asks if ask.kind != YES_NO]
        return TurnReading(text=text or "", asks=tuple(asks), open=flags["open"] and not flags["anything_else"],
                           anything_else=flags["anything_else"], reprompt=flags["reprompt"],
                           hold=flags["hold"] and not asks_anything,
                           goodbye=flags["goodbye"] or (flags["closing"] and not asks_anything))

    def cue(self, sentence: Sentence, name: str) -> bool:
        return any(sentence.has(cue) for cue in self.book.turns[name])

    def _asks_in(self, raw: str, sentence: Sentence, previous: str) -> list[Ask]:
        words = word_list(raw)
        if not words:
            return []
        context = f"{previous} {raw}".strip()
        question = (raw.rstrip().endswith("?") or _opens_question(words) or _asks_mid_sentence(words)
                    or self.cue(sentence, "question"))
        options = _options(raw, self.book.choice) if question else ()
        if len(options) >= 2:
            # "A callback or an email?" is a choice; "Your phone number or your email?" asks for one of two.
            named = [self._fields(option, analyse(option), word_list(option), True) for option in options]
            if not all(named):
                return [Ask(CHOICE, raw, context, options=options)]
            return [Ask(FIELD, raw, context, fields=named[0][:1])]
        offer = self.cue(sentence, "offer") and (question or "if" in words) and not _wh_question(words)
        if offer and not self.cue(sentence, "permission"):
            return [Ask(YES_NO, raw, context, about=OFFER)]
        fields = self._fields(raw, sentence, words, question)
        if fields:
            return [Ask(FIELD, raw, context, fields=fields)]
        if question and not _wh_question(words):
            about = CONFIRM if self.cue(sentence, "confirm") else PERMISSION if self.cue(sentence, "permission") \
                else QUESTION
            return [Ask(YES_NO, raw, context, about=about)]
        return []

    def _fields(self, raw: str, sentence: Sentence, words: list[str], question: bool) -> tuple[str, ...]:
        found: list[tuple[int, str]] = []
        for spec in self.book.fields.values():
            if any(sentence.has(cue) for cue in spec.unless):
                continue
            where = [_position(sentence, cue) for cue in spec.cues if sentence.has(cue)]
            if where:
                found.append((min(where), spec.name))
        if not found:
            return ()
        asking = (question or any(sentence.asked) or bool(self.book.ask_words & set(words)) or _wh_mid_sentence(words)
                  or self._fragment(words, [name for _, name in found]))
        return tuple(name for _, name in sorted(found)) if asking else ()

    def _fragment(self, words: list[str], names: list[str]) -> bool:
        """Whether a clause is only a field's name ("and the postcode on your account", "your date of birth
        please"): how agents ask, and how a transcript without punctuation shows a question."""
        clauses: list[list[str]] = [[]]
        for word in words:
            if word in CLAUSE_WORDS:
                clauses.append([])
            else:
                clauses[-1].append(stem(word))
        for stems in clauses:
            start = 0
            while start < len(stems) and stems[start] in self.book.fragment_lead:
                start += 1
            for name in names:
                for cue in self.book.fields[name].cues:
                    end = start + len(cue)
                    if tuple(stems[start:end]) == cue and all(rest in self.book.fragment_tail for rest in stems[end:]):
                        return True
        return False


def _sentences(text: str) -> list[str]:
    """grammar.split_sentences, with a wh-phrase kept with the question it opens: an unpunctuated "how much
    would you like to borrow" is cut before "would you"."""
    merged: list[str] = []
    for piece in split_sentences(text):
        if merged and not re.search(r"[.!?]\s*$", merged[-1]):
            last = word_list(merged[-1])
            if last and (last[-1] in WH_PHRASE_ENDS and (last[-1] in WH_WORDS or len(last) > 1
                                                         and last[-2] in WH_WORDS)):
                merged[-1] = f"{merged[-1]} {piece}"
                continue
        merged.append(piece)
    return merged


def _position(sentence: Sentence, cue: tuple[str, ...]) -> int:
    for index in sentence.starts.get(cue[0], ()):
        if sentence.stems[index:index + len(cue)] == cue:
            return index
    return len(sentence.stems)


def _first_word(words: list[str]) -> int:
    """Where a clause's content starts, after fillers ("okay, thank you, can you ...")."""
    start, skipped = 0, True
    while skipped:
        skipped = False
        for filler in FILLERS:
            if tuple(words[start:start + len(filler)]) == filler and start + len(filler) < len(words):
                start += len(filler)
                skipped = True
                break
    return start


def _opens_question(words: list[str]) -> bool:
    start = _first_word(words)
    if start >= len(words):
        return False
    first, following = words[start], words[start + 1] if start + 1 < len(words) else ""
    return (first in WH_CONTRACTIONS or first in WH_WORDS or (first in AUXILIARIES and following in SUBJECTS)
            or (first in DETERMINER_AUXILIARIES and following in DETERMINERS))


def _asks_mid_sentence(words: list[str]) -> bool:
    """An unpunctuated question after other words: an auxiliary and a subject after a word that is no subject."""
    return any(words[i] in AUXILIARIES and words[i + 1] in QUESTION_SUBJECTS and words[i - 1] not in SUBJECTS
               for i in range(1, len(words) - 1))


def _wh_mid_sentence(words: list[str]) -> bool:
    """ "i'm sorry to hear that how much was the fee": a wh-question after other words, unpunctuated."""
    for i in range(1, len(words) - 1):
        if words[i] in WH_CONTRACTIONS:
            return True
        if words[i] in WH_WORDS:
            following = words[i + 1:i + 3]
            if following and following[0] in AUXILIARIES:
                return True
            if len(following) == 2 and following[0] in WH_PHRASE_ENDS and following[1] in AUXILIARIES:
                return True
    return False


def _wh_question(words: list[str]) -> bool:
    start = _first_word(words)
    return start < len(words) and (words[start] in WH_WORDS or words[start] in WH_CONTRACTIONS)


def _options(raw: str, words: dict[str, frozenset[str]]) -> tuple[str, ...]:
    """The options of "X, Y or Z?" as said, without the words leading up to them; () when it is no choice.
    `words` is the language's [choices]: what joins options ("or"), what only leads up to one ("is it for
    your | checking", "or | your savings"), and what after the last "or" makes it no choice ("or not")."""
    tokens = _OPTION_TOKEN.findall(raw.lower().replace("\u2019", "'"))
    joins = [index for index, token in enumerate(tokens) if token in words["or"]]
    if not joins:
        return ()
    after = tokens[joins[-1] + 1:]
    if after and after[0] in words["not_options"] or words["no"] & set(after[:2]):
        return ()
    lead_words = words["lead"]
    segments: list[list[str]] = [[]]
    for token in tokens:
        if token == "," or token in words["or"]:
            segments.append([])
        else:
            segments[-1].append(token)
    segments = [segment for segment in segments if segment]
    if len(segments) < 2:
        return ()
    # "Thanks, is it debit or credit?": the options start at the last segment that leads up to one.
    start = next((index for index in range(len(segments) - 2, -1, -1) if lead_words & set(segments[index])), 0)
    segments = segments[start:]
    first = segments[0]
    cut = len(first)
    while cut > 0 and first[cut - 1] not in lead_words:
        cut -= 1
    segments[0] = first[cut:]
    options = []
    for segment in segments:
        while segment and segment[0] in lead_words:
            segment = segment[1:]
        if segment:
            options.append(" ".join(segment))
    return tuple(options) if len(options) >= 2 else ()
