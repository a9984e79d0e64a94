"""Do the caller's verdicts tell the truth? Its criteria verdicts against what the reference bridge really did.

A load test's success rate is only as true as each call's verdict, and a verdict rests on two things: what the
caller's ear heard, and how the goal matcher read it. This script places real calls (scripted callers, the
Whisper ear) against the reference bridge, started here with `--truth-log` on a free 127.0.0.1 port, and
compares every success criterion, failure condition and call verdict with the bridge's own log of what its
agent did (bench/verdict_truth.toml says which bridge act meets which criterion). When a verdict differs it
says why: the goal matcher is run again on the words the agent really said; if that gives the truth, the
caller misheard (the difference carries the word error rate of that turn); if it does not, the matcher is
wrong on the same words.

    python bench/verdict_truth.py [--calls 20] [--line clean,mulaw,noise] [--agent-voice espeak|piper]
                                  [--verdicts rules|learned]
    python bench/verdict_truth.py --quick          # 4 calls on a clean line

`--agent-voice piper` has the bridge speak with Piper's neural voice, nearer what real agents sound like; it
renders its prompts at start-up (about a minute on a loaded 2-core host).

Each line condition (`--line`, from the TOML's [lines]) is a separate run of N calls with a fresh bridge.
Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from bench.fidelity import read_jsonl, stop_process  # noqa: E402
from callers.errors import ConfigError  # noqa: E402
from callers.media.speech import VOICE_ENGINES  # noqa: E402
from callers.media.word_errors import score  # noqa: E402
from callers.scenario.goals import VERDICT_MODES  # noqa: E402
from callers.scenario.datafiles import read_toml  # noqa: E402
from callers.scenario.goals import CallerGoal, GoalTracker  # noqa: E402
from callers.scenario.scenarios import load_scenarios  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
TRUTH_FILE = BENCH_DIR / "verdict_truth.toml"
SCENARIOS_FILE = REPO_ROOT / "scenarios.json"
DEFAULT_CALLS = 20
QUICK_CALLS = 4
MAX_CONCURRENT = 4  # both ears run Whisper: more calls at once would only queue for the 2 cores
TARGET_AGREEMENT = 0.99
# Piper renders the bridge's ~40 prompts before it listens: ~70 s on a loaded 2-core host, 3 s with espeak.
BRIDGE_START_TIMEOUT_S = 300.0
BATCH_TIMEOUT_S = 900.0
FAILURE_KINDS = ("transferred", "transferred_unresolved", "never")
# The Whisper ear is English-only: entries in other languages are followed by altText, not heard, so they
# say nothing about hearing and are left out.
EAR_LANGUAGE = "en"


@dataclass(frozen=True)
class TruthMap:
    """bench/verdict_truth.toml, checked."""

    criteria: dict[str, tuple[str, ...]]
    failures: dict[str, str]
    lines: dict[str, dict]


def load_truth_map(path: Path = TRUTH_FILE) -> TruthMap:
    raw = read_toml(path, "verdict truth")
    criteria = raw.get("criteria", {})
    for text, ids in criteria.items():
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ConfigError(str(path), "must be a non-empty list of request ids", entry="criteria", field=text)
    failures = raw.get("failure_conditions", {})
    for text, kind in failures.items():
        if kind not in FAILURE_KINDS:
            raise ConfigError(str(path), f"must be one of {', '.join(FAILURE_KINDS)}, got {kind!r}",
                              entry="failure_conditions", field=text)
    lines = raw.get("lines", {})
    for name, spec in lines.items():
        unknown = set(spec) - {"line", "play_format"}
        if unknown:
            raise ConfigError(str(path), f"unknown key {sorted(unknown)[0]!r} (known: line, play_format)",
                              entry=f"lines.{name}")
    return TruthMap({text: tuple(ids) for text, ids in criteria.items()}, dict(failures), dict(lines))


# ---- the comparison ---------------------------------------------------------------------------------------

@dataclass
class Verdict:
    """One verdict of one call: what the caller said, what the bridge did, and why they differ."""

    call_id: str
    kind: str  # "criterion", "failure" or "call"
    name: str
    caller: bool
    truth: bool
    why: Optional[str] = None  # "misheard" or "matcher" when they differ
    heard: Optional[str] = None  # the caller's evidence sentence, or its words for the turn that mattered
    said: Optional[str] = None  # what the agent really said there

    @property
    def agrees(self) -> bool:
        return self.caller == self.truth

    @property
    def heard_wer(self) -> Optional[float]:
        """How far the caller's words for that turn were from the agent's, when both are known."""
        return score(self.said, self.heard).wer if self.said and self.heard is not None else None


@dataclass
class CallComparison:
    call_id: str
    scenario: str
    personality: str
    line: str
    verdicts: list[Verdict] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    skipped: Optional[str] = None  # why the call was not compared (an error, no truth)

    @property
    def agrees(self) -> bool:
        return all(verdict.agrees for verdict in self.verdicts)


def truly_met(criterion_ids: tuple[str, ...], truth: dict) -> bool:
    return any(request_id in truth.get("fulfilled", []) for request_id in criterion_ids)


def failure_truth(kind: str, truth: dict, criteria_met: list[bool]) -> bool:
    if kind == "never":
        return False
    if kind == "transferred":
        return bool(truth.get("transferred"))
    return bool(truth.get("transferred")) and not all(criteria_met)


def said_by_agent(truth: dict) -> list[tuple[int, str]]:
    """The agent's prompts as it really said them, numbered as the caller numbers heard turns (0 = greeting)."""
    return [(index, turn.get("reply", "")) for index, turn in enumerate(truth.get("turns", []))]


