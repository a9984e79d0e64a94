"""A learned second opinion on one goal and one agent turn: the probability that the turn meets the goal.

The goal, the whole turn and each clause of the turn are embedded by the sentence encoder; the pair features
say how the goal meets the turn (elementwise products), what the clause closest to the goal is (a thing done,
an offer, a question, a condition), and what follows it (a "but I can't" in a later clause). A few small
networks over them, averaged, were trained on the tuning corpora by `bench/judge_model.py`; their weights
are data, `learned_judge.npz` beside this file.

Its uses: a veto, a rule's "met" that the judge finds very unlikely becomes uncertain; and a rescue, a rule's
"not met" that it finds near certain becomes uncertain in calls (met only on the bench), and only where a
second set of networks over the same features, the gate (`learned_judge_gate.npz`, trained also on each turn
paired with the other goals of its call as not met), finds that the turn speaks of this goal: a call asks
about every goal each turn. It learned the goals of scenarios.json and does poorly on goal wordings it never
saw (bench/judge_model.py, leaving goals out), so a caller should ask it only where `knows(goal)`.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from callers.scenario.goals import MET, UNCERTAIN, Review
from callers.scenario.grammar import split_sentences
from callers.scenario.sentence_encoder import ModelUnavailable, SentenceEncoder, shared_encoder

WEIGHTS = Path(__file__).with_name("learned_judge.npz")  # and its gate beside it (gate_of)
# below this probability a rule's "met" becomes uncertain; chosen from 0.1, 0.2 and 0.3 by bench/judge_model.py on
# the splits whose wording the rules had not been tuned on
VETO_BELOW = 0.2
# above this probability a rule's "not met" or "uncertain" may be taken as met (a rescue; chosen like the veto)
RESCUE_ABOVE = 0.9
# and only where the gate, too, is above this: the turn speaks of this goal, not of another goal of the call
# (chosen from 0.4, 0.5 and 0.6 by the other goals' rescues read by hand: bench/RESULTS.md section 5, round 6)
GATE_ABOVE = 0.6
TEXTS_KEPT = 64  # embedded turn texts and clauses kept, so the goals of one turn share its embeddings
# a clause starts at a sentence start or at one of these joining words, so a later "but I can't" stands alone
_CLAUSE_BREAK = re.compile(r"(?:[;:]|,)?\s+(?=(?:but|however|although|though|unless|until|once|except|"
                           r"so|then|if|pero|aunque|sin embargo)\b)", re.IGNORECASE)

Embed = Callable[[str], np.ndarray]


def clauses(text: str) -> list[str]:
    """The turn cut into sentences, and each sentence at the words that turn or condition what came before."""
    found = [part.strip(" ,;:") for sentence in split_sentences(text) for part in _CLAUSE_BREAK.split(sentence)]
    return [part for part in found if part] or [text]


def pair_features(goal: np.ndarray, turn: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Features of one (goal, turn) pair from unit vectors: goal (d), turn (d), the turn's clauses (k, d)."""
    similarity = parts @ goal
    best = int(np.argmax(similarity))
    after = parts[best + 1:].mean(axis=0) if best + 1 < len(parts) else np.zeros_like(goal)
    before = parts[:best].mean(axis=0) if best > 0 else np.zeros_like(goal)
    scalars = np.array([float(turn @ goal), float(similarity.max()), float(similarity.mean()),
                        float(len(parts) > 1), float(best + 1 < len(parts)), float(after @ goal)], np.float32)
    return np.concatenate([goal * turn, goal * parts[best], parts[best], after, before, turn, scalars])


def features(goal_text: str, turn_text: str, embed: Embed) -> np.ndarray:
    parts = clauses(turn_text)
    part_vectors = np.stack([embed(part) for part in parts])
    turn_vector = part_vectors[0] if len(parts) == 1 and parts[0] == turn_text else embed(turn_text)
    return pair_features(embed(goal_text), turn_vector, part_vectors)


