"""ScriptedBrain: an offline caller mind driven by the scenario, the personality's numbers and what it heard.

No model and no network, so it runs at load-test scale and a seeded run is reproducible. The personality
traits act through probabilities and thresholds, each with an effect a test can measure:
- provides_clear_info: chance the opening request and the first identity answer are complete;
- tendency_to_interrupt: chance to talk over a long agent prompt;
- verification_demands: chance to ask the agent to prove it is the bank before giving details;
- patience (via max_wait_s / max_unhelpful_turns): slow or unhelpful agent turns make it hang up;
- speaking rate, pitch and response delay shape its audio and pauses (applied by CallerAgent).
A scenario's `dtmf` rules win over speech: asked for something it is told to key, the caller keys it.
What the agent's turn asks is read by callers.scenario.asks (any agent's wording, as data); the caller
answers from its profile (callers.scenario.profile: the scenario's context, and generated details such as a
member number or postcode), answers yes/no questions and choices by its goal (callers.brains.decisions), and
says what it does not have, which the result records (`unanswered_asks`). The traits act on those answers
too: verification_demands asks for proof before the first personal detail, provides_clear_info gives part
of a two-part answer or needs the question again the first time, a low patience_level complains when asked
again for what it already said; none of them stops the caller giving what it knows on the next ask.
What it says comes from scripted_lines.toml (data), filled from the profile.
"""
from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Optional

from callers.brains.base import Brain, HeardTurn, Reply
from callers.brains.decisions import GoalDecisions
from callers.scenario.asks import CHOICE, YES_NO, FieldSpec, TurnReader, TurnReading, asks_for
from callers.scenario.goals import GoalTracker
from callers.scenario.personality import CallerPersonality
from callers.scenario.profile import make_profile
from callers.scenario.scenario_actions import dtmf_rule_for
from callers.scenario.scenarios import CallerScenario

LINES_FILE = Path(__file__).with_name("scripted_lines.toml")
# Lines in another language: scripted_lines.<code>.toml, laid over the English ones section by section.
LANGUAGE_LINES_PATTERN = "scripted_lines.{code}.toml"
# An agent prompt with at least this many words is "long": long enough to be worth interrupting.
LONG_PROMPT_WORDS = 12
INTERRUPT_AFTER_S = (0.8, 1.8)
PAUSE_JITTER = (0.8, 1.25)
GREETING_WORDS = ("Hi, ", "Hello, ")
# Fields the scripted identity lines answer together (name and date of birth: the lines keep their wording).
IDENTITY_FIELDS = frozenset({"customer_name", "date_of_birth"})
# A caller this impatient (patience_level) or less complains when the agent asks again for what it gave.
COMPLAINS_AT_PATIENCE = 3
_PLACEHOLDER_DEFAULT = "that"


def _load_lines(path: Path = LINES_FILE) -> dict:
    with open(path, "rb") as source:
        return tomllib.load(source)


def _lines_for(language: str) -> dict:
    """The English lines, with the scenario language's file (if there is one) laid over them per section."""
    lines = _load_lines()
    code = language.split("-")[0].lower()
    path = LINES_FILE.with_name(LANGUAGE_LINES_PATTERN.format(code=code))
    if code == "en" or not path.is_file():
        return lines
    for section, values in _load_lines(path).items():
        lines[section] = {**lines.get(section, {}), **values}
    return lines


class _Context(dict):
    """Scenario context for str.format_map: a key the scenario lacks reads as a neutral word."""

    def __missing__(self, key: str) -> str:
        return _PLACEHOLDER_DEFAULT


