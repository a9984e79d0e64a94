"""loadtest/options.py: one parser per option, the same from the command line, LOCUST_* and the web form."""
from __future__ import annotations

import pytest
from locust.argument_parser import get_empty_argument_parser

from loadtest import options as spec
from loadtest.options import Option, OptionError

OPTIONS = spec.caller_options(
    ("quick_test", "stress"), ("auto", "stt", "alttext", "none"), all_scenarios="all", shapes=("none", "capacity"),
    success_default=0.8, p95_default_ms=1500.0, token_env="CALLER_BRIDGE_TOKEN", realtime_model="rt-model",
    realtime_voice="rt-voice", judge_model="judge-model")
BY_FLAG = {option.flag: option for option in OPTIONS}


def parse_command_line(*args: str, env: dict | None = None, monkeypatch=None):
    parser = get_empty_argument_parser()
    parser._default_config_files = {}  # the repository's locust.conf sets Locust's own options, not added here
    spec.add_to_parser(parser, OPTIONS)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    return parser.parse_args(list(args))


@pytest.mark.parametrize("flag, text, value", [
    ("--caller-seed", "42", 42),
    ("--caller-seed", "-3", -3),
    ("--caller-seed", "", None),
    ("--caller-seed", "  ", None),
    ("--success-threshold", "0.75", 0.75),
    ("--success-threshold", "", 0.0),
    ("--max-p95-turn-ms", "900", 900.0),
    ("--capacity-start", "3", 3),
    ("--capacity-step-s", "0.5", 0.5),
    ("--capacity-max", "", 500),
    ("--max-realtime-sessions", "0", 0),
    ("--test-config", "quick_test", "quick_test"),
    ("--test-config", "", "all"),
    ("--ear", "none", "none"),
    ("--brain", "realtime", "realtime"),
    ("--ca-file", "", None),
    ("--openai-base-url", "", None),
    ("--model", "", "rt-model"),
    ("--results-dir", "out/run-1", "out/run-1"),
    ("--judge", "true", True),
    ("--judge", "false", False),
    ("--judge", "", False),
    ("--insecure", "false", False),
    ("--resume-on-drop", "on", True),
])
def test_a_text_becomes_the_value_and_an_empty_text_the_default(flag, text, value):
    assert BY_FLAG[flag].value(text) == value
    assert type(BY_FLAG[flag].value(text)) is type(value)


@pytest.mark.parametrize("flag, text, said", [
    ("--caller-seed", "abc", "--caller-seed: 'abc' is not a whole number"),
    ("--caller-seed", "1.5", "--caller-seed: '1.5' is not a whole number"),
    ("--success-threshold", "1.5", "--success-threshold: '1.5' must be at most 1"),
    ("--success-threshold", "-0.1", "--success-threshold: '-0.1' must be at least 0"),
    ("--success-threshold", "nan", "--success-threshold: 'nan' is not a finite number"),
    ("--max-p95-turn-ms", "fast", "--max-p95-turn-ms: 'fast' is not a number"),
    ("--capacity-start", "0", "--capacity-start: '0' is below 1"),
    ("--capacity-step-s", "0", "--capacity-step-s: '0' must be above 0"),
    ("--max-realtime-sessions", "-1", "--max-realtime-sessions: '-1' is below 0"),
    ("--test-config", "nope", "--test-config: 'nope' is not one of all, quick_test, stress"),
    ("--ear", "eyes", "--ear: 'eyes' is not one of auto, stt, alttext, none"),
    ("--judge", "maybe", "--judge: 'maybe' is neither true nor false"),
])
def test_a_bad_text_names_the_option_and_the_value(flag, text, said):
    with pytest.raises(OptionError) as raised:
        BY_FLAG[flag].value(text)
    assert str(raised.value) == said


def test_the_command_line_parses_with_the_same_parsers(monkeypatch):
    parsed = parse_command_line("--caller-seed", "7", "--capacity-step-s", "7.5", "--judge", "--test-config", "stress")
    assert (parsed.caller_seed, parsed.capacity_step_s, parsed.judge, parsed.test_config) == (7, 7.5, True, "stress")
    defaults = parse_command_line()
    assert (defaults.caller_seed, defaults.judge) == (None, False)
    assert (defaults.insecure, defaults.resume_on_drop) == (False, False)
    assert (defaults.success_threshold, defaults.capacity_max, defaults.shape) == (0.0, 500, "none")
    from_env = parse_command_line(env={"LOCUST_CALLER_SEED": "3", "LOCUST_MAX_P95_TURN_MS": "900"},
                                  monkeypatch=monkeypatch)
    assert (from_env.caller_seed, from_env.max_p95_turn_ms) == (3, 900.0)


