"""Start a test peer script (interop_peer.py, scripted_peer.py) as its own process, as a bot runs."""
from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def running_peer(script: Path, *arguments: str) -> Iterator[str]:
    """The peer on a free loopback port (it prints `listening PORT`); yields ws://127.0.0.1:PORT."""
    process = subprocess.Popen([sys.executable, str(script), "--port", "0", *arguments], stdout=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening"), line
        yield f"ws://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        process.wait(10)
