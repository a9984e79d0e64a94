"""Bad input never crashes: generated and mutated scenarios.json and personality files are either loaded or
refused with a ConfigError naming the file, the entry and the field to fix; through caller_cli.py such a
file is exit 2 with one line on stderr and no traceback, and so is an unreachable bridge (exit 3).

The mutations start from the shipped files, so they reach every validation path a user's edit can reach,
and an error can be expected exactly where the file was changed.
"""
from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callers.errors import ConfigError
from callers.scenario.personality import DEFAULT_PERSONALITY_DIR, load_personality
from callers.scenario.scenarios import DEFAULT_SCENARIOS_FILE, load_scenarios
from tests.loopback import free_port
from tests.reference_bridge import REPO_ROOT, launch_bridge

pytestmark = pytest.mark.timeout(300)

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SHIPPED_SCENARIOS = json.loads(DEFAULT_SCENARIOS_FILE.read_text(encoding="utf-8"))
SHIPPED_SCENARIOS_TEXT = DEFAULT_SCENARIOS_FILE.read_text(encoding="utf-8")
BASE_PERSONALITY = DEFAULT_PERSONALITY_DIR / "normal.toml"
BASE_PERSONALITY_TEXT = BASE_PERSONALITY.read_text(encoding="utf-8")
CLI_TIMEOUT_S = 60

JsonPath = tuple[Union[str, int], ...]

# ---- generated values -------------------------------------------------------------------------------------

# Any character a user's editor can save, except lone surrogates (not encodable) and NUL (no file format
# here carries it); control characters are included, escaped where the format requires it.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
# Standard JSON: no NaN / Infinity (those are test_non_finite_timeouts_are_refused).
JSON_SCALARS = (st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1)
                | st.floats(allow_nan=False, allow_infinity=False) | TEXT)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
TOML_SCALARS = (st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.floats() | TEXT)
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)


