"""deploy/Dockerfile, docker-compose.yml, deploy/k8s and locust.conf: one image for every role, checked by
structure (no container engine is needed, none is used).

The image is parsed instruction by instruction; every command compose and the manifests run is taken
whole (the image has no ENTRYPOINT, so a command names its program) and parsed by the program's real
argument parser: Locust's with the locustfile's options (in a subprocess, reading locust.conf as `locust`
would), the bridge's `build_parser()`. So a flag that a container would reject, an install at start, or
a service that does not run the built image fails here.
"""
from __future__ import annotations

import configparser
import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bridge.__main__ import build_parser as bridge_parser

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
K8S = REPO / "deploy" / "k8s"
BRIDGE = ["python", "-m", "bridge"]
PIP = re.compile(r"\bpip3?\b|-m\s+pip\b")
# What the image needs from the build context to run every role.
RUNTIME_PATHS = ("requirements.txt", "locust.conf", "locustfile.py", "scenarios.json", "caller_cli.py",
                 "batch_caller_test.py", "callers/media/speech.py", "bridge/__main__.py", "loadtest/run.py",
                 "reports/__main__.py", "personalities/angry.toml")
LEFT_OUT = (".git", ".venv", "results", "logs", "tests", "callers/__pycache__")

# Parses each command line given as JSON on stdin with Locust's parser and the locustfile's options, as
# `locust` in the repository would; prints the options that matter here, or argparse's complaint.
PROBE = """
import contextlib, io, json, sys
import locustfile
from locust.argument_parser import get_parser
out = []
for argv in json.load(sys.stdin):
    complaint = io.StringIO()
    try:
        with contextlib.redirect_stderr(complaint):
            options = get_parser().parse_args(argv[1:])
    except SystemExit:
        out.append({"error": complaint.getvalue().strip().splitlines()[-3:]})
        continue
    out.append({key: getattr(options, key) for key in ("master", "worker", "host", "master_host", "master_port",
                                                       "headless", "ear", "web_port", "master_bind_port")})
print(json.dumps(out))
"""


def parse_locust(commands: list[list[str]]) -> list[dict]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=clean, input=json.dumps(commands),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


