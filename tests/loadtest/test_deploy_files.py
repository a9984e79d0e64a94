"""docker-compose.yml and locust.conf: the topology and defaults the README promises (Docker is not needed)."""
import configparser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: cannot parse docker-compose.yml")
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def _command(service: dict) -> list:
    command = service["command"]
    return command.split() if isinstance(command, str) else list(command)


def test_compose_has_bridge_master_and_scalable_workers():
    services = _compose()["services"]
    assert set(services) == {"bridge", "master", "worker"}
    for name, service in services.items():
        assert service["image"].startswith("locustio/locust"), name
        assert any(str(volume).endswith(":/mnt/caller-agent") for volume in service["volumes"]), name
        assert service["working_dir"] == "/mnt/caller-agent", name
        assert "requirements.txt" in " ".join(service["entrypoint"]), name  # installs the pinned deps first
    bridge, master, worker = services["bridge"], services["master"], services["worker"]
    assert _command(bridge)[:3] == ["python", "-m", "bridge"] and "0.0.0.0" in _command(bridge)
    assert "8000:8000" in bridge["ports"]
    master_command = _command(master)
    assert master_command[:2] == ["locust", "--master"] and "8089:8089" in master_command + master["ports"]
    assert master_command[master_command.index("--host") + 1] == "ws://bridge:8000/ws/telephony"
    worker_command = _command(worker)
    assert worker_command[:2] == ["locust", "--worker"]
    assert worker_command[worker_command.index("--master-host") + 1] == "master"
    # `--scale worker=N` needs no fixed container name or host port on the worker.
    assert "container_name" not in worker and "ports" not in worker
    assert "master" in worker["depends_on"] and "bridge" in master["depends_on"]


def test_locust_conf_defaults():
    parser = configparser.ConfigParser()
    parser.read_string("[locust]\n" + (REPO / "locust.conf").read_text(encoding="utf-8"))
    conf = parser["locust"]
    assert conf["locustfile"] == "locustfile.py"
    assert conf["host"] == "ws://localhost:8000/ws/telephony"
    assert conf["headless"] == "false"
    assert conf["ear"] == "alttext"
