"""Secrets stay secret: a distinctive bridge token and OpenAI key are planted everywhere a user can put them
(flags, environment, the bridge URL's query string), every entry point runs at its most verbose, and no
output file or stream may contain them afterwards.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from tests.reference_bridge import REPO_ROOT, BridgeProcess, launch_bridge

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SECRET = "sk-PLANTED-7f3a9"
# A wrong token that still contains the planted one: a 401 must not echo what was sent either.
WRONG_SECRET = f"{SECRET}-but-wrong"
CLI_TIMEOUT_S = 120
LOCUST_RUN = "10s"
LOCUST_TIMEOUT_S = 90


def secret_env(**extra: str) -> dict:
    """The caller's environment with the planted OpenAI key (unused by scripted callers: it must not leak
    just by being there) and no developer tokens of its own."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("BRIDGE_TOKEN", "CALLER_BRIDGE_TOKEN", "LOCUST_BRIDGE_TOKEN")}
    return {**env, "OPENAI_API_KEY": SECRET, **extra}


def leaks(root: Path, streams: dict[str, str]) -> list[str]:
    """Every file under `root` and every captured stream that contains the secret."""
    found = [name for name, text in streams.items() if SECRET in text]
    for path in sorted(root.rglob("*")):
        if path.is_file() and SECRET.encode() in path.read_bytes():
            found.append(str(path.relative_to(root)))
    return found


def run_cli(workdir: Path, bridge_url: str, *args: str, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), "--scenario", "normal_account_inquiry",
                           "--bridge-url", bridge_url, "--ear", "alttext", "--verbose", "--seed", "2",
                           "--output", str(workdir / "results"), *args],
                          cwd=workdir, env=env or secret_env(), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)


@pytest.fixture(scope="module")
def bridge(tmp_path_factory) -> tuple[BridgeProcess, Path]:
    """A bridge that requires the planted token, logging at debug level, its truth log in the output tree."""
    root = tmp_path_factory.mktemp("secrets-bridge")
    process = launch_bridge("--token", SECRET, "--truth-log", str(root / "truth.jsonl"), "--log-level", "debug",
                            "--voice-rate", "450", ear="none", env={"OPENAI_API_KEY": SECRET},
                            stderr_path=root / "bridge.stderr")
    yield process, root
    process.stop()
    assert leaks(root, {"bridge listening line": process.listening_line}) == []


def test_cli_success_and_401_paths_leak_nothing(bridge, tmp_path: Path) -> None:
    process, bridge_root = bridge
    runs = {
        "flag": run_cli(tmp_path / "flag", process.url, "--token", SECRET),
        "env": run_cli(tmp_path / "env", process.url, env=secret_env(CALLER_BRIDGE_TOKEN=SECRET)),
        "401": run_cli(tmp_path / "401", process.url, "--token", WRONG_SECRET),
        "401-in-url": run_cli(tmp_path / "401-in-url", f"{process.url}?token={SECRET}&key={SECRET}"),
    }
    assert [runs[name].returncode for name in ("flag", "env", "401", "401-in-url")] == [0, 0, 3, 3], \
        {name: run.stdout[-500:] + run.stderr[-500:] for name, run in runs.items()}
    assert "401" in runs["401"].stdout and "401" in runs["401-in-url"].stdout
    streams = {f"{name} {stream}": getattr(run, stream)
               for name, run in runs.items() for stream in ("stdout", "stderr")}
    assert leaks(tmp_path, streams) == []
    assert leaks(bridge_root, {}) == []
    for name in runs:  # the search covered what each run wrote: its log file and its result
        assert (tmp_path / name / "logs" / "caller_agent.log").exists(), name
        assert (tmp_path / name / "results" / "calls.jsonl").stat().st_size > 0, name


def test_locust_headless_run_leaks_nothing(bridge, tmp_path: Path) -> None:
    process, _ = bridge
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO_ROOT / "locustfile.py"), "--headless", "-u", "2", "-r", "2",
         "-t", LOCUST_RUN, "--host", process.url, "--bridge-token", SECRET, "--results-dir", str(results),
         "--csv", str(tmp_path / "stats"), "--html", str(tmp_path / "report.html"),
         "--logfile", str(tmp_path / "locust.log"), "--loglevel", "DEBUG", "--ear", "alttext"],
        cwd=tmp_path, env=secret_env(), capture_output=True, text=True, timeout=LOCUST_TIMEOUT_S)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert list(tmp_path.glob("stats*.csv")) and (tmp_path / "report.html").exists(), run.stderr[-2000:]
    assert list(results.rglob("*.jsonl")), "no call results: the run did not place calls"
    assert leaks(tmp_path, {"locust stdout": run.stdout, "locust stderr": run.stderr}) == []
