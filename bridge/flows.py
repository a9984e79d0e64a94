"""Other banks' agents as call flows: read from agent_flows.toml (data) and played one step at a time.

The reference policy (bridge/dialogue.py) is one agent; a caller that only passes it has learnt one
agent's phrases. A flow is another bank's agent: verification by other data, two asks in one turn,
confirmations, holds, choices, upsells, an agent that never asks anything, one that asks for what no
caller has, one in Spanish. `FlowAgent` plays a flow: it says a step, checks the caller's answer, asks
again up to the flow's limit and then gives up, as real agents do.

How it checks an answer depends on what it knows of the caller (`Answers`):
- in text (bench/dialogue.py) it is given the caller's profile (`ProfileAnswers`) and checks each value
  against it, as a bank checks its records;
- on the wire (`python -m bridge --agent-flow NAME`, `FlowBot`) it has only what it heard, so it checks that
  an answer is plausible (`HeardAnswers`: an 8-digit member number, a date, an email): a bot cannot know
  a simulated caller's generated profile, and being handed it would test nothing a real agent does.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Protocol, Union

from bridge.dialogue import Action, Reply, State

FLOWS_FILE = Path(__file__).with_name("agent_flows.toml")
# The expectations a step may have of the caller's answer.
REQUEST, NONE, YES, NO, CHOICE, FIELDS = "request", "none", "yes", "no", "choice", "fields"
EXPECTS = (REQUEST, NONE, YES, NO, CHOICE)
DEFAULT_LANGUAGE = "en"
DEFAULT_MAX_REASKS = 2
STEP_KEYS = frozenset({"say", "expect", "accept", "reask", "service", "statements_only", "ask"})
FLOW_KEYS = frozenset({"name", "language", "goodbye", "give_up", "steps", "unanswerable", "max_reasks"})
# Number words a recogniser may write for digits read out one by one.
DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
               "six": "6", "seven": "7", "eight": "8", "nine": "9"}
# Digits read out one by one come back from a recogniser as "4 8 2 1", "4-8-2-1", "48.21" or "(555) 123".
_DIGIT_RUN = re.compile(r"\d(?:[\s().,\-]*\d)*")
_DIGIT_WORD = re.compile(r"\b(" + "|".join(DIGIT_WORDS) + r")\b")


class FlowError(ValueError):
    """A flow file that cannot be played, or a flow name it does not have; the message names both."""


def plain(text: str) -> str:
    """Lowercase letters and digits only, words run together: "4 8 2 1" and "4821" read alike."""
    return re.sub(r"[\W_]", "", text.lower())


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower())


def _has_word(text: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {' '.join(_words(text))} "
    return any(f" {phrase} " in padded for phrase in phrases)


@dataclass(frozen=True)
class Language:
    """The words a flow in one language listens for and falls back on."""

    yes: tuple[str, ...]
    no: tuple[str, ...]
    refuse: tuple[str, ...]  # a yes that also says one of these is none
    sorry: str  # starts a re-ask that has no `reask` of its own
    give_up: str
    choices: dict[str, tuple[str, ...]]  # on the wire: the options a choice's {key} stands for
    heard_as: dict[str, str]  # on the wire: a misheard word -> the word the flow listens for

    def as_meant(self, text: str) -> str:
        """What the recogniser wrote, its known mishearings of the flow's words put right."""
        if not self.heard_as:
            return text
        misheard = r"\b(" + "|".join(map(re.escape, self.heard_as)) + r")\b"
        return re.sub(misheard, lambda match: self.heard_as[match.group(1).lower()], text, flags=re.IGNORECASE)


@dataclass(frozen=True)
class Format:
    """What a plausible answer for a field looks like to a bot that cannot look the caller up."""

    digits: Optional[tuple[int, int]]
    pattern: Optional[re.Pattern]
    example: str

    def holds(self, text: str) -> bool:
        heard = _DIGIT_WORD.sub(lambda match: DIGIT_WORDS[match.group(1)], text.lower())
        if self.digits is not None:
            low, high = self.digits
            if any(low <= len(re.sub(r"\D", "", run)) <= high for run in _DIGIT_RUN.findall(heard)):
                return True
        return self.pattern is not None and self.pattern.search(heard) is not None