@pytest.fixture(scope="module")
def image() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def one(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [arguments for name, arguments in instructions if name == keyword]
    assert len(found) == 1, (keyword, found)
    return found[0]


@pytest.fixture(scope="module")
def workdir(image) -> str:
    return one(image, "WORKDIR")


@pytest.fixture(scope="module")
def yaml():
    return pytest.importorskip("yaml", reason="PyYAML is not installed: cannot parse compose and the manifests")


@pytest.fixture(scope="module")
def compose(yaml) -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def commands(compose, deployments) -> dict:
    """Every whole command line, by where it runs."""
    found = {f"compose {name}": service["command"] for name, service in compose["services"].items()}
    found.update({f"k8s {name}": pod["containers"][0]["command"] for name, pod in deployments["pods"].items()})
    return found


@pytest.fixture(scope="module")
def locust_options(commands) -> dict:
    """Locust's parse of every `locust` command line, and of the compose worker's with a misspelt flag."""
    lines = {where: command for where, command in commands.items() if command[0] == "locust"}
    lines["misspelt"] = commands["compose worker"] + ["--master-hots", "x"]
    return dict(zip(lines, parse_locust(list(lines.values()))))


@pytest.fixture(scope="module")
def deployments(yaml) -> dict:
    """The one container of every Deployment of the kustomization, by Deployment name, and the image name
    the kustomization sets."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    found = {}
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            if document["kind"] == "Deployment":
                found[document["metadata"]["name"]] = document["spec"]["template"]["spec"]
    return {"image": kustomization["images"][0]["name"], "pods": found}


def installs(value) -> bool:
    """Whether any string in a parsed YAML value runs pip."""
    return any(PIP.search(text) for text in strings_in(value))


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return [str(value)]


# ---- the image -------------------------------------------------------------------------------------------

def test_the_image_is_python_slim_of_the_projects_python(image):
    base = one(image, "FROM")  # one stage
    match = re.fullmatch(r"python:(\d+)\.(\d+)-slim", base)
    assert match, base
    required = re.search(r'requires-python\s*=\s*">=(\d+)\.(\d+)"', (REPO / "pyproject.toml").read_text())
    assert (int(match[1]), int(match[2])) >= (int(required[1]), int(required[2]))


def test_pinned_requirements_are_installed_at_build_time_before_the_code(image):
    pins = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    pins = [pin for pin in pins if pin]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", pin) for pin in pins), pins
    keywords = [name for name, _ in image]
    copies = [(index, arguments.split()) for index, (name, arguments) in enumerate(image) if name == "COPY"]
    requirements_copy = next(index for index, parts in copies if parts[0] == "requirements.txt")
    code_copy = next(index for index, parts in copies if parts[0] == ".")
    pip_runs = [index for index, (name, arguments) in enumerate(image) if name == "RUN" and PIP.search(arguments)]
    assert len(pip_runs) == 1 and requirements_copy < pip_runs[0] < code_copy, image  # code changes keep the layer
    assert "--requirement" in image[pip_runs[0]][1] and "requirements.txt" in image[pip_runs[0]][1]
    # Their dependencies at the versions CI resolved, not whatever the index holds on the day of the build.
    assert "constraints.txt" in image[requirements_copy][1].split()
    assert "--constraint /tmp/constraints.txt" in image[pip_runs[0]][1]
    assert keywords.index("WORKDIR") < code_copy  # the repository lands in the working directory


def test_the_espeak_library_comes_in_its_wheel_so_the_image_needs_no_system_package():
    espeakng_loader = pytest.importorskip("espeakng_loader")
    package = Path(espeakng_loader.__file__).resolve().parent
    assert Path(espeakng_loader.get_library_path()).resolve().is_relative_to(package)
    assert Path(espeakng_loader.get_data_path()).resolve().is_relative_to(package)
    speech = (REPO / "callers" / "media" / "speech.py").read_text(encoding="utf-8")
    assert "espeakng_loader.get_library_path()" in speech  # what callers/media/speech.py loads
    assert "espeakng-loader==" in (REPO / "requirements.txt").read_text()


def test_it_runs_as_a_numeric_non_root_user_who_owns_only_its_output(image, workdir):
    user = [arguments for name, arguments in image if name == "USER"][-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, user  # numeric, so Kubernetes can check runAsNonRoot
    chown = next(arguments for name, arguments in image if name == "RUN" and "chown" in arguments)
    assert "results" in chown and "logs" in chown
    assert not any(name == "COPY" and "--chown" in arguments for name, arguments in image)  # the code stays root's


def test_commands_name_their_program_and_the_default_is_locust(image):
    assert "ENTRYPOINT" not in [name for name, _ in image]  # compose and the manifests give whole command lines
    assert json.loads(one(image, "CMD")) == ["locust"]  # exec form: Locust gets the signals
    exposed = {int(port) for port in one(image, "EXPOSE").split()}
    assert {8089, 5557, 8000} <= exposed


def test_the_build_context_keeps_what_runs_and_leaves_out_the_rest():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def excluded(path: str) -> bool:
        """As Docker reads .dockerignore: a pattern excludes the paths it matches and everything under them
        (fnmatch's `*` also crosses `/`, which can only make a needed path look excluded, never the reverse)."""
        parts = path.split("/")
        prefixes = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
                   for prefix in prefixes for pattern in patterns)

    for path in RUNTIME_PATHS:
        assert (REPO / path).exists(), path
        assert not excluded(path), path
    for path in LEFT_OUT:
        assert excluded(path), path


# ---- docker-compose.yml ----------------------------------------------------------------------------------

def test_every_compose_service_runs_the_built_image_and_installs_nothing(compose, workdir):
    services = compose["services"]
    assert set(services) == {"bridge", "master", "worker"}
    for name, service in services.items():
        assert service["image"] == "caller-agent:latest", name
        assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}, name
        assert "entrypoint" not in service and "working_dir" not in service, name  # the image's own
        assert not installs(service), name
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            assert not source.startswith("."), (name, volume)  # the code comes from the image, not a mount
            assert target == f"{workdir}/results", (name, volume)
    assert "results" in compose["volumes"]
    assert services["master"]["volumes"] == services["worker"]["volumes"]  # one results volume for the run


