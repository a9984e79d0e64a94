"""The command line behind caller_cli.py (one call, a custom call, or a file of calls, with a live transcript)
and batch_caller_test.py (a test configuration or a whole scenarios file, with progress and reports).

Exit codes (scripts and CI rely on them; the rule is callers/app/gate.py's): a batch (batch_caller_test.py, or
caller_cli.py --batch) exits 0 once it has run and reported, however many calls failed, and 1 only when a gate
asked for with --success-threshold / --max-p95-turn-ms is missed; a one-off call (--scenario, a custom call)
also exits 1 when its goal was not met. Both: 2 bad usage or configuration; 3 the bridge could not be reached
or refused the handshake on every call; 130 interrupted (Ctrl-C or SIGTERM: calls in flight are recorded as
cancelled, the rest not started).
caller_cli.py's operator tools: `--list` exits 0 (2 for a bad file); `--check URL` 0 when the bridge works, 1
when calls would fail, 3 when it is unreachable or refuses the upgrade; `--interactive` 0 when the operator
quits (Ctrl-C during a call cancels that call only; at the menu it ends the session with 130).

Batch reports are made by the `reports` package, which the caller library must not import; the scripts
hand `batch_main` and `main` a reporter instead.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional, Sequence

import gevent

from callers.app.batch import DEFAULT_MAX_CONCURRENT, Batch, BatchPlan, CallSettings, Progress
from callers.app.gate import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, Gate,
                              exit_code)
from callers.app import options as shared_options
from callers.app.interactive import InteractiveSession
from callers.app.rules import connection_problem, openai_settings, verdicts_problem
from callers.app.probe import BridgeProbe
from callers.call import events
from callers.call.recording import RECORDINGS_DIR
from callers.errors import NOT_CONNECTED, ConfigError
from callers.media import speech
from callers.outcome import Outcome, outcome_of_result
from callers.results import CALLS_FILE, CallResult, ResultWriter, note_lines, public_url
from callers.scenario.catalog import describe_catalog
from callers.scenario.goals import criterion_problem
from callers.scenario.personality import load_personalities
from callers.scenario.scenarios import DEFAULT_SCENARIOS_FILE, ScenarioEntry, load_scenarios
from callers.services.realtime_session import MissingKey, openai_client
from callers.transport import tls
from callers.transport.telephony import DEFAULT_BRIDGE_URL

EXIT_GOAL_MET = EXIT_OK
EXIT_GOAL_NOT_MET = EXIT_FAILED
BRIDGE_URL_ENV = "CALLER_BRIDGE_URL"
BRIDGE_TOKEN_ENV = "CALLER_BRIDGE_TOKEN"
LOG_FILE = Path("logs") / "caller_agent.log"
RESULTS_ROOT = Path("results")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SHARED = shared_options.shared_options(token_env=BRIDGE_TOKEN_ENV)
# caller_cli.py --batch: the report files, beside calls.jsonl (batch_caller_test.py names them with --output).
BATCH_REPORT_NAME = "report"

# (calls file, --output NAME or None, --junit FILE or None): prints the summary and writes the report files.
BatchReporter = Callable[[Path, Optional[str], Optional[str]], None]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caller_cli.py", description="Simulated phone callers for a voice AI agent behind an AudioCodes bridge.")
    what = parser.add_argument_group("what to run (one of)")
    what.add_argument("--scenario", help="a predefined scenario id, e.g. difficult_card_replacement")
    what.add_argument("--personality", help="custom call: personality name (normal, angry, ...)")
    what.add_argument("--scenario-type", help="custom call: card_replacement, account_inquiry, ...")
    what.add_argument("--goal",
                      help="custom call: the caller's primary goal, in words; unless --criterion is given, the "
                           "call succeeds when the agent is heard delivering it (not the type's default criteria)")
    what.add_argument("--criterion", action="append", type=_criterion_text, metavar="TEXT",
                      help="custom call: a success criterion, e.g. \"fee refunded\" (repeatable; all must be "
                           "met); replaces the goal's words and the type's defaults as what is judged")
    what.add_argument("--batch", metavar="FILE", help="run every entry of a scenarios file (one after another "
                                                      "unless --parallel)")
    parser.add_argument("--caller-name", help="name the caller gives (default: the scenario's name)")
    parser.add_argument("--caller-phone", default="+15551234567", help="caller's phone number (default %(default)s)")
    parser.add_argument("--scenarios-file", default=str(DEFAULT_SCENARIOS_FILE),
                        help="scenario catalog (default: scenarios.json)")
    parser.add_argument("--output", help="result directory (default results/<timestamp>)")
    _add_run_options(parser)
    _add_gate_options(parser)
    _add_call_options(parser)
    _add_operator_options(parser)
    return parser


def build_batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch_caller_test.py",
        description="Run a test configuration or a whole scenarios file as real calls, then report: success "
                    "rates with 95% intervals by personality and scenario, durations, voice latency.",
        epilog="Exit codes: 0 the run completed and its reports are written (however many calls failed), 1 a "
               "gate (--success-threshold, --max-p95-turn-ms) was missed, 2 bad usage or configuration, 3 bridge "
               "unreachable on every call, 130 interrupted.")
    what = parser.add_argument_group("what to run")
    what.add_argument("--scenarios", metavar="FILE", help="every entry of this scenarios file; with --config, "
                                                          "the file the configuration is taken from")
    what.add_argument("--config", metavar="NAME", help="a test configuration (test_configurations of "
                                                       "scenarios.json, or of --scenarios FILE)")
    _add_run_options(parser)
    _add_gate_options(parser)
    _add_call_options(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--output", metavar="NAME", help="write the report as NAME.json, NAME.txt, NAME.html and "
                                                      "NAME_<chart>.png")
    out.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per call")
    _add_record_option(out)
    out.add_argument("--results-dir", metavar="DIR", help="where calls.jsonl goes; must not hold one already "
                                                          "(default results/<timestamp>)")
    return parser


def main(argv: Optional[Sequence[str]] = None, reporter: Optional[BatchReporter] = None) -> int:
    """caller_cli.py: a single call shows its live transcript; several show the batch progress. A --batch
    run is reported by `reporter` (files named BATCH_REPORT_NAME beside calls.jsonl) and exits as
    batch_caller_test.py does; a one-off call exits with its verdict."""
    parser = build_parser()
    args = parse_arguments(parser, argv)
    _setup_logging(args.verbose)
    if args.list:
        return _print_catalog(args.scenarios_file)
    if args.check:
        try:
            return _check_bridge(args.check, _settings(args))
        except MissingKey as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if args.interactive:
        return _interactive(args)
    try:
        entries = _entries(args, parser)
        settings = _settings(args, caller_phone=args.caller_phone, caller_name=args.caller_name)
    except (ConfigError, MissingKey) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    plan = _plan(args, entries, parallel=False, max_concurrent=None)
    writer = ResultWriter(Path(args.output or _default_results_dir()) / CALLS_FILE)
    print(describe_brain(settings), flush=True)
    settings.recordings_dir = _recordings_dir(args, writer)
    _prepare_ear(settings.ear)
    if len(plan.calls()) == 1:
        batch = _run_with_transcript(plan, settings, writer)
    else:
        batch = _run(Batch(plan, settings, writer, progress=Progress(len(plan.calls()), sys.stdout)))
    if len(batch.results) > 1:
        _print_totals(batch.results)
    _print_protocol_notes(batch.results)
    print(f"Results: {writer.path}", flush=True)
    _print_recordings(settings)
    report = None
    if args.batch and reporter is not None:
        report = lambda: reporter(writer.path, str(writer.path.parent / BATCH_REPORT_NAME), None)  # noqa: E731
    return _conclude(batch, _gate(args), one_off=not args.batch, report=report)


def batch_main(reporter: BatchReporter, argv: Optional[Sequence[str]] = None) -> int:
    """batch_caller_test.py: run the chosen entries with progress, then hand the calls file to `reporter`."""
    parser = build_batch_parser()
    args = parse_arguments(parser, argv)
    _setup_logging(args.verbose)
    if not (args.config or args.scenarios):
        parser.error("choose what to run: --config NAME (a test configuration) or --scenarios FILE (every entry)")
    try:
        plan = batch_plan(args)
        settings = _settings(args)
    except (ConfigError, MissingKey) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    calls_file = Path(args.results_dir or _default_results_dir()) / CALLS_FILE
    if calls_file.exists() and calls_file.stat().st_size:
        print(f"error: {calls_file} already holds calls; give a new --results-dir (one run per directory, so "
              "its report covers this run only)", file=sys.stderr)
        return EXIT_USAGE
    writer = ResultWriter(calls_file)
    settings.recordings_dir = _recordings_dir(args, writer)
    _prepare_ear(settings.ear)
    calls = len(plan.calls())
    how = f"parallel, at most {plan.concurrency} at once" if plan.parallel else "one after another"
    repeats = f" x {plan.repeat} repeats" if plan.repeat > 1 else ""
    print(f"Running {calls} calls ({len(plan.entries)} entries{repeats}), {how}, against "
          f"{public_url(settings.bridge_url)}", flush=True)
    print(describe_brain(settings), flush=True)
    batch = _run(Batch(plan, settings, writer, progress=Progress(calls, sys.stdout)))
    if batch.cancelled:
        print(f"Interrupted: {len(batch.results)} calls recorded, {calls - batch.started} not started")
    _print_protocol_notes(batch.results)
    print(f"Results: {writer.path}", flush=True)
    _print_recordings(settings)
    return _conclude(batch, _gate(args), one_off=False,
                     report=lambda: reporter(writer.path, args.output, args.junit))


def _conclude(batch: Batch, gate: Gate, one_off: bool, report: Optional[Callable[[], None]] = None) -> int:
    """After the calls: the report (when there is one to make), the gate's verdict, the exit code."""
    if report is not None and batch.results:
        try:
            report()
        except OSError as error:
            print(f"error: cannot write the report: {error}", file=sys.stderr)
            return EXIT_USAGE
    reasons = gate.reasons(batch.results) if gate.asked and not batch.cancelled else []
    for reason in reasons:
        print(f"CI gate FAILED: {reason}", file=sys.stderr, flush=True)
    if gate.asked and not batch.cancelled and not reasons:
        print("CI gate passed", flush=True)
    return exit_code(batch.results, batch.cancelled, reasons, one_off=one_off)


