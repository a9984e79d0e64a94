"""One Locust User class per personality file, so Locust's own weighting, class picker and --config-users
shape the caller mix instead of code of ours.

Kept out of locustfile.py so the classes can be built from any personality set in a test, without loading
the locustfile's event listeners into the test process.
"""
from __future__ import annotations

import re
from typing import Mapping

from callers.scenario.personality import CallerPersonality

CLASS_SUFFIX = "Caller"


def class_name(personality: str) -> str:
    """"tech_savvy" -> "TechSavvyCaller": the name users type on the command line and see in the picker."""
    return "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", personality) if part) + CLASS_SUFFIX


def caller_classes(personalities: Mapping[str, CallerPersonality], base: type, module: str) -> dict[str, type]:
    """A subclass of `base` per personality, by class name.

    The file's `weight` is the class weight as is (Locust takes fractions). `fixed_count` is left to
    Locust's default, so `--config-users '{"user_class_name": "AngryCaller", "fixed_count": 2}'` pins a
    personality without touching its file.
    """
    classes: dict[str, type] = {}
    for name, personality in personalities.items():
        cls_name = class_name(name)
        if cls_name in classes:
            raise ValueError(f"personalities '{classes[cls_name].personality}' and '{name}' both make the "
                             f"Locust class {cls_name}; rename one of the files")
        classes[cls_name] = type(cls_name, (base,), {
            "personality": name,
            "weight": personality.weight,
            "__module__": module,
            "__doc__": f"A caller with the '{name}' personality ({personality.communication_style}).",
        })
    return classes