def all_paths(node: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    paths = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths += all_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += all_paths(value, prefix + (index,))
    return paths


SCENARIO_PATHS = all_paths(SHIPPED_SCENARIOS)


def parent_of(document: Any, path: JsonPath) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node


def entry_name(path: JsonPath) -> str:
    """How the loader names the entry a path lies in: `scenarios[3]`, `predefined.angry_complaint`, ..."""
    return f"{path[0]}[{path[1]}]" if isinstance(path[1], int) else f"{path[0]}.{path[1]}"


@st.composite
def scenario_mutations(draw) -> tuple[dict, Optional[JsonPath]]:
    """One edit of the shipped catalog, and the path whose entry any resulting error must name (None when
    the edit can legitimately surface elsewhere, e.g. a whole entry deleted that others refer to)."""
    document = copy.deepcopy(SHIPPED_SCENARIOS)
    path = draw(st.sampled_from(SCENARIO_PATHS))
    parent = parent_of(document, path)
    target = parent[path[-1]]
    operation = draw(st.sampled_from(["replace", "delete", "add"] if isinstance(target, dict)
                                     else ["replace", "delete"]))
    if operation == "replace":
        parent[path[-1]] = draw(JSON_VALUES)
    elif operation == "delete":
        del parent[path[-1]]
    else:
        key = draw(TEXT.filter(lambda text: text not in target))
        target[key] = draw(JSON_VALUES)
        path = path + (key,)
    localized = len(path) >= 2 and not (operation == "delete" and len(path) == 2)
    return document, path if localized else None


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def toml_value(value: Any) -> str:
    """Inline TOML for the values generated here (no TOML writer in the dependencies)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"


def toml_document(data: dict) -> str:
    return "".join(f"{toml_string(key)} = {toml_value(value)}\n" for key, value in data.items())


BASE_FIELDS = tomllib.loads(BASE_PERSONALITY_TEXT)


@st.composite
def personality_mutations(draw) -> tuple[dict, str]:
    """One field of normal.toml replaced, deleted or added; returns the data and the field touched."""
    data = dict(BASE_FIELDS)
    operation = draw(st.sampled_from(["replace", "delete", "add"]))
    if operation == "add":
        key = draw(TEXT.filter(lambda text: text not in data))
    else:
        key = draw(st.sampled_from(sorted(data)))
    if operation == "delete":
        del data[key]
    else:
        data[key] = draw(TOML_VALUES)
    return data, key


@st.composite
def text_edits(draw, text: str) -> str:
    """A typo-like edit: a span deleted, or characters inserted or overwritten, somewhere in the text."""
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 20)))
    inserted = draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
                    | st.sampled_from(['"', "}", "]", "[", ",", "=", "\n", "'''", '"""', "{", ":"]))
    return text[:start] + inserted + text[end:]


# ---- scenarios.json ---------------------------------------------------------------------------------------

def assert_names_the_place(error: ConfigError, path: Path, expected: Optional[JsonPath]) -> None:
    assert error.path == str(path) and str(error).startswith(str(path))
    if expected is None:
        return
    assert error.entry == entry_name(expected), (str(error), expected)
    if len(expected) >= 3:
        assert error.field is not None and error.field.startswith(str(expected[2])), (str(error), expected)


@FUZZ
@given(mutation=scenario_mutations())
def test_mutated_scenarios_load_or_name_the_entry_and_field(tmp_path, mutation) -> None:
    document, expected = mutation
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        load_scenarios(path)
    except ConfigError as error:
        assert_names_the_place(error, path, expected)


@FUZZ
@given(document=JSON_VALUES)
def test_any_json_document_loads_or_is_refused(tmp_path, document) -> None:
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        load_scenarios(path)
    except ConfigError as error:
        assert_names_the_place(error, path, None)


@FUZZ
@given(text=text_edits(SHIPPED_SCENARIOS_TEXT), junk=st.binary(max_size=4))
def test_edited_scenarios_text_loads_or_is_refused(tmp_path, text, junk) -> None:
    path = tmp_path / "scenarios.json"
    encoded = text.encode("utf-8")
    path.write_bytes(encoded[:len(encoded) // 2] + junk + encoded[len(encoded) // 2:])
    try:
        load_scenarios(path)
    except ConfigError as error:
        assert_names_the_place(error, path, None)


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_non_finite_timeouts_are_refused(tmp_path, literal) -> None:
    path = tmp_path / "scenarios.json"
    path.write_text('{"scenarios": [{"name": "x", "type": "custom", "personality": "normal", '
                    f'"scenario_type": "complaint", "timeout": {literal}}}]}}')
    with pytest.raises(ConfigError) as refused:
        load_scenarios(path)
    assert refused.value.entry == "scenarios[0]" and refused.value.field == "timeout"


# ---- personality files ------------------------------------------------------------------------------------

@FUZZ
@given(mutation=personality_mutations())
def test_mutated_personality_loads_or_names_the_field(tmp_path, mutation) -> None:
    data, key = mutation
    path = tmp_path / "fuzzed.toml"
    path.write_text(toml_document(data), encoding="utf-8")
    try:
        personality = load_personality(path)
    except ConfigError as error:
        assert error.path == str(path) and error.field == key, str(error)
    else:
        assert personality.name == "fuzzed"


@FUZZ
@given(text=text_edits(BASE_PERSONALITY_TEXT))
def test_edited_personality_text_loads_or_is_refused(tmp_path, text) -> None:
    path = tmp_path / "edited.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_personality(path)
    except ConfigError as error:
        assert error.path == str(path) and str(error).startswith(str(path))


def test_personality_file_that_is_not_utf8_is_refused(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE_PERSONALITY_TEXT.replace("Friendly", "Fr\u00e9ndly").encode("latin-1"))
    with pytest.raises(ConfigError) as refused:
        load_personality(path)
    assert refused.value.path == str(path)


# ---- through the CLI --------------------------------------------------------------------------------------

def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "caller_cli.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def broken_catalogs() -> list[tuple[str, Union[str, bytes], tuple[str, ...]]]:
    """(name, file content, what the one line must name): a mix of what the fuzzers above generate."""
    deep = copy.deepcopy(SHIPPED_SCENARIOS)
    deep["scenario_types"]["card_replacement"]["context"]["card_type"] = ["debit"]
    unknown = copy.deepcopy(SHIPPED_SCENARIOS)
    unknown["predefined"]["angry_complaint"]["personality"] = "furious"
    index = copy.deepcopy(SHIPPED_SCENARIOS)
    index["test_configurations"]["quick_test"]["scenarios"][1] = 99
    return [
        ("truncated", SHIPPED_SCENARIOS_TEXT[:len(SHIPPED_SCENARIOS_TEXT) // 3], ("invalid JSON", "line")),
        ("deep-type", json.dumps(deep), ("scenario_types.card_replacement", "context.card_type")),
        ("unknown-name", json.dumps(unknown), ("predefined.angry_complaint", "personality", "furious")),
        ("bad-index", json.dumps(index), ("test_configurations.quick_test", "scenarios[1]", "99")),
        ("not-utf8", b'{"scenarios": [\xff\xfe]}', ("cannot read",)),
    ]


@pytest.mark.parametrize("name, content, named", broken_catalogs(), ids=[case[0] for case in broken_catalogs()])
def test_cli_refuses_a_broken_catalog_in_one_line(tmp_path, name, content, named) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    run = run_cli(tmp_path, "--batch", str(path))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), run.stderr
    for part in named:
        assert part in lines[0], (part, lines[0])


def test_cli_error_stays_one_line_for_a_field_name_with_a_newline(tmp_path) -> None:
    path = tmp_path / "newline.json"
    path.write_text(json.dumps({"scenarios": [{"name": "x", "type": "custom", "personality": "normal",
                                               "scenario_type": "complaint", "bad\nfield": 1}]}))
    run = run_cli(tmp_path, "--batch", str(path))
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr



@pytest.fixture(scope="module")
def bridge():
    process = launch_bridge(ear="none")
    yield process
    process.stop()


@pytest.mark.parametrize("case", ["refused", "dns", "wrong-path"])
def test_cli_names_an_unreachable_bridge_in_one_line(tmp_path, bridge, case) -> None:
    url, reason = {
        "refused": (f"ws://127.0.0.1:{free_port()}/ws/telephony", "connection refused"),
        "dns": ("ws://nonexistent.invalid/ws/telephony", "cannot resolve host"),
        "wrong-path": (bridge.url.replace("/ws/telephony", "/no/such/path"), "HTTP 404"),
    }[case]
    run = run_cli(tmp_path, "--scenario", "normal_account_inquiry", "--bridge-url", url, "--ear", "alttext",
                  "--output", str(tmp_path / "out"))
    assert run.returncode == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr and run.stderr == ""
    failures = [line for line in run.stdout.splitlines() if "FAILED" in line]
    assert len(failures) == 1 and url in failures[0] and reason in failures[0], run.stdout
    [line] = (tmp_path / "out" / "calls.jsonl").read_text().splitlines()
    expected = "handshake_rejected" if case == "wrong-path" else "connect_failed"
    assert json.loads(line)["error"]["category"] == expected
