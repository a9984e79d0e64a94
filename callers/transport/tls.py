"""Whom a caller trusts when it dials a wss:// bridge: the system's CAs, one CA file, or (explicitly) nobody.

websocket-client verifies against the system store when given no options, so the default needs nothing; a
private bridge (self-signed, or signed by a company CA) is trusted by naming its CA file, which is checked
before any call so a typo is one usage error rather than a failed handshake per call. Skipping verification
is allowed only by asking for it, and says so on every run.
"""
from __future__ import annotations

import ssl
from pathlib import Path
from typing import Optional

INSECURE_WARNING = ("warning: --insecure: the bridge's TLS certificate is not checked; anyone on the network "
                    "path could read or alter these calls")
# Appended to a failed certificate check: what the user can do about it.
UNTRUSTED_HINT = "trust the bridge's CA with --ca-file PATH, or skip the check with --insecure"


def client_sslopt(ca_file: Optional[str] = None, insecure: bool = False) -> dict:
    """websocket-client `sslopt` for these choices; ignored by ws:// URLs."""
    if insecure:
        return {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
    if ca_file:
        return {"ca_certs": str(ca_file)}
    return {}


def check_ca_file(path: str) -> str:
    """`path` if it is a readable file of PEM certificates; ValueError naming the file and the reason if not."""
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"CA file {path}: no such file")
    try:
        ssl.create_default_context(cafile=str(file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"CA file {path}: not a PEM certificate bundle "
                         f"({getattr(exc, 'reason', None) or exc})") from None
    return path
