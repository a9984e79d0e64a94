"""Reference bridge: an offline First Example Bank voice agent speaking the bot side of the AudioCodes
VoiceAI Connect bot API over WebSocket. It is the suite's default target and the peer of its tests.

Run it with `python -m bridge --help`.
"""
