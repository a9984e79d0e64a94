"""TLS and auth: a reference bridge serving wss:// with a certificate made in the test, requiring a Bearer token,
dialled by caller_cli.py (and Locust) the ways a user can: trusting its CA file, trusting nothing but the
system's CAs, or explicitly not verifying.

Every CLI run starts at once and the verdicts read their outputs, so the module takes as long as one call.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from bridge.__main__ import parse_settings
from callers.results import CallResult, read_results
from callers.transport.tls import INSECURE_WARNING
from tests.reference_bridge import REPO_ROOT, BridgeProcess, launch_bridge
from tests.tls_certs import SelfSigned, make_self_signed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TOKEN = "tls-test-token-5c1d"
RUN_TIMEOUT_S = 150
LOCUST_RUN = "6s"


@dataclass
class CliRun:
    workdir: Path
    proc: subprocess.Popen

    def wait(self) -> "CliRun":
        self.proc.wait(RUN_TIMEOUT_S)
        return self

    @property
    def stdout(self) -> str:
        return (self.workdir / "stdout.txt").read_text()

    @property
    def stderr(self) -> str:
        return (self.workdir / "stderr.txt").read_text()

    @property
    def results(self) -> list[CallResult]:
        calls = self.workdir / "results" / "calls.jsonl"
        return list(read_results(calls)) if calls.exists() else []


def start_cli(workdir: Path, url: str, *args: str, token: str = TOKEN) -> CliRun:
    """caller_cli.py with the token from the environment (the flag is covered by tests/test_secrets.py)."""
    workdir.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key != "CALLER_BRIDGE_TOKEN"}
    with open(workdir / "stdout.txt", "wb") as stdout, open(workdir / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "caller_cli.py"), "--scenario", "normal_account_inquiry",
             "--bridge-url", url, "--ear", "alttext", "--seed", "4", "--output", str(workdir / "results"), *args],
            cwd=workdir, env={**env, "CALLER_BRIDGE_TOKEN": token}, stdout=stdout, stderr=stderr)
    return CliRun(workdir, proc)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> SelfSigned:
    return make_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_bridge(tmp_path_factory, certificate: SelfSigned) -> Iterator[BridgeProcess]:
    root = tmp_path_factory.mktemp("tls-bridge")
    process = launch_bridge("--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key), "--token", TOKEN,
                            "--voice-rate", "450", ear="none", stderr_path=root / "bridge.stderr")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tls_bridge: BridgeProcess, certificate: SelfSigned) -> dict[str, CliRun]:
    root = tmp_path_factory.mktemp("tls-runs")
    url = tls_bridge.url
    started = {
        "ca-file": start_cli(root / "ca-file", url, "--ca-file", str(certificate.cert)),
        "system-cas": start_cli(root / "system-cas", url),
        "insecure": start_cli(root / "insecure", url, "--insecure"),
        "wrong-token": start_cli(root / "wrong-token", url, "--ca-file", str(certificate.cert),
                                 token="not-the-token"),
        "plain-ws": start_cli(root / "plain-ws", url.replace("wss://", "ws://", 1)),
    }
    return {name: run.wait() for name, run in started.items()}


def test_the_bridge_announces_wss(tls_bridge: BridgeProcess) -> None:
    assert tls_bridge.url.startswith("wss://127.0.0.1:")
    assert TOKEN not in tls_bridge.listening_line + tls_bridge.stderr


def test_a_call_over_wss_trusting_the_ca_file_succeeds_with_the_bearer_token(runs) -> None:
    run = runs["ca-file"]
    assert run.proc.returncode == 0, run.stdout + run.stderr
    [result] = run.results
    assert result.success and result.bridge.startswith("wss://") and result.turns >= 2
    assert INSECURE_WARNING not in run.stderr


def test_an_untrusted_certificate_is_one_clear_line_naming_the_url_and_reason(runs, tls_bridge) -> None:
    run = runs["system-cas"]
    assert run.proc.returncode == 3, run.stdout + run.stderr  # unreachable on every call
    [result] = run.results
    assert result.error_category == "connect_failed"
    assert tls_bridge.url in result.error.message and "certificate verify failed" in result.error.message
    assert "self-signed certificate" in result.error.message and "--ca-file" in result.error.message
    failed = [line for line in run.stdout.splitlines() if line.startswith("--- FAILED")]
    assert failed == [f"--- FAILED (connect_failed): {result.error.message}"]
    assert "Traceback" not in run.stdout + run.stderr


def test_insecure_succeeds_and_says_the_certificate_is_not_checked(runs) -> None:
    run = runs["insecure"]
    assert run.proc.returncode == 0, run.stdout + run.stderr
    assert run.results[0].success
    assert run.stderr.strip().splitlines() == [INSECURE_WARNING]


def test_a_wrong_token_over_tls_is_rejected_at_the_upgrade_and_never_shown(runs) -> None:
    run = runs["wrong-token"]
    assert run.proc.returncode == 3
    [result] = run.results
    assert result.error_category == "handshake_rejected" and "HTTP 401" in result.error.message
    assert "not-the-token" not in run.stdout + run.stderr + result.to_json()


def test_plain_ws_to_a_tls_bridge_fails_as_one_line(runs) -> None:
    run = runs["plain-ws"]
    assert run.proc.returncode == 3
    [result] = run.results
    assert result.error_category in ("connect_failed", "handshake_rejected"), result.error
    assert "\n" not in result.error.message and "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("extra, problem", [
    (("--ca-file", "no-such-ca.pem"), "CA file no-such-ca.pem: no such file"),
    (("--ca-file", "caller_cli.py"), "CA file caller_cli.py: not a PEM certificate bundle"),
    (("--ca-file", "CERT", "--insecure"), "--ca-file and --insecure contradict each other"),
])
def test_bad_tls_flags_are_usage_errors(extra, problem, certificate: SelfSigned) -> None:
    extra = tuple(str(certificate.cert) if arg == "CERT" else arg for arg in extra)
    run = subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), "--scenario", "normal_account_inquiry",
                          "--bridge-url", "wss://127.0.0.1:9/ws", *extra], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and problem in run.stderr.splitlines()[-1], run.stderr


@pytest.mark.parametrize("extra, problem", [
    (("--tls-cert", "a.pem"), "--tls-cert and --tls-key go together"),
    (("--tls-cert", "no-cert.pem", "--tls-key", "no-key.pem"), "cannot load --tls-cert no-cert.pem"),
])
def test_bad_bridge_tls_options_are_usage_errors(extra, problem, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_settings(list(extra))
    assert stopped.value.code == 2 and problem in capsys.readouterr().err


def test_locust_dials_wss_with_the_ca_file(tls_bridge: BridgeProcess, certificate: SelfSigned, tmp_path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.endswith("BRIDGE_TOKEN")}
    run = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfile.py", "--headless", "-u", "2", "-r", "2", "-t", LOCUST_RUN,
         "--stop-timeout", "1", "--host", tls_bridge.url, "--ca-file", str(certificate.cert),
         "--results-dir", str(tmp_path / "results"), "--json-file", str(tmp_path / "run"), "--only-summary"],
        cwd=REPO_ROOT, env={**env, "CALLER_BRIDGE_TOKEN": TOKEN}, capture_output=True, text=True, timeout=90)
    connects = [entry for entry in json.loads((tmp_path / "run.json").read_text()) if entry["method"] == "CONNECT"]
    assert connects and connects[0]["num_requests"] >= 2, run.stderr[-2000:]
    assert connects[0]["num_failures"] == 0, run.stderr[-2000:]
