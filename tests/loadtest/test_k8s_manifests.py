"""deploy/k8s agrees with itself, with docker-compose.yml, and with the options Locust and the locustfile read.

No cluster needed: the manifests are parsed, and the option names and environment variables are checked
against Locust's real parser with the locustfile's arguments (in a subprocess, reading locust.conf as
`locust` would), so a renamed flag or ConfigMap key fails here rather than in a pod.
"""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
CONFIGMAP = "caller-agent-config"
TOKEN_SECRET = "caller-agent-bridge-token"

# Prints what Locust's parser (with the locustfile's arguments) knows, and the options it parses from the
# environment and locust.conf alone.
PROBE = """
import json
import locustfile  # noqa: F401 - adds its options to Locust's parser
from locust.argument_parser import get_parser
from loadtest.run import TOKEN_ENV
parser = get_parser()
options = parser.parse_args([])
print(json.dumps({
    "env_vars": sorted(a.env_var for a in parser._actions if getattr(a, "env_var", None)),
    "flags": sorted(s for a in parser._actions for s in a.option_strings if s.startswith("--")),
    "token_env": TOKEN_ENV,
    "options": vars(options),
}, default=str))
"""


def probe(env: dict) -> dict:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env={**clean, **env}, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def yaml():
    return pytest.importorskip("yaml", reason="PyYAML is not installed: cannot parse the manifests")


