"""Caller Agent: simulated phone callers for voice AI agents behind an AudioCodes bot-API bridge.

The public API is re-exported here, lazily. Importing it does not monkey-patch anything: scripts and Locust
do that first (the caller side needs gevent-patched sockets), as caller_cli.py shows.
"""
import importlib

_EXPORTS = {
    "CallerAgent": "callers.call.agent", "CallOutcome": "callers.call.agent",
    "Brain": "callers.brains.base", "ScriptedBrain": "callers.brains.scripted",
    "RealtimeBrain": "callers.brains.realtime", "RealtimeSettings": "callers.services.realtime_session",
    "CallJudge": "callers.services.judge",
    "CallFailure": "callers.errors", "ConfigError": "callers.errors", "ErrorCategory": "callers.errors",
    "create_angry_complaint_caller": "callers.app.factories", "create_caller": "callers.app.factories",
    "create_confused_elderly_caller": "callers.app.factories",
    "create_difficult_card_replacement_caller": "callers.app.factories",
    "CallerGoal": "callers.scenario.goals", "GoalTracker": "callers.scenario.goals",
    "CallerPersonality": "callers.scenario.personality", "PersonalityType": "callers.scenario.personality",
    "get_personality": "callers.scenario.personality", "load_personalities": "callers.scenario.personality",
    "CallResult": "callers.results", "ResultWriter": "callers.results", "TurnRecord": "callers.results",
    "CallerScenario": "callers.scenario.scenarios", "ScenarioType": "callers.scenario.scenarios",
    "load_scenarios": "callers.scenario.scenarios",
    "AudioCodesClient": "callers.transport.telephony", "MockAudioCodesClient": "callers.transport.telephony",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Resolve the public API on first use (PEP 562), so `bridge/` can import `callers.wire.protocol`,
    `callers.media.audio` and `callers.media.speech` without loading the gevent-based caller side."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
