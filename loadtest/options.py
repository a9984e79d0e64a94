"""The locustfile's custom options, each defined once: the command line, LOCUST_* variables and the web UI's
start form all read a value through the same parser.

Locust's web form sends every field as text and, for an option whose default is None, keeps that text as is
(an empty "caller seed" arrived as "" and broke every caller's on_start). Here a value is text until its
option parses it: an empty text means the option's default, and a bad one is an `OptionError` naming the
option and the value, whichever way it came in.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

ENV_PREFIX = "LOCUST_"
TRUE_WORDS = ("true", "on", "yes", "1")
FALSE_WORDS = ("false", "off", "no", "0")


class OptionError(ValueError):
    """A value an option cannot take; the message names the option and the value."""


@dataclass(frozen=True)
class Option:
    """One custom option: how it is spelt, parsed, defaulted, explained and shown.

    `parse` turns a non-empty text into the value or raises ValueError with the reason (naming the value).
    `switch` options are flags on the command line (`--judge`) and a checkbox in the web form.
    A `secret` is never in the web UI: Locust writes a shown option's current value into the page, even
    for a password field.
    """

    flag: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    choices: Optional[tuple[str, ...]] = None
    switch: bool = False
    secret: bool = False
    web: bool = True

    def __post_init__(self) -> None:
        if self.secret and self.web:
            raise ValueError(f"{self.flag} is secret: it cannot be shown in the web UI")

    @property
    def dest(self) -> str:
        """The attribute name in Locust's parsed options, e.g. caller_seed."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.dest.upper()

    def value(self, text: str) -> Any:
        """The value `text` stands for; an empty text is the default. OptionError when it cannot be."""
        try:
            return self._parsed(text)
        except ValueError as exc:
            raise OptionError(f"{self.flag}: {exc}") from None

    def argparse_type(self, text: str) -> Any:
        """`type=` for argparse: the same parser, reported the way argparse reports a bad value."""
        try:
            return self._parsed(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    def _parsed(self, text: str) -> Any:
        text = text.strip()
        if not text:
            return self.default
        value = self.parse(text)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{text!r} is not one of {', '.join(self.choices)}")
        return value


# ---- parsers: text -> value, or ValueError saying why -----------------------------------------------------

def integer(minimum: Optional[int] = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"{text!r} is below {minimum}")
        return value
    return parse


def number(minimum: float = -math.inf, maximum: float = math.inf, above: bool = False) -> Callable[[str], float]:
    """A finite number within [minimum, maximum] (or above minimum, when `above`)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        if value < minimum or (above and value == minimum):
            raise ValueError(f"{text!r} must be {'above' if above else 'at least'} {minimum:g}")
        if value > maximum:
            raise ValueError(f"{text!r} must be at most {maximum:g}")
        return value
    return parse


def text(value: str) -> str:
    return value


def switch(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is neither true nor false")


# ---- the command line -------------------------------------------------------------------------------------

def add_to_parser(parser: Any, options: Iterable[Option]) -> None:
    """Add every option to Locust's parser (parser.add_argument itself: only it knows include_in_web_ui and
    is_secret), each with its LOCUST_* variable."""
    for option in options:
        common = {"default": option.default, "help": option.help, "env_var": option.env_var,
                  "include_in_web_ui": option.web, "is_secret": option.secret}
        if option.switch:
            parser.add_argument(option.flag, action="store_true", **common)
        else:
            parser.add_argument(option.flag, type=option.argparse_type, choices=option.choices, **common)


# ---- the web form -----------------------------------------------------------------------------------------

def _form_key(name: str) -> str:
    # Locust's form turns option names into camelCase and back, not always into the same name
    # (max_p95_turn_ms comes back as max_p9_5turn_ms); letters and digits survive, in order.
    return "".join(ch for ch in name.lower() if ch.isalnum())


def from_form(options: Sequence[Option], form: Mapping[str, str]) -> dict[str, Any]:
    """The custom options a start form sets, parsed, by dest. Fields it does not send are left out.

    OptionError names every bad value at once; a field for an option the web UI does not show (a secret)
    is refused rather than ignored."""
    by_key = {_form_key(option.dest): option for option in options}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in form.items():
        option = by_key.get(_form_key(key))
        if option is None:
            continue
        if not option.web:
            problems.append(f"{option.flag} cannot be set from the web UI")
            continue
        try:
            values[option.dest] = option.value(raw)
        except OptionError as exc:
            problems.append(str(exc))
    if problems:
        raise OptionError("; ".join(problems))
    return values


def form_keys(options: Sequence[Option], form: Mapping[str, str]) -> set[str]:
    """The keys of `form` that are custom options (as from_form matches them)."""
    known = {_form_key(option.dest) for option in options}
    return {key for key in form if _form_key(key) in known}


# ---- Caller Agent's options -------------------------------------------------------------------------------

def caller_options(test_configurations: Iterable[str], ear_modes: Iterable[str], *, all_scenarios: str,
                   shapes: Sequence[str], success_default: float, p95_default_ms: float, token_env: str,
                   realtime_model: str, realtime_voice: str, judge_model: str) -> tuple[Option, ...]:
    """Every custom option of locustfile.py, in the order `locust --help` lists them."""
    return (
        Option("--test-config", text, all_scenarios, choices=(all_scenarios, *test_configurations),
               help="scenario mix: a test_configurations name of scenarios.json, or 'all' (every entry of its "
                    "\"scenarios\"); each call places one, with the user's personality"),
        Option("--success-threshold", number(0.0, 1.0), 0.0,
               help="exit code 1 when successes / (calls - cancelled) is below this fraction (0 = off); with "
                    f"--shape capacity, the success rate every step must reach (0 = {success_default:g})"),
        Option("--max-p95-turn-ms", number(0.0), 0.0,
               help="exit code 1 when the p95 of TURN latency is above this many ms (0 = off); with --shape "
                    f"capacity, the limit for every step (0 = {p95_default_ms:g})"),
        Option("--ear", text, "alttext", choices=tuple(ear_modes),
               help="how callers hear the agent; alttext is cheap, stt loads a recognizer per worker"),
        Option("--results-dir", text, f"results/{time.strftime('%Y%m%d-%H%M%S')}",
               help="per-call JSONL (one file per process), goals.json and capacity.json go here"),
        Option("--caller-seed", integer(), None,
               help="make the callers' choices reproducible (distinct per call and worker); empty = random"),
        Option("--bridge-token", text, None, secret=True, web=False,
               help=f"bearer token for the bridge (default: ${token_env}); never logged, never in the web UI"),
        Option("--ca-file", text, None,
               help="wss://: trust the bridge certificate signed by this PEM CA file (default: the system's CAs)"),
        Option("--insecure", switch, False, switch=True,
               help="wss://: do not verify the bridge's certificate (logged as a warning)"),
        Option("--resume-on-drop", switch, False, switch=True,
               help="when a call's connection drops, reconnect with session.resume (recorded per call)"),
        # The web UI chooses shapes with --class-picker instead: an option there could not undo the choice.
        Option("--shape", text, shapes[0], choices=tuple(shapes), web=False,
               help="capacity: step the callers up (ignoring -u) until a step misses a target; prints the "
                    "highest concurrency that met both and writes capacity.json"),
        Option("--capacity-start", integer(1), 5, help="capacity search: callers in the first step"),
        Option("--capacity-step", integer(1), 5, help="capacity search: callers added per step"),
        Option("--capacity-step-s", number(0.0, above=True), 60.0,
               help="capacity search: seconds per step; make it longer than a call (a step is judged on the "
                    "calls that complete in it)"),
        Option("--capacity-max", integer(1), 500,
               help="capacity search: stop after the step with this many callers"),
        # The OpenAI key is read from OPENAI_API_KEY only: Locust shows option values in its web UI.
        Option("--brain", text, "scripted", choices=("scripted", "realtime"),
               help="scripted (offline) or realtime: every caller holds its own OpenAI Realtime session (paid; "
                    "needs OPENAI_API_KEY)"),
        Option("--model", text, realtime_model, help="Realtime model for --brain realtime"),
        Option("--voice", text, realtime_voice, help="Realtime voice for --brain realtime"),
        Option("--openai-base-url", text, None,
               help="OpenAI API base URL (default $OPENAI_BASE_URL, else OpenAI's)"),
        Option("--max-realtime-sessions", integer(0), 0,
               help="at most this many Realtime sessions open at once per process (0 = no cap); callers wait "
                    "for a slot"),
        Option("--judge", switch, False, switch=True,
               help="judge every success criterion after each call with a text model (paid; needs "
                    "OPENAI_API_KEY)"),
        Option("--judge-model", text, judge_model, help="text model for --judge"),
    )
