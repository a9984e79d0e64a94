"""The layering of callers/ and the design rules around it (docs/architecture.md), checked on the imports.

Every import statement of the product's source is read with `ast`, including those inside functions and
under `if TYPE_CHECKING:`, since a deferred import is still a dependency. A failure names each offending
import by file and line, and the rule it breaks.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Optional

import pytest

REPO = Path(__file__).resolve().parents[1]

# callers' layers, lowest first. A layer may import the layers below it, never one above; packages that
# share a layer are siblings, and neither imports the other. errors, results and outcome are the vocabulary
# every layer (and reports/, loadtest/) shares, so they sit at the package root, below everything.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("callers.errors",),
    ("callers.results", "callers.outcome"),
    ("callers.media",),
    ("callers.wire", "callers.runtime"),
    ("callers.transport", "callers.scenario"),
    ("callers.services",),
    ("callers.brains",),
    ("callers.call",),
    ("callers.app",),
)
ROOT_VOCABULARY = LAYERS[0] + LAYERS[1]
FACES = ("locustfile", "caller_cli", "batch_caller_test", "demo")
PRODUCT_DIRS = ("callers", "bridge", "loadtest", "reports", "bench")


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository
    line: int
    importer: str  # the importing module's dotted name
    target: str  # the imported module, as precisely as the source tree tells
    top_level: bool  # run at import time, not inside a function or class

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.importer}) imports {self.target}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = REPO.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    importer = _module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    relative = str(path.relative_to(REPO))
    nested = {id(node) for scope in ast.walk(tree)
              if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
              for node in ast.walk(scope) if node is not scope}
    found = []
    for node in ast.walk(tree):
        top_level = id(node) not in nested
        if isinstance(node, ast.Import):
            found += [Import(relative, node.lineno, importer, alias.name, top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if _is_module(submodule) else base
                found.append(Import(relative, node.lineno, importer, target, top_level))
    return found


@cache
def all_imports() -> tuple[Import, ...]:
    files = [path for folder in PRODUCT_DIRS for path in sorted((REPO / folder).rglob("*.py"))]
    files += [REPO / f"{face}.py" for face in FACES]
    return tuple(found for path in files for found in _imports_of(path))


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports_from(package: str) -> list[Import]:
    return [found for found in all_imports() if _within(found.importer, package)]


def _layer_of(module: str) -> Optional[tuple[int, str]]:
    for level, siblings in enumerate(LAYERS):
        for package in siblings:
            if _within(module, package):
                return level, package
    return None


def _fail_if(offences: list, rule: str) -> None:
    if offences:
        pytest.fail(f"{rule}:\n" + "\n".join(f"  {offence}" for offence in offences), pytrace=False)


def test_every_callers_module_has_a_layer() -> None:
    """A new module must be placed in a layer, so the rules below cover it."""
    unplaced = sorted(name for path in (REPO / "callers").rglob("*.py")
                      if (name := _module_name(path)) != "callers" and _layer_of(name) is None)
    _fail_if(unplaced, "modules of callers/ in no layer (add them to a subpackage, or to LAYERS)")


def test_callers_layers_import_downwards_only() -> None:
    offences = []
    for found in _imports_from("callers"):
        source = _layer_of(found.importer)
        if source is None or not _within(found.target, "callers"):
            continue
        if found.target == "callers":
            offences.append(f"{found}: the public API re-exports every layer; import the module itself")
            continue
        target = _layer_of(found.target)
        if target is None or target[1] == source[1]:
            continue
        if target[0] > source[0]:
            offences.append(f"{found}: {source[1]} may not import {target[1]}, a layer above it")
        elif target[0] == source[0]:
            offences.append(f"{found}: {source[1]} and {target[1]} are siblings; neither imports the other")
    _fail_if(offences, "imports against the layering of callers/ (tests/test_architecture.py LAYERS)")


def test_protocol_and_codecs_stand_alone() -> None:
    """Both sides of the wire and the fuzz tests share these two modules, so they import nothing of the project."""
    offences = [found for found in all_imports()
                if found.importer in ("callers.wire.protocol", "callers.media.audio")
                and any(_within(found.target, package) for package in ("callers", *PRODUCT_DIRS, *FACES))]
    _fail_if(offences, "callers.wire.protocol or callers.media.audio imports the project")


def test_callers_never_imports_its_drivers() -> None:
    """The caller library runs without Locust, and its faces depend on it, not the other way round."""
    drivers = ("locust", "loadtest", "reports", "bridge", "bench", *FACES)
    offences = [found for found in _imports_from("callers") if any(_within(found.target, d) for d in drivers)]
    _fail_if(offences, "callers/ imports locust, a face or a package that drives it")


def test_bridge_shares_only_the_wire_and_media_and_stays_off_gevent() -> None:
    """The bridge is an asyncio process: it shares the wire format and the sound code, nothing gevent."""
    offences = [found for found in _imports_from("bridge")
                if (_within(found.target, "callers")
                    and not any(_within(found.target, p) for p in ("callers.wire", "callers.media")))
                or _within(found.target, "gevent")]
    _fail_if(offences, "bridge/ imports callers beyond wire and media, or gevent")


def test_reports_read_results_only() -> None:
    """Reports depend on files, not on code that ran: from callers only the errors and results vocabulary."""
    forbidden = ("gevent", "websocket", "locust", "bridge", "loadtest")
    offences = [found for found in _imports_from("reports")
                if (_within(found.target, "callers") and found.target not in ROOT_VOCABULARY)
                or any(_within(found.target, package) for package in forbidden)]
    _fail_if(offences, "reports/ imports more of callers than errors and results, or a run-time package")


def test_loadtest_keeps_locust_at_its_edge() -> None:
    """loadtest/ is the Locust face's own package (the locustfile is only its wiring), so like the other faces
    it runs calls through callers.app (CallSettings, make_caller, the option rules shared with the CLI); below
    that, only the root vocabulary and scenarios. The decisions (goals, capacity) and the calls' way to the
    master (outbox, collect) stay pure Python: no callers.app, no locust, no gevent."""
    allowed = (*ROOT_VOCABULARY, "callers.scenario", "callers.app")
    offences = [found for found in _imports_from("loadtest")
                if _within(found.target, "callers") and not any(_within(found.target, a) for a in allowed)]
    offences += [found for found in _imports_from("loadtest")
                 if found.importer in ("loadtest.goals", "loadtest.capacity", "loadtest.outbox", "loadtest.collect")
                 and any(_within(found.target, package) for package in ("locust", "gevent", "callers.app"))]
    _fail_if(offences, "loadtest/ imports callers beyond errors, results, outcome, scenario and app, or its "
                       "pure modules import locust, gevent or callers.app")


def test_faces_are_imported_by_nothing() -> None:
    offences = [found for found in all_imports() if found.target in FACES]
    _fail_if(offences, "the product imports a face (locustfile, caller_cli, batch_caller_test, demo)")


def test_only_the_transport_touches_the_socket() -> None:
    """websocket-client is the transport's alone; the bench's naive baseline is its own socket on purpose."""
    offences = [found for found in all_imports()
                if _within(found.target, "websocket") and not _within(found.importer, "callers.transport")
                and found.importer != "bench.naive_caller"]
    _fail_if(offences, "websocket-client imported outside callers.transport")


def test_paid_and_heavy_libraries_load_only_when_used() -> None:
    owners = {"openai": "callers.services.realtime_session", "faster_whisper": "callers.media.speech",
              "espeakng_loader": "callers.media.speech", "piper": "callers.media.piper_voice",
              "onnxruntime": "callers.media.piper_voice"}
    offences = []
    for found in _imports_from("callers"):
        for library, owner in owners.items():
            if _within(found.target, library) and (found.importer != owner or found.top_level):
                offences.append(f"{found}: only {owner} imports {library}, inside the function that needs it")
        if any(_within(found.target, library) for library in ("pandas", "matplotlib")):
            offences.append(f"{found}: pandas and matplotlib belong to reports/")
    _fail_if(offences, "a paid or heavy library imported where it is not needed")
