"""Phrase rendering for callers: shared frames, and new phrases rendered without freezing the gevent loop."""
from __future__ import annotations

import itertools

import gevent
import pytest

from callers.media import line, phrasebook, speech

MEDIA_FORMAT = "raw/lpcm16"
# Long enough that a first rendering takes tens of milliseconds of espeak and resampling.
LONG_PHRASE = ("Hello, I am calling about the replacement card I ordered last week, because it has still "
               "not arrived and I need it before I travel on Friday morning. Can you tell me where it is?")
_fresh = itertools.count()


def fresh_phrase() -> str:
    """A phrase no earlier test rendered, so the render really happens (the caches are process-wide)."""
    return f"Number {next(_fresh) + 7301}. {LONG_PHRASE}"


def ticks_while(render) -> int:
    """How many times another greenlet ran while `render` rendered one fresh phrase."""
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.0005)
            ticks += 1

    ticker = gevent.spawn(tick)
    gevent.sleep(0.01)  # the ticker is running
    before = ticks
    render(fresh_phrase())
    during = ticks - before
    ticker.kill()
    return during


def test_thread_rendering_returns_the_shared_cached_frames() -> None:
    style = speech.SpeakingStyle()
    text = fresh_phrase()
    in_thread = phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT)
    assert in_thread
    assert phrasebook.encoded_frames(text, style, MEDIA_FORMAT) is in_thread
    assert phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT) is in_thread


def test_other_greenlets_run_while_a_new_phrase_renders() -> None:
    style = speech.SpeakingStyle()
    speech.get_voice().render("warm up", style)  # the library's one-off load stays out of the count
    assert ticks_while(lambda text: phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT)) >= 3


def test_the_control_inline_rendering_freezes_the_loop() -> None:
    """Without the thread nothing else runs during a render: otherwise the test above would prove nothing."""
    style = speech.SpeakingStyle()
    assert ticks_while(lambda text: phrasebook.encoded_frames(text, style, MEDIA_FORMAT)) == 0


def test_a_rendering_error_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="media format"):
        phrasebook.encoded_frames_in_thread(fresh_phrase(), speech.SpeakingStyle(), "no/such-format")


def test_a_clean_line_shares_one_rendering_whatever_the_seed() -> None:
    """A clean line draws no noise: callers with their own seeds must not each render the phrase again."""
    style, text = speech.SpeakingStyle(), fresh_phrase()
    first = phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT, seed=1)
    assert phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT, seed=2) is first
    assert phrasebook.encoded_frames(text, style, MEDIA_FORMAT, seed=3) is first


def test_a_noisy_line_keeps_each_seed_its_own_noise() -> None:
    style, text, noisy = speech.SpeakingStyle(), fresh_phrase(), line.LineConditions(snr_db=20.0)
    one = phrasebook.encoded_frames(text, style, MEDIA_FORMAT, conditions=noisy, seed=1)
    assert phrasebook.encoded_frames(text, style, MEDIA_FORMAT, conditions=noisy, seed=1) is one
    other = phrasebook.encoded_frames(text, style, MEDIA_FORMAT, conditions=noisy, seed=2)
    assert len(other) == len(one) and other != one


def test_a_rendered_phrase_is_answered_without_the_render_thread(monkeypatch) -> None:
    style, text = speech.SpeakingStyle(), fresh_phrase()
    first = phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT)

    def no_pool(key):
        raise AssertionError("a cached phrase went to the render thread")

    monkeypatch.setattr(phrasebook, "_render_in_thread", no_pool)
    assert phrasebook.encoded_frames_in_thread(text, style, MEDIA_FORMAT) is first


def test_the_cache_keeps_the_most_recently_used_phrases(monkeypatch) -> None:
    monkeypatch.setattr(phrasebook, "CACHE_PHRASES", 2)
    style = speech.SpeakingStyle()
    one, two, three = (f"Short phrase {next(_fresh)}." for _ in range(3))
    kept = phrasebook.encoded_frames(one, style, MEDIA_FORMAT)
    phrasebook.encoded_frames(two, style, MEDIA_FORMAT)
    assert phrasebook.encoded_frames(one, style, MEDIA_FORMAT) is kept  # now the most recent
    phrasebook.encoded_frames(three, style, MEDIA_FORMAT)  # over the bound: `two` goes
    assert phrasebook.encoded_frames(one, style, MEDIA_FORMAT) is kept
    assert len(phrasebook._CACHE) == 2 and all(key[0] != two for key in phrasebook._CACHE)
