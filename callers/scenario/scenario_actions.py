"""What a scenario can make the caller do besides answering: key digits when asked, talk over the agent on cue.

Both are data in scenarios.json, so a test of "does the agent take DTMF for the account number" or "does it
keep talking through an uh-huh 300 ms into its second prompt" is written without code:

    "dtmf": [{"when": "date of birth on your keypad", "digits": "14061986"}]
    "barge_ins": [{"prompt": 2, "at_ms": 1500, "kind": "backchannel", "say": "uh-huh"}]

`when` is one cue or a list of cues, matched case-insensitively in what the caller heard of the agent's turn.
`prompt` counts the agent's prompts (playStreams) over the call from 1, the greeting. The parsers raise
ActionError naming the field, which the scenarios loader turns into a ConfigError naming file and entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_DTMF_DIGITS = 32
INTERRUPT = "interrupt"
BACKCHANNEL = "backchannel"
BARGE_IN_KINDS = (INTERRUPT, BACKCHANNEL)
DEFAULT_BACKCHANNEL = "Uh-huh."
# Beyond a minute into one prompt is a typo, not a test: no agent prompt runs that long.
MAX_BARGE_IN_OFFSET_MS = 60_000
DTMF_FIELDS = ("when", "digits")
BARGE_IN_FIELDS = ("prompt", "at_ms", "kind", "say")


class ActionError(ValueError):
    """A bad dtmf / barge_ins entry; `field` is its path inside the scenario, e.g. "dtmf[0].digits"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DtmfRule:
    """Key `digits` when the agent's turn contains one of the `cues`."""

    cues: tuple[str, ...]
    digits: str

    def matches(self, heard: str) -> bool:
        text = f" {_plain(heard)} "
        return any(f" {cue} " in text for cue in self.cues)


@dataclass(frozen=True)
class BargeInPlan:
    """Talk over agent prompt number `prompt`, `at_ms` after its playStream.start."""

    prompt: int
    at_ms: float
    kind: str
    say: Optional[str] = None

    @property
    def at_s(self) -> float:
        return self.at_ms / 1000.0


def dtmf_rule_for(rules: tuple[DtmfRule, ...], heard: str) -> Optional[DtmfRule]:
    return next((rule for rule in rules if rule.matches(heard)), None)


def barge_in_plan_for(plans: tuple[BargeInPlan, ...], prompt: int) -> Optional[BargeInPlan]:
    return next((plan for plan in plans if plan.prompt == prompt), None)


def parse_dtmf_rules(raw: Any, name: str = "dtmf") -> tuple[DtmfRule, ...]:
    entries = _entries(raw, name)
    rules = []
    for index, entry in enumerate(entries):
        where = f"{name}[{index}]"
        _only(entry, DTMF_FIELDS, where)
        cues = _cues(entry.get("when"), f"{where}.when")
        digits = entry.get("digits")
        if isinstance(digits, int) and not isinstance(digits, bool):
            raise ActionError(f"{where}.digits", f"must be a string (leading zeros matter), e.g. \"{digits}\"")
        if not isinstance(digits, str) or not digits.replace(" ", ""):
            raise ActionError(f"{where}.digits", f"must be a non-empty string of keys, got {digits!r}")
        keys = digits.replace(" ", "").upper()
        wrong = sorted(set(keys) - DTMF_KEYS)
        if wrong:
            raise ActionError(f"{where}.digits", f"{''.join(wrong)!r} are not phone keys (0-9, *, #, A-D)")
        if len(keys) > MAX_DTMF_DIGITS:
            raise ActionError(f"{where}.digits", f"at most {MAX_DTMF_DIGITS} keys, got {len(keys)}")
        rules.append(DtmfRule(cues, keys))
    return tuple(rules)


def parse_barge_ins(raw: Any, name: str = "barge_ins") -> tuple[BargeInPlan, ...]:
    entries = _entries(raw, name)
    plans: list[BargeInPlan] = []
    for index, entry in enumerate(entries):
        where = f"{name}[{index}]"
        _only(entry, BARGE_IN_FIELDS, where)
        prompt = entry.get("prompt")
        if isinstance(prompt, bool) or not isinstance(prompt, int) or prompt < 1:
            raise ActionError(f"{where}.prompt", f"must be a whole number >= 1 (1 is the greeting), got {prompt!r}")
        if any(plan.prompt == prompt for plan in plans):
            raise ActionError(f"{where}.prompt", f"prompt {prompt} already has a barge-in")
        at_ms = entry.get("at_ms")
        if isinstance(at_ms, bool) or not isinstance(at_ms, (int, float)) or not 0 <= at_ms <= MAX_BARGE_IN_OFFSET_MS:
            raise ActionError(f"{where}.at_ms", f"must be a number of ms from 0 to {MAX_BARGE_IN_OFFSET_MS}, "
                                                f"got {at_ms!r}")
        kind = entry.get("kind")
        if kind not in BARGE_IN_KINDS:
            raise ActionError(f"{where}.kind", f"must be one of {', '.join(BARGE_IN_KINDS)}, got {kind!r}")
        say = entry.get("say")
        if say is not None:
            if kind != BACKCHANNEL:
                raise ActionError(f"{where}.say", "only a backchannel has fixed words; an interrupt says what "
                                                  "the caller's brain decides")
            if not isinstance(say, str) or not say.strip():
                raise ActionError(f"{where}.say", f"must be a non-empty string, got {say!r}")
        elif kind == BACKCHANNEL:
            say = DEFAULT_BACKCHANNEL
        plans.append(BargeInPlan(prompt, float(at_ms), kind, say))
    return tuple(plans)


def _entries(raw: Any, name: str) -> list[dict]:
    if not isinstance(raw, list):
        raise ActionError(name, f"must be a list of objects, got {type(raw).__name__}")
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ActionError(f"{name}[{index}]", f"must be a JSON object, got {type(entry).__name__}")
    return raw


def _only(entry: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise ActionError(f"{where}.{key}", f"unknown field (known: {', '.join(allowed)})")


def _cues(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise ActionError(where, f"must be a cue or a non-empty list of cues, got {value!r}")
    cues = []
    for cue in values:
        if not isinstance(cue, str) or not _plain(cue):
            raise ActionError(where, f"every cue must be words to listen for, got {cue!r}")
        cues.append(_plain(cue))
    return tuple(cues)


def _plain(text: str) -> str:
    """Lower-case words separated by single spaces, so cues match whatever punctuation the ear produced."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'")))
