"""The seed's ready-made callers: a predefined scenario from scenarios.json, dialled at a bridge URL."""
from __future__ import annotations

from typing import Any

from callers.call.agent import CallerAgent
from callers.scenario.scenarios import load_scenarios


def create_caller(scenario_id: str, bridge_url: str, **options: Any) -> CallerAgent:
    """A CallerAgent for a predefined scenario id; `options` go to CallerAgent (token, seed, ear, ...)."""
    entry = load_scenarios().predefined_entry(scenario_id)
    options.setdefault("caller_name", entry.name)
    return CallerAgent(bridge_url, entry.personality, entry.scenario, **options)


def create_difficult_card_replacement_caller(bridge_url: str, **options: Any) -> CallerAgent:
    return create_caller("difficult_card_replacement", bridge_url, **options)


def create_confused_elderly_caller(bridge_url: str, **options: Any) -> CallerAgent:
    return create_caller("confused_elderly_card_replacement", bridge_url, **options)


def create_angry_complaint_caller(bridge_url: str, **options: Any) -> CallerAgent:
    return create_caller("angry_complaint", bridge_url, **options)
