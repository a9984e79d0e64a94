"""The bridge's WebSocket server: who may connect (path, bearer token) and one CallSession per connection.

Start-up does the expensive, blocking work (loading the recogniser, rendering every agent sentence) before
the port is announced, so the first call is served at the same speed as the hundredth.
"""
from __future__ import annotations

import asyncio
import hmac
import ssl
import itertools
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Callable, Optional
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from bridge.dialogue import agent_phrases
from bridge.flows import FLOWS_FILE, load_flow_book
from bridge.faults import REFUSE_REASON, Fault, FaultPlan
from bridge.prompts import PromptBook, agent_style
from bridge.resume import ResumableCalls
from bridge.session import BridgeServices, CallSession, record_truth
from bridge.settings import BridgeSettings
from bridge.truth import CallTruth, TruthLog
from callers.media import speech
from callers.wire import protocol

log = logging.getLogger(__name__)

def make_process_request(settings: BridgeSettings, faults: FaultPlan = FaultPlan(),
                         on_refused: Callable[[int], None] = lambda index: None
                         ) -> Callable[[ServerConnection, Request], Optional[Response]]:
    """Refuse at the HTTP upgrade, before any session exists: wrong path -> 404, missing or wrong token -> 401,
    and the connections the `refuse` fault picks -> 401 (reported to `on_refused` with their index).

    Only connections that would otherwise be served are counted, so the faulty share is a share of calls."""
    expected = settings.token.encode("utf-8") if settings.token is not None else None
    connections = itertools.count()

    def unauthorized(connection: ServerConnection) -> Response:
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    def process_request(connection: ServerConnection, request: Request) -> Optional[Response]:
        if urlsplit(request.path).path != settings.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if expected is not None:
            scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
            if not (scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode("utf-8"), expected)):
                return unauthorized(connection)
        index = next(connections)
        if faults.refuses(index):
            on_refused(index)
            return unauthorized(connection)
        return None

    return process_request


def server_tls_context(settings: BridgeSettings) -> Optional[ssl.SSLContext]:
    """The TLS context for wss://, or None for ws://; ValueError naming the file when it cannot be loaded."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load --tls-cert {settings.tls_cert} / --tls-key {settings.tls_key}: "
                         f"{getattr(exc, 'reason', None) or exc.strerror or exc}") from None
    return context


def lower_thread_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority by `nice` (Linux sets it per thread, and threads started
    from this one inherit it); elsewhere, or without permission, recognition keeps the bridge's priority."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    thread_id = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, min(19, os.getpriority(os.PRIO_PROCESS, thread_id) + nice))
    except OSError as exc:
        log.warning("recognition keeps the bridge's CPU priority (cannot lower it: %s)", exc)


def listening_line(settings: BridgeSettings, server: Server, ear: speech.Ear) -> str:
    """The start-up announcement tests and scripts wait for; it names the real port (for --port 0) and
    everything that shapes a verdict, but never the token."""
    host, port = server.sockets[0].getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    play = settings.play_format.token if settings.play_format else "call format"
    latency = f"{settings.latency_mean_ms:g}+/-{settings.latency_jitter_ms:g} ms"
    resume = f"{settings.resume_grace_s:g} s" if settings.resume_grace_s else "off"
    return (f"bridge listening on {settings.scheme}://{host}:{port}{settings.path} (ear={ear.name}, play={play}, "
            f"frame={settings.frame_ms} ms, latency={latency}, barge-in={'on' if settings.barge_in else 'off'}, "
            f"auth={'bearer' if settings.token else 'none'}, truth-log={settings.truth_log or 'off'}, "
            f"faults={FaultPlan(settings.faults).describe()}, resume={resume}, "
            f"agent={settings.agent_flow or 'reference'})")


async def run_bridge(settings: BridgeSettings, stop: asyncio.Event, on_listening: Callable[[str], None]) -> None:
    """Serve calls until `stop` is set; open calls are then closed (1001) and their truth is written."""
    # One thread per Whisper model replica (more would only queue inside CTranslate2). The model is loaded
    # on one of them, so CTranslate2's own threads inherit their lower priority.
    executor = ThreadPoolExecutor(max_workers=settings.stt_threads, thread_name_prefix="bridge-stt",
                                  initializer=lower_thread_priority, initargs=(settings.stt_nice,))
    ear = await asyncio.get_running_loop().run_in_executor(executor, speech.get_ear, settings.ear,
                                                           settings.stt_threads, speech.AGENT_EAR_SETTINGS)
    prompts = PromptBook(agent_style(settings.voice_engine, settings.voice_rate_wpm),
                         settings.frame_ms)
    flows = None
    if settings.agent_flow is not None:
        flows = load_flow_book(settings.agent_flows or FLOWS_FILE)
        flow = flows.flow(settings.agent_flow)
        if flows.language_of(flow) == "en":  # the agent's voice speaks English; other languages render per call
            prompts.warm(flows.phrases(flow))
    else:
        prompts.warm(agent_phrases())
    # One thread: libespeak-ng renders one phrase at a time, and a build is a few milliseconds.
    prompt_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-prompts")
    truth_log = TruthLog(settings.truth_log) if settings.truth_log is not None else None
    faults = FaultPlan(settings.faults, settings.seed)
    resumable = None
    if settings.resume_grace_s > 0:
        resumable = ResumableCalls(settings.resume_grace_s,
                                   lambda call: record_truth(call.truth, call.agent, truth_log))
    services = BridgeServices(settings=settings, ear=ear, executor=executor, prompts=prompts,
                              prompt_executor=prompt_executor, truth_log=truth_log, faults=faults,
                              resumable=resumable, flows=flows)

    def refused(index: int) -> None:
        log.info("connection %d refused by fault injection", index)
        if truth_log is not None:
            truth_log.write(CallTruth(conversation_id=None, caller=None, started_at=protocol.utc_timestamp(),
                                      ear=ear.name, error=REFUSE_REASON, hung_up_by="bot",
                                      fault=Fault.REFUSE.value, connection=index))

    async def handle(ws: ServerConnection) -> None:
        await CallSession(ws, services).run()

    try:
        # No permessage-deflate: base64 audio barely compresses and deflate would cost CPU on every frame.
        async with serve(handle, settings.host, settings.port,
                         process_request=make_process_request(settings, faults, refused),
                         compression=None, max_size=protocol.MAX_MESSAGE_BYTES,
                         ssl=server_tls_context(settings)) as server:
            on_listening(listening_line(settings, server, ear))
            await stop.wait()
            log.info("stopping: closing %d open connection(s)", len(server.connections))
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        prompt_executor.shutdown(wait=False, cancel_futures=True)
        if resumable is not None:
            resumable.expire_all()  # the calls just closed were parked too: every one is over now
        if truth_log is not None:
            truth_log.close()