@dataclass(frozen=True)
class FlowBook:
    """A flow file read and checked: the flows by name, and what they share."""

    path: Path
    flows: dict[str, dict]
    services: dict[str, dict]  # language -> scenario type -> steps, and "topics" -> scenario type -> words
    languages: dict[str, Language]
    formats: dict[str, Format]
    records: dict[str, dict[str, str]]  # language -> the bank's own values for {keys}

    def flow(self, name: str) -> dict:
        if name not in self.flows:
            raise FlowError(f"{self.path}: no flow named '{name}' (flows: {', '.join(self.flows)})")
        return self.flows[name]

    def language_of(self, flow: dict) -> str:
        return flow.get("language", DEFAULT_LANGUAGE)

    def scenario_types(self, flow: dict) -> tuple[str, ...]:
        """The scenario types the flow's agent knows how to serve (its language's topics)."""
        return tuple(self.services[self.language_of(flow)]["topics"])

    def phrases(self, flow: dict) -> list[str]:
        """The flow's sentences that need no caller's value, for rendering before the first call."""
        said = [step["say"] for step in flow["steps"] if "say" in step]
        for steps in self.services[self.language_of(flow)].values():
            if isinstance(steps, list):
                said += [step["say"] for step in steps]
        said += [flow["goodbye"], flow.get("give_up", self.languages[self.language_of(flow)].give_up)]
        return [sentence for sentence in dict.fromkeys(said) if "{" not in sentence]


def _fail(path: Path, where: str, problem: str) -> FlowError:
    return FlowError(f"{path}: {where}: {problem}")