def heard_by_caller(call: dict) -> list[tuple[int, str]]:
    heard = [(0, call.get("greeting_text", ""))]
    return heard + [(turn["index"], turn.get("agent_text", "")) for turn in call.get("turn_records", [])]


def replay(goal: CallerGoal, turns: list[tuple[int, str]]) -> GoalTracker:
    """The caller's own goal tracker fed another text: the bridge's words instead of the ear's."""
    tracker = GoalTracker(goal)
    for index, text in turns:
        tracker.observe(index, text)
    return tracker


def compare_call(call: dict, truth: Optional[dict], goal: Optional[CallerGoal], truth_map: TruthMap,
                 line: str) -> CallComparison:
    """Every verdict of one call against the truth log; differences are put down to the ear or the matcher."""
    compared = CallComparison(call["call_id"], call.get("scenario", ""), call.get("personality", ""), line)
    error = call.get("error")
    if error:
        compared.skipped = f"call error {error.get('category')}"
        return compared
    if truth is None:
        compared.skipped = "no truth log line"
        return compared
    if goal is None:
        compared.skipped = f"scenario {compared.scenario!r} not in the scenarios file"
        return compared
    on_true_words = replay(goal, said_by_agent(truth))
    true_statuses = {status.description: status for status in on_true_words.statuses}
    said = dict(said_by_agent(truth))
    heard = dict(heard_by_caller(call))
    criteria_truth: list[bool] = []
    for record in call.get("goals", []):
        if record.get("kind") != "criterion":
            continue
        name = record["description"]
        ids = truth_map.criteria.get(name)
        if ids is None:
            compared.unmapped.append(name)
            continue
        real = truly_met(ids, truth)
        criteria_truth.append(real)
        verdict = Verdict(compared.call_id, "criterion", name, bool(record.get("met")), real)
        if not verdict.agrees:
            replayed = true_statuses.get(name)
            verdict.why = "misheard" if replayed is not None and replayed.met == real else "matcher"
            turn = record.get("evidence_turn")
            if turn is None and replayed is not None:
                turn = replayed.evidence_turn
            verdict.heard = record.get("evidence") or (heard.get(turn) if turn is not None else None)
            verdict.said = said.get(turn) if turn is not None else None
        compared.verdicts.append(verdict)
    for condition in goal.failure_conditions:
        kind = truth_map.failures.get(condition)
        if kind is None:
            compared.unmapped.append(condition)
            continue
        real = failure_truth(kind, truth, criteria_truth)
        verdict = Verdict(compared.call_id, "failure", condition, call.get("failure_condition") == condition, real)
        if not verdict.agrees:
            verdict.why = "misheard" if (on_true_words.failure == condition) == real else "matcher"
            turn = on_true_words.failure_turn
            verdict.said = said.get(turn) if turn is not None else None
            verdict.heard = heard.get(turn) if turn is not None else None
        compared.verdicts.append(verdict)
    if not compared.unmapped:
        failed = any(v.truth for v in compared.verdicts if v.kind == "failure")
        real_success = all(criteria_truth) and not failed
        verdict = Verdict(compared.call_id, "call", "success", bool(call.get("success")), real_success)
        if not verdict.agrees:
            wrong = [v.why for v in compared.verdicts if not v.agrees]
            verdict.why = "misheard" if wrong and all(why == "misheard" for why in wrong) else "matcher"
        compared.verdicts.append(verdict)
    return compared


