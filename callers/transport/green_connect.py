"""Open a call's WebSocket on gevent's own sockets when the process has not been monkey-patched.

Why: websocket-client makes its sockets from the `socket` and `ssl` modules, which are gevent's only after
`gevent.monkey.patch_all()` (Locust and our CLI patch first). Unpatched, they are the standard library's
blocking sockets, and on a gevent hub a blocking socket stalls the whole loop: the read sweep's read of a
socket with nothing in it waits for the next chunk, a TLS receive greenlet waits for the agent to speak,
and every paced frame of every call on that hub waits with them. The async API runs calls on a hub of its
own inside a program that has not patched (callers/runtime/async_call.py), so there the connection is made with
gevent's sockets explicitly: the TCP connection (and TLS) cooperatively, handed to websocket-client for
the upgrade, with gevent locks in place of its thread locks. A patched process is left exactly as it was.
"""
from __future__ import annotations

import ssl
from typing import Any, Sequence

import gevent.lock
import gevent.monkey
import gevent.socket
import gevent.ssl
import websocket
from websocket._url import parse_url

# The sslopt keys built here without websocket-client (callers/transport/tls.py makes only these); any other is refused
# rather than silently ignored.
SSLOPT_KEYS = frozenset({"cert_reqs", "check_hostname", "ca_certs", "ca_cert_path", "certfile", "keyfile",
                         "password", "server_hostname"})


def create_connection(url: str, *, timeout: float, header: Sequence[str], sslopt: dict,
                      sockopt: Sequence[tuple], **options: Any) -> websocket.WebSocket:
    """`websocket.create_connection` with these options, on sockets that never block a gevent hub."""
    if gevent.monkey.is_module_patched("socket"):
        return websocket.create_connection(url, timeout=timeout, header=header, sslopt=sslopt, sockopt=sockopt,
                                           **options)
    hostname, port, _, secure = parse_url(url)
    sock = gevent.socket.create_connection((hostname, port), timeout=timeout)
    try:
        for level, name, value in sockopt:
            sock.setsockopt(level, name, value)
        if secure:
            sock = green_tls_context(sslopt).wrap_socket(sock, server_hostname=sslopt.get("server_hostname", hostname))
        ws = websocket.create_connection(url, timeout=timeout, header=header, socket=sock, **options)
    except BaseException:
        sock.close()
        raise
    # websocket-client's thread locks would block the hub where a gevent socket only parks a greenlet.
    ws.lock = gevent.lock.Semaphore(1)
    ws.readlock = gevent.lock.Semaphore(1)
    return ws


def green_tls_context(sslopt: dict) -> gevent.ssl.SSLContext:
    """A gevent TLS context trusting what `sslopt` says, as websocket-client would build it."""
    unknown = set(sslopt) - SSLOPT_KEYS
    if unknown:
        raise ValueError(f"sslopt {', '.join(sorted(unknown))} not supported without gevent monkey-patching")
    context = gevent.ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cert_reqs = sslopt.get("cert_reqs", ssl.CERT_REQUIRED)
    check_hostname = sslopt.get("check_hostname", cert_reqs != ssl.CERT_NONE)
    if cert_reqs != ssl.CERT_NONE:
        if sslopt.get("ca_certs") or sslopt.get("ca_cert_path"):
            context.load_verify_locations(cafile=sslopt.get("ca_certs"), capath=sslopt.get("ca_cert_path"))
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if sslopt.get("certfile"):
        context.load_cert_chain(sslopt["certfile"], sslopt.get("keyfile"), sslopt.get("password"))
    context.check_hostname = check_hostname
    context.verify_mode = cert_reqs
    return context

