"""callers/app/batch.py rehearse: what a first call of a language loads is loaded before any call is placed."""
from __future__ import annotations

from dataclasses import replace

from callers.app import batch
from callers.app.batch import CallSettings, rehearse
from callers.scenario import asks, profile
from callers.scenario.scenarios import load_scenarios


def test_a_languages_first_call_finds_its_data_loaded(monkeypatch):
    spanish = load_scenarios().predefined_entry("spanish_card_replacement")
    assert spanish.scenario.language == "es-ES"
    asks.asks_for.cache_clear()
    profile._faker.cache_clear()
    made = []
    make_caller = batch.make_caller
    monkeypatch.setattr(batch, "make_caller", lambda *args: made.append(args[1]) or make_caller(*args))
    settings = CallSettings(bridge_url="ws://127.0.0.1:9/ws", ear="alttext", seed=3, realtime=None)

    rehearse([spanish], replace(settings, recordings_dir=None))

    assert made and all(used.realtime is None and used.judge is None and used.recordings_dir is None
                        for used in made)
    loaded_asks, loaded_fakers = asks.asks_for.cache_info().currsize, profile._faker.cache_info().currsize
    make_caller(spanish, settings, None)  # the call itself: nothing left to load
    assert asks.asks_for.cache_info().currsize == loaded_asks >= 1
    assert profile._faker.cache_info().currsize == loaded_fakers >= 1
    assert asks.asks_for.cache_info().misses == loaded_asks


def test_an_entry_that_cannot_be_set_up_is_left_to_its_call(monkeypatch):
    entries = load_scenarios().entries[:2]
    tried = []

    def broken(entry, *_args):
        tried.append(entry.name)
        raise ValueError("no such personality")

    monkeypatch.setattr(batch, "make_caller", broken)
    rehearse(entries, CallSettings(bridge_url="ws://127.0.0.1:9/ws"))
    assert tried == [entry.name for entry in entries]
