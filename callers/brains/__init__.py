"""Caller minds: what to say next."""
