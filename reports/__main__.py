"""Command line: `python -m reports RUN_DIR_OR_FILES...` and `python -m reports compare A B`.

Exit codes: 0 report written / no regression; 1 `compare` flagged a regression; 2 unusable input (nothing
readable, missing path, not a report), always with a one-line reason and never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from reports.compare import compare_reports, load_report, render_comparison
from reports.junit import write_junit
from reports.load import ReportInputError, load_calls, load_locust, load_locust_json
from reports.publish import warn_data_problems, write_outputs
from reports.stats import analyse
from reports.text import render_report

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_INPUT = 2
COMPARE = "compare"


def report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reports",
        description="Report on Caller Agent calls: text on stdout, and with --output NAME the files NAME.txt, "
                    "NAME.json, NAME_*.png and NAME.html. To compare two runs: python -m reports compare A B.")
    parser.add_argument("paths", nargs="+", metavar="RUN_DIR_OR_FILE",
                        help="run directories (every *.jsonl in them) and/or calls*.jsonl files")
    parser.add_argument("--locust-csv", metavar="PREFIX",
                        help="Locust's --csv prefix: adds PREFIX_stats.csv and, if present, "
                             "PREFIX_stats_history.csv (latency over time)")
    parser.add_argument("--locust-json", metavar="FILE",
                        help="Locust's --json-file output (instead of --locust-csv; no latency over time)")
    parser.add_argument("--output", metavar="NAME", help="write NAME.txt, NAME.json, NAME_*.png, NAME.html")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per call")
    return parser


def compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reports compare",
        description="Success rate and TURN latency of run B against baseline A, overall and per scenario; "
                    "exit code 1 when a regression is flagged.")
    parser.add_argument("baseline", metavar="A", help="run directory, calls file or JSON report")
    parser.add_argument("candidate", metavar="B", help="run directory, calls file or JSON report")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == COMPARE:
            return _compare(compare_parser().parse_args(argv[1:]))
        return _report(report_parser().parse_args(argv))
    except ReportInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: cannot write the report: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _report(args: argparse.Namespace) -> int:
    if args.locust_csv and args.locust_json:
        raise ReportInputError("give --locust-csv or --locust-json, not both")
    locust = load_locust(args.locust_csv) if args.locust_csv else None
    if args.locust_json:
        locust = load_locust_json(args.locust_json)
    analysis = analyse(load_calls(args.paths), locust)
    warn_data_problems(analysis, sys.stderr)
    sys.stdout.write(render_report(analysis))
    if args.output:
        print("Report: " + ", ".join(str(path) for path in write_outputs(analysis, args.output)))
    if args.junit:
        print(f"JUnit XML: {write_junit(analysis.calls, args.junit)}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    comparison = compare_reports(load_report(args.baseline), load_report(args.candidate), args.baseline,
                                 args.candidate)
    sys.stdout.write(render_comparison(comparison))
    return EXIT_REGRESSION if comparison.regressions else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
