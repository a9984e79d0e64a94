#!/usr/bin/env python3
"""Soak: N callers placing calls back to back for M minutes, watching this process for leaks.

    python bench/soak.py --callers 8 --minutes 30                # against a reference bridge it starts
    python bench/soak.py --callers 8 --minutes 30 --bridge-url ws://host:8000/ws/telephony

Every --interval seconds it samples the caller process's resident memory, open file descriptors and live
greenlets (and the reference bridge's memory and descriptors, when it started one), printing one line each.
A leak shows as a slope, so the verdict fits a line to the samples taken after the warm-up (caches of
rendered phrases, the recogniser, first-use imports fill up in the first part of any run). At the end the
callers are cut off mid-call (the path a stopped Locust run takes), and once they are gone descriptors and
greenlets must be back where they were before the first call.

The last line of output is one JSON object (the figures and the verdict); exit code 0 when no growth was
found, 1 when some was, 2 on bad usage or a bridge that would not start.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - gevent must patch the standard library before anything else imports it
import gc  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Optional, Sequence  # noqa: E402

import gevent  # noqa: E402
import greenlet  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callers.app.batch import CallSettings, make_caller  # noqa: E402
from callers.errors import ConfigError  # noqa: E402
from callers.results import CALLS_FILE, ResultWriter  # noqa: E402
from callers.scenario.scenarios import ScenarioEntry, load_scenarios  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
BRIDGE_START_S = 90.0
BRIDGE_LISTENING = re.compile(r"^bridge listening on (wss?://\S+)")
# Share of the run (from its start) left out of the fitted slope: caches and first-use costs settle there.
DEFAULT_WARMUP_SHARE = 0.4
# Resident memory may grow this fast after the warm-up without counting as a leak (allocator noise, numpy
# buffers reused at a new size). A leak of one 640 KB utterance buffer per call at a call every 3 s is ~13.
DEFAULT_MAX_RSS_SLOPE_MB_PER_MIN = 4.0
# After the callers are gone: descriptors and greenlets above the pre-call baseline that are not a leak
# (the hub's resolver and threadpool start on first use).
FD_SLACK = 2
GREENLET_SLACK = 3
SETTLE_S = 2.0
CALL_TIMEOUT_S = 120.0


@dataclass
class Sample:
    t_s: float
    rss_mb: float
    fds: int
    greenlets: int
    calls_done: int
    calls_active: int
    bridge_rss_mb: Optional[float] = None
    bridge_fds: Optional[int] = None

    def line(self) -> str:
        bridge = (f"  bridge rss {self.bridge_rss_mb:7.1f} MB fds {self.bridge_fds:4d}"
                  if self.bridge_rss_mb is not None else "")
        return (f"t={self.t_s:7.1f}s rss {self.rss_mb:7.1f} MB fds {self.fds:4d} greenlets {self.greenlets:5d} "
                f"calls {self.calls_done:5d} done {self.calls_active:3d} active{bridge}")


def rss_mb(pid: str = "self") -> Optional[float]:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def open_fds(pid: str = "self") -> Optional[int]:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def live_greenlets() -> int:
    return sum(1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet) and not obj.dead)


def slope_per_min(times_s: Sequence[float], values: Sequence[float]) -> Optional[float]:
    """Least-squares slope of `values` per minute; None with fewer than 3 points."""
    if len(times_s) < 3:
        return None
    return float(np.polyfit(np.asarray(times_s) / 60.0, np.asarray(values, dtype=float), 1)[0])


class Soak:
    def __init__(self, settings: CallSettings, entries: list[ScenarioEntry], callers: int, duration_s: float,
                 interval_s: float, writer: Optional[ResultWriter], bridge_pid: Optional[int]) -> None:
        self.settings = settings
        self.entries = entries
        self.callers = callers
        self.duration_s = duration_s
        self.interval_s = interval_s
        self.writer = writer
        self.bridge_pid = str(bridge_pid) if bridge_pid else None
        self.outcomes: Counter = Counter()
        self.active = 0
        self.samples: list[Sample] = []
        self._numbers = itertools.count()
        self._started = time.monotonic()

    def sample(self) -> Sample:
        sample = Sample(t_s=round(time.monotonic() - self._started, 1), rss_mb=round(rss_mb() or 0.0, 1),
                        fds=open_fds() or 0, greenlets=live_greenlets(), calls_done=sum(self.outcomes.values()),
                        calls_active=self.active)
        if self.bridge_pid:
            bridge_rss = rss_mb(self.bridge_pid)
            sample.bridge_rss_mb = round(bridge_rss, 1) if bridge_rss is not None else None
            sample.bridge_fds = open_fds(self.bridge_pid)
        print(sample.line(), flush=True)
        return sample

    def run(self) -> tuple[Sample, Sample]:
        """(baseline before any call, settled sample after every caller is gone); samples in between."""
        gc.collect()
        baseline = self.sample()
        self._started = time.monotonic()
        callers = [gevent.spawn(self._caller) for _ in range(self.callers)]
        end = self._started + self.duration_s
        while time.monotonic() < end:
            gevent.sleep(min(self.interval_s, max(0.0, end - time.monotonic())))
            self.samples.append(self.sample())
        gevent.killall(callers, block=True, timeout=30)
        gevent.sleep(SETTLE_S)
        gc.collect()
        return baseline, self.sample()

    def _caller(self) -> None:
        while True:
            number = next(self._numbers)
            entry = self.entries[number % len(self.entries)]
            # With --seed every call is the same conversation: index 0 keeps the seed as given.
            caller = make_caller(entry, self.settings, self.writer, 0 if self.settings.seed is not None else number)
            self.active += 1
            try:
                result = caller.run(min(entry.timeout, CALL_TIMEOUT_S))
            finally:
                self.active -= 1
            self.outcomes["success" if result.success else (result.error_category or "goal not met")] += 1


def verdict(baseline: Sample, samples: list[Sample], after: Sample, duration_s: float, warmup_share: float,
            max_rss_slope: float, callers: int) -> dict:
    """The warm-up is the first `warmup_share` of the run, and lasts at least until `callers` calls are done
    (every phrase of a repeated conversation rendered once)."""
    settled = [s for s in samples if s.t_s >= warmup_share * duration_s and s.calls_done >= callers]
    times = [s.t_s for s in settled]
    rss_slope = slope_per_min(times, [s.rss_mb for s in settled])
    reasons = []
    if rss_slope is None:
        reasons.append("too few samples after the warm-up to fit a slope (lower --interval or run longer)")
    elif rss_slope > max_rss_slope:
        reasons.append(f"resident memory grew {rss_slope:.2f} MB/min after the warm-up (limit {max_rss_slope:g})")
    if after.fds > baseline.fds + FD_SLACK:
        reasons.append(f"{after.fds - baseline.fds} file descriptors still open after every call ended "
                       f"({baseline.fds} before the first call, {after.fds} after)")
    if after.greenlets > baseline.greenlets + GREENLET_SLACK:
        reasons.append(f"{after.greenlets - baseline.greenlets} greenlets still alive after every call ended "
                       f"({baseline.greenlets} before, {after.greenlets} after)")
    report = {
        "rss_slope_mb_per_min": None if rss_slope is None else round(rss_slope, 3),
        "fds_slope_per_min": _rounded(slope_per_min(times, [s.fds for s in settled])),
        "greenlets_slope_per_min": _rounded(slope_per_min(times, [s.greenlets for s in settled])),
        "rss_mb": {"baseline": baseline.rss_mb, "peak": max([s.rss_mb for s in samples], default=None),
                   "after": after.rss_mb},
        "fds": {"baseline": baseline.fds, "peak": max([s.fds for s in samples], default=None), "after": after.fds},
        "greenlets": {"baseline": baseline.greenlets, "peak": max([s.greenlets for s in samples], default=None),
                      "after": after.greenlets},
        "verdict": "leak" if reasons else "ok", "reasons": reasons,
    }
    bridge = [s for s in settled if s.bridge_rss_mb is not None]
    if bridge:
        report["bridge"] = {"rss_slope_mb_per_min": _rounded(slope_per_min([s.t_s for s in bridge],
                                                                           [s.bridge_rss_mb for s in bridge])),
                            "rss_mb": {"baseline": baseline.bridge_rss_mb, "after": after.bridge_rss_mb},
                            "fds": {"baseline": baseline.bridge_fds, "after": after.bridge_fds}}
    return report


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 3)


def start_bridge(log_path: Path) -> tuple[subprocess.Popen, str]:
    """A reference bridge on a free port, without recognition (cheap), fast speech (short calls)."""
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0", "--ear", "none",
                             "--voice-rate", "450"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=log_path.open("wb"), text=True)
    line = gevent.with_timeout(BRIDGE_START_S, proc.stdout.readline, timeout_value="")  # patched: cooperative
    match = BRIDGE_LISTENING.match(line or "")
    if not match:
        proc.kill()
        raise RuntimeError(f"the reference bridge did not start: {log_path.read_text()[-500:]}")
    return proc, match.group(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=4, help="callers calling back to back (default %(default)s)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to keep calling (default %(default)s)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between samples (default %(default)s)")
    parser.add_argument("--bridge-url", help="dial this bridge instead of starting a reference bridge")
    parser.add_argument("--scenario", help="place only this scenarios.json entry (default: every entry in turn)")
    parser.add_argument("--seed", type=int, help="every call uses this seed: the same conversation over and over, "
                                                 "so caches are full after the first calls and growth is a leak")
    parser.add_argument("--warmup-share", type=float, default=DEFAULT_WARMUP_SHARE,
                        help="share of the run left out of the fitted slope (default %(default)s)")
    parser.add_argument("--max-rss-slope", type=float, default=DEFAULT_MAX_RSS_SLOPE_MB_PER_MIN, metavar="MB_PER_MIN",
                        help="memory growth after the warm-up counted as a leak (default %(default)s MB/min)")
    parser.add_argument("--results-dir", type=Path, help="keep the calls' results here (default: a temp dir)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.callers < 1 or args.minutes <= 0 or args.interval <= 0 or not 0 <= args.warmup_share < 1:
        parser.error("need --callers >= 1, --minutes > 0, --interval > 0 and 0 <= --warmup-share < 1")
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    results_dir = args.results_dir or workdir
    bridge = None
    url = args.bridge_url
    try:
        if url is None:
            bridge, url = start_bridge(workdir / "bridge.log")
        print(f"soak: {args.callers} callers for {args.minutes:g} min against {url}, a sample every "
              f"{args.interval:g} s; results in {results_dir}", flush=True)
        catalog = load_scenarios()
        entries = [catalog.predefined_entry(args.scenario)] if args.scenario else catalog.entries
        soak = Soak(CallSettings(bridge_url=url, ear="alttext", seed=args.seed), entries, args.callers,
                    args.minutes * 60.0, args.interval, ResultWriter(results_dir / CALLS_FILE),
                    bridge.pid if bridge else None)
        baseline, after = soak.run()
    except (ConfigError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if bridge is not None:
            bridge.terminate()
            bridge.wait(15)
    report = verdict(baseline, soak.samples, after, args.minutes * 60.0, args.warmup_share, args.max_rss_slope,
                     args.callers)
    report = {"callers": args.callers, "minutes": args.minutes, "calls": sum(soak.outcomes.values()),
              "outcomes": dict(soak.outcomes), "samples": [asdict(s) for s in soak.samples], **report}
    for reason in report["reasons"]:
        print(f"LEAK: {reason}", flush=True)
    print(json.dumps(report, separators=(",", ":")), flush=True)
    return 1 if report["reasons"] else 0


if __name__ == "__main__":
    sys.exit(main())