def _strings(value: Any, path: Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _fail(path, where, "must be a list of non-empty strings")
    return tuple(value)


def _text(value: Any, path: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, "must be a non-empty string")
    return value


def _table(value: Any, path: Path, where: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, where, "must be a table")
    return value


def load_flow_book(path: Union[str, Path] = FLOWS_FILE) -> FlowBook:
    """Read and check a flow file; every problem raises FlowError naming the file and the entry."""
    path = Path(path)
    try:
        with open(path, "rb") as source:
            data = tomllib.load(source)
    except OSError as exc:
        raise FlowError(f"{path}: cannot read the flow file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FlowError(f"{path}: not valid TOML ({exc})") from None
    languages = {code: _language(spec, path, f"languages.{code}")
                 for code, spec in _table(data.get("languages"), path, "[languages]").items()}
    formats = {name: _format(spec, path, f"formats.{name}")
               for name, spec in _table(data.get("formats", {}), path, "[formats]").items()}
    records = {code: {key: str(value) for key, value in _table(spec, path, f"records.{code}").items()}
               for code, spec in _table(data.get("records", {}), path, "[records]").items()}
    services = {code: _services(spec, path, code)
                for code, spec in _table(data.get("services"), path, "[services]").items()}
    raw_flows = data.get("flows")
    if not isinstance(raw_flows, list) or not raw_flows:
        raise _fail(path, "[[flows]]", "the file has no flows")
    flows: dict[str, dict] = {}
    for index, flow in enumerate(raw_flows):
        name = flow.get("name") if isinstance(flow, dict) else None
        where = f"flow '{name}'" if isinstance(name, str) else f"flow {index + 1}"
        _check_flow(_table(flow, path, where), path, where, languages, services, formats)
        if name in flows:
            raise _fail(path, where, "a second flow of this name")
        flows[name] = flow
    for name, flow in flows.items():
        code = flow.get("language", DEFAULT_LANGUAGE)
        _check_keys(flow["steps"], path, f"flow '{name}'", records.get(code, {}), languages[code].choices)
    for code, spec in services.items():
        for kind, steps in spec.items():
            if kind != "topics":
                _check_keys(steps, path, f"services.{code}.{kind}", records.get(code, {}), languages[code].choices)
    return FlowBook(path, flows, services, languages, formats, records)


def _check_keys(steps: list[dict], path: Path, where: str, records: dict, choices: dict) -> None:
    """Every {key} a step says must be in the bank's [records] (on the wire no profile fills it), and every
    {key} a choice accepts in its records or its language's choices."""
    for number, step in enumerate(steps, 1):
        said = " ".join(step.get(name, "") for name in ("say", "reask"))
        missing = [key for key in re.findall(r"\{(\w+)\}", said) if key not in records]
        missing += [key for option in step.get("accept", ()) for key in re.findall(r"\{(\w+)\}", option)
                    if key not in records and key not in choices]
        if missing:
            raise _fail(path, f"{where} step {number}", f"{{{missing[0]}}} is in neither [records] nor the "
                                                        "language's choices (a bot on the wire could not say it)")


def _language(spec: Any, path: Path, where: str) -> Language:
    spec = _table(spec, path, where)
    choices = {key: _strings(value, path, f"{where}.choices.{key}")
               for key, value in _table(spec.get("choices", {}), path, f"{where}.choices").items()}
    heard_as = {misheard.lower(): word for word, value in _table(spec.get("heard_as", {}), path,
                                                                  f"{where}.heard_as").items()
                for misheard in _strings(value, path, f"{where}.heard_as.{word}")}
    return Language(*(_strings(spec.get(key), path, f"{where}.{key}") for key in ("yes", "no", "refuse")),
                    sorry=_text(spec.get("sorry"), path, f"{where}.sorry"),
                    give_up=_text(spec.get("give_up"), path, f"{where}.give_up"), choices=choices,
                    heard_as=heard_as)


def _format(spec: Any, path: Path, where: str) -> Format:
    spec = _table(spec, path, where)
    digits = spec.get("digits")
    if digits is not None and not (isinstance(digits, list) and len(digits) == 2
                                   and all(isinstance(n, int) and n > 0 for n in digits) and digits[0] <= digits[1]):
        raise _fail(path, f"{where}.digits", "must be [MIN, MAX] with 0 < MIN <= MAX")
    pattern = None
    if "pattern" in spec:
        try:
            pattern = re.compile(_text(spec["pattern"], path, f"{where}.pattern"))
        except re.error as exc:
            raise _fail(path, f"{where}.pattern", f"not a regular expression ({exc})") from None
    if digits is None and pattern is None:
        raise _fail(path, where, "needs digits = [MIN, MAX] or a pattern")
    return Format(tuple(digits) if digits else None, pattern, _text(spec.get("example"), path, f"{where}.example"))


def _services(spec: Any, path: Path, code: str) -> dict:
    spec = _table(spec, path, f"services.{code}")
    topics = _table(spec.get("topics"), path, f"services.{code}.topics")
    for kind, words in topics.items():
        _strings(words, path, f"services.{code}.topics.{kind}")
        if not isinstance(spec.get(kind), list):
            raise _fail(path, f"services.{code}", f"topics name '{kind}' but it has no steps")
    for kind, steps in spec.items():
        if kind != "topics":
            for number, step in enumerate(_steps(steps, path, f"services.{code}.{kind}"), 1):
                _check_step(step, path, f"services.{code}.{kind} step {number}")
    return spec


def _steps(value: Any, path: Path, where: str) -> list[dict]:
    if not isinstance(value, list) or not value or not all(isinstance(step, dict) for step in value):
        raise _fail(path, where, "must be a non-empty list of steps ({ say = ..., expect = ... })")
    return value


def _check_step(step: dict, path: Path, where: str) -> None:
    unknown = set(step) - STEP_KEYS
    if unknown:
        raise _fail(path, where, f"unknown key '{sorted(unknown)[0]}' (known: {', '.join(sorted(STEP_KEYS))})")
    if step.get("service"):
        return
    _text(step.get("say"), path, f"{where}: say")
    expect = step.get("expect", NONE)
    if isinstance(expect, list):
        _strings(expect, path, f"{where}: expect")
    elif expect not in EXPECTS:
        raise _fail(path, f"{where}: expect", f"'{expect}' is none of {', '.join(EXPECTS)} or a list of fields")
    if expect == CHOICE:
        _strings(step.get("accept"), path, f"{where}: accept")


def _check_flow(flow: dict, path: Path, where: str, languages: dict, services: dict, formats: dict) -> None:
    unknown = set(flow) - FLOW_KEYS
    if unknown:
        raise _fail(path, where, f"unknown key '{sorted(unknown)[0]}' (known: {', '.join(sorted(FLOW_KEYS))})")
    _text(flow.get("name"), path, f"{where}: name")
    _text(flow.get("goodbye"), path, f"{where}: goodbye")
    language = flow.get("language", DEFAULT_LANGUAGE)
    if language not in languages or language not in services:
        raise _fail(path, f"{where}: language", f"'{language}' has no [languages.{language}] and "
                                                f"[services.{language}] tables")
    unanswerable = set(_strings(flow.get("unanswerable", []), path, f"{where}: unanswerable"))
    if not isinstance(flow.get("max_reasks", DEFAULT_MAX_REASKS), int) or flow.get("max_reasks", 0) < 0:
        raise _fail(path, f"{where}: max_reasks", "must be a whole number, 0 or more")
    requested = False
    for number, step in enumerate(_steps(flow.get("steps"), path, f"{where}: steps"), 1):
        _check_step(step, path, f"{where} step {number}")
        if step.get("service") and not requested:
            raise _fail(path, f"{where} step {number}", "the service comes before the agent asks for the request")
        requested = requested or step.get("expect") == REQUEST
        missing = [name for name in step.get("expect", []) if isinstance(step.get("expect"), list)
                   and name not in formats and name not in unanswerable]
        if missing:
            raise _fail(path, f"{where} step {number}", f"field '{missing[0]}' has no [formats] entry (how a bot "
                                                        "checks it) and is not listed as unanswerable")


class Answers(Protocol):
    """What the agent knows of the caller: the values it says, the options it takes, the answers it accepts."""

    def fill(self, key: str) -> str: ...

    def options(self, key: str) -> tuple[str, ...]: ...

    def holds(self, name: str, text: str) -> bool: ...


class ProfileAnswers:
    """In text: the caller's whole profile, as a bank's records of this caller."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def fill(self, key: str) -> str:
        return self.values.get(key) or key

    def options(self, key: str) -> tuple[str, ...]:
        return (self.fill(key),)

    def holds(self, name: str, text: str) -> bool:
        value = self.values.get(name)
        return bool(value) and plain(value) in plain(text)


class HeardAnswers:
    """On the wire: the bank's own records, and plausibility checks of what it heard."""

    def __init__(self, book: FlowBook, language: str) -> None:
        self.formats = book.formats
        self.choices = book.languages[language].choices
        self.records = book.records.get(language, {})

    def fill(self, key: str) -> str:
        return self.records.get(key, key)

    def options(self, key: str) -> tuple[str, ...]:
        if key in self.records:
            return (self.records[key],)
        return self.choices.get(key, (key,))

    def holds(self, name: str, text: str) -> bool:
        spec = self.formats.get(name)
        return spec is not None and spec.holds(text)


@dataclass
class Step:
    say: str
    expect: str = NONE  # REQUEST, NONE, YES, NO, CHOICE, or FIELDS
    fields: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()  # for CHOICE: the option words the caller may answer with (any)
    reask: str = ""
    service: bool = False  # stands for the scenario type's service steps, expanded when reached
    statements_only: bool = False
    label: str = ""  # a service step's "type.N", recorded when a statement is said


@dataclass
class Tally:
    """One conversation's figures: agent questions asked and answered, re-asks, how it ended."""

    questions: int = 0
    answered: int = 0
    answered_first: int = 0  # on the first ask, without a re-ask
    unanswerable: int = 0
    reasks: int = 0
    field_reasks: int = 0
    agent_gave_up: bool = False


class _Values(dict):
    def __init__(self, answers: Answers) -> None:
        super().__init__()
        self.answers = answers

    def __missing__(self, key: str) -> str:
        return self.answers.fill(key)


class FlowAgent:
    """One flow played against one caller. `scenario_type` None: the agent tells it from the caller's request
    (the scenario type of which it hears the most topic words)."""

    def __init__(self, flow: dict, book: FlowBook, scenario_type: Optional[str], answers: Answers) -> None:
        self.name = flow["name"]
        self.language = book.language_of(flow)
        self.words = book.languages[self.language]
        self.services = book.services[self.language]
        if scenario_type is not None and scenario_type not in self.services["topics"]:
            raise FlowError(f"{book.path}: flow '{self.name}' serves no '{scenario_type}' calls "
                            f"(it serves: {', '.join(self.services['topics'])})")
        self.scenario_type = scenario_type
        self.answers = answers
        self.max_reasks = int(flow.get("max_reasks", DEFAULT_MAX_REASKS))
        self.give_up = flow.get("give_up", self.words.give_up)
        self.goodbye = flow["goodbye"]
        self.unanswerable_fields = frozenset(flow.get("unanswerable", ()))
        self.steps = [self._step(raw) for raw in flow["steps"]]
        self.index = 0
        self.reasks = 0
        self.said: list[str] = []  # "type.N" of every service statement said, in order
        self.tally = Tally()
        self._expand()

    def _step(self, raw: dict, label: str = "") -> Step:
        if raw.get("service"):
            return Step("", service=True, statements_only=bool(raw.get("statements_only")))
        expect = raw.get("expect", NONE)
        fields: tuple[str, ...] = ()
        if isinstance(expect, list):
            fields, expect = tuple(expect), FIELDS
        values = _Values(self.answers)
        accept: list[str] = []
        for option in raw.get("accept", ()):
            key = re.fullmatch(r"\{(\w+)\}", option)
            accept += self.answers.options(key.group(1)) if key else [option.format_map(values)]
        return Step(raw["say"].format_map(values), expect, fields, tuple(accept),
                    raw.get("reask", "").format_map(values), label=label)

    def _expand(self) -> None:
        """The scenario type's service steps in place of the steps that stand for them, once it is known."""
        if self.scenario_type is None:
            return
        steps: list[Step] = []
        for step in self.steps:
            if not step.service:
                steps.append(step)
                continue
            items = [item for item in self.services[self.scenario_type]
                     if not (step.statements_only and item.get("ask"))]
            for number, item in enumerate(items, 1):
                steps.append(self._step(item, label=f"{self.scenario_type}.{number}"))
        self.steps = steps

    @property
    def step(self) -> Step:
        return self.steps[self.index]

    @property
    def finished(self) -> bool:
        return self.index >= len(self.steps)

    def greet(self) -> str:
        return self._ask(self.steps[0])

    def _ask(self, step: Step) -> str:
        if step.expect != NONE:
            self.tally.questions += 1
            if set(step.fields) & self.unanswerable_fields:
                self.tally.unanswerable += 1
        if step.label and step.expect == NONE:
            self.said.append(step.label)
        return step.say

    def respond(self, caller_text: str) -> tuple[str, bool]:
        """The agent's next turn and whether it ended the call."""
        step = self.steps[self.index]
        if self._accepts(step, caller_text):
            if step.expect != NONE:
                self.tally.answered += 1
                self.tally.answered_first += self.reasks == 0
            self.index += 1
            self.reasks = 0
            if self.index >= len(self.steps):
                return self.goodbye, True
            return self._ask(self.steps[self.index]), False
        if self.reasks >= self.max_reasks:
            self.tally.agent_gave_up = True
            self.index = len(self.steps)
            return self.give_up, True
        self.reasks += 1
        self.tally.reasks += 1
        self.tally.field_reasks += step.expect == FIELDS
        return step.reask or f"{self.words.sorry}{step.say[:1].lower()}{step.say[1:]}", False

    def _accepts(self, step: Step, text: str) -> bool:
        heard = plain(text)
        if step.expect == NONE:
            return True
        if step.expect == REQUEST:
            if self.scenario_type is None:
                scores = {kind: sum(plain(word) in heard for word in words)
                          for kind, words in self.services["topics"].items()}
                best = max(scores, key=lambda kind: scores[kind])  # ties: the first in the file
                self.scenario_type = best if scores[best] else None
                self._expand()
                return self.scenario_type is not None
            return any(plain(topic) in heard for topic in self.services["topics"][self.scenario_type])
        if step.expect == YES:
            return _has_word(text, self.words.yes) and not _has_word(text, self.words.refuse)
        if step.expect == NO:
            return _has_word(text, self.words.no)
        if step.expect == CHOICE:
            return any(plain(option) in heard for option in step.accept)
        return all(self.answers.holds(name, text) for name in step.fields)


class FlowBot:
    """A flow as the bridge's agent for one call: the reference policy's interface (bridge/dialogue.py's
    BankAgent: greet, respond, interrupted, what a caller is assumed to say, and the call's summary for the
    truth log), answers checked by `HeardAnswers`. The call's scenarioType parameter, when it names a type
    the flow serves, is taken as known (as a bot is told by the IVR menu in front of it); otherwise the
    bot tells the type from the caller's request."""

    def __init__(self, book: FlowBook, name: str, scenario_hint: Optional[str] = None) -> None:
        flow = book.flow(name)
        language = book.language_of(flow)
        known = scenario_hint if scenario_hint in book.services[language]["topics"] else None
        self.book = book
        self.flow = FlowAgent(flow, book, known, HeardAnswers(book, language))
        self.transferred = False
        self.scenario_hint = known
        self._repeat = False  # the last statement was talked over: say it again

    # ---- what the truth log records (the names BankAgent has) ----------------------------------------

    @property
    def scenario_type(self) -> Optional[str]:
        return self.flow.scenario_type

    @property
    def verified(self) -> bool:
        """Every field question asked so far was answered (the flow's own verification)."""
        return self.flow.tally.answered >= self.flow.tally.questions - self.flow.tally.unanswerable

    @property
    def identity_failures(self) -> int:
        return self.flow.tally.field_reasks

    @property
    def reprompts(self) -> int:
        return self.flow.tally.reasks

    @property
    def fulfilled(self) -> list[str]:
        return list(self.flow.said)

    @property
    def finished(self) -> bool:
        return self.flow.finished

    # ---- the conversation ----------------------------------------------------------------------------

    def greet(self) -> Reply:
        return self._reply(self.flow.greet(), ended=False)

    def respond(self, text: str) -> Reply:
        if self.finished:
            raise RuntimeError("the call has ended; no further turns")
        if self._repeat:
            self._repeat = False
            return self._reply(self.flow.step.say, ended=False)
        said, ended = self.flow.respond(self.flow.words.as_meant(text))
        return self._reply(said, ended)

    def interrupted(self) -> None:
        """A statement talked over is said again on the next turn; a question talked over is answered."""
        self._repeat = not self.finished and self.flow.step.expect == NONE

    def expected_caller_text(self) -> str:
        """What a cooperative caller would say to the current step, when the bridge cannot hear it."""
        step, words = self.flow.step, self.flow.words
        if step.expect == REQUEST:
            topics = self.flow.services["topics"]
            return topics[self.flow.scenario_type or next(iter(topics))][0]
        if step.expect == FIELDS:
            return ". ".join(self.book.formats[name].example for name in step.fields if name in self.book.formats)
        if step.expect == NO:
            return words.no[0]
        if step.expect == CHOICE:
            return step.accept[0]
        return words.yes[0]

    def _reply(self, said: str, ended: bool) -> Reply:
        step = None if self.finished else self.flow.step
        if ended or step is None:
            state = State.ENDED
        elif step.expect == FIELDS:
            state = State.IDENTITY
        elif step.expect == REQUEST:
            state = State.GREETING
        else:
            state = State.INFORMING
        fulfilled = (step.label,) if step is not None and step.label and step.expect == NONE else ()
        return Reply(sentences=_sentences(said), state=state, intent=self.flow.scenario_type,
                     action=Action.HANGUP if ended else None, fulfilled=fulfilled)


def _sentences(text: str) -> tuple[str, ...]:
    """A turn cut into sentences, so the bridge renders (and caches) each one apart, as for its own replies."""
    return tuple(part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part)
