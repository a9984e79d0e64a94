"""session.resume after a dropped connection: caller_cli.py --resume-on-drop against a reference bridge that
drops every call after the caller's first utterance (`--fault drop:1`), with and without `--resume-grace`.

Every run starts at once; the module takes about as long as one call.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import websocket

from bridge.session import REFUSED_RESUME, UNKNOWN_RESUME
from callers.results import CallResult, read_results
from callers.wire import protocol
from tests.reference_bridge import REPO_ROOT, BridgeProcess, launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RUN_TIMEOUT_S = 150
GRACE_S = "3"
TRUTH_WAIT_S = 10.0


@dataclass
class Run:
    workdir: Path
    proc: subprocess.Popen
    truth: Path

    @property
    def output(self) -> str:
        return (self.workdir / "stdout.txt").read_text() + (self.workdir / "stderr.txt").read_text()

    @property
    def result(self) -> CallResult:
        [result] = read_results(self.workdir / "results" / "calls.jsonl")
        return result

    def truth_of_call(self) -> dict:
        """The bridge writes a call's truth when it is over for the bridge: for a dropped call that is not
        resumed, when the resume grace runs out."""
        deadline = time.monotonic() + TRUTH_WAIT_S
        while time.monotonic() < deadline:
            lines = [json.loads(line) for line in self.truth.read_text().splitlines()] if self.truth.exists() else []
            mine = [line for line in lines if line["conversation_id"] == self.result.call_id]
            if mine:
                assert len(mine) == 1, mine
                return mine[0]
            time.sleep(0.1)
        raise AssertionError(f"call {self.result.call_id} never reached the truth log")


def start_cli(workdir: Path, bridge: BridgeProcess, truth: Path, *args: str) -> Run:
    workdir.mkdir(parents=True)
    with open(workdir / "stdout.txt", "wb") as stdout, open(workdir / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "caller_cli.py"), "--scenario", "normal_account_inquiry",
             "--bridge-url", bridge.url, "--ear", "alttext", "--seed", "6", "--output", str(workdir / "results"),
             *args], cwd=workdir, stdout=stdout, stderr=stderr)
    return Run(workdir, proc, truth)


@pytest.fixture(scope="module")
def bridges(tmp_path_factory) -> Iterator[dict[str, tuple[BridgeProcess, Path]]]:
    root = tmp_path_factory.mktemp("resume-bridges")
    started: dict[str, tuple[BridgeProcess, Path]] = {}
    try:
        for name, extra in (("keeps", ("--resume-grace", GRACE_S)), ("forgets", ())):
            truth = root / f"{name}.truth.jsonl"
            started[name] = (launch_bridge("--fault", "drop:1", "--truth-log", str(truth), "--voice-rate", "450",
                                           *extra, ear="none", stderr_path=root / f"{name}.stderr"), truth)
        yield started
    finally:
        for bridge, _ in started.values():
            bridge.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, bridges) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("resume-runs")
    started = {
        "resumed": start_cli(root / "resumed", *bridges["keeps"], "--resume-on-drop"),
        "not-asked": start_cli(root / "not-asked", *bridges["keeps"]),
        "refused": start_cli(root / "refused", *bridges["forgets"], "--resume-on-drop"),
    }
    for run in started.values():
        run.proc.wait(RUN_TIMEOUT_S)
    return started


def test_a_dropped_call_is_resumed_and_completes(runs) -> None:
    run = runs["resumed"]
    assert run.proc.returncode == 0, run.output
    result = run.result
    assert result.success and result.error is None, (result.error, result.goals)
    [resume] = result.resumes
    assert resume["ok"] and resume["reason"] == "session.accepted" and resume["attempts"] == 1
    assert resume["after_turn"] == 1 and resume["dropped"].startswith("connection lost")
    # The first utterance went unanswered (the bridge dropped on hearing it); the caller said it again.
    assert result.turn_records[0].response_latency_ms is None
    assert result.turn_records[1].caller_text == result.turn_records[0].caller_text
    assert "line dropped" in run.output and "resumed in" in run.output
    truth = run.truth_of_call()
    assert truth["resumes"] == 1 and truth["fault"] == "drop" and truth["hung_up_by"] in ("bot", "caller")


def test_without_resume_on_drop_the_call_is_bridge_closed(runs) -> None:
    run = runs["not-asked"]
    assert run.proc.returncode == 1, run.output
    result = run.result
    assert result.error_category == "bridge_closed" and result.resumes == []
    # Not resumed within the grace: over for the bridge too, written as dropped.
    truth = run.truth_of_call()
    assert truth["hung_up_by"] == "drop" and truth["resumes"] == 0


def test_a_refused_resume_is_bridge_closed_with_the_bridges_reason(runs) -> None:
    run = runs["refused"]
    assert run.proc.returncode == 1, run.output
    result = run.result
    assert result.error_category == "bridge_closed"
    [resume] = result.resumes
    assert not resume["ok"] and resume["reason"] == f"session.error: {REFUSED_RESUME}"
    assert f"session.resume failed: session.error: {REFUSED_RESUME}" in result.error.message


def test_resuming_a_conversation_the_bridge_never_had_is_a_session_error(bridges) -> None:
    bridge, _ = bridges["keeps"]
    ws = websocket.create_connection(bridge.url, timeout=10)
    try:
        ws.send(protocol.encode(protocol.session_resume("never-seen")))
        answer = json.loads(ws.recv())
    finally:
        ws.close()
    assert answer == {"type": protocol.SESSION_ERROR, "conversationId": "never-seen", "reason": UNKNOWN_RESUME}
