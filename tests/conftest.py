"""Test-wide setup: the caller side runs under gevent exactly as it does in Locust and the CLI."""
from gevent import monkey

monkey.patch_all()

# `make test` runs the suite as several processes sharing its modules (tests/shards.py); these are its hooks.
from tests.shards import pytest_addoption, pytest_runtestloop  # noqa: E402,F401
