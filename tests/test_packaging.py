"""`pip install .`: the wheel carries the commands, the packages with their data, and the files users edit."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = "caller_agent-0.1.0.data/data/share/caller-agent/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds inside the source tree (build/, *.egg-info): build a copy, never the checkout itself.
    source = out / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "results", "logs", "build",
                                                                  "*.egg-info", "__pycache__"))
    # No build isolation: the pinned setuptools of requirements-dev.txt builds it, with no download.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(source)], check=True, timeout=300, cwd=out)
    (path,) = out.glob("caller_agent-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_commands_point_at_the_entry_modules(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [name for name in wheel.namelist() if name.endswith(".dist-info/entry_points.txt")]
    scripts = dict(line.split(" = ") for line in wheel.read(entry_points).decode().splitlines() if " = " in line)
    assert scripts == {"caller-agent": "caller_cli:run", "caller-batch": "batch_caller_test:run",
                       "caller-bridge": "bridge.__main__:main", "caller-reports": "reports.__main__:main"}
    names = set(wheel.namelist())
    assert {"caller_cli.py", "batch_caller_test.py", "bridge/__main__.py", "reports/__main__.py"} <= names


def test_packages_carry_their_data_and_nothing_else_ships(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {"callers/scenario/goal_vocabulary.toml", "callers/services/openai_prices.toml",
            "callers/brains/scripted_lines.toml", "bridge/translations/es.toml"} <= names
    assert {"callers/scenario/learned_judge.npz", "callers/scenario/learned_judge_gate.npz"} <= names
    assert DATA + "scenarios.json" in names
    assert {DATA + "personalities/" + p.name for p in (REPO / "personalities").glob("*.toml")} <= names
    assert not [name for name in names if name.startswith(("tests/", "bench/", "loadtest/", "locustfile"))]
