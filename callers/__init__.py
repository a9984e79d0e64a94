"""Caller Agent: simulated phone callers for voice AI agents behind an AudioCodes bot-API bridge."""