class ScriptedBrain(Brain):
    name = "scripted"
    _lines_cache: dict[str, dict] = {}

    def __init__(self, personality: CallerPersonality, scenario: CallerScenario, seed: Optional[int] = None) -> None:
        self.personality = personality
        self.scenario = scenario
        self.random = random.Random(seed)
        self.lines = self._lines(scenario.language)
        self.profile = make_profile(scenario.context, scenario.language, seed)
        self.context = _Context(self.profile.values)
        self.reader = TurnReader(asks_for(scenario.language))
        self.decisions = GoalDecisions(self.reader.book, GoalTracker(scenario.goal), self.profile, self.lines,
                                       self._pick, self._field_answer)
        self._goal_words = scenario.goal.primary_goal[:1].lower() + scenario.goal.primary_goal[1:]
        self._given: set[str] = set()  # fields the caller has said
        self._unanswered: dict[str, str] = {}  # field -> the agent's question it could not answer
        self._needed_again = False
        self._kind = scenario.scenario_type.value
        self._style = self.lines["style"].get(personality.type, self.lines["style"]["normal"])
        self._identity_asks = 0
        self._asked_proof = False
        self._unhelpful = 0
        self._follow_ups_asked: set[int] = set()
        self._last_said: Optional[str] = None
        self._vague_opening_pending = False
        self._opening_pending = False
        self._openings_said: set[str] = set()
        self._repeating = False
        self._interrupted_last = False
        self._not_understood = False
        self._opened = False

    @classmethod
    def _lines(cls, language: str) -> dict:
        if language not in cls._lines_cache:
            cls._lines_cache[language] = _lines_for(language)
        return cls._lines_cache[language]

    # ---- Brain interface ---------------------------------------------------------------------------------

    def pause_before_reply(self) -> float:
        return self.personality.response_delay_s * self.random.uniform(*PAUSE_JITTER)

    def interruption_offset(self, alt_text: Optional[str]) -> Optional[float]:
        """A long prompt may be talked over, but never two prompts in a row: having cut in, a caller
        listens to what the agent says next (otherwise an agent that re-tells what was cut off could never
        finish a sentence, and neither side would reach the goal)."""
        words = len(alt_text.split()) if alt_text else LONG_PROMPT_WORDS
        if words < LONG_PROMPT_WORDS or self._interrupted_last:
            return None
        if self.random.random() >= self.personality.tendency_to_interrupt:
            return None
        return self.random.uniform(*INTERRUPT_AFTER_S)

    def barge_in(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        """Cut in with the personality's interjection, then say what the caller came to say."""
        reply = self.respond(heard, goals)
        self._interrupted_last = True
        if reply.dtmf and not reply.text:
            return reply  # keys pressed over the prompt are the interruption; nothing to say first
        interjection = self._pick(self._style["interjection"])
        text = f"{interjection} {reply.text}" if reply.text else interjection
        return Reply(text, hang_up=reply.hang_up, reason=reply.reason, dtmf=reply.dtmf, slower=reply.slower)

    def unanswered_asks(self) -> list[str]:
        return list(self._unanswered.values())

    def respond(self, heard: HeardTurn, goals: GoalTracker) -> Reply:
        self._interrupted_last = False
        text = heard.text.lower()
        reading = self.reader.read(heard.text)
        if goals.failure:
            return Reply(self._pick(self.lines["wrap_up"]["goodbye"]), hang_up=True,
                         reason=f"failure condition: {goals.failure}")
        closing = reading.goodbye and heard.turn > 0 and not heard.was_cut_off
        if closing or self._cue(text, "goodbye"):
            return Reply(None, hang_up=True, reason="agent said goodbye")
        if self._lost_patience(heard, reading):
            return Reply(self._pick(self.lines["wrap_up"]["give_up"]), hang_up=True, reason="caller lost patience")
        if heard.turn >= self.scenario.goal.max_conversation_turns:
            return Reply(self._pick(self.lines["wrap_up"]["turn_limit"]), hang_up=True, reason="turn limit reached")
        self._not_understood = False
        keyed = dtmf_rule_for(self.scenario.dtmf, heard.text)
        if keyed is not None:
            return Reply(None, dtmf=keyed.digits)
        line = self._next_line(text, reading, heard, goals)
        if not self._repeating:
            self._last_said = line
        self._repeating = False
        return Reply(line, slower=self._not_understood)

    # ---- policy ------------------------------------------------------------------------------------------

    def _next_line(self, text: str, reading: TurnReading, heard: HeardTurn, goals: GoalTracker) -> str:
        reprompted = reading.reprompt or self._cue(text, "reprompt")
        if not reprompted:
            self._vague_opening_pending = self._opening_pending = False
        if reading.fields:
            return self._answer_fields(reading)
        if self._cue(text, "identity"):
            return self._identity_answer()
        if not self._opened and (reading.open or self._cue(text, "greeting") or heard.turn == 0
                                 or not reading.asks_anything):
            self._opened = True
            clear = self.random.random() < self.personality.provides_clear_info
            return self._styled(self._opening("clear" if clear else "vague"))
        choice = reading.first(CHOICE)
        if choice is not None:
            return self.decisions.choose(choice, goals)
        yes_no = reading.first(YES_NO)
        if yes_no is not None:
            return self.decisions.yes_or_no(yes_no)
        if reprompted and self._last_said:
            return self._rephrase()
        if reading.hold:
            return self._pick(self.lines["replies"]["hold"])
        if goals.primary_met:
            if reading.anything_else or self._cue(text, "anything_else") or heard.new_goals_met:
                return self._pick(self.lines["wrap_up"]["done"])
        follow_up = self._next_follow_up(goals)
        if follow_up is not None:
            return follow_up
        if not goals.primary_met:
            return self._pick(self.lines["replies"]["still_unmet"], goal=self._goal_words)
        return self._pick(self.lines["wrap_up"]["done"])

    def _opening(self, clarity: str) -> str:
        """A request wording not used yet in this call, so a caller who is not understood rephrases."""
        self._vague_opening_pending = clarity == "vague"
        variants = self.lines["opening"][self._kind][clarity]
        fresh = [v for v in variants if v not in self._openings_said] or variants
        choice = self.random.choice(fresh)
        self._openings_said.add(choice)
        self._opening_pending = True
        return choice.format_map(self.context)

    def _rephrase(self) -> str:
        """Not understood: a vague opening becomes a clear one, a clear one another wording (what real
        callers do); anything else is said again. A repeat keeps `_last_said` unprefixed, so repeating twice
        does not stack "I said, I said, ..."."""
        self._not_understood = True
        if self._vague_opening_pending or self._opening_pending:
            return self._opening("clear")
        self._repeating = True
        return self._pick(self.lines["wrap_up"]["repeat_prefix"]) + self._last_said

    def _identity_answer(self) -> str:
        self._identity_asks += 1
        if not self._asked_proof and self.random.random() < self.personality.verification_demands:
            self._asked_proof = True
            return self._pick(self.lines["identity"]["prove_it"])
        self._not_understood = self._identity_asks > 1
        complete = self._identity_asks > 1 or self.random.random() < self.personality.provides_clear_info
        self._given.update(IDENTITY_FIELDS if complete else ("customer_name",))
        return self._pick(self.lines["identity"]["complete" if complete else "partial"])

    def _answer_fields(self, reading: TurnReading) -> str:
        """Give what the agent asked for, as far as the profile holds it, in the order asked; say what it
        does not have and decline what a caller never gives. The personality acts here as with identity:
        a suspicious caller asks for proof first, an unclear one gives part of it or needs the question
        again the first time, an impatient one complains when asked again for what it already gave."""
        fields = reading.fields
        yes_no = reading.first(YES_NO)
        prefix = self.decisions.yes_or_no(yes_no) + " " if yes_no is not None else ""
        given_before = [field for field in fields if field in self._given]
        if set(fields) <= IDENTITY_FIELDS:
            answer = self._identity_answer()
            return prefix + self._complaint(given_before) + answer
        knows = any(self._value(field) is not None and not self._field_spec(field).withhold for field in fields)
        if knows and self._identity_asks == 0:
            self._identity_asks += 1
            if not self._asked_proof and self.random.random() < self.personality.verification_demands:
                self._asked_proof = True
                return self._pick(self.lines["identity"]["prove_it"])
            if self.random.random() >= self.personality.provides_clear_info:
                if len(fields) > 1:
                    fields = fields[:1]
                elif not self._needed_again:
                    self._needed_again = True
                    return self._pick(self.lines["replies"]["again"])
        self._not_understood = bool(given_before)
        parts: list[str] = []
        for field in fields:
            value = self._value(field)
            if self._field_spec(field).withhold:
                parts.append(self._pick(self.lines["replies"]["withhold"]))
            elif value is None:
                parts.append(self._pick(self.lines["replies"]["cannot_again" if field in self._unanswered
                                                              else "cannot"]))
                self._unanswered.setdefault(field, self._ask_sentence(reading, field))
            else:
                parts.append(_sentence_case(self._field_answer(field, value)) + ".")
                self._given.add(field)
        return prefix + self._complaint(given_before) + " ".join(parts)

    def _complaint(self, given_before: list[str]) -> str:
        """An impatient caller's complaint at being asked again for what it already said."""
        if given_before and self.personality.patience_level <= COMPLAINS_AT_PATIENCE:
            return self._pick(self.lines["replies"]["asked_twice"]) + " "
        return ""

    def _field_spec(self, field: str) -> FieldSpec:
        return self.reader.book.fields[field]

    def _value(self, field: str) -> Optional[str]:
        """The profile's value for a field: its own keys in order, else a context key of the field's name."""
        for key in self._field_spec(field).profile + (field,):
            value = self.profile.get(key)
            if value is not None:
                return value
        return None

    def _field_answer(self, field: str, value: str) -> str:
        answers = self.lines["answers"]
        return answers.get(field, answers["default"]).format_map(_Context({**self.context, "value": value}))

    @staticmethod
    def _ask_sentence(reading: TurnReading, field: str) -> str:
        return next(ask.sentence for ask in reading.asks if field in ask.fields)

    def _next_follow_up(self, goals: GoalTracker) -> Optional[str]:
        """Ask for what is still missing: the follow-up matching the first unmet criterion, in order."""
        questions = self.lines["follow_up"].get(self._kind, [])
        criteria = [s for s in goals.statuses if s.kind == "criterion"]
        for index, status in enumerate(criteria):
            if not status.met and index < len(questions):
                if index in self._follow_ups_asked:
                    self._unhelpful += 1
                self._follow_ups_asked.add(index)
                return questions[index].format_map(self.context)
        return None

    def _lost_patience(self, heard: HeardTurn, reading: TurnReading) -> bool:
        """Slow answers and turns that bring nothing new wear patience down; past the limit it hangs up."""
        slow = (heard.response_latency_ms is not None
                and heard.response_latency_ms > self.personality.slow_response_ms)
        reprompted = reading.reprompt or self._cue(heard.text.lower(), "reprompt")
        if slow or reprompted:
            self._unhelpful += 1
        return self._unhelpful > self.personality.max_unhelpful_turns

    # ---- wording -----------------------------------------------------------------------------------------

    def _styled(self, line: str) -> str:
        """Personality flavour in front of a line; a flavour replaces the line's own "Hi, " / "Hello, "."""
        prefix = self._pick(self._style.get("prefix") or [""])
        if prefix:
            for greeting in GREETING_WORDS:
                if line.startswith(greeting):
                    line = line[len(greeting):]
                    line = line if line.startswith(("I ", "I'")) else line[:1].lower() + line[1:]
                    break
        return prefix + line

    def _pick(self, options: list, **values: str) -> str:
        """One of `options`, filled from the profile and `values` (the parts of this one reply)."""
        context = _Context({**self.context, **values}) if values else self.context
        return self.random.choice(options).format_map(context)

    def _cue(self, text: str, name: str) -> bool:
        return any(cue in text for cue in self.lines["cues"][name])


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
