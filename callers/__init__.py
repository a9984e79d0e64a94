"""Caller Agent: simulated phone callers for voice AI agents behind an AudioCodes bot-API bridge.

The public API is re-exported here. Importing it does not monkey-patch anything: scripts and Locust do
that first (the caller side needs gevent-patched sockets), as caller_cli.py shows.
"""
from callers.agent import CallerAgent, CallOutcome
from callers.brains.base import Brain
from callers.brains.scripted import ScriptedBrain
from callers.errors import CallFailure, ConfigError, ErrorCategory
from callers.factories import (create_angry_complaint_caller, create_caller, create_confused_elderly_caller,
                               create_difficult_card_replacement_caller)
from callers.goals import CallerGoal, GoalTracker
from callers.personality import CallerPersonality, PersonalityType, get_personality, load_personalities
from callers.results import CallResult, ResultWriter, TurnRecord
from callers.scenarios import CallerScenario, ScenarioType, load_scenarios
from callers.telephony import AudioCodesClient, MockAudioCodesClient

__all__ = [
    "AudioCodesClient", "Brain", "CallFailure", "CallOutcome", "CallResult", "CallerAgent", "CallerGoal",
    "CallerPersonality", "CallerScenario", "ConfigError", "ErrorCategory", "GoalTracker", "MockAudioCodesClient",
    "PersonalityType", "ResultWriter", "ScenarioType", "ScriptedBrain", "TurnRecord", "create_angry_complaint_caller",
    "create_caller", "create_confused_elderly_caller", "create_difficult_card_replacement_caller",
    "get_personality", "load_personalities", "load_scenarios",
]