def goals_by_scenario(scenarios_file: Path) -> dict[str, CallerGoal]:
    catalog = load_scenarios(scenarios_file)
    return {entry.scenario.name or entry.scenario.scenario_type.value: entry.scenario.goal
            for entry in catalog.entries}


def compare(calls: list[dict], truths: list[dict], goals: dict[str, CallerGoal], truth_map: TruthMap,
            line: str) -> list[CallComparison]:
    by_id = {truth["conversation_id"]: truth for truth in truths if truth.get("conversation_id")}
    return [compare_call(call, by_id.get(call["call_id"]), goals.get(call.get("scenario", "")), truth_map, line)
            for call in calls]


def agreement(comparisons: list[CallComparison]) -> dict:
    """Agreement per criterion (and failure condition), per call and overall, with the reasons for misses."""
    per_name: dict[str, list[int]] = {}
    for comparison in comparisons:
        for verdict in comparison.verdicts:
            if verdict.kind == "call":
                continue
            counts = per_name.setdefault(f"{verdict.kind}: {verdict.name}", [0, 0])
            counts[0] += verdict.agrees
            counts[1] += 1
    compared = [c for c in comparisons if c.skipped is None and c.verdicts]
    goal_verdicts = [v for c in compared for v in c.verdicts if v.kind != "call"]
    call_verdicts = [v for c in compared for v in c.verdicts if v.kind == "call"]
    misses = [v for c in compared for v in c.verdicts if not v.agrees]
    skipped_by_reason: dict[str, int] = {}
    for comparison in comparisons:
        if comparison.skipped:
            skipped_by_reason[comparison.skipped] = skipped_by_reason.get(comparison.skipped, 0) + 1
    return {
        "calls": len(comparisons),
        "compared_calls": len(compared),
        "skipped": {c.call_id: c.skipped for c in comparisons if c.skipped},
        "skipped_by_reason": skipped_by_reason,
        "unmapped": sorted({name for c in comparisons for name in c.unmapped}),
        "verdicts": len(goal_verdicts),
        "verdict_agreement": _rate(sum(v.agrees for v in goal_verdicts), len(goal_verdicts)),
        "call_verdicts": len(call_verdicts),
        "call_agreement": _rate(sum(v.agrees for v in call_verdicts), len(call_verdicts)),
        "calls_fully_agreeing": sum(c.agrees for c in compared),
        "per_criterion": {name: {"agree": agree, "of": total, "rate": _rate(agree, total)}
                          for name, (agree, total) in sorted(per_name.items())},
        "misheard": sum(v.why == "misheard" for v in misses if v.kind != "call"),
        "matcher": sum(v.why == "matcher" for v in misses if v.kind != "call"),
        "differences": [{"call_id": v.call_id, "kind": v.kind, "name": v.name, "caller": v.caller,
                         "truth": v.truth, "why": v.why, "heard": v.heard, "said": v.said,
                         "heard_wer": v.heard_wer} for v in misses],
    }


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


# ---- running the calls ------------------------------------------------------------------------------------

def entry_names(scenarios_file: Path) -> list[str]:
    """The predefined English entries, one scenario type after another
    (card, account, loan, ...; then each type's next entry), so even a few calls cover several types."""
    catalog = load_scenarios(scenarios_file)
    by_type: dict[str, list[str]] = {}
    for name, entry in catalog.predefined.items():
        if entry.scenario.language.split("-")[0].lower() == EAR_LANGUAGE:
            by_type.setdefault(entry.scenario.scenario_type.value, []).append(name)
    rounds = max((len(names) for names in by_type.values()), default=0)
    return [names[i] for i in range(rounds) for names in by_type.values() if i < len(names)]


