"""The README and docs/ pages stay true to the repository: links resolve, named files exist, and the README
keeps the newcomer's first screen (what to run) short, with the detail one link away."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
PAGES = (README, *sorted((REPO_ROOT / "docs").glob("*.md")))

# What a newcomer must see before scrolling, and how long the README may grow before detail belongs in docs/.
FIRST_SCREEN_LINES = 40
FIRST_SCREEN_MUST_SAY = ("make demo", "make test", "python -m bridge", "locust", "http://127.0.0.1:8089", "START",
                         "--headless")
README_MAX_LINES = 200

# Top-level directories whose files the pages name in backticks; generated ones (results/, logs/) are not here.
SOURCE_DIRS = ("callers", "bridge", "bench", "loadtest", "reports", "deploy", "tests", "personalities", "docs", ".ci")
# Files outside docs/ that may name a docs page (code comments, docstrings, configuration).
CODE_SUFFIXES = (".py", ".toml", ".yaml", ".yml", ".conf", ".ini", ".txt")
CODE_NAMES = ("Makefile", "run")
SKIPPED_DIRS = {".git", ".venv", "__pycache__", "results", "logs", ".pytest_cache", ".hypothesis"}

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN_PATH = re.compile(r"`([A-Za-z0-9_.-]+/[A-Za-z0-9_./*-]+)`")
DOCS_NAMED = re.compile(r"\bdocs/[A-Za-z0-9_.-]+\.md\b")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The page without its fenced code blocks: a link or path inside an example is not a claim."""
    return FENCE.sub("", text)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (not - or _), spaces to hyphens."""
    plain = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", plain).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(_prose(page.read_text(encoding="utf-8"))):
        base = _anchor(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def _where(page: Path) -> str:
    return str(page.relative_to(REPO_ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_where)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # http(s):, mailto:: outside the repository
        path_part, _, fragment = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(REPO_ROOT)}")
        elif fragment and destination.suffix == ".md" and fragment not in _anchors(destination):
            broken.append(f"{target}: no heading #{fragment} in {_where(destination)}")
    assert not broken, f"{_where(page)} links to what does not exist: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=_where)
def test_every_source_path_named_exists(page: Path) -> None:
    missing = []
    for named in CODE_SPAN_PATH.findall(_prose(page.read_text(encoding="utf-8"))):
        if named.split("/", 1)[0] not in SOURCE_DIRS or "*" in named or "..." in named:
            continue
        if not (REPO_ROOT / named).exists():
            missing.append(named)
    assert not missing, f"{_where(page)} names files that do not exist: {missing}"


def _code_files() -> list[Path]:
    files = []
    for path in REPO_ROOT.rglob("*"):
        if SKIPPED_DIRS.intersection(path.relative_to(REPO_ROOT).parts) or not path.is_file():
            continue
        if path.suffix in CODE_SUFFIXES or path.name in CODE_NAMES:
            files.append(path)
    return files


def test_every_docs_page_named_in_code_exists() -> None:
    missing = set()
    for path in _code_files():
        for named in DOCS_NAMED.findall(path.read_text(encoding="utf-8", errors="replace")):
            if not (REPO_ROOT / named).exists():
                missing.add(f"{_where(path)}: {named}")
    assert not missing, f"code names docs pages that do not exist: {sorted(missing)}"


def test_readme_first_screen_says_how_to_start() -> None:
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES])
    absent = [phrase for phrase in FIRST_SCREEN_MUST_SAY if phrase not in first_screen]
    assert not absent, f"README.md's first {FIRST_SCREEN_LINES} lines do not say {absent}"


def test_readme_stays_short_and_links_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < README_MAX_LINES, "README.md: move detail to a docs/ page"
    unlinked = [page.name for page in PAGES[1:] if f"(docs/{page.name})" not in text]
    assert not unlinked, f"README.md does not link docs pages {unlinked}"
