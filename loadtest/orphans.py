"""A `--processes` child ends itself once the Locust process that forked it is gone.

Locust 2.47's master reaps its forked workers at exit with a non-blocking wait that drops children still
running, so a master that stops early (a bad --host, a bad capacity plan, a kill) leaves its workers dialling
a master that no longer exists (Locust retries for five minutes, then forever on reconnects), holding the
terminal's or CI's output pipes open. Every finished call is already fsync'd to disk, so leaving at once
loses nothing that was complete.

The watch starts in the child at the fork itself: a master that fails fast can be gone before its worker has
built its runner (which waits on the master) or fired `init`. The parent is the pid that forked, recorded
before the fork, not `os.getppid()` asked later, which by then may already name the re-parenting process.
"""
from __future__ import annotations

import logging
import os

import gevent

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0
ORPHAN_EXIT_CODE = 2

_FORKING_PID = [os.getpid()]
_FOLLOWING = [False]


def follow_parent_after_fork() -> None:
    """From now on, every child this process forks exits within CHECK_INTERVAL_S of this process's end.

    Idempotent: importing the locustfile twice must not give each child two watchers."""
    if not _FOLLOWING[0]:
        _FOLLOWING[0] = True
        os.register_at_fork(before=_remember_forking_pid, after_in_child=_watch_forking_process)


def _remember_forking_pid() -> None:
    _FORKING_PID[0] = os.getpid()


def _watch_forking_process() -> None:
    gevent.spawn(_watch, _FORKING_PID[0])


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        gevent.sleep(CHECK_INTERVAL_S)
    log.warning("the Locust master (pid %d) that started this worker is gone; worker exits", parent)
    logging.shutdown()
    os._exit(ORPHAN_EXIT_CODE)
