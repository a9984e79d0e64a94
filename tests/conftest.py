"""Test-wide setup: the caller side runs under gevent exactly as it does in Locust and the CLI."""
from gevent import monkey

monkey.patch_all()