@dataclass(frozen=True)
class JudgeModel:
    """Standardised features into one or more members, their probabilities averaged. A member is logistic
    (p = sigmoid(w . z + b)) or, when it has a hidden layer, p = sigmoid(w . relu(H z + c) + b)."""

    mean: np.ndarray  # (d,)
    scale: np.ndarray  # (d,)
    weights: np.ndarray  # (members, d) logistic, or (members, hidden)
    bias: np.ndarray  # (members,)
    hidden: Optional[np.ndarray] = None  # (members, d, hidden)
    hidden_bias: Optional[np.ndarray] = None  # (members, hidden)
    goals: tuple[str, ...] = ()  # the goal texts it was trained on: elsewhere it is little better than chance

    def probability(self, x: np.ndarray) -> np.ndarray:
        """p per row of x (or one p for one feature vector)."""
        z = ((x - self.mean) / self.scale).astype(np.float32)
        total = np.zeros(z.shape[:-1], np.float64)
        for member in range(len(self.bias)):
            inputs = z
            if self.hidden is not None and self.hidden_bias is not None:
                inputs = np.maximum(z @ self.hidden[member] + self.hidden_bias[member], 0.0)
            logit = inputs @ self.weights[member] + self.bias[member]
            total += 1.0 / (1.0 + np.exp(-np.clip(logit, -40.0, 40.0)))
        return total / len(self.bias)

    def save(self, path: Path, **notes: str) -> None:
        arrays = {"mean": self.mean, "scale": self.scale, "weights": self.weights, "bias": self.bias}
        if self.hidden is not None and self.hidden_bias is not None:
            arrays.update(hidden=self.hidden, hidden_bias=self.hidden_bias)
        np.savez_compressed(path, **{k: np.asarray(v, np.float32) for k, v in arrays.items()},
                            goals=np.array(sorted(self.goals), dtype=str),
                            **{f"note_{k}": np.array(v) for k, v in notes.items()})

    @classmethod
    def load(cls, path: Path) -> "JudgeModel":
        try:
            with np.load(path) as data:
                model = cls(mean=data["mean"], scale=data["scale"], weights=data["weights"], bias=data["bias"],
                            hidden=data["hidden"] if "hidden" in data else None,
                            hidden_bias=data["hidden_bias"] if "hidden_bias" in data else None,
                            goals=tuple(str(g) for g in data["goals"]) if "goals" in data else ())
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise ModelUnavailable(f"{path}: not a learned judge's weights ({exc})") from None
        width = model.mean.shape[0] if model.hidden is None else model.hidden.shape[-1]
        if model.weights.ndim != 2 or model.weights.shape != (len(model.bias), width):
            raise ModelUnavailable(f"{path}: weights of shape {model.weights.shape} do not fit the features")
        return model


class LearnedJudge:
    """Goal and turn to a probability that the turn meets the goal; goal vectors are kept per goal text."""

    def __init__(self, model: JudgeModel, encoder: SentenceEncoder, gate: Optional[JudgeModel] = None) -> None:
        self.model = model
        self.encoder = encoder
        self.gate = gate
        self._goals: dict[str, np.ndarray] = {}
        self._texts: OrderedDict[str, np.ndarray] = OrderedDict()

    def _embed(self, text: str) -> np.ndarray:
        vector = self._goals.get(text)
        if vector is None:
            vector = self._texts.pop(text, None)
            if vector is None:
                vector = self.encoder.encode(text)
            self._texts[text] = vector
            if len(self._texts) > TEXTS_KEPT:
                self._texts.popitem(last=False)
        return vector

    def knows(self, goal_text: str) -> bool:
        """Whether the judge was trained on this goal's wording; on others its veto costs more than it saves."""
        return goal_text in self.model.goals

    def _features(self, goal_text: str, turn_text: str) -> np.ndarray:
        if goal_text not in self._goals:
            self._goals[goal_text] = self.encoder.encode(goal_text)
        return features(goal_text, turn_text, self._embed)

    def probability(self, goal_text: str, turn_text: str) -> float:
        return float(self.model.probability(self._features(goal_text, turn_text)))

    def probabilities(self, goal_text: str, turn_text: str) -> tuple[float, float]:
        """The judge's and the gate's probability for one pair (the gate's is 0 without a gate: no rescue)."""
        x = self._features(goal_text, turn_text)
        return float(self.model.probability(x)), float(self.gate.probability(x)) if self.gate is not None else 0.0


