"""What a call cost: OpenAI token usage summed by kind, priced from a data table a user can update.

Prices change more often than code, so they live in openai_prices.toml (USD per 1M tokens, per model and
token kind). A call's `usage` keeps one entry per part that spent tokens ("realtime": the caller's voice
and mind, "transcription": hearing the agent, "judge": the end-of-call verdict), each naming its model, so a
report can be re-priced later. A model missing from the table gives no cost rather than a wrong one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Union

from callers.errors import ConfigError
from callers.results import TOKEN_KINDS, TokenUsage
from callers.scenario.datafiles import read_toml

log = logging.getLogger(__name__)

DEFAULT_PRICES_FILE = Path(__file__).with_name("openai_prices.toml")
TOKENS_PER_PRICE_UNIT = 1_000_000
COST_DECIMALS = 6


@dataclass(frozen=True)
class PriceTable:
    """USD per 1M tokens, by model and token kind."""

    path: str
    models: dict

    def cost_usd(self, usage: Optional[dict[str, TokenUsage]]) -> Optional[float]:
        """The cost of a call's usage; None when there is none or a part's model has no price."""
        if not usage:
            return None
        total = 0.0
        for part, spent in usage.items():
            prices = self.models.get(spent.model)
            if prices is None:
                log.warning("no price for model %r (usage part %r) in %s: cost_usd left empty",
                            spent.model, part, self.path)
                return None
            total += sum(getattr(spent, kind) * prices.get(kind, 0.0) for kind in TOKEN_KINDS)
        return round(total / TOKENS_PER_PRICE_UNIT, COST_DECIMALS)


def load_prices(path: Union[str, Path] = DEFAULT_PRICES_FILE) -> PriceTable:
    """Read and check a prices file; a bad entry is a ConfigError naming the model and the field."""
    data = read_toml(path, "prices")
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise ConfigError(str(path), "needs a [models.\"NAME\"] table per model", field="models")
    checked: dict[str, dict[str, float]] = {}
    for model, prices in models.items():
        if not isinstance(prices, dict):
            raise ConfigError(str(path), "must be a table of token kinds", entry=f"models.{model}")
        for kind, price in prices.items():
            if kind not in TOKEN_KINDS:
                raise ConfigError(str(path), f"unknown token kind (known: {', '.join(TOKEN_KINDS)})",
                                  entry=f"models.{model}", field=kind)
            if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
                raise ConfigError(str(path), f"must be a price in USD per 1M tokens (a number >= 0), got {price!r}",
                                  entry=f"models.{model}", field=kind)
        checked[model] = {kind: float(price) for kind, price in prices.items()}
    return PriceTable(str(path), checked)


@lru_cache(maxsize=1)
def default_prices() -> PriceTable:
    """The shipped price table, read once per process."""
    return load_prices(DEFAULT_PRICES_FILE)


def add_tokens(usage: dict[str, TokenUsage], part: str, model: str, tokens: dict[str, int]) -> None:
    """Add one response's tokens (by kind, each one of TOKEN_KINDS) to a call's usage part, counting the
    responses."""
    spent = usage.setdefault(part, TokenUsage(model=model))
    spent.responses += 1
    for kind, count in tokens.items():
        if kind not in TOKEN_KINDS:
            raise ValueError(f"unknown token kind {kind!r} (known: {', '.join(TOKEN_KINDS)})")
        setattr(spent, kind, getattr(spent, kind) + int(count or 0))


def realtime_tokens(usage: dict) -> dict[str, int]:
    """A Realtime `response.done` usage by kind; cached tokens are taken out of the full-price input."""
    details = usage.get("input_token_details") or {}
    cached = details.get("cached_tokens_details") or {}
    output = usage.get("output_token_details") or {}
    cached_audio = cached.get("audio_tokens") or 0
    cached_text = cached.get("text_tokens") or ((details.get("cached_tokens") or 0) - cached_audio)
    return {"input_text": (details.get("text_tokens") or 0) - cached_text, "cached_text": cached_text,
            "input_audio": (details.get("audio_tokens") or 0) - cached_audio, "cached_audio": cached_audio,
            "output_text": output.get("text_tokens") or 0, "output_audio": output.get("audio_tokens") or 0}


def transcription_tokens(usage: dict) -> dict[str, int]:
    """An input-audio transcription's token usage (duration-billed models report seconds: not priced)."""
    if usage.get("type") != "tokens":
        return {}
    details = usage.get("input_token_details") or {}
    audio_tokens = details.get("audio_tokens")
    if audio_tokens is None:
        audio_tokens = usage.get("input_tokens") or 0
    return {"input_audio": audio_tokens, "input_text": details.get("text_tokens") or 0,
            "output_text": usage.get("output_tokens") or 0}


def chat_tokens(usage: dict) -> dict[str, int]:
    """A Chat Completions usage by kind (the judge)."""
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {"input_text": (usage.get("prompt_tokens") or 0) - cached, "cached_text": cached,
            "output_text": usage.get("completion_tokens") or 0}
