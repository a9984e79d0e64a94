#!/usr/bin/env python3
"""demo.py: start the bundled reference bridge on a free loopback port and run one caller against it.

The embedded default: no API key, no network. Extra arguments go to caller_cli.py (e.g. --scenario angry_complaint).
"""
import subprocess
import sys
from pathlib import Path

BRIDGE_LOG = Path("logs") / "reference_bridge.log"


def main() -> int:
    root = Path(__file__).resolve().parent
    BRIDGE_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(BRIDGE_LOG, "ab") as bridge_log:
        bridge = subprocess.Popen([sys.executable, "-m", "bridge", "--host", "127.0.0.1", "--port", "0"],
                                  cwd=root, stdout=subprocess.PIPE, stderr=bridge_log, text=True)
    try:
        line = bridge.stdout.readline()
        if "listening on " not in line:
            print(f"demo: the reference bridge did not start ({line.strip() or 'no output'}; see {BRIDGE_LOG})",
                  file=sys.stderr)
            return 3
        url = line.split("listening on ", 1)[1].split()[0]
        print(line.strip(), flush=True)
        args = sys.argv[1:] or ["--scenario", "difficult_card_replacement"]
        if "--voice-engine" not in args:
            args = ["--voice-engine", "piper", *args]  # the demo's caller sounds like a person
        return subprocess.call([sys.executable, "caller_cli.py", "--bridge-url", url, *args], cwd=root)
    finally:
        bridge.terminate()
        bridge.wait(10)


if __name__ == "__main__":
    sys.exit(main())
