"""`caller_cli.py --check URL` against real reference bridges: what works is said, exit codes follow."""
from __future__ import annotations

import pytest

from callers.app import cli
from callers.app.probe import BridgeProbe, Status
from tests.callers.app.test_cli import free_port, run_cli
from tests.reference_bridge import launch_bridge

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

TOKEN = "probe-secret-7f3a"
FAST_VOICE = ("--voice-rate", "300")


@pytest.fixture(scope="module")
def token_bridge(tmp_path_factory):
    bridge = launch_bridge(*FAST_VOICE, "--play-format", "raw/lpcm16_24", ear="none", env={"BRIDGE_TOKEN": TOKEN},
                           stderr_path=tmp_path_factory.mktemp("probe") / "bridge.stderr")
    yield bridge
    bridge.stop()


@pytest.fixture
def bridge(tmp_path):
    started = []

    def start(*args: str):
        started.append(launch_bridge(*args, ear="none", stderr_path=tmp_path / "bridge.stderr"))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def statuses(report) -> dict:
    return {check.name: check.status for check in report.checks}


def test_check_of_a_working_bridge_says_what_works_and_exits_0(token_bridge, tmp_path):
    run = run_cli("--check", token_bridge.url, "--token", TOKEN, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for name in ("reachable", "auth", "validate", "formats", "greeting", "barge-in", "caller turn"):
        assert any(line.split()[:2] == ["ok", name.split()[0]] for line in lines), (name, run.stdout)
    assert "accepted raw/lpcm16, raw/lpcm16_8, raw/lpcm16_24, raw/mulaw" in run.stdout
    assert "plays raw/lpcm16_24" in run.stdout
    assert "(playStream.stop)" in run.stdout
    assert lines[-1] == "Bridge works."
    assert TOKEN not in run.stdout + run.stderr
    assert TOKEN not in (tmp_path / "logs" / "caller_agent.log").read_text()


def test_check_without_the_token_fails_auth_and_exits_3(token_bridge, tmp_path):
    run = run_cli("--check", token_bridge.url, cwd=tmp_path)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "FAIL  auth" in run.stdout and "HTTP 401" in run.stdout and "--token" in run.stdout
    assert "formats" not in run.stdout  # nothing past a refused upgrade is tried
    assert run.stdout.splitlines()[-1].startswith("Bridge does not work: auth")


def test_a_bridge_that_talks_over_the_caller_works_but_has_no_barge_in(bridge):
    # The usual voice: the greeting outlasts the 2 s a barge-in is given, so running on is not mistaken
    # for stopping.
    url = bridge("--no-barge-in").url
    report = BridgeProbe(url).run()
    assert statuses(report)["barge-in"] is Status.NO, report.checks
    assert statuses(report)["caller turn"] is Status.OK
    assert report.works and not report.unreachable


def test_a_silent_bridge_fails_the_greeting(bridge):
    url = bridge(*FAST_VOICE, "--fault", "silence").url
    report = BridgeProbe(url, greeting_wait_s=2.0).run()
    assert [c.name for c in report.checks] == ["reachable", "auth", "validate", "formats", "greeting", "protocol",
                                               "strict"]
    assert statuses(report)["greeting"] is Status.FAILED and statuses(report)["formats"] is Status.OK
    assert not report.works and not report.unreachable
    assert report.verdict() == "Bridge does not work: greeting: no agent audio within 2 s of the start activity"


def test_an_unreachable_bridge_exits_3_after_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--check", f"ws://127.0.0.1:{free_port()}/ws/telephony"]) == cli.EXIT_UNREACHABLE
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("  FAIL  reachable") and "connection refused" in out[1]
    assert len(out) == 3