# ---- options shared by both faces -------------------------------------------------------------------------

def _add_run_options(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("how to run several calls")
    run.add_argument("--parallel", action=argparse.BooleanOptionalAction, default=None,
                     help="run calls concurrently (--no-parallel: one after another); default: the test "
                          "configuration's setting, else one after another")
    run.add_argument("--max-concurrent", type=_positive_int, metavar="N",
                     help="at most N calls at once when parallel (default: the configuration's max_concurrent, "
                          f"else {DEFAULT_MAX_CONCURRENT})")
    run.add_argument("--repeat", type=_positive_int, default=1, metavar="K",
                     help="place every entry K times; reports then show pass^k (all K succeeded) per entry")


def _add_gate_options(parser: argparse.ArgumentParser) -> None:
    gate = parser.add_argument_group("CI gate (exit 1 when missed; failed calls alone never fail a batch)")
    _add_shared(gate, "--success-threshold", "--max-p95-turn-ms")


def _gate(args: argparse.Namespace) -> Gate:
    return Gate(args.success_threshold, args.max_p95_turn_ms)


def _add_call_options(parser: argparse.ArgumentParser) -> None:
    call = parser.add_argument_group("how to call")
    call.add_argument("--timeout", type=_positive_float, help="seconds before a call is cut off "
                                                              "(default: each scenario's)")
    call.add_argument("--bridge-url", default=os.environ.get(BRIDGE_URL_ENV, DEFAULT_BRIDGE_URL),
                      help=f"bridge WebSocket URL (env {BRIDGE_URL_ENV}; default %(default)s)")
    _add_shared(call, "--token", "--ear", "--voice-engine", "--verdicts", "--seed")
    call.add_argument("--verbose", action="store_true", help="debug logging on the console too")
    _add_connection_options(parser)
    add_brain_options(parser)


def add_brain_options(parser: argparse.ArgumentParser) -> None:
    """--brain and the OpenAI options; the key is read from the environment only, never from a flag."""
    brain = parser.add_argument_group("caller brain (OpenAI key from the environment only)")
    _add_shared(brain, "--brain", "--model", "--voice", "--openai-base-url", "--max-realtime-sessions", "--judge",
                "--judge-model")


def describe_brain(settings: CallSettings) -> str:
    """The console line saying which brain the callers use (verdicts depend on it)."""
    judge = f"; judge {settings.judge.model}" if settings.judge else ""
    if settings.realtime is not None:
        return f"Brain: realtime ({settings.realtime.describe()}), ear {settings.ear}{judge}"
    return (f"Brain: scripted (offline; --brain realtime uses OpenAI Realtime), ear {settings.ear}, "
            f"voice {settings.voice_engine}{judge}")


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    link = parser.add_argument_group("connection: TLS and dropped calls")
    _add_shared(link, "--ca-file", "--insecure", "--resume-on-drop", "--accept-timeout", "--strict-protocol")


def _add_shared(group: argparse._ArgumentGroup, *flags: str) -> None:
    """Add options both faces have from their one definition (callers/app/options.py)."""
    for flag in flags:
        option = SHARED[flag]
        common = {"default": option.cli_value_default, "help": option.cli_help}
        if option.switch:
            group.add_argument(flag, action="store_true", **common)
        else:
            group.add_argument(flag, type=_argparse_type(option), choices=option.choices, metavar=option.metavar,
                               **common)


def _argparse_type(option: shared_options.SharedOption) -> Callable[[str], object]:
    """The shared parser, reported as argparse reports a bad value; an empty text is the default."""
    def parse(text: str) -> object:
        if not text.strip():
            return option.cli_value_default
        try:
            return option.parse(text.strip())
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = option.flag.lstrip("-")
    return parse


def parse_arguments(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """Parse, then apply the rules across options (callers/app/rules.py, the locustfile's too): a problem is
    one usage line and exit 2."""
    args = parser.parse_args(argv)
    problem = connection_problem(args.ca_file, args.insecure)
    if problem:
        parser.error(problem)
    return args


def _add_operator_options(parser: argparse.ArgumentParser) -> None:
    tools = parser.add_argument_group("operator tools")
    tools.add_argument("--list", action="store_true", help="print the personalities, scenario types, predefined "
                                                           "scenarios and test configurations, then exit")
    tools.add_argument("--check", metavar="URL", help="probe a bridge (reachable, auth, connection.validate, media "
                                                      "formats, greeting latency, barge-in, a caller turn) and exit: "
                                                      "0 if it works, 1 if calls would fail, 3 if unreachable")
    tools.add_argument("--interactive", action="store_true",
                       help="a menu: pick a predefined scenario or build a custom call, watch its live transcript "
                            "and result, choose again; q quits")
    _add_record_option(tools)


def _add_record_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--record", action="store_true",
                       help=f"per call, a stereo WAV (caller left, agent right, real timing) and a transcript "
                            f"(JSON and text) in {RECORDINGS_DIR}/ beside calls.jsonl; reports link to them")


def _recordings_dir(args: argparse.Namespace, writer: ResultWriter) -> Optional[Path]:
    return writer.path.parent / RECORDINGS_DIR if args.record else None


def _print_recordings(settings: CallSettings) -> None:
    if settings.recordings_dir is not None:
        print(f"Recordings: {settings.recordings_dir}", flush=True)


def _print_catalog(scenarios_file: str) -> int:
    try:
        text = describe_catalog(load_scenarios(scenarios_file), load_personalities())
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(text, end="")
    return EXIT_GOAL_MET


def _check_bridge(url: str, settings: CallSettings) -> int:
    print(f"Checking {public_url(url)}", flush=True)
    report = BridgeProbe(url, settings.token, sslopt=tls.client_sslopt(settings.ca_file, settings.insecure),
                         on_check=lambda check: print(check.line(), flush=True)).run()
    print(report.verdict())
    if report.works:
        return EXIT_GOAL_MET
    return EXIT_UNREACHABLE if report.unreachable else EXIT_GOAL_NOT_MET


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _criterion_text(text: str) -> str:
    """A goal or criterion from the command line, refused at once when goal tracking could never hear it."""
    problem = criterion_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _bridge_token(args: argparse.Namespace) -> Optional[str]:
    return args.token or os.environ.get(BRIDGE_TOKEN_ENV) or None


def _settings(args: argparse.Namespace, **extra: Optional[str]) -> CallSettings:
    token = _bridge_token(args)
    if args.insecure:
        print(tls.INSECURE_WARNING, file=sys.stderr, flush=True)
    realtime, judge = openai_settings(args)
    if realtime is not None or judge is not None:
        openai_client(realtime or judge.settings)  # built now: building it later would stall calls' audio
    ear = args.ear or ("none" if realtime is not None else "auto")
    problem = verdicts_problem(args.verdicts)
    if problem:
        raise MissingKey(problem)
    return CallSettings(bridge_url=args.bridge_url, token=token, ear=ear, seed=args.seed, timeout=args.timeout,
                        ca_file=args.ca_file, insecure=args.insecure, resume_on_drop=args.resume_on_drop,
                        accept_timeout_s=args.accept_timeout, strict_protocol=args.strict_protocol,
                        voice_engine=args.voice_engine, realtime=realtime, judge=judge, verdicts=args.verdicts,
                        **extra)


def _plan(args: argparse.Namespace, entries: list[ScenarioEntry], parallel: bool,
          max_concurrent: Optional[int]) -> BatchPlan:
    """Flags override what the configuration says; the configuration overrides the defaults."""
    return BatchPlan(entries, repeat=args.repeat,
                     parallel=parallel if args.parallel is None else args.parallel,
                     max_concurrent=args.max_concurrent or max_concurrent or DEFAULT_MAX_CONCURRENT)


def batch_plan(args: argparse.Namespace) -> BatchPlan:
    """What batch_caller_test.py's arguments ask for; a configuration's own parallel / max_concurrent apply
    unless --parallel / --no-parallel / --max-concurrent say otherwise."""
    catalog = load_scenarios(args.scenarios or DEFAULT_SCENARIOS_FILE)
    if args.config:
        configuration = catalog.configuration(args.config)
        return _plan(args, configuration.entries, configuration.parallel, configuration.max_concurrent)
    if not catalog.entries:
        raise ConfigError(catalog.path, "no entries to run", entry="scenarios")
    return _plan(args, catalog.entries, parallel=False, max_concurrent=None)


def _prepare_ear(ear: str) -> None:
    if ear in ("auto", "stt"):
        speech.get_ear("stt")  # load the recognizer before any call starts, not in the middle of one


def _run(batch: Batch) -> Batch:
    """Run with Ctrl-C / SIGTERM cancelling the batch (calls in flight are recorded) instead of killing it."""
    handlers = [gevent.signal_handler(signum, batch.cancel) for signum in STOP_SIGNALS]
    try:
        batch.run()
    finally:
        for handler in handlers:
            handler.cancel()
    return batch


def _run_with_transcript(plan: BatchPlan, settings: CallSettings, writer: ResultWriter) -> Batch:
    """One call with its live transcript and verdict printed as it happens."""
    transcript = LiveTranscript(sys.stdout)
    transcript.attach()
    try:
        return _run(Batch(plan, settings, writer, on_result=transcript.summary))
    finally:
        transcript.detach()


def _interactive(args: argparse.Namespace) -> int:
    """The operator's menu; each chosen call runs like a single caller_cli.py call (Ctrl-C cancels only it)."""
    try:
        catalog = load_scenarios(args.scenarios_file)
        personalities = load_personalities()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = _settings(args, caller_phone=args.caller_phone, caller_name=args.caller_name)
    except MissingKey as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    writer = ResultWriter(Path(args.output or _default_results_dir()) / CALLS_FILE)
    settings.recordings_dir = _recordings_dir(args, writer)
    print(describe_brain(settings), flush=True)
    _prepare_ear(settings.ear)

    def run_call(entry: ScenarioEntry) -> Optional[CallResult]:
        batch = _run_with_transcript(BatchPlan([entry]), settings, writer)
        return batch.results[0] if batch.results else None

    header = f"bridge {public_url(settings.bridge_url)}, ear {settings.ear}, results in {writer.path.parent}"
    session = InteractiveSession(catalog, personalities, run_call, sys.stdout, header=header)
    try:
        session.run()
    except KeyboardInterrupt:
        print("\nInterrupted.")
        return EXIT_INTERRUPTED
    if session.results:
        print(f"Results: {writer.path}")
        _print_recordings(settings)
    return EXIT_GOAL_MET


def _default_results_dir() -> Path:
    return RESULTS_ROOT / datetime.now().strftime("%Y%m%d-%H%M%S")


def _entries(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[ScenarioEntry]:
    chosen = [bool(args.scenario), bool(args.personality or args.scenario_type), bool(args.batch)]
    if sum(chosen) != 1:
        parser.error("choose one of --scenario NAME, --personality P --scenario-type T [--goal TEXT], "
                     "or --batch FILE")
    if (args.goal or args.criterion) and not chosen[1]:
        parser.error("--goal and --criterion describe a custom call (--personality P --scenario-type T)")
    if args.goal and not args.criterion:
        problem = criterion_problem(args.goal)
        if problem is not None:  # the goal's own words are what will be judged
            parser.error(f"argument --goal: {problem}")
    if args.batch:
        return load_scenarios(args.batch).entries
    catalog = load_scenarios(args.scenarios_file)
    if args.scenario:
        return [catalog.predefined_entry(args.scenario)]
    if not (args.personality and args.scenario_type):
        parser.error("a custom call needs both --personality and --scenario-type")
    return [catalog.custom_entry(args.personality, args.scenario_type, args.goal, name=args.caller_name,
                                 criteria=args.criterion or ())]


def _setup_logging(verbose: bool) -> None:
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.FileHandler(LOG_FILE)]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # websockets logs every handshake header at debug level, the OpenAI key included: never below INFO.
    for noisy in ("websocket", "websockets", "openai", "httpx2", "httpcore", "faster_whisper", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _print_totals(results: list[CallResult]) -> None:
    """The run's counts by outcome; the rate is over judged calls, as every report and the gate count it."""
    counts = Counter(outcome_of_result(r) for r in results)
    succeeded, failed = counts[Outcome.SUCCESS], counts[Outcome.AGENT_FAILURE]
    judged = succeeded + failed
    rate = f"{100.0 * succeeded / judged:.1f}% success" if judged else "success rate n/a"
    not_judged = "".join(f", {counts[outcome]} {label}" for outcome, label in
                         ((Outcome.CALLER_NOT_PREPARED, "caller not prepared (asked for what its profile lacked)"),
                          (Outcome.CALLER_ERROR, "caller-side errors"), (Outcome.CANCELLED, "cancelled"))
                         if counts[outcome])
    print(f"\n{len(results)} calls: {succeeded} succeeded, {failed} failed{not_judged} "
          f"({rate} of {judged} judged)")


def _print_protocol_notes(results: list[CallResult]) -> None:
    """Once per run: each kind of protocol deviation the calls were carried through, and how many showed it."""
    for line in note_lines(results):
        print(line, flush=True)


class LiveTranscript:
    """Prints each call as it happens: who said what, and how long the agent took to answer."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._listeners = [
            (events.call_connected, self.connected), (events.greeting_heard, self.greeting),
            (events.utterance, self.utterance), (events.turn_completed, self.turn),
            (events.call_resumed, self.resumed),
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
                       else "agent kept talking over the caller" if turn.agent_stopped is False
                       else "the prompt ended by itself: no verdict on stopping")
            self._print(f"    {'':26} ({stopped})")
        latency = "   no answer" if turn.response_latency_ms is None else f"{turn.response_latency_ms:6.0f} ms"
        self._print(f"    AGENT  [turn {turn.index:2d} {latency}] {turn.agent_text}")

    def resumed(self, call, resume: dict) -> None:
        outcome = (f"resumed in {resume['took_ms']:.0f} ms" if resume["ok"]
                   else f"session.resume failed: {resume['reason']}")
        self._print(f"    --- line dropped ({resume['dropped']}); {outcome}")

    def summary(self, result: CallResult) -> None:
        if result.error_category in NOT_CONNECTED:
            self._print(f"--- FAILED ({result.error_category}): {result.error.message}")
            return
        verdict = "SUCCESS" if result.success else "FAILED"
        latencies = [t.response_latency_ms for t in result.turn_records if t.response_latency_ms is not None]
        median = f", median turn latency {statistics.median(latencies):.0f} ms" if latencies else ""
        uncertain = f" (+{result.goals_uncertain} uncertain)" if result.goals_uncertain else ""
        self._print(f"--- {verdict}: goals {result.goals_achieved}/{result.goals_total}{uncertain}, "
                    f"{result.turns} turns, {result.duration_s:.1f} s{median}; ended: {result.end_reason}")
        for goal in result.goals:
            mark = (f"met at turn {goal['evidence_turn']}" if goal["met"]
                    else f"uncertain at turn {goal['evidence_turn']} ({goal['evidence']})"
                    if goal.get("verdict") == "uncertain" else "not met")
            self._print(f"    goal: {goal['description']}: {mark}")
        for verdict in result.judge.verdicts if result.judge else []:
            mark = {True: "met", False: "not met", None: "not judged"}[verdict.met]
            self._print(f"    judge: {verdict.criterion}: {mark} ({verdict.evidence})")
        if result.judge and result.judge.error:
            self._print(f"    judge: {result.judge.error}")
        if result.cost_usd is not None:
            self._print(f"    cost: ${result.cost_usd:.4f}")
        if result.error:
            self._print(f"    error: {result.error.category}: {result.error.message}")
        self._print_pacing_note(result)

    def _print_pacing_note(self, result: CallResult) -> None:
        from callers.call.agent import pacing_note  # the lateness rule and its advice live with the agent's turn loop

        note = pacing_note(result)
        if note:
            self._print(f"    note: {note}")
