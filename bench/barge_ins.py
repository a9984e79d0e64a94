"""Does an interrupting caller cut in when it planned to, and is the agent's answer to it judged right?

The angry caller (tendency_to_interrupt 0.9) calls the reference bridge twice per seed and voice engine:
once against `--fault no-barge-in` (an agent that never stops: a barge-in judged "stopped" there is a false
claim) and once against a bridge that stops at the caller's first voiced frame (judged "not stopped" there
is a missed stop). For every barge-in it records how late the caller's first interrupting audio went out
against the moment its brain planned (a slow voice renders while the agent talks on), and the verdict.

    python bench/barge_ins.py                         # espeak and piper, 6 seeds each (~4 minutes)
    python bench/barge_ins.py --quick                 # espeak only, 1 seed
    python bench/barge_ins.py --busy 2                # with 2 busy processes loading the host

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from callers import CallerAgent, load_scenarios  # noqa: E402
from callers.brains.scripted import ScriptedBrain  # noqa: E402
from callers.runtime.warmup import prepare_for_realtime  # noqa: E402
from callers.scenario.personality import get_personality  # noqa: E402
from tests.reference_bridge import launch_bridge  # noqa: E402

PERSONALITY = "angry"
SCENARIO_TYPE = "general_inquiry"
AGENT_WPM = "175"  # a normal pace, so a prompt is long enough to be talked over
CALL_TIMEOUT_S = 90.0
BUSY_LOOP = "while True: pass"


class PlanLog(ScriptedBrain):
    """The scripted brain, noting the offset it planned for each agent prompt (numbered from 1)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.planned: list[Optional[float]] = []

    def interruption_offset(self, alt_text: Optional[str]) -> Optional[float]:
        offset = super().interruption_offset(alt_text)
        self.planned.append(offset)
        return offset


def one_call(url: str, engine: str, seed: int) -> list[dict]:
    scenario = load_scenarios().custom_entry(PERSONALITY, SCENARIO_TYPE, None).scenario
    brain = PlanLog(get_personality(PERSONALITY), scenario, seed=seed)
    caller = CallerAgent(url, PERSONALITY, scenario, caller_name="bench", brain=brain, ear="alttext", seed=seed,
                         voice_engine=engine)
    result = caller.run(CALL_TIMEOUT_S)
    rows = []
    for record in result.barge_ins:
        planned = brain.planned[record.prompt - 1] if record.prompt <= len(brain.planned) else None
        rows.append({"seed": seed, "prompt": record.prompt, "error": result.error_category,
                     "late_ms": None if planned is None else round(record.offset_ms - planned * 1000.0, 1),
                     "agent_stopped": record.agent_stopped, "undetermined": getattr(record, "undetermined", None)})
    return rows


def summary(rows: list[dict]) -> dict:
    late = sorted(row["late_ms"] for row in rows if row["late_ms"] is not None)
    verdicts = {str(key): sum(row["agent_stopped"] is key for row in rows) for key in (True, False, None)}
    return {"barge_ins": len(rows), "late_p50_ms": statistics.median(late) if late else None,
            "late_max_ms": late[-1] if late else None, "late_over_500ms": sum(value > 500 for value in late),
            "agent_stopped": verdicts, "errors": sorted({row["error"] for row in rows if row["error"]})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engines", default=None, help="comma-separated (default espeak,piper; --quick espeak)")
    parser.add_argument("--seeds", type=int, default=None, help="calls per engine and bridge (default 6)")
    parser.add_argument("--busy", type=int, default=0, help="busy-looping processes loading the host meanwhile")
    args = parser.parse_args()
    engines = (args.engines or ("espeak" if args.quick else "espeak,piper")).split(",")
    seeds = args.seeds or (1 if args.quick else 6)
    before = machine.describe()
    bridges = {"no-barge-in": launch_bridge("--fault", "no-barge-in", "--voice-rate", AGENT_WPM, ear="none"),
               "barge-in": launch_bridge("--voice-rate", AGENT_WPM, ear="none")}
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.busy)]
    figures: dict = {"bench": "barge_ins", "quick": args.quick, "busy": args.busy, "engines": {}}
    started = time.monotonic()
    try:
        for engine in engines:
            prepare_for_realtime(engine)
            figures["engines"][engine] = {}
            for name, bridge in bridges.items():
                rows = [row for seed in range(seeds) for row in one_call(bridge.url, engine, seed)]
                figures["engines"][engine][name] = summary(rows)
                print(f"{engine:7} {name:12} {json.dumps(figures['engines'][engine][name])}", flush=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
        for bridge in bridges.values():
            bridge.stop()
    figures.update(seconds=round(time.monotonic() - started, 1), machine=before, loadavg_end=machine.load_average())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
