"""The AudioCodes bot protocol without I/O: messages, WebSocket frames, and the session that turns frames and
their arrival times into typed events.

Imports from callers only media's codecs (the session decodes the agreed media format) and the root.
"""
