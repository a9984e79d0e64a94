"""Is `--host` a bridge we can dial? One clear sentence if not, instead of a failed call per user per second."""
from __future__ import annotations

import socket
from typing import Optional
from urllib.parse import urlsplit

from callers.results import public_url

SCHEMES = {"ws": 80, "wss": 443}
CHECK_TIMEOUT_S = 3.0


def scheme_problem(url: Optional[str]) -> Optional[str]:
    """What is wrong with the URL's form (no network), or None."""
    if not url:
        return ("no bridge URL: pass --host ws://HOST:PORT/PATH (the telephony bridge's WebSocket URL, "
                "e.g. ws://127.0.0.1:8000/ws/telephony)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        return f"--host {public_url(url)!r} is not a valid URL ({exc})"
    if parts.scheme not in SCHEMES:
        return (f"--host {public_url(url)!r} must be a ws:// or wss:// bridge URL "
                f"(got scheme {parts.scheme or 'none'!r}), e.g. ws://127.0.0.1:8000/ws/telephony")
    if not parts.hostname:
        return f"--host {public_url(url)!r} has no host name"
    return None


def bridge_problem(url: Optional[str], timeout: float = CHECK_TIMEOUT_S) -> Optional[str]:
    """What stops us reaching the bridge (form, name resolution, TCP connect), or None when it answers."""
    problem = scheme_problem(url)
    if problem:
        return problem
    parts = urlsplit(url)
    port = parts.port or SCHEMES[parts.scheme]
    shown = public_url(url)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except socket.gaierror as exc:
        return f"cannot reach bridge {shown}: cannot resolve host {parts.hostname!r} ({exc.strerror or exc})"
    except ConnectionRefusedError:
        return f"cannot reach bridge {shown}: connection refused (is the bridge running?)"
    except (socket.timeout, TimeoutError):
        return f"cannot reach bridge {shown}: no answer within {timeout:g} s"
    except OSError as exc:
        return f"cannot reach bridge {shown}: {exc.strerror or exc}"
    return None
