"""Caller personalities: who is calling, as numbers a brain and a voice can act on.

A personality is data (one TOML file per personality in `personalities/`, the file stem is its name) so a
user adds a caller by dropping a file, without code. Every number has a documented range and is checked
both when a file is loaded (ConfigError naming file and field, so the user knows what to edit) and when a
CallerPersonality is built in Python (ValueError), from one table of rules so the two cannot drift apart.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any, Optional, Union

from callers.errors import ConfigError
from callers.media import piper_voice
from callers.media.speech import voice_problem
from callers.scenario.datafiles import read_toml, shipped

DEFAULT_PERSONALITY_DIR = shipped("personalities")
PERSONALITY_SUFFIX = ".toml"
# Personalities as last parsed, per directory, with the file names, times and sizes they were parsed from.
_LOADED: dict = {}

# Inclusive ranges. Speech rate and pitch are espeak-ng's own limits (it clamps silently outside them, which
# would hide a typo); a response delay beyond 10 s reads as a dead line rather than a slow caller.
INT_RANGES: dict[str, tuple[int, int]] = {
    "patience_level": (1, 10),
    "tech_comfort": (1, 10),
    "speaking_rate_wpm": (80, 450),
    "pitch": (0, 99),
    "sentence_pause_ms": (0, 3000),
}
FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "tendency_to_interrupt": (0.0, 1.0),
    "provides_clear_info": (0.0, 1.0),
    "response_delay_s": (0.0, 10.0),
    "verification_demands": (0.0, 1.0),
    "hesitation_rate": (0.0, 1.0),
}
# Relative shares, only ever compared with each other (a personality's share of the Locust users), so any
# finite number above zero; a zero weight would be a caller that never calls (remove its file instead), and
# TOML's inf / nan would break the proportions.
POSITIVE_NUMBERS = ("weight",)
NON_EMPTY_TEXT = ("type", "communication_style", "voice", "natural_voice")
FREE_TEXT = ("prompt", "name")

# Patience turned into behaviour. A caller facing silence waits MAX_WAIT_BASE_S plus MAX_WAIT_PER_PATIENCE_S
# per patience point before hanging up: 4.5 s at patience 1 (a real caller's "hello?" moment) up to 18 s at
# 10 (someone who assumes they are on hold).
MAX_WAIT_BASE_S = 3.0
MAX_WAIT_PER_PATIENCE_S = 1.5
# An agent answer slower than this (voice-to-voice) counts as an unhelpful turn: 1.25 s at patience 1, about
# where people start to notice a lag, up to 3.5 s at 10.
SLOW_RESPONSE_BASE_MS = 1000
SLOW_RESPONSE_PER_PATIENCE_MS = 250
# Unhelpful turns (slow answers, reprompts, repeated questions) tolerated before giving up: one for the
# least patient callers, four for the most patient.
UNHELPFUL_TURNS_PER_STEP = 3


class PersonalityType(str, Enum):
    """The eight personalities the project ships; a dropped-in file may use a name of its own."""

    NORMAL = "normal"
    DIFFICULT = "difficult"
    CONFUSED = "confused"
    ANGRY = "angry"
    ELDERLY = "elderly"
    IMPATIENT = "impatient"
    TECH_SAVVY = "tech_savvy"
    SUSPICIOUS = "suspicious"


def _field_problem(name: str, value: Any) -> Optional[str]:
    """What is wrong with one field's value, or None; shared by the file loader and the constructor."""
    if name in INT_RANGES:
        low, high = INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number from {low} to {high}, got {value!r}"
        if not low <= value <= high:
            return f"must be from {low} to {high}, got {value}"
    elif name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number from {low:g} to {high:g}, got {value!r}"
        if not low <= value <= high:
            return f"must be from {low:g} to {high:g}, got {value}"
    elif name in POSITIVE_NUMBERS:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number above 0, got {value!r}"
        if not (math.isfinite(value) and value > 0):
            return f"must be a finite number above 0, got {value}"
    elif name == "traits":
        if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
            return f"must be a list of non-empty strings, got {value!r}"
    elif name in NON_EMPTY_TEXT:
        if not isinstance(value, str) or not value.strip():
            return f"must be a non-empty string, got {value!r}"
        if name == "voice":
            return voice_problem(value)
        if name == "natural_voice":
            return piper_voice.voice_problem(value)
    elif name in FREE_TEXT:
        if not isinstance(value, str):
            return f"must be a string, got {value!r}"
    return None


