"""Sound: codecs and formats (audio), phone lines, the voice and the ear (speech) and the native threads they
render and listen on, the caller's phrases as wire-ready frames, delivery, word error rates.

Imports no other layer: no socket, no gevent at import time, so the bridge can share it.
"""
