"""constraints.txt: the full resolved package set that `make setup` installs with, in step with the pins."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: {line!r} is not NAME==VERSION"
        pins[_name(match.group(1))] = match.group(2)
    return pins


def test_every_requirement_pin_is_in_the_constraints_at_the_same_version():
    constraints = _pins(REPO / "constraints.txt")
    for requirements in ("requirements.txt", "requirements-dev.txt", "requirements-judge.txt"):
        for name, version in _pins(REPO / requirements).items():
            assert constraints.get(name) == version, (
                f"{requirements} pins {name}=={version}, constraints.txt has {constraints.get(name)}: regenerate "
                "constraints.txt as its header says")
    assert "pip" not in constraints  # `make setup` upgrades pip itself first


def test_make_setup_installs_with_the_constraints():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-r requirements" in line]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    stamp = next(line for line in makefile.splitlines() if line.startswith("$(STAMP):"))
    assert "constraints.txt" in stamp  # a changed constraints file reinstalls
