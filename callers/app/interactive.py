"""`caller_cli.py --interactive`: a plain-text menu for trying an agent by hand, one call at a time.

Pick a predefined scenario or build a custom call (personality, scenario type, goal, caller name), watch the
live transcript while it runs, read the verdict, choose again. Only `input()` and `print()`, no curses, so it
works over ssh, in a container's terminal, and under a test's pseudo-terminal alike.

How a call is run and shown (live transcript, Ctrl-C cancelling it) belongs to the CLI; this module gets
that as `run_call` and owns only the conversation with the operator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, TextIO

from callers.errors import ConfigError
from callers.results import CallResult
from callers.scenario.catalog import describe_catalog, describe_entry, describe_personality
from callers.scenario.personality import CallerPersonality
from callers.scenario.scenarios import ScenarioCatalog, ScenarioEntry

PROMPT = "> "
QUIT = ("q", "quit", "exit")
BACK_HINT = "(number or name; Enter to go back)"
MAIN_MENU = (("1", "run a predefined scenario"), ("2", "build a custom call"), ("3", "show the catalog"),
             ("q", "quit"))


class _Back(Exception):
    """The operator left a sub-menu without choosing."""


@dataclass
class InteractiveSession:
    """One operator session; `run()` returns when the operator quits (or stdin closes)."""

    catalog: ScenarioCatalog
    personalities: dict[str, CallerPersonality]
    run_call: Callable[[ScenarioEntry], Optional[CallResult]]
    out: TextIO
    read: Callable[[str], str] = input
    header: str = ""
    results: list = field(default_factory=list)

    def run(self) -> None:
        self._say(f"Caller Agent interactive mode{': ' + self.header if self.header else ''}")
        while True:
            self._say("\nWhat next?")
            for key, text in MAIN_MENU:
                self._say(f"  {key}  {text}")
            try:
                choice = self._ask().lower()
            except EOFError:
                break
            if choice in QUIT:
                break
            try:
                if choice == "1":
                    self._place(self._pick_predefined())
                elif choice == "2":
                    self._place(self._build_custom())
                elif choice == "3":
                    self._say(describe_catalog(self.catalog, self.personalities))
                elif choice:
                    self._say(f"'{choice}' is not on the menu; type 1, 2, 3 or q")
            except _Back:
                continue
        self._say(self._tally())

    # ---- choosing --------------------------------------------------------------------------------------

    def _pick_predefined(self) -> ScenarioEntry:
        names = list(self.catalog.predefined)
        self._say("\nPredefined scenarios:")
        name = self._choose(names, [describe_entry(self.catalog.predefined[n]) for n in names])
        return self.catalog.predefined_entry(name)

    def _build_custom(self) -> ScenarioEntry:
        names = list(self.personalities)
        self._say("\nPersonality:")
        personality = self._choose(names, [describe_personality(self.personalities[n]) for n in names])
        kinds = list(self.catalog.scenario_types)
        self._say("\nScenario type:")
        kind = self._choose([k.value for k in kinds], [self.catalog.scenario_types[k].goal.primary_goal
                                                       for k in kinds])
        default_goal = next(s.goal.primary_goal for k, s in self.catalog.scenario_types.items() if k.value == kind)
        goal = self._ask(f"\nGoal, in words (Enter for: {default_goal})\n{PROMPT}")
        caller_name = self._ask(f"Caller name (Enter for: custom_{personality}_{kind})\n{PROMPT}")
        try:
            return self.catalog.custom_entry(personality, kind, goal or None, name=caller_name or None)
        except ConfigError as error:  # e.g. a goal with nothing goal tracking can listen for
            self._say(f"error: {error}")
            raise _Back() from None

    def _choose(self, names: Sequence[str], descriptions: Sequence[str]) -> str:
        """A name from a numbered list; the operator may type its number or the name itself."""
        width = max(len(name) for name in names)
        for number, (name, text) in enumerate(zip(names, descriptions), start=1):
            self._say(f"  {number:2d}  {name:<{width}}  {text}")
        while True:
            try:
                answer = self._ask(f"{BACK_HINT}\n{PROMPT}")
            except EOFError:
                raise _Back() from None
            if not answer:
                raise _Back()
            if answer.isdigit() and 1 <= int(answer) <= len(names):
                return names[int(answer) - 1]
            matches = [name for name in names if name.lower() == answer.lower()]
            if matches:
                return matches[0]
            self._say(f"'{answer}' is neither a number from 1 to {len(names)} nor a name on the list")

    # ---- running ---------------------------------------------------------------------------------------

    def _place(self, entry: ScenarioEntry) -> None:
        result = self.run_call(entry)
        if result is None:
            self._say("(the call did not start)")
            return
        self.results.append(result)
        if result.recording:
            self._say(f"    recording: {result.recording['wav']}, transcript: {result.recording['txt']}")
        self._say(self._tally())

    def _tally(self) -> str:
        done = len(self.results)
        succeeded = sum(result.success for result in self.results)
        return f"Calls this session: {done}, {succeeded} succeeded" if done else "No calls placed."

    def _ask(self, prompt: str = PROMPT) -> str:
        self.out.flush()
        return self.read(prompt).strip()

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)
