"""Who calls and what for: personalities, scenarios and their actions, goals and how heard words meet them,
the catalog of what can be run, and reading the user's TOML.

Data and its interpretation: imports media (voices, lines) and the root, never transport or runtime.
"""
