#!/usr/bin/env python3
"""caller_cli.py: run simulated callers against a bridge (the seed's command; logic lives in callers/app/cli.py,
a --batch run's report in the `reports` package, as for batch_caller_test.py)."""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402 - gevent must patch the standard library before anything else imports it

from callers.app.cli import main  # noqa: E402
from reports import publish_batch  # noqa: E402


def run() -> int:
    """The `caller-agent` command installed by `pip install .`."""
    return main(reporter=publish_batch)


if __name__ == "__main__":
    sys.exit(run())
