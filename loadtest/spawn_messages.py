"""A worker's spawn message no longer freezes every caller in that worker for a tenth of a second.

Locust 2.47's WorkerRunner, on each spawn message, keeps the master's custom options with a comprehension
whose filter calls `argument_parser.default_args_dict()` once per option: about a hundred complete argparse
builds, 100-150 ms on this project's 2-core VM, all on the gevent loop. No caller in the worker sends audio
meanwhile, so every step of a capacity search (and every dispatch during a ramp) put 70-150 ms of pacing
lateness into the calls in flight, enough to fail some as `simulator_error` ("fell behind real time").
The defaults cannot change once the process has started, so the first answer is kept; each caller gets
its own copy, as before.
"""
from __future__ import annotations

from typing import Callable

from locust import argument_parser


def keep_default_args() -> None:
    """From now on `default_args_dict()` parses once per process. Idempotent."""
    current = argument_parser.default_args_dict
    if isinstance(current, _KeptDefaults):
        return
    argument_parser.default_args_dict = _KeptDefaults(current)


class _KeptDefaults:
    def __init__(self, compute: Callable[[], dict]) -> None:
        self._compute = compute
        self._kept: dict | None = None

    def __call__(self) -> dict:
        if self._kept is None:
            self._kept = self._compute()
        return dict(self._kept)
