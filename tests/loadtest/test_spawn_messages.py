"""loadtest/spawn_messages.py: Locust's default options are parsed once per process, not once per option."""
from __future__ import annotations

import pytest
from locust import argument_parser

from loadtest import spawn_messages


@pytest.fixture
def original(monkeypatch):
    """Locust's own default_args_dict, restored after the test; builds of its parser are counted."""
    monkeypatch.setattr(argument_parser, "default_args_dict", argument_parser.default_args_dict)
    builds = []
    build = argument_parser.get_empty_argument_parser

    def counted(*args, **kwargs):
        builds.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(argument_parser, "get_empty_argument_parser", counted)
    return builds


def test_defaults_are_parsed_once_and_answer_as_before(original):
    unkept = argument_parser.default_args_dict()
    assert "host" in unkept and "num_users" in unkept
    spawn_messages.keep_default_args()
    original.clear()
    answers = [argument_parser.default_args_dict() for _ in range(50)]  # a spawn message: one per option
    assert all(answer == unkept for answer in answers)
    assert len(original) == 1


def test_each_caller_gets_its_own_copy(original):
    spawn_messages.keep_default_args()
    argument_parser.default_args_dict()["host"] = "changed by a caller"
    assert argument_parser.default_args_dict()["host"] != "changed by a caller"


def test_keeping_twice_keeps_one_layer(original):
    spawn_messages.keep_default_args()
    kept = argument_parser.default_args_dict
    spawn_messages.keep_default_args()
    assert argument_parser.default_args_dict is kept
