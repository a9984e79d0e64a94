"""`caller_cli.py --interactive` driven through a real pseudo-terminal, the way an operator types at it."""
from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callers.scenario.personality import load_personalities
from tests.reference_bridge import REPO_ROOT, launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

WAIT_S = 90.0
PROMPT_SETTLE_S = 0.5
VERDICT = re.compile(r"--- (SUCCESS|FAILED)[^\n]*\n")


def _interrupt_at_default() -> None:
    """A suite started in the background (`make test &` from a script) runs with SIGINT ignored, and a child
    inherits that across exec; a person's terminal hands Ctrl-C to a program that has it at its default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """A child process on the slave side of a pty; `expect` reads the master side until a pattern shows."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen([sys.executable, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, close_fds=True, preexec_fn=_interrupt_at_default)
        os.close(slave)
        self.seen = ""  # everything so far, with the terminal's \r\n turned back into \n
        self._unread = 0

    def expect(self, pattern: str, wait_s: float = WAIT_S) -> re.Match:
        regex = re.compile(pattern)
        deadline = time.monotonic() + wait_s
        while True:
            match = regex.search(self.seen, self._unread)
            if match:
                self._unread = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"never saw {pattern!r}; output so far:\n{self.seen}")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, wait_s: float = 15.0) -> int:
        while self._read(0.5):
            pass
        return self.proc.wait(wait_s)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def _read(self, wait_s: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], min(wait_s, 1.0))
        if not ready:
            return self.proc.poll() is None or wait_s > 1.0
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed its side
            return False
        self.seen += data.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return bool(data)


@pytest.fixture
def bridge(tmp_path):
    process = launch_bridge("--voice-rate", "300", ear="none", stderr_path=tmp_path / "bridge.stderr")
    yield process
    process.stop()


def test_operator_runs_a_predefined_call_cancels_a_custom_one_and_quits(bridge, tmp_path):
    out = tmp_path / "run"
    terminal = Terminal([str(REPO_ROOT / "caller_cli.py"), "--interactive", "--bridge-url", bridge.url, "--ear",
                         "alttext", "--seed", "1", "--record", "--output", str(out)], cwd=tmp_path)
    try:
        terminal.expect(r"What next\?\n")
        terminal.expect(r"> ")
        terminal.send("7x")
        terminal.expect(r"'7x' is not on the menu")
        terminal.send("1")
        terminal.expect(r"impatient_account_inquiry[^\n]*\n[\s\S]*> ")
        terminal.send("impatient_account_inquiry")
        terminal.expect(r"=== impatient_account_inquiry: impatient caller")
        terminal.expect(r"AGENT  \[greeting +\d+ ms\] Thank you for calling")
        terminal.expect(r"CALLER +\S")
        terminal.expect(r"AGENT  \[turn  1 +\d+ ms\]")
        terminal.expect(VERDICT.pattern)
        terminal.expect(r"recording: recordings/\w+\.wav, transcript: recordings/\w+\.txt")
        terminal.expect(r"Calls this session: 1, ")

        terminal.expect(r"What next\?[\s\S]*> ")
        terminal.send("2")
        terminal.expect(r"Personality:[\s\S]*> ")
        terminal.send(str(list(load_personalities()).index("normal") + 1))
        terminal.expect(r"Scenario type:[\s\S]*> ")
        terminal.send("general_inquiry")
        terminal.expect(r"Goal, in words \(Enter for: [^)]+\)\n> ")
        terminal.send("")
        terminal.expect(r"Caller name[^\n]*\n> ")
        terminal.send("Pat Example")
        terminal.expect(r"=== Pat Example: normal caller, scenario Pat Example \(general_inquiry\)")
        terminal.expect(r"AGENT  \[greeting")
        terminal.proc.send_signal(signal.SIGINT)  # Ctrl-C: ends this call, not the session
        terminal.expect(r"--- FAILED \(cancelled\)|error: cancelled")
        terminal.expect(r"Calls this session: 2, ")

        terminal.expect(r"What next\?[\s\S]*> ")
        terminal.send("q")
        terminal.expect(r"Results: " + re.escape(str(out / "calls.jsonl")))
        code = terminal.finish()
        assert code == 0, terminal.seen[-3000:]  # a crash on the way out shows its message
    finally:
        terminal.close()
    assert "Traceback" not in terminal.seen
    results = [json.loads(line) for line in (out / "calls.jsonl").read_text().splitlines()]
    assert [(r["personality"], r["scenario"], r["caller_name"]) for r in results] == [
        ("impatient", "impatient_account_inquiry", "impatient_account_inquiry"),
        ("normal", "Pat Example", "Pat Example")]
    assert results[0]["turns"] >= 1 and results[0]["error"] is None
    assert results[1]["error"]["category"] == "cancelled"
    for result in results:
        assert (out / result["recording"]["wav"]).stat().st_size > 0


def test_ctrl_c_at_the_menu_ends_the_session_with_130(tmp_path):
    terminal = Terminal([str(REPO_ROOT / "caller_cli.py"), "--interactive", "--ear", "none", "--output",
                         str(tmp_path / "run")], cwd=tmp_path)
    try:
        terminal.expect(r"What next\?[\s\S]*> ")
        # input() writes the prompt before it blocks in select(): a signal landing in between is only
        # noticed at the next keystroke (CPython's readline loop). A person never presses Ctrl-C within
        # microseconds of the prompt; a test on a loaded machine can, so it waits as a person would.
        time.sleep(PROMPT_SETTLE_S)
        terminal.proc.send_signal(signal.SIGINT)
        terminal.expect(r"Interrupted\.")
        assert terminal.finish() == 130
    finally:
        terminal.close()
    assert "Traceback" not in terminal.seen