def write_scenarios(workdir: Path, calls: int, line_spec: dict) -> Path:
    """A scenarios file whose entries cycle through the predefined ones (so scenario types and personalities
    vary) and, when the line condition degrades the caller's audio, every scenario carries that line."""
    raw = json.loads(SCENARIOS_FILE.read_text(encoding="utf-8"))
    names = entry_names(SCENARIOS_FILE)
    raw["scenarios"] = [{"name": f"{names[i % len(names)]} #{i}", "type": "predefined",
                         "scenario": names[i % len(names)]} for i in range(calls)]
    raw["test_configurations"] = {}
    if "line" in line_spec:
        for section in ("scenario_types", "predefined"):
            for spec in raw[section].values():
                spec["line"] = dict(line_spec["line"])
    path = workdir / "scenarios.json"
    path.write_text(json.dumps(raw, indent=1), encoding="utf-8")
    return path


def start_bridge(truth_log: Path, play_format: Optional[str], agent_voice: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0", "--ear", "stt", "--seed", "7",
               "--truth-log", str(truth_log), "--log-level", "warning", "--voice-engine", agent_voice]
    if play_format:
        command += ["--play-format", play_format]
    bridge = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([bridge.stdout], [], [], BRIDGE_START_TIMEOUT_S) if bridge.stdout else ([], [], [])
    line = bridge.stdout.readline() if ready and bridge.stdout else ""
    if not line.startswith("bridge listening on "):
        stop_process(bridge)
        raise SystemExit(f"verdict_truth: the reference bridge did not start within {BRIDGE_START_TIMEOUT_S:.0f} s "
                         f"(said {line!r})")
    return bridge, line.split()[3]


def run_line(name: str, spec: dict, calls: int, workdir: Path, seed: int, agent_voice: str,
             max_concurrent: int, verdicts: str = "rules") -> tuple[list[dict], list[dict], Path]:
    """N calls over one line condition; returns (call results, truth log lines, the scenarios file used)."""
    linedir = workdir / name
    linedir.mkdir()
    scenarios = write_scenarios(linedir, calls, spec)
    truth_log = linedir / "truth.jsonl"
    bridge, url = start_bridge(truth_log, spec.get("play_format"), agent_voice)
    command = [sys.executable, "batch_caller_test.py", "--scenarios", str(scenarios), "--bridge-url", url,
               "--ear", "stt", "--parallel", "--max-concurrent", str(max_concurrent), "--seed", str(seed),
               "--verdicts", verdicts, "--results-dir", str(linedir / "results")]
    try:
        subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=BATCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"note: the {name} batch passed {BATCH_TIMEOUT_S:.0f} s and was stopped", flush=True)
    finally:
        stop_process(bridge)
    return read_jsonl(linedir / "results" / "calls.jsonl"), read_jsonl(truth_log), scenarios