@dataclass
class CallerPersonality:
    """How one simulated caller behaves and sounds; see personalities/*.toml for the shipped values."""

    type: str  # a PersonalityType value, or a user's own name for a dropped-in file
    traits: list[str]
    communication_style: str
    patience_level: int  # 1..10
    tech_comfort: int  # 1..10
    tendency_to_interrupt: float  # 0..1 chance to barge in during a long agent turn
    provides_clear_info: float  # 0..1 chance to give complete details at first ask
    speaking_rate_wpm: int = 165  # TTS rate
    pitch: int = 50  # TTS pitch 0..99
    response_delay_s: float = 0.6  # pause before answering
    verification_demands: float = 0.0  # 0..1 chance to ask the agent to prove it is the bank
    voice: str = "en-us"  # espeak-ng voice, "+variant" for a timbre: "en-us+f3", "en-us+grandpa", "en-gb"
    natural_voice: str = piper_voice.DEFAULT_VOICE  # a Piper voice of piper_voices.toml, for --voice-engine piper
    hesitation_rate: float = 0.0  # 0..1 chance each sentence opens with "um" / "uh"
    sentence_pause_ms: int = 0  # silence between the caller's sentences (0: the voice's own short gap)
    weight: float = 1.0  # > 0: this caller's share of a Locust run's users, relative to the other files
    prompt: str = ""  # system-prompt text for LLM brains: the model plays this caller
    name: str = ""  # file stem; defaults to type

    def __post_init__(self) -> None:
        # A PersonalityType member becomes its plain value so results, JSON and f-strings all read "difficult".
        if isinstance(self.type, PersonalityType):
            self.type = self.type.value
        for spec in fields(self):
            problem = _field_problem(spec.name, getattr(self, spec.name))
            if problem:
                raise ValueError(f"personality field '{spec.name}' {problem}")
        for name in (*FLOAT_RANGES, *POSITIVE_NUMBERS):
            setattr(self, name, float(getattr(self, name)))
        if not self.name:
            self.name = self.type

    @property
    def max_wait_s(self) -> float:
        """Seconds of agent silence this caller sits through before hanging up (a `no_answer` call)."""
        return MAX_WAIT_BASE_S + MAX_WAIT_PER_PATIENCE_S * self.patience_level

    @property
    def slow_response_ms(self) -> float:
        """Voice-to-voice latency above which this caller feels kept waiting (counts as an unhelpful turn)."""
        return SLOW_RESPONSE_BASE_MS + SLOW_RESPONSE_PER_PATIENCE_MS * self.patience_level

    @property
    def max_unhelpful_turns(self) -> int:
        """Unhelpful turns (slow, reprompting, going in circles) this caller tolerates before giving up."""
        return 1 + self.patience_level // UNHELPFUL_TURNS_PER_STEP


_FILE_FIELDS = tuple(spec.name for spec in fields(CallerPersonality) if spec.name != "name")
_REQUIRED_FIELDS = tuple(spec.name for spec in fields(CallerPersonality)
                         if spec.default is MISSING and spec.default_factory is MISSING)


def _normalized(name: str) -> str:
    """Lookup key: case, hyphens and spaces do not matter, so "Tech-Savvy" finds tech_savvy.toml."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def load_personality(path: Union[str, Path]) -> CallerPersonality:
    """Read one personality file; every problem is a ConfigError naming the file and the field to fix."""
    path = Path(path)
    data = read_toml(path, "personality")
    for key in data:
        if key == "name":
            raise ConfigError(str(path), "a personality's name is its file name; remove this field", field=key)
        if key not in _FILE_FIELDS:
            raise ConfigError(str(path), f"unknown field (known: {', '.join(_FILE_FIELDS)})", field=key)
    for key in _REQUIRED_FIELDS:
        if key not in data:
            raise ConfigError(str(path), "required field is missing", field=key)
    for key, value in data.items():
        problem = _field_problem(key, value)
        if problem:
            raise ConfigError(str(path), problem, field=key)
    return CallerPersonality(**data, name=path.stem)


def load_personalities(directory: Union[str, Path] = DEFAULT_PERSONALITY_DIR) -> dict[str, CallerPersonality]:
    """Every personality file of a directory, by name (file stem), in name order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(str(directory), "personality directory not found")
    found: dict[str, CallerPersonality] = {}
    keys: dict[str, Path] = {}
    for path in sorted(directory.glob(f"*{PERSONALITY_SUFFIX}")):
        key = _normalized(path.stem)
        if key in keys:
            raise ConfigError(str(path), f"same personality name as {keys[key].name} (case, '-' and '_' "
                                         "are not told apart); rename one of them")
        keys[key] = path
        found[path.stem] = load_personality(path)
    if not found:
        raise ConfigError(str(directory), f"no personality files (*{PERSONALITY_SUFFIX}) in this directory")
    return found


def _current_personalities(directory: Union[str, Path]) -> dict[str, CallerPersonality]:
    """load_personalities, parsed again only when a file of the directory was added, removed or changed.

    Every call looks up its caller's personality; parsing the files each time is blocking file I/O that, on a
    busy worker, delays the audio of every other call of the process by tens of milliseconds."""
    directory = Path(directory)
    try:
        signature = tuple((path.name, path.stat().st_mtime_ns, path.stat().st_size)
                          for path in sorted(directory.glob(f"*{PERSONALITY_SUFFIX}")))
    except OSError:
        signature = None
    cached = _LOADED.get(directory)
    if signature is not None and cached is not None and cached[0] == signature:
        return cached[1]
    personalities = load_personalities(directory)
    if signature is not None:
        _LOADED[directory] = (signature, personalities)
    return personalities


def get_personality(name: str, directory: Union[str, Path] = DEFAULT_PERSONALITY_DIR) -> CallerPersonality:
    """The personality called `name` ("tech-savvy" and "tech_savvy" both work); unknown names list the known."""
    personalities = _current_personalities(directory)
    found = find_personality_name(name, list(personalities))
    if found is not None:
        return personalities[found]
    raise ConfigError(str(directory), f"unknown personality '{name}' (known: {', '.join(personalities)})")


def find_personality_name(name: str, known: list[str]) -> Optional[str]:
    """The known personality name `name` refers to, or None; lets other loaders accept "tech-savvy"."""
    wanted = _normalized(name)
    return next((stem for stem in known if _normalized(stem) == wanted), None)
