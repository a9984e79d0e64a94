"""`caller_cli.py --list`: every id a user can run, read from the files themselves."""
from __future__ import annotations

import json

from callers.app import cli
from callers.scenario.personality import load_personalities
from callers.scenario.scenarios import load_scenarios


def test_list_names_every_personality_type_scenario_and_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    catalog = load_scenarios()
    names = [*load_personalities(), *(kind.value for kind in catalog.scenario_types), *catalog.predefined,
             *catalog.test_configurations]
    for name in names:
        assert f"\n  {name} " in out, name
    assert "Baseline happy path" in out  # descriptions come from scenarios.json
    assert "stress_test          11 calls, parallel, at most 20 at once" in out


def test_list_reads_the_given_scenarios_file(tmp_path, monkeypatch, capsys):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({
        "scenarios": [{"name": "Grumpy", "type": "custom", "personality": "angry", "scenario_type": "complaint"}],
        "test_configurations": {"just_one": {"description": "only Grumpy", "scenarios": [0]}}}))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--list", "--scenarios-file", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "just_one  1 calls, one after another: only Grumpy" in out and "Grumpy (angry, complaint)" in out


def test_list_of_a_broken_file_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"scenarios": [], "test_configurations": {"x": {"description": 7, "scenarios": [0]}}}')
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--list", "--scenarios-file", str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err
