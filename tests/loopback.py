"""Free loopback ports and Locust command lines that stay on them, so test runs never meet each other.

Locust's master binds 5557 by default and `--processes` children connect to that port: two runs at once on one
machine would otherwise share workers (and each other's calls).
"""
from __future__ import annotations

import socket
import sys


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def locust_command(*args: str) -> list[str]:
    """`python -m locust -f locustfile.py ARGS`; a `--processes` run gets its own master port on 127.0.0.1."""
    command = [sys.executable, "-m", "locust", "-f", "locustfile.py", *args]
    if "--processes" in args:
        port = str(free_port())
        command += ["--master-bind-host", "127.0.0.1", "--master-bind-port", port,
                    "--master-host", "127.0.0.1", "--master-port", port]
    return command
