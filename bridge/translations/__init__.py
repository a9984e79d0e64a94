"""The reference agent's words in other languages: one TOML table per language, keyed by the English sentence.

The dialogue (bridge.dialogue) reasons in English and stays pure; a call whose start activity names another
language ("es-ES") has each reply sentence swapped for its translation and spoken with that language's voice.
Adding a language is adding `<code>.toml` here: no code.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Optional

from bridge.dialogue import Reply

TRANSLATIONS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Translation:
    language: str  # the two-letter code, e.g. "es"
    voice: str  # the espeak-ng voice that speaks it
    sentences: dict

    def reply(self, reply: Reply) -> Reply:
        """The same reply in this language; a sentence without a translation stays in English."""
        return replace(reply, sentences=tuple(self.sentences.get(s, s) for s in reply.sentences))


def language_code(language: Optional[str]) -> str:
    """"es-ES" -> "es"; missing or malformed -> "en"."""
    if not isinstance(language, str) or not language.strip():
        return "en"
    return language.strip().split("-")[0].split("_")[0].lower()


@lru_cache(maxsize=None)
def translation_for(language: Optional[str]) -> Optional[Translation]:
    """The table for a start activity's `language`, or None for English and for languages we do not have."""
    code = language_code(language)
    path = TRANSLATIONS_DIR / f"{code}.toml"
    if code == "en" or not code.isalpha() or not path.is_file():
        return None
    with open(path, "rb") as source:
        data = tomllib.load(source)
    return Translation(language=code, voice=data["voice"], sentences=dict(data["sentences"]))
