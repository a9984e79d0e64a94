"""STOP in the web UI, as the page sees it: a real `locust` (a lone process, and a master with a worker) against
the reference bridge, driven through the HTTP endpoints the page uses.

Locust's page polls /stats/requests only while the run is spawning or running, so an answer saying "cleanup"
or "stopping" froze its Status there although the run stopped a moment later (loadtest/webstate.py).
--stop-timeout stretches the stop over seconds, so the poll below lands in it every time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.loopback import free_port, locust_command
from tests.reference_bridge import launch_bridge

REPO = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 3
WAIT_S = 30.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def bridge():
    process = launch_bridge("--voice-rate", "230", ear="none")
    yield process
    process.stop()


class WebLocust:
    def __init__(self, bridge_url: str, folder: Path, *args: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log_path = folder / "locust.log"
        command = locust_command("--web-host", "127.0.0.1", "--web-port", self.url.rsplit(":", 1)[1],
                                 "--host", bridge_url, "--test-config", "quick_test", "--stop-timeout",
                                 str(STOP_TIMEOUT_S), "--results-dir", str(folder / "results"), *args)
        env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=self.log_path.open("wb"),
                                     stderr=subprocess.STDOUT)

    def call(self, path: str, form: dict | None = None) -> dict:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with urllib.request.urlopen(urllib.request.Request(self.url + path, data=data), timeout=WAIT_S) as answer:
            return json.loads(answer.read())

    def wait_for(self, condition, what: str) -> dict:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                stats = self.call("/stats/requests")
                if condition(stats):
                    return stats
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(f"locust ended:\n{self.log_path.read_text()[-3000:]}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {WAIT_S:g} s for {what}:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.mark.parametrize("topology", [(), ("--processes", "1")], ids=["lone", "master-worker"])
def test_a_poll_during_stop_sees_stopped_and_the_cut_off_calls_are_cancelled(bridge, tmp_path, topology):
    locust = WebLocust(bridge.url, tmp_path, *topology)
    try:
        locust.wait_for(lambda stats: stats.get("state") == "ready" and
                        (not topology or stats.get("worker_count") == 1), "the start form's state, ready")
        assert locust.call("/swarm", {"user_count": "3", "spawn_rate": "3", "host": bridge.url})["success"]
        locust.wait_for(lambda stats: stats["state"] == "running" and stats["user_count"] == 3 and any(
            row["method"] == "CONNECT" and row["num_requests"] >= 3 for row in stats["stats"]), "3 calls connected")
        time.sleep(2.2)  # Locust keeps a /stats/requests answer for 2 s: the next one is made after STOP

        answers: list[dict] = []
        stopper = threading.Thread(target=lambda: answers.append(locust.call("/stop", {})))
        pressed = time.monotonic()
        stopper.start()
        time.sleep(0.5)  # the calls now have up to --stop-timeout to end; the run is stopping
        polled = locust.call("/stats/requests")
        assert polled["state"] == "stopped", polled["state"]
        # The poll was answered when the stop was over, not before the calls' grace ended.
        assert time.monotonic() - pressed >= STOP_TIMEOUT_S - 0.5
        stopper.join(WAIT_S)
        assert answers and answers[0]["success"]

        goals = locust.call("/goals/json")["total"]
        assert goals["cancelled"] >= 1, goals  # cut off by STOP: recorded as what they are
    finally:
        locust.stop()
    log = locust.log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-3000:]