def test_compose_commands_are_valid_bridge_and_locust_command_lines(compose, locust_options):
    services = compose["services"]
    bridge_command = services["bridge"]["command"]
    assert bridge_command[:3] == BRIDGE
    bridge = bridge_parser().parse_args(bridge_command[3:])
    assert bridge.host == "0.0.0.0" and bridge.ear == "none"
    assert f"{bridge.port}:{bridge.port}" in services["bridge"]["ports"]
    master_command, worker_command = services["master"]["command"], services["worker"]["command"]
    assert master_command[0] == worker_command[0] == "locust"
    master, worker = locust_options["compose master"], locust_options["compose worker"]
    assert master.get("master") is True and not master.get("worker"), master
    assert worker.get("worker") is True and not worker.get("master"), worker
    target = urlsplit(master["host"])
    assert target.hostname == "bridge" and target.port == bridge.port and target.path == bridge.path
    assert worker["master_host"] == "master" and worker["master_port"] == master["master_bind_port"]
    assert f"{master['web_port']}:{master['web_port']}" in services["master"]["ports"]
    # `--scale worker=N` needs no fixed container name or host port on the worker.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert "master" in services["worker"]["depends_on"] and "bridge" in services["master"]["depends_on"]


def test_a_bad_flag_is_caught_by_the_same_parsers(locust_options):
    """The checks above would catch a typo: both parsers reject an unknown flag."""
    assert "--master-hots" in " ".join(locust_options["misspelt"]["error"])
    with pytest.raises(SystemExit):
        bridge_parser().parse_args(["--ear", "nonsense"])


# ---- deploy/k8s ------------------------------------------------------------------------------------------

def test_every_pod_runs_the_image_as_non_root_and_installs_nothing(deployments, workdir):
    assert set(deployments["pods"]) == {"caller-agent-bridge", "caller-agent-master", "caller-agent-worker"}
    for name, pod in deployments["pods"].items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["containers"]
        assert container["image"] == deployments["image"], name
        assert "args" not in container and container["command"][0] in ("locust", "python"), name
        assert not installs(pod), name
        for mount in container.get("volumeMounts", []):
            assert mount["mountPath"] == f"{workdir}/results", (name, mount)


def test_k8s_commands_are_valid_bridge_and_locust_command_lines(deployments, locust_options):
    pods = deployments["pods"]
    command = {name: pod["containers"][0]["command"] for name, pod in pods.items()}
    assert command["caller-agent-bridge"][:3] == BRIDGE
    bridge = bridge_parser().parse_args(command["caller-agent-bridge"][3:])
    assert bridge.host == "0.0.0.0" and bridge.ear == "none"
    ports = {port["containerPort"] for port in pods["caller-agent-bridge"]["containers"][0]["ports"]}
    assert bridge.port in ports
    master, worker = locust_options["k8s caller-agent-master"], locust_options["k8s caller-agent-worker"]
    assert master.get("master") is True and worker.get("worker") is True, (master, worker)
    assert worker["master_host"] == "caller-agent-master"


# ---- locust.conf -----------------------------------------------------------------------------------------

def test_locust_conf_defaults():
    parser = configparser.ConfigParser()
    parser.read_string("[locust]\n" + (REPO / "locust.conf").read_text(encoding="utf-8"))
    conf = parser["locust"]
    assert conf["locustfile"] == "locustfile.py"
    assert conf["host"] == "ws://localhost:8000/ws/telephony"
    assert conf["headless"] == "false"
    assert conf["ear"] == "alttext"
