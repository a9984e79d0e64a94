"""A forked worker leaves by itself once its master is gone, even a master that died before the worker ran."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

MASTER_THAT_FAILS_FAST = textwrap.dedent("""
    import os
    import gevent
    from loadtest import orphans
    orphans.follow_parent_after_fork()
    if gevent.fork():
        os._exit(0)                  # the master stops at once, as on a bad --host
    print("worker", flush=True)
    gevent.sleep(30)                 # the worker waits on its master, as Locust's connect_to_master does
    print("still here", flush=True)
""")


@pytest.mark.timeout(30)
def test_a_worker_whose_master_died_at_once_exits_by_itself():
    # The worker inherits stdout: the run returns only once the worker is gone too.
    run = subprocess.run([sys.executable, "-c", MASTER_THAT_FAILS_FAST], cwd=REPO,
                         capture_output=True, text=True, timeout=20)
    assert run.stdout.splitlines() == ["worker"], run.stdout + run.stderr
    assert run.stderr.count("worker exits") == 1, run.stderr
