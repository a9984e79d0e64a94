"""Start the reference bridge as a real `python -m bridge` process on a free loopback port, for any test."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
# Loading Whisper and rendering every agent sentence happens before the listening line.
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
LISTENING = re.compile(r"^bridge listening on (wss?://\S+)")


@dataclass
class BridgeProcess:
    proc: subprocess.Popen
    url: str
    listening_line: str
    stderr_path: Path

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(STOP_TIMEOUT_S)


def launch_bridge(*args: str, ear: str = "stt", env: Optional[dict] = None,
                  stderr_path: Optional[Path] = None) -> BridgeProcess:
    """Start a bridge and wait for its listening line; the caller of this stops it."""
    if stderr_path is None:
        stderr_path = Path(tempfile.mkstemp(prefix="bridge-", suffix=".stderr")[1])
    command = [sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0", "--ear", ear, *args]
    # A BRIDGE_TOKEN in the developer's shell would lock every test out; tests set it explicitly.
    base_env = {key: value for key, value in os.environ.items() if key != "BRIDGE_TOKEN"}
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr_path.open("wb"),
                            text=True, env={**base_env, **(env or {})})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            line = lines.get(timeout=0.5)
            break
        except queue.Empty:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"bridge did not start: {stderr_path.read_text()}") from None
    match = LISTENING.match(line)
    if not match:
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {stderr_path.read_text()}")
    return BridgeProcess(proc=proc, url=match.group(1), listening_line=line.strip(), stderr_path=stderr_path)
