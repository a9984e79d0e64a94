"""bridge/prompts.py: reply audio built once per (reply, format) and shared, including with the build thread."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bridge import prompts as prompts_module
from bridge.dialogue import GOODBYE, GREETING
from bridge.prompts import PromptBook, agent_style
from callers.media import audio, speech

FRAME_MS = 20
FAST_STYLE = speech.SpeakingStyle(rate_wpm=450)


def book() -> PromptBook:
    return PromptBook(FAST_STYLE, FRAME_MS)


def test_cached_is_empty_until_a_reply_is_built_then_shares_it() -> None:
    prompts, fmt = book(), audio.parse_media_format("raw/lpcm16")
    assert prompts.cached((GREETING,), fmt) is None
    built = prompts.prompt((GREETING,), fmt)
    assert built.frames and len(built.voiced) == len(built.frames) and any(built.voiced)
    assert prompts.cached((GREETING,), fmt) is built
    assert prompts.prompt((GREETING,), fmt) is built
    assert prompts.cached((GREETING,), audio.parse_media_format("raw/mulaw")) is None  # per format


def test_builds_on_threads_leave_one_consistent_cache() -> None:
    prompts, fmt = book(), audio.parse_media_format("raw/lpcm16")
    replies = [(GREETING,), (GOODBYE,), (GREETING, GOODBYE)] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = list(pool.map(lambda sentences: prompts.prompt(sentences, fmt), replies))
    for sentences, prompt in zip(replies, built):
        cached = prompts.cached(sentences, fmt)
        assert cached is not None and cached.frames == prompt.frames


def test_the_cache_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(prompts_module, "PROMPT_CACHE_ENTRIES", 2)
    prompts, fmt = book(), audio.parse_media_format("raw/lpcm16")
    for sentences in [(GREETING,), (GOODBYE,), (GREETING, GOODBYE)]:
        prompts.prompt(sentences, fmt)
    assert prompts.cached((GREETING,), fmt) is None
    assert prompts.cached((GOODBYE,), fmt) is not None and prompts.cached((GREETING, GOODBYE), fmt) is not None


def test_a_piper_agent_speaks_piper_in_english_and_espeak_where_no_piper_voice_speaks_the_language() -> None:
    prompts = PromptBook(agent_style("piper", 175), FRAME_MS)
    english = agent_style("piper", 175)
    assert (english.engine, english.voice) == ("piper", "en_US-joe-medium")
    assert prompts._style_in("en-gb") == english  # an English translation keeps the natural voice
    assert prompts._style_in("es") == speech.SpeakingStyle(rate_wpm=175, voice="es", engine="espeak")
    assert agent_style("espeak", 175) == speech.SpeakingStyle(rate_wpm=175)