@pytest.mark.parametrize("args, said", [
    (("--caller-seed", "abc"), "argument --caller-seed: 'abc' is not a whole number"),
    (("--capacity-start", "0"), "argument --capacity-start: '0' is below 1"),
    (("--ear", "eyes"), "argument --ear: 'eyes' is not one of auto, stt, alttext, none"),
])
def test_a_bad_command_line_value_is_argparse_s_one_line(args, said, capsys):
    with pytest.raises(SystemExit):
        parse_command_line(*args)
    assert said in capsys.readouterr().err


def test_every_option_reads_its_locust_environment_variable():
    parser = get_empty_argument_parser()
    spec.add_to_parser(parser, OPTIONS)
    env_vars = {action.dest: getattr(action, "env_var", None) for action in parser._actions}
    for option in OPTIONS:
        assert env_vars[option.dest] == "LOCUST_" + option.dest.upper()


def test_the_bridge_token_is_secret_and_never_in_the_web_ui():
    parser = get_empty_argument_parser()
    spec.add_to_parser(parser, OPTIONS)
    assert "bridge_token" not in parser.args_included_in_web_ui
    assert "shape" not in parser.args_included_in_web_ui
    assert {"caller_seed", "judge", "insecure", "capacity_step_s"} <= set(parser.args_included_in_web_ui)
    with pytest.raises(ValueError, match="secret"):
        Option("--token", spec.text, None, help="", secret=True)


def test_the_form_s_fields_are_parsed_whatever_locust_did_to_their_names():
    # Locust's form sends max_p95_turn_ms back as max_p9_5turn_ms (camelCase and back).
    form = {"user_count": "10", "caller_seed": "", "max_p9_5turn_ms": "900", "capacity_step_s": "30",
            "judge": "false", "insecure": "false", "resume_on_drop": "false", "test_config": "all"}
    values = spec.from_form(OPTIONS, form)
    assert values == {"caller_seed": None, "max_p95_turn_ms": 900.0, "capacity_step_s": 30.0, "judge": False,
                      "insecure": False, "resume_on_drop": False, "test_config": "all"}
    assert spec.form_keys(OPTIONS, form) == set(form) - {"user_count"}


def test_the_form_names_every_bad_value_at_once_and_refuses_secrets():
    with pytest.raises(OptionError) as raised:
        spec.from_form(OPTIONS, {"caller_seed": "x", "capacity_max": "0", "bridge_token": "t0k3n"})
    said = str(raised.value)
    assert said == ("--caller-seed: 'x' is not a whole number; --capacity-max: '0' is below 1; "
                    "--bridge-token cannot be set from the web UI")
    assert "t0k3n" not in said


def test_results_dir_left_empty_is_the_timestamped_default():
    option = BY_FLAG["--results-dir"]
    assert option.value("") == option.default and option.default.startswith("results/")


# What Chromium sends for Locust 2.47's start form left as it is (captured from the browser).
DEFAULT_FORM = ("user_count=10&spawn_rate=2&host=ws%3A%2F%2F127.0.0.1%3A18000%2Fws%2Ftelephony&run_time=&profile="
                "&accept_timeout=30&brain=scripted&ca_file=&caller_seed=&capacity_max=500&capacity_start=5"
                "&capacity_step=5&capacity_step_s=60&ear=alttext&insecure=false&judge=false&judge_model=judge-model"
                "&max_p9_5turn_ms=0&max_realtime_sessions=0&model=rt-model&openai_base_url=&results_dir=out"
                "&resume_on_drop=false&strict_protocol=false&success_threshold=0&test_config=all&verdicts=rules&voice=rt-voice"
                "&voice_engine=espeak")


def test_the_default_form_gives_every_option_the_value_the_command_line_gives_it():
    from urllib.parse import parse_qsl

    form = dict(parse_qsl(DEFAULT_FORM, keep_blank_values=True))
    from_form = spec.from_form(OPTIONS, form)
    command_line = vars(parse_command_line("--results-dir", "out"))
    shown = [option.dest for option in OPTIONS if option.web]
    assert sorted(from_form) == sorted(shown)
    for dest in shown:
        assert from_form[dest] == command_line[dest], dest
        assert type(from_form[dest]) is type(command_line[dest]), dest