@pytest.fixture(scope="module")
def resources(yaml) -> dict:
    """Every manifest of the kustomization, by (kind, name)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    found = {}
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


@pytest.fixture(scope="module")
def compose(yaml) -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


@pytest.fixture(scope="module")
def configmap(resources) -> dict:
    return resources[("ConfigMap", CONFIGMAP)]["data"]


@pytest.fixture(scope="module")
def parser_view(configmap) -> dict:
    return probe(configmap)


def container(resources: dict, deployment: str) -> dict:
    containers = resources[("Deployment", deployment)]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment
    return containers[0]


def test_kustomization_lists_every_manifest_and_sets_the_image(yaml, resources):
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == manifests
    assert set(resources) == {("ConfigMap", CONFIGMAP), ("Deployment", "caller-agent-bridge"),
                              ("Service", "caller-agent-bridge"), ("Deployment", "caller-agent-master"),
                              ("Service", "caller-agent-master"), ("Deployment", "caller-agent-worker")}
    image = kustomization["images"][0]["name"]
    for kind, name in resources:
        if kind == "Deployment":
            assert container(resources, name)["image"] == image, name


def test_selectors_match_the_pod_labels(resources):
    pod_labels = {}
    for (kind, name), document in resources.items():
        if kind == "Deployment":
            labels = document["spec"]["template"]["metadata"]["labels"]
            assert document["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
            pod_labels[name] = labels
    for (kind, name), document in resources.items():
        if kind == "Service":
            selector = document["spec"]["selector"]
            matching = [deployment for deployment, labels in pod_labels.items() if selector.items() <= labels.items()]
            assert matching == [name], (name, matching)  # each Service reaches its own pods and only those


def test_service_ports_reach_named_container_ports_on_locusts_defaults(resources, parser_view):
    for service_name in ("caller-agent-master", "caller-agent-bridge"):
        ports = {port["name"]: port["containerPort"] for port in container(resources, service_name)["ports"]}
        for port in resources[("Service", service_name)]["spec"]["ports"]:
            assert ports[port["targetPort"]] == port["port"], (service_name, port)
    master_service = resources[("Service", "caller-agent-master")]
    master_ports = {port["name"]: port["port"] for port in master_service["spec"]["ports"]}
    options = parser_view["options"]
    assert master_ports == {"workers": options["master_bind_port"], "web": options["web_port"]} == \
        {"workers": 5557, "web": 8089}


def test_workers_point_at_the_master_service(resources):
    args = container(resources, "caller-agent-worker")["command"]
    assert args[:2] == ["locust", "--worker"]
    assert args[args.index("--master-host") + 1] == "caller-agent-master"
    assert "--master-port" not in args  # the Service's 5557 is Locust's default
    assert resources[("Deployment", "caller-agent-master")]["spec"]["replicas"] == 1
    assert int(resources[("Deployment", "caller-agent-worker")]["spec"]["replicas"]) >= 1


def test_flags_are_compose_flags(resources, compose, configmap):
    compose_master = compose["master"]["command"]
    host = compose_master[compose_master.index("--host") + 1]
    without_host = [flag for flag in compose_master if flag not in ("--host", host)]
    assert container(resources, "caller-agent-master")["command"] == without_host  # --host is LOCUST_HOST
    compose_worker = compose["worker"]["command"]
    worker_args = container(resources, "caller-agent-worker")["command"]
    assert [flag for flag in worker_args if flag.startswith("--")] == [f for f in compose_worker if f.startswith("--")]
    assert container(resources, "caller-agent-bridge")["command"] == compose["bridge"]["command"]
    # Same target path as compose; the host is the bridge Service, on the port it exposes.
    url = urlsplit(configmap["LOCUST_HOST"])
    assert url.path == urlsplit(host).path
    bridge_service = resources[("Service", "caller-agent-bridge")]
    assert url.hostname == bridge_service["metadata"]["name"]
    assert url.port in {port["port"] for port in bridge_service["spec"]["ports"]}


def test_environment_names_are_what_locust_and_the_locustfile_read(resources, configmap, parser_view):
    assert set(configmap) <= set(parser_view["env_vars"]), set(configmap) - set(parser_view["env_vars"])
    for name in ("caller-agent-master", "caller-agent-worker"):
        spec = container(resources, name)
        assert spec["envFrom"] == [{"configMapRef": {"name": CONFIGMAP}}], name
        token = next(env for env in spec["env"] if "valueFrom" in env)
        assert token["name"] == parser_view["token_env"], name
        assert token["valueFrom"]["secretKeyRef"] == {"name": TOKEN_SECRET, "key": "token", "optional": True}


def test_configmap_values_are_the_options_the_run_gets(configmap, parser_view):
    options = parser_view["options"]
    # The environment wins over locust.conf (which names a localhost bridge).
    assert options["host"] == configmap["LOCUST_HOST"]
    assert options["test_config"] == configmap["LOCUST_TEST_CONFIG"] and options["ear"] == configmap["LOCUST_EAR"]
    assert options["shape"] == configmap["LOCUST_SHAPE"]
    assert (options["capacity_start"], options["capacity_step"], options["capacity_max"]) == \
        (int(configmap["LOCUST_CAPACITY_START"]), int(configmap["LOCUST_CAPACITY_STEP"]),
         int(configmap["LOCUST_CAPACITY_MAX"]))
    assert options["capacity_step_s"] == float(configmap["LOCUST_CAPACITY_STEP_S"])
    assert options["success_threshold"] == float(configmap["LOCUST_SUCCESS_THRESHOLD"])


def test_every_custom_option_reads_its_environment_variable():
    options = probe({"LOCUST_SHAPE": "capacity", "LOCUST_CAPACITY_STEP_S": "7.5", "LOCUST_TEST_CONFIG": "quick_test",
                     "LOCUST_MAX_P95_TURN_MS": "900", "LOCUST_CALLER_SEED": "3"})["options"]
    assert (options["shape"], options["capacity_step_s"], options["test_config"]) == ("capacity", 7.5, "quick_test")
    assert (options["max_p95_turn_ms"], options["caller_seed"]) == (900.0, 3)


def test_locust_conf_and_compose_use_only_known_options(compose, parser_view):
    flags = set(parser_view["flags"])
    parser = configparser.ConfigParser()
    parser.read_string("[locust]\n" + (REPO / "locust.conf").read_text(encoding="utf-8"))
    assert {f"--{key}" for key in parser["locust"]} <= flags
    for name in ("master", "worker"):
        command = compose[name]["command"]
        assert command[0] == "locust" and {arg for arg in command if arg.startswith("--")} <= flags, name
