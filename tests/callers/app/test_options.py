"""callers/app/options.py: the options both faces have are defined once and read the same from either."""
from __future__ import annotations

import argparse

import pytest

from callers.app import cli
from callers.app import options as shared
from callers.app.batch import make_caller
from callers.scenario.scenarios import load_scenarios
from loadtest import options as locust_options

SHARED = shared.shared_options()
LOCUST = {option.flag: option for option in locust_options.caller_options(
    ("quick_test",), ("auto", "stt", "alttext", "none"), all_scenarios="all", shapes=("none", "capacity"),
    success_default=0.8, p95_default_ms=1500.0, token_env="CALLER_BRIDGE_TOKEN", realtime_model=shared.DEFAULT_MODEL,
    realtime_voice=shared.DEFAULT_VOICE, judge_model=shared.DEFAULT_JUDGE_MODEL)}


def _cli_actions() -> dict[str, argparse.Action]:
    return {flag: action for action in cli.build_parser()._actions for flag in action.option_strings}


@pytest.mark.parametrize("flag", sorted(SHARED))
def test_both_faces_build_the_option_from_its_one_definition(flag):
    option = SHARED[flag]
    locust, cli_action = LOCUST[option.locust], _cli_actions()[flag]
    assert locust.parse.__qualname__ == option.parse.__qualname__
    assert locust.default == option.default and locust.secret == option.secret
    assert locust.help.startswith(option.help) and cli_action.help.startswith(option.help)
    assert cli_action.default == option.cli_value_default
    assert (cli_action.choices and tuple(cli_action.choices)) == (locust.choices or None)


@pytest.mark.parametrize("argv, message", [
    (["--success-threshold", "1.5"], "argument --success-threshold: '1.5' must be at most 1"),
    (["--max-realtime-sessions", "-1"], "argument --max-realtime-sessions: '-1' is below 0"),
    (["--seed", "x"], "argument --seed: 'x' is not a whole number"),
])
def test_a_bad_value_reads_as_the_locust_face_says_it(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.parse_arguments(cli.build_parser(), argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err
    flag, text = argv
    with pytest.raises(locust_options.OptionError) as refused:
        LOCUST[SHARED[flag].locust].value(text)
    assert str(refused.value) == message.replace(f"argument {flag}", SHARED[flag].locust)


def test_ca_file_and_insecure_together_are_refused_by_the_shared_rule(capsys, tmp_path):
    with pytest.raises(SystemExit):
        cli.parse_arguments(cli.build_parser(), ["--ca-file", str(tmp_path / "ca.pem"), "--insecure"])
    assert "--ca-file and --insecure contradict each other" in capsys.readouterr().err


def test_the_token_is_a_secret_kept_off_the_web_ui():
    assert SHARED["--token"].secret and not LOCUST["--bridge-token"].web


def test_every_face_speaks_espeak_by_default_and_each_caller_gets_the_engine_asked_for():
    plain = cli.parse_arguments(cli.build_parser(), ["--scenario", "normal_account_inquiry"])
    assert cli._settings(plain).voice_engine == "espeak" and LOCUST["--voice-engine"].default == "espeak"
    args = cli.parse_arguments(cli.build_parser(), ["--scenario", "normal_account_inquiry", "--voice-engine",
                                                    "piper"])
    settings = cli._settings(args)
    assert settings.voice_engine == "piper"
    catalog = load_scenarios()
    english = make_caller(catalog.predefined_entry("normal_account_inquiry"), settings, None)
    assert (english.style.engine, english.style.voice) == ("piper", english.personality.natural_voice)
    spanish = make_caller(catalog.predefined_entry("spanish_card_replacement"), settings, None)
    assert spanish.style.engine == "espeak"  # no Piper voice speaks Spanish
