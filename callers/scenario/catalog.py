"""What a user can run, as text: personalities, scenario types, predefined scenarios, test configurations.

`caller_cli.py --list` prints this so nobody has to open scenarios.json or the personality files to find an
id; the interactive menu shows the same names. Everything is read from the loaded files, never hard-coded,
so a dropped-in personality or a new configuration shows up here at once.
"""
from __future__ import annotations

from typing import Optional

from callers.scenario.personality import CallerPersonality
from callers.scenario.scenarios import ScenarioCatalog, ScenarioEntry

INDENT = "  "


def describe_catalog(catalog: ScenarioCatalog, personalities: dict[str, CallerPersonality]) -> str:
    """The whole catalog in four sections, each line `id  short facts: description`."""
    sections = [
        _section(f"Personalities ({len(personalities)}; custom calls: --personality NAME)",
                 [(name, describe_personality(p)) for name, p in personalities.items()]),
        _section(f"Scenario types ({len(catalog.scenario_types)}; custom calls: --scenario-type TYPE)",
                 [(kind.value, f"default goal: {scenario.goal.primary_goal}")
                  for kind, scenario in catalog.scenario_types.items()]),
        _section(f"Predefined scenarios ({len(catalog.predefined)}; --scenario ID)",
                 [(name, describe_entry(entry)) for name, entry in catalog.predefined.items()]),
        _section(f"Test configurations ({len(catalog.test_configurations)}; batch_caller_test.py --config NAME)",
                 [(name, _configuration_line(configuration.entries, configuration.parallel,
                                             configuration.max_concurrent, configuration.description))
                  for name, configuration in catalog.test_configurations.items()]),
    ]
    return f"Catalog: {catalog.path}\n\n" + "\n\n".join(sections) + "\n"


def describe_personality(personality: CallerPersonality) -> str:
    return (f"patience {personality.patience_level}/10, interrupts {personality.tendency_to_interrupt:.0%}, "
            f"{personality.speaking_rate_wpm} wpm: {personality.communication_style}")


def describe_entry(entry: ScenarioEntry) -> str:
    facts = f"{entry.personality} caller, {entry.scenario.scenario_type.value}, {entry.timeout:g} s"
    return f"{facts}: {entry.description}" if entry.description else facts


def _configuration_line(entries: list[ScenarioEntry], parallel: bool, max_concurrent: Optional[int],
                        description: str) -> str:
    how = "one after another"
    if parallel:
        how = f"parallel, at most {max_concurrent} at once" if max_concurrent else "parallel"
    calls = "; ".join(f"{entry.name} ({entry.personality}, {entry.scenario.scenario_type.value})"
                      for entry in entries)
    head = f"{len(entries)} calls, {how}"
    return f"{head}: {description}\n{INDENT * 3}{calls}" if description else f"{head}\n{INDENT * 3}{calls}"


def _section(title: str, rows: list[tuple[str, str]]) -> str:
    width = max((len(name) for name, _ in rows), default=0)
    lines = [f"{INDENT}{name:<{width}}  {text}" for name, text in rows] or [f"{INDENT}(none)"]
    return "\n".join([title + ":", *lines])
