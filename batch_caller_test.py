#!/usr/bin/env python3
"""batch_caller_test.py: run a test configuration or scenarios file as real calls and report on them (the seed's
command; the run is callers/app/cli.py's batch_main, the report the `reports` package)."""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402 - gevent must patch the standard library before anything else imports it

from callers.app.cli import batch_main  # noqa: E402
from reports import publish_batch  # noqa: E402


def run() -> int:
    """The `caller-batch` command installed by `pip install .`."""
    return batch_main(publish_batch)


if __name__ == "__main__":
    sys.exit(run())
