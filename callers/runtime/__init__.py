"""The real-time machinery under every call: one pacer, read sweep and loop-lag probe per gevent hub, garbage
collection on a schedule, a process warmed before its first call, and the caller thread of awaited calls.

Skip it to learn how a call works; read it to learn why its timing holds. Imports media and the root only.
"""
