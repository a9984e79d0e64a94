"""Where the project's own data files are found: the checkout's copy, else the installed one."""
from callers.scenario import datafiles
from callers.scenario.personality import DEFAULT_PERSONALITY_DIR
from callers.scenario.scenarios import DEFAULT_SCENARIOS_FILE


def test_a_checkout_uses_the_files_users_edit():
    assert DEFAULT_SCENARIOS_FILE == datafiles.CHECKOUT / "scenarios.json"
    assert DEFAULT_PERSONALITY_DIR == datafiles.CHECKOUT / "personalities"


def test_outside_a_checkout_the_installed_copy_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(datafiles, "CHECKOUT", tmp_path)
    assert datafiles.shipped("scenarios.json") == datafiles.INSTALLED / "scenarios.json"
    (tmp_path / "scenarios.json").write_text("{}")
    assert datafiles.shipped("scenarios.json") == tmp_path / "scenarios.json"
