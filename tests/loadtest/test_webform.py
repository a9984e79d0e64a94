"""loadtest/webform.py on Locust's real web UI (Flask's test client, no browser, no users started)."""
from __future__ import annotations

import argparse
import logging

import pytest
from locust import User, argument_parser, constant, task
from locust.env import Environment
from locust.runners import STATE_RUNNING

from loadtest import options as spec
from loadtest import webform

OPTIONS = (
    spec.Option("--caller-seed", spec.integer(), None, help="seed"),
    spec.Option("--capacity-step-s", spec.number(0.0, above=True), 60.0, help="step"),
    spec.Option("--max-p95-turn-ms", spec.number(0.0), 0.0, help="p95"),
    spec.Option("--judge", spec.switch, False, switch=True, help="judge"),
    spec.Option("--bridge-token", spec.text, None, secret=True, web=False, help="token"),
)
HOST = "ws://127.0.0.1:9/ws/telephony"
START = {"user_count": "2", "spawn_rate": "1", "host": HOST}


class Nobody(User):
    wait_time = constant(1)

    @task
    def nothing(self) -> None:
        pass


@pytest.fixture
def ui(monkeypatch):
    """A web UI whose runner only records the starts it is asked for; `problems` is what the run check says."""
    parsed = argparse.Namespace(**{**argument_parser.default_args_dict(), "host": HOST,
                                   **{option.dest: option.default for option in OPTIONS}})
    environment = Environment(user_classes=[Nobody], host=HOST, parsed_options=parsed)
    runner = environment.create_local_runner()
    starts: list[tuple] = []
    monkeypatch.setattr(runner, "start", lambda users, rate, **_kw: starts.append((users, rate)))
    # The page's list of custom options is parsed from sys.argv (pytest's here) and ./locust.conf.
    monkeypatch.setattr(argument_parser, "ui_extra_args_dict", lambda args=None: {})
    web_ui = environment.create_web_ui("127.0.0.1", 0, delayed_start=True)
    checked: list[argparse.Namespace] = []
    problems: list[str] = []

    def check(options, form):
        checked.append(options)
        return problems[0] if problems else None

    webform.install(environment, OPTIONS, check)
    client = web_ui.app.test_client()

    def post(**fields: str) -> dict:
        answer = client.post("/swarm", data={**START, **fields})
        assert answer.status_code == 200, answer.data
        return answer.get_json()

    yield argparse.Namespace(environment=environment, runner=runner, parsed=parsed, starts=starts, post=post,
                             checked=checked, problems=problems)
    runner.quit()


def settle():
    import gevent
    gevent.sleep(0.05)  # Locust starts the runner in a greenlet


def test_the_empty_seed_of_a_default_form_is_no_seed_and_the_run_starts(ui):
    answer = ui.post(caller_seed="", capacity_step_s="60", max_p9_5turn_ms="0", judge="false")
    settle()
    assert answer["success"], answer
    assert ui.parsed.caller_seed is None and ui.parsed.judge is False
    assert ui.parsed.capacity_step_s == 60.0 and ui.parsed.max_p95_turn_ms == 0.0
    assert ui.starts == [(2, 1.0)]


def test_typed_values_arrive_typed(ui):
    assert ui.post(caller_seed="42", capacity_step_s="7.5", max_p9_5turn_ms="900", judge="true")["success"]
    assert (ui.parsed.caller_seed, ui.parsed.capacity_step_s, ui.parsed.max_p95_turn_ms, ui.parsed.judge) == \
        (42, 7.5, 900.0, True)


def test_a_bad_value_is_one_message_and_no_user_starts(ui, caplog):
    with caplog.at_level(logging.ERROR, logger="caller_agent.locust"):
        answer = ui.post(caller_seed="abc", capacity_step_s="60")
    settle()
    assert answer == {"success": False, "host": HOST, "message": "--caller-seed: 'abc' is not a whole number"}
    assert ui.starts == [] and ui.parsed.caller_seed is None
    assert [record.getMessage() for record in caplog.records] == \
        ["web UI start refused: --caller-seed: 'abc' is not a whole number"]


def test_a_value_locust_could_not_cast_is_a_message_not_an_error_500(ui):
    answer = ui.post(capacity_step_s="")  # an emptied field: the default
    assert answer["success"] and ui.parsed.capacity_step_s == 60.0
    answer = ui.post(capacity_step_s="soon")
    assert answer["message"] == "--capacity-step-s: 'soon' is not a number"


def test_the_run_check_sees_the_new_values_and_its_problem_stops_the_start(ui):
    ui.problems.append("--judge needs an OpenAI API key")
    answer = ui.post(judge="true")
    settle()
    assert answer["message"] == "--judge needs an OpenAI API key" and not answer["success"]
    assert ui.checked[-1].judge is True and ui.parsed.judge is False and ui.starts == []


def test_a_secret_cannot_be_set_from_the_form(ui):
    answer = ui.post(bridge_token="t0k3n")
    assert answer["message"] == "--bridge-token cannot be set from the web UI"
    assert ui.parsed.bridge_token is None


def test_an_edit_during_a_run_changes_the_user_count_but_not_the_run_s_options(ui, caplog):
    assert ui.post(caller_seed="7")["success"]
    ui.runner.state = STATE_RUNNING  # as the (recording) runner would be now
    with caplog.at_level(logging.WARNING, logger="caller_agent.locust"):
        answer = ui.post(user_count="5", caller_seed="")  # the form after a page reload shows the default
    settle()
    assert answer["success"] and ui.parsed.caller_seed == 7
    assert ui.starts[-1] == (5, 1.0)
    assert any("keeps its --caller-seed" in record.getMessage() for record in caplog.records)