def vetoed(rule_verdict: str, probability: float, veto_below: float = VETO_BELOW) -> str:
    """The rules' verdict, but uncertain where they say met and the judge is confident the turn does not meet."""
    return UNCERTAIN if rule_verdict == MET and probability < veto_below else rule_verdict


def rescued(rule_verdict: str, probability: float, rescue_above: float = RESCUE_ABOVE, gate: float = 1.0,
            gate_above: float = GATE_ABOVE) -> str:
    """The rules' verdict, but met where they do not say so, the judge is confident the turn meets, and the
    gate finds the turn speaks of this goal."""
    return MET if rule_verdict != MET and probability > rescue_above and gate > gate_above else rule_verdict


def review_by(judge: LearnedJudge, veto_below: float = VETO_BELOW, rescue_above: Optional[float] = None,
              gate_above: float = GATE_ABOVE, rescue_as: str = MET) -> Review:
    """A GoalTracker's second opinion: the rules' verdict, vetoed or (with `rescue_above`) rescued by the
    judge, asked only where its answer can change the verdict and only on goals it was trained on. A tracker
    asks about every goal of its call each turn, and the judge, trained one labelled goal at a time, is
    confident about goals a short turn does not touch ("Please key in your PIN now." scores above 0.9 for
    a transfer); so a rescue needs the gate too, trained with the other goals of each turn's call as not met
    (without a gate there is no rescue). A rescue gives `rescue_as`: met, or uncertain (shown apart, never
    counted as met)."""
    def review(goal_text: str, turn_text: str, verdict: str) -> str:
        if not judge.knows(goal_text):
            return verdict
        if verdict == MET:
            return vetoed(verdict, judge.probability(goal_text, turn_text), veto_below)
        if rescue_above is not None and judge.gate is not None:
            probability, gate = judge.probabilities(goal_text, turn_text)
            return rescue_as if rescued(verdict, probability, rescue_above, gate, gate_above) == MET else verdict
        return verdict
    return review


_lock = threading.Lock()


def gate_of(weights: Path) -> Path:
    """Where the gate of a judge's weights is kept: beside them, `<name>_gate.npz`."""
    return weights.with_name(f"{weights.stem}_gate{weights.suffix}")


def load_judge(weights: Path, encoder: SentenceEncoder) -> LearnedJudge:
    """A judge from its weights, with its gate when the gate's file is there (without it: no rescue)."""
    gate = gate_of(weights)
    return LearnedJudge(JudgeModel.load(weights), encoder, JudgeModel.load(gate) if gate.exists() else None)


@lru_cache(maxsize=1)
def _shared(weights: Path) -> LearnedJudge:
    return load_judge(weights, shared_encoder())


def shared_judge(weights: Optional[Path] = None) -> LearnedJudge:
    """The process's one judge, loaded on first use. Raises ModelUnavailable, saying how to install the
    sentence model, when it is absent."""
    with _lock:
        return _shared(weights or WEIGHTS)


def second_opinion(goal_text: str, turn_text: str, verdict: str) -> str:
    """The process's one judge as a tracker's second opinion (see review_by): its veto makes a rule's met it
    finds very unlikely uncertain, and its gated rescue makes a rule's not met it finds near certain
    uncertain too, never met. On wording nobody tuned for, a rescue to met cost a point of false met for a
    point of accuracy (bench/RESULTS.md section 5, round 6); as uncertain it costs none, and a report shows
    the failed calls that hinge on it."""
    return review_by(shared_judge(), rescue_above=RESCUE_ABOVE, rescue_as=UNCERTAIN)(goal_text, turn_text, verdict)


def judge(goal_text: str, turn_text: str, weights: Optional[Path] = None) -> float:
    """Probability that turn_text meets goal_text, by the process's one judge."""
    return shared_judge(weights).probability(goal_text, turn_text)
