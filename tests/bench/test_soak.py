"""bench/soak.py: the CI version (one minute, four callers, the reference bridge) finds no growth, and its
verdict does flag the growth a leak would show."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.reference_bridge import REPO_ROOT

SOAK_PATH = REPO_ROOT / "bench" / "soak.py"
_spec = importlib.util.spec_from_file_location("soak", SOAK_PATH)
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)

CALLERS = 4
INTERVAL_S = 3


def samples(rss: list[float], fds: int = 13, greenlets: int = 10) -> list:
    return [soak.Sample(t_s=INTERVAL_S * (i + 1), rss_mb=value, fds=fds, greenlets=greenlets, calls_done=CALLERS + i,
                        calls_active=CALLERS) for i, value in enumerate(rss)]


BASELINE = soak.Sample(t_s=0, rss_mb=44.0, fds=9, greenlets=2, calls_done=0, calls_active=0)
SETTLED = soak.Sample(t_s=62, rss_mb=52.0, fds=9, greenlets=2, calls_done=20, calls_active=0)


def test_flat_memory_and_everything_released_is_ok() -> None:
    report = soak.verdict(BASELINE, samples([52.0, 52.1, 52.0, 52.1] * 5), SETTLED, 60.0, 0.0, 4.0, CALLERS)
    assert report["verdict"] == "ok" and report["reasons"] == []
    assert abs(report["rss_slope_mb_per_min"]) < 0.5


def test_steady_growth_is_a_leak() -> None:
    growing = [52.0 + 0.5 * i for i in range(20)]  # 10 MB/min at a sample every 3 s
    report = soak.verdict(BASELINE, samples(growing), SETTLED, 60.0, 0.0, 4.0, CALLERS)
    assert report["verdict"] == "leak" and report["rss_slope_mb_per_min"] == pytest.approx(10.0)
    assert "resident memory grew 10.00 MB/min" in report["reasons"][0]


def test_descriptors_or_greenlets_left_behind_are_a_leak() -> None:
    leaky = soak.Sample(t_s=62, rss_mb=52.0, fds=9 + soak.FD_SLACK + 1, greenlets=2 + soak.GREENLET_SLACK + 1,
                        calls_done=20, calls_active=0)
    report = soak.verdict(BASELINE, samples([52.0] * 20), leaky, 60.0, 0.0, 4.0, CALLERS)
    assert report["verdict"] == "leak" and len(report["reasons"]) == 2
    assert "file descriptors still open" in report["reasons"][0] and "greenlets still alive" in report["reasons"][1]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_one_minute_soak_against_the_reference_bridge_shows_no_growth(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(SOAK_PATH), "--callers", str(CALLERS), "--minutes", "1",
                          "--interval", str(INTERVAL_S), "--scenario", "normal_account_inquiry", "--seed", "1",
                          "--results-dir", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=200)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0 and report["verdict"] == "ok", (report["reasons"], run.stdout[-3000:],
                                                               run.stderr[-2000:])
    assert report["calls"] >= CALLERS and set(report["outcomes"]) == {"success"}, report["outcomes"]
    assert len(report["samples"]) >= 15 and report["rss_slope_mb_per_min"] is not None
    assert report["fds"]["after"] <= report["fds"]["baseline"] + soak.FD_SLACK
