"""A `--processes` child ends itself once the Locust process that forked it is gone.

Locust 2.47's master reaps its forked workers at exit with a non-blocking wait that drops children still
running, so a master that stops early (a bad --host, a bad capacity plan, a kill) leaves its workers dialling
a master that no longer exists, forever, holding the terminal's or CI's output pipes open. Every finished
call is already fsync'd to disk, so leaving at once loses nothing that was complete.
"""
from __future__ import annotations

import logging
import os

import gevent

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0
ORPHAN_EXIT_CODE = 2


def watch_parent() -> gevent.Greenlet:
    """Start watching; the process exits within CHECK_INTERVAL_S of its parent's end."""
    parent = os.getppid()
    return gevent.spawn(_watch, parent)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        gevent.sleep(CHECK_INTERVAL_S)
    log.warning("the Locust master (pid %d) that started this worker is gone; worker exits", parent)
    logging.shutdown()
    os._exit(ORPHAN_EXIT_CODE)
