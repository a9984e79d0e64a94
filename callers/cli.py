"""The command line behind caller_cli.py: one call, a custom call, or a file of calls, with a live transcript.

Exit codes (scripts and CI rely on them): 0 goal met, 1 goal not met, 2 bad usage or configuration,
3 the bridge could not be reached or refused the handshake.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from callers import events, speech
from callers.batch import CallSettings, run_entries
from callers.errors import ConfigError, ErrorCategory
from callers.results import CALLS_FILE, CallResult, ResultWriter
from callers.scenarios import DEFAULT_SCENARIOS_FILE, ScenarioEntry, load_scenarios
from callers.telephony import DEFAULT_BRIDGE_URL

EXIT_GOAL_MET = 0
EXIT_GOAL_NOT_MET = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
BRIDGE_URL_ENV = "CALLER_BRIDGE_URL"
BRIDGE_TOKEN_ENV = "CALLER_BRIDGE_TOKEN"
LOG_FILE = Path("logs") / "caller_agent.log"
_UNREACHABLE = {ErrorCategory.CONNECT_FAILED.value, ErrorCategory.HANDSHAKE_REJECTED.value}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caller_cli.py", description="Simulated phone callers for a voice AI agent behind an AudioCodes bridge.")
    what = parser.add_argument_group("what to run (one of)")
    what.add_argument("--scenario", help="a predefined scenario id, e.g. difficult_card_replacement")
    what.add_argument("--personality", help="custom call: personality name (normal, angry, ...)")
    what.add_argument("--scenario-type", help="custom call: card_replacement, account_inquiry, ...")
    what.add_argument("--goal", help="custom call: the caller's primary goal, in words")
    what.add_argument("--batch", metavar="FILE", help="run every entry of a scenarios file, one after another")
    parser.add_argument("--caller-name", help="name the caller gives (default: the scenario's name)")
    parser.add_argument("--caller-phone", default="+15551234567", help="caller's phone number (default %(default)s)")
    parser.add_argument("--timeout", type=float, help="seconds before a call is cut off (default: the scenario's)")
    parser.add_argument("--bridge-url", default=os.environ.get(BRIDGE_URL_ENV, DEFAULT_BRIDGE_URL),
                        help=f"bridge WebSocket URL (env {BRIDGE_URL_ENV}; default %(default)s)")
    parser.add_argument("--token", default=None, help=f"bearer token for the bridge (or env {BRIDGE_TOKEN_ENV})")
    parser.add_argument("--ear", default="auto", choices=("auto", "stt", "alttext", "none"),
                        help="how the caller hears the agent: altText when sent else speech recognition (auto), "
                             "always recognition (stt), altText only, or nothing (none)")
    parser.add_argument("--scenarios-file", default=str(DEFAULT_SCENARIOS_FILE),
                        help="scenario catalog (default: scenarios.json)")
    parser.add_argument("--output", help="result directory (default results/<timestamp>)")
    parser.add_argument("--seed", type=int, help="make the callers' choices reproducible")
    parser.add_argument("--verbose", action="store_true", help="debug logging on the console too")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    token = args.token or os.environ.get(BRIDGE_TOKEN_ENV) or None
    try:
        entries = _entries(args, parser)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    output = Path(args.output or Path("results") / datetime.now().strftime("%Y%m%d-%H%M%S"))
    writer = ResultWriter(output / CALLS_FILE)
    settings = CallSettings(bridge_url=args.bridge_url, token=token, ear=args.ear, seed=args.seed,
                            timeout=args.timeout, caller_phone=args.caller_phone, caller_name=args.caller_name)
    if args.ear in ("auto", "stt"):
        speech.get_ear("stt")  # load the recognizer before any call starts, not in the middle of one
    transcript = LiveTranscript(sys.stdout)
    transcript.attach()
    try:
        results = run_entries(entries, settings, writer, on_result=transcript.summary)
    finally:
        transcript.detach()
    if len(results) > 1:
        _print_totals(results)
    print(f"Results: {writer.path}")
    return _exit_code(results)


def _entries(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[ScenarioEntry]:
    chosen = [bool(args.scenario), bool(args.personality or args.scenario_type), bool(args.batch)]
    if sum(chosen) != 1:
        parser.error("choose one of --scenario NAME, --personality P --scenario-type T [--goal TEXT], "
                     "or --batch FILE")
    if args.batch:
        return load_scenarios(args.batch).entries
    catalog = load_scenarios(args.scenarios_file)
    if args.scenario:
        return [catalog.predefined_entry(args.scenario)]
    if not (args.personality and args.scenario_type):
        parser.error("a custom call needs both --personality and --scenario-type")
    return [catalog.custom_entry(args.personality, args.scenario_type, args.goal, name=args.caller_name)]


def _exit_code(results: list[CallResult]) -> int:
    if results and all(r.error_category in _UNREACHABLE for r in results):
        return EXIT_UNREACHABLE
    return EXIT_GOAL_MET if results and all(r.success for r in results) else EXIT_GOAL_NOT_MET


def _setup_logging(verbose: bool) -> None:
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(LOG_FILE)]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("websocket", "faster_whisper", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _print_totals(results: list[CallResult]) -> None:
    succeeded = sum(r.success for r in results)
    print(f"\n{len(results)} calls: {succeeded} succeeded, {len(results) - succeeded} failed "
          f"({100.0 * succeeded / len(results):.1f}% success)")


class LiveTranscript:
    """Prints each call as it happens: who said what, and how long the agent took to answer."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._listeners = [
            (events.call_connected, self.connected), (events.greeting_heard, self.greeting),
            (events.utterance, self.utterance), (events.turn_completed, self.turn),
        ]

    def attach(self) -> None:
        for hook, listener in self._listeners:
            hook.add_listener(listener)

    def detach(self) -> None:
        for hook, listener in self._listeners:
            hook.remove_listener(listener)

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def connected(self, call, connect_ms) -> None:
        self._print(f"\n=== {call.caller_name}: {call.personality.name} caller, scenario "
                    f"{call.scenario.name or call.scenario.scenario_type.value} "
                    f"({call.scenario.scenario_type.value}), brain {call.brain.name}, ear {call.ear_mode}")
        self._print(f"    connected to {call.result.bridge} in {connect_ms:.1f} ms")

    def greeting(self, call, latency_ms, text) -> None:
        self._print(f"    AGENT  [greeting {latency_ms:6.0f} ms] {text}")

    def utterance(self, call, speaker, text, latency_ms) -> None:
        if speaker == "caller":
            self._print(f"    CALLER {'':19} {text}")

    def turn(self, call, turn) -> None:
        if turn.barge_in:
            stopped = (f"agent stopped {turn.barge_in_stop_ms:.0f} ms after the caller cut in" if turn.agent_stopped
                       else "agent kept talking over the caller")
            self._print(f"    {'':26} ({stopped})")
        latency = "   no answer" if turn.response_latency_ms is None else f"{turn.response_latency_ms:6.0f} ms"
        self._print(f"    AGENT  [turn {turn.index:2d} {latency}] {turn.agent_text}")

    def summary(self, result: CallResult) -> None:
        if result.error_category in _UNREACHABLE:
            self._print(f"--- FAILED ({result.error_category}): {result.error['message']}")
            return
        verdict = "SUCCESS" if result.success else "FAILED"
        latencies = [t.response_latency_ms for t in result.turn_records if t.response_latency_ms is not None]
        median = f", median turn latency {statistics.median(latencies):.0f} ms" if latencies else ""
        self._print(f"--- {verdict}: goals {result.goals_achieved}/{result.goals_total}, {result.turns} turns, "
                    f"{result.duration_s:.1f} s{median}; ended: {result.end_reason}")
        for goal in result.goals:
            mark = f"met at turn {goal['evidence_turn']}" if goal["met"] else "not met"
            self._print(f"    goal: {goal['description']}: {mark}")
        if result.error:
            self._print(f"    error: {result.error['category']}: {result.error['message']}")
