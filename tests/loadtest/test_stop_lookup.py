"""loadtest/stop_lookup.py: after it, the stack look-up in Locust's stop() maps no modules to files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# In a fresh process with Locust loaded: how many paths the stack look-up of Runner.stop() resolves.
PROBE = """
import inspect, os, sys
import locust.runners
from loadtest import stop_lookup
if sys.argv[1] == "mapped":
    stop_lookup.map_module_files()
resolved = []
realpath = os.path.realpath
os.path.realpath = lambda path, *args, **kwargs: resolved.append(path) or realpath(path, *args, **kwargs)
inspect.getframeinfo(inspect.stack()[0][0])  # what Runner.stop() does
print(len(resolved))
"""


def resolved_paths(mode: str) -> int:
    run = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    return int(run.stdout.split()[-1])


def test_the_stop_finds_every_module_already_mapped():
    assert resolved_paths("fresh") > 100  # the work the stop would otherwise do on the loop
    assert resolved_paths("mapped") == 0