def print_report(name: str, comparisons: list[CallComparison], figures: dict) -> None:
    print(f"\n== line {name}: {figures['compared_calls']} of {figures['calls']} calls compared; criteria and failure "
          f"verdicts agree {figures['verdict_agreement']} ({figures['verdicts']}), call verdicts "
          f"{figures['call_agreement']} ({figures['call_verdicts']})")
    if figures["skipped_by_reason"]:
        reasons = figures["skipped_by_reason"].items()
        print("  not compared: " + ", ".join(f"{count} {reason}" for reason, count in reasons))
    for criterion, counts in figures["per_criterion"].items():
        print(f"  {criterion:<48} {counts['agree']:>3} of {counts['of']:<3} {counts['rate']}")
    for comparison in comparisons:
        state = comparison.skipped or ("agree" if comparison.agrees else "DIFFER")
        print(f"  call {comparison.call_id[:8]} {comparison.personality:<11} {comparison.scenario:<36} {state}")
        for verdict in comparison.verdicts:
            if verdict.agrees:
                continue
            wer = f" (that turn heard at {verdict.heard_wer:.0%} WER)" if verdict.heard_wer is not None else ""
            print(f"    {verdict.kind} {verdict.name!r}: caller {verdict.caller}, bridge {verdict.truth} "
                  f"-> {verdict.why}{wer}")
            if verdict.heard or verdict.said:
                print(f"      heard: {verdict.heard!r}\n      said:  {verdict.said!r}")
    if figures["unmapped"]:
        print(f"  not compared (add to {TRUTH_FILE.name}): {', '.join(figures['unmapped'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS, help="calls per line condition")
    parser.add_argument("--line", default="clean", help="comma-separated line conditions from "
                        f"{TRUTH_FILE.name} [lines] (default clean)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CALLS} calls on each line")
    parser.add_argument("--seed", type=int, default=1, help="the callers' seed (call i uses seed + i)")
    parser.add_argument("--max-concurrent", type=int, default=MAX_CONCURRENT,
                        help=f"calls at once (default {MAX_CONCURRENT}); fewer on a loaded host, where a caller "
                             "that falls behind real time ends in simulator_error and is not compared")
    parser.add_argument("--verdicts", choices=VERDICT_MODES, default="rules",
                        help="how the callers judge their goals (the learned judge needs its wheel installed)")
    parser.add_argument("--agent-voice", choices=VOICE_ENGINES, default="espeak",
                        help="what speaks the bridge's agent prompts (default espeak; piper is a neural voice)")
    args = parser.parse_args()
    try:
        truth_map = load_truth_map()
    except ConfigError as error:
        raise SystemExit(f"verdict_truth: {error}") from None
    lines = [name.strip() for name in args.line.split(",") if name.strip()]
    unknown = [name for name in lines if name not in truth_map.lines]
    if unknown or not lines:
        raise SystemExit(f"verdict_truth: --line: unknown line condition {', '.join(unknown) or '(none)'} "
                         f"(known: {', '.join(truth_map.lines)})")
    if args.calls < 1:
        raise SystemExit("verdict_truth: --calls must be at least 1")
    if args.max_concurrent < 1:
        raise SystemExit("verdict_truth: --max-concurrent must be at least 1")
    calls = QUICK_CALLS if args.quick else args.calls
    started = time.monotonic()
    before = machine.describe()
    print(f"verdict_truth on {before['cpu_model']} ({before['cores']} cores): {calls} calls per line, lines "
          f"{', '.join(lines)}; agent voice {args.agent_voice}; STT ear on both sides; verdicts {args.verdicts}",
          flush=True)
    by_line = {}
    with tempfile.TemporaryDirectory(prefix="verdict-truth-") as tmp:
        for name in lines:
            results, truths, scenarios = run_line(name, truth_map.lines[name], calls, Path(tmp), args.seed,
                                                  args.agent_voice, args.max_concurrent, args.verdicts)
            comparisons = compare(results, truths, goals_by_scenario(scenarios), truth_map, name)
            by_line[name] = agreement(comparisons)
            print_report(name, comparisons, by_line[name])
    verdicts = sum(figures["verdicts"] for figures in by_line.values())
    agreeing = sum(round((figures["verdict_agreement"] or 0) * figures["verdicts"]) for figures in by_line.values())
    call_verdicts = sum(figures["call_verdicts"] for figures in by_line.values())
    calls_agreeing = sum(round((figures["call_agreement"] or 0) * figures["call_verdicts"])
                         for figures in by_line.values())
    overall = _rate(agreeing, verdicts)
    print(json.dumps({
        "bench": "verdict_truth", "quick": args.quick, "calls_per_line": calls, "lines": lines,
        "agent_voice": args.agent_voice, "max_concurrent": args.max_concurrent, "verdicts_mode": args.verdicts,
        "verdicts": verdicts, "verdict_agreement": overall, "call_verdicts": call_verdicts,
        "call_agreement": _rate(calls_agreeing, call_verdicts), "target": TARGET_AGREEMENT,
        "target_met": overall is not None and overall >= TARGET_AGREEMENT, "by_line": by_line,
        "machine": before, "duration_s": round(time.monotonic() - started, 1),
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
