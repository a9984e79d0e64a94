"""A throwaway self-signed certificate for 127.0.0.1, made by the `openssl` command line for one test run."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SelfSigned:
    cert: Path
    key: Path


def make_self_signed(directory: Path, name: str = "bridge") -> SelfSigned:
    """A P-256 key and a one-day certificate valid for 127.0.0.1 and localhost; it is its own CA, so the
    certificate file is also the CA file a client must be given to trust it."""
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return SelfSigned(cert=cert, key=key)
