"""Command line: `python -m bridge [options]`. Runs until Ctrl-C or SIGTERM, then closes calls cleanly."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import Optional, Sequence

# numpy's BLAS (faster-whisper's features) would otherwise start a thread per core: recognition's threads
# are --stt-threads, one each. Set before anything imports numpy; an explicit setting is kept.
for _pool_size in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_pool_size, "1")

from bridge.faults import Fault, FaultSpec, parse_fault  # noqa: E402 - after the thread-pool sizes
from bridge.flows import FLOWS_FILE, FlowError, load_flow_book
from bridge.server import run_bridge, server_tls_context
from bridge.settings import (DEFAULT_EAR, DEFAULT_HOST, DEFAULT_PATH, DEFAULT_PORT, DEFAULT_STT_NICE,
                             DEFAULT_STT_THREADS, DEFAULT_VOICE_ENGINE, DEFAULT_VOICE_RATE_WPM, BridgeSettings)
from callers.media import audio, speech

TOKEN_ENV = "BRIDGE_TOKEN"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
# At debug level websockets logs every request line and header as received: the credentials of an
# Authorization header (right or wrong), and any query string, where some clients put their token.
_AUTHORIZATION = re.compile(r"(authorization:\s*\S+\s+)\S+", re.IGNORECASE)
_QUERY = re.compile(r"(\s/[^\s?]*)\?\S*")


def _latency(text: str) -> tuple[float, float]:
    mean, _, jitter = text.partition(":")
    try:
        values = float(mean), float(jitter or 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MEAN[:JITTER] in ms, e.g. 300:100, got {text!r}") from None
    if values[0] < 0 or values[1] < 0 or values[1] > values[0]:
        raise argparse.ArgumentTypeError(f"need 0 <= JITTER <= MEAN, got {text!r}")
    return values


def _media_format(text: str) -> audio.MediaFormat:
    try:
        return audio.parse_media_format(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fault(text: str) -> FaultSpec:
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bridge", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (printed)")
    parser.add_argument("--path", default=DEFAULT_PATH, help="the only WebSocket path served; others get 404")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                        help=f"require 'Authorization: Bearer TOKEN' (default: ${TOKEN_ENV}; never printed)")
    parser.add_argument("--latency-ms", type=_latency, default=(0.0, 0.0), metavar="MEAN[:JITTER]",
                        help="think time after recognition, uniform in MEAN +/- JITTER ms")
    parser.add_argument("--ear", choices=speech.EAR_KINDS, default=DEFAULT_EAR,
                        help="stt/whisper: recognise the caller; none: no recognition, the dialogue assumes "
                             "the expected answer (capacity runs)")
    parser.add_argument("--play-format", type=_media_format, default=None,
                        help="format of the agent's audio, e.g. raw/lpcm16_24 (default: the call's format)")
    parser.add_argument("--truth-log", type=Path, default=None, help="append one JSON line per call here")
    parser.add_argument("--seed", type=int, default=None, help="seed for the think-time jitter and the faulty calls")
    parser.add_argument("--barge-in", action=argparse.BooleanOptionalAction, default=True,
                        help="stop talking when the caller talks over the agent")
    parser.add_argument("--barge-in-min-ms", type=float, default=0.0, metavar="MS",
                        help="caller speech needed before the agent stops talking (default 0: at once); a "
                             "shorter utterance over a prompt, e.g. 'uh-huh', is a backchannel and ignored")
    parser.add_argument("--keypad-identity", action="store_true",
                        help="ask callers to key their date of birth as DTMF digits instead of saying it")
    parser.add_argument("--frame-ms", type=int, default=audio.DEFAULT_FRAME_MS, help="agent audio chunk length")
    parser.add_argument("--voice-rate", type=int, default=DEFAULT_VOICE_RATE_WPM, help="agent speaking rate, wpm")
    parser.add_argument("--voice-engine", choices=speech.VOICE_ENGINES, default=DEFAULT_VOICE_ENGINE,
                        help=f"what speaks the agent's prompts (default {DEFAULT_VOICE_ENGINE}): piper is a natural "
                             "voice, so the callers' ear is measured on realistic agent audio; it renders the "
                             "dialogue at start-up in seconds rather than milliseconds")
    parser.add_argument("--fault", type=_fault, action="append", default=[], metavar="MODE[:RATE]",
                        help=f"spoil a share RATE (default 1) of calls: {', '.join(f.value for f in Fault)}; "
                             "repeatable, the per-call rates must add up to 1 at most (see bridge/faults.py)")
    parser.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                        help="serve wss:// with this certificate (chain); needs --tls-key")
    parser.add_argument("--tls-key", type=Path, default=None, metavar="PEM", help="the certificate's private key")
    parser.add_argument("--resume-grace", type=float, default=0.0, metavar="SECONDS",
                        help="keep a call whose connection dropped this long, so the caller can continue it "
                             "with session.resume (default 0: resume is refused)")
    parser.add_argument("--stt-threads", type=int, default=DEFAULT_STT_THREADS, metavar="N",
                        help=f"recognition passes at once, one thread each (default {DEFAULT_STT_THREADS}: "
                             "half the cores, at most 2)")
    parser.add_argument("--stt-nice", type=int, default=DEFAULT_STT_NICE, metavar="N",
                        help=f"run recognition N nice levels below the bridge (default {DEFAULT_STT_NICE}: same "
                             "priority), so many callers on this machine keep real time while it "
                             "recognises; on an otherwise busy machine its answers then come later")
    parser.add_argument("--agent-flow", default=None, metavar="NAME",
                        help="be another bank's agent: play this flow of the flow file (e.g. credit_union, "
                             "two_at_once, hold_and_choice, security_question, banco_sol) instead of the "
                             "reference policy; it checks the caller's answers for plausibility")
    parser.add_argument("--agent-flows", type=Path, default=None, metavar="FILE",
                        help="the flow file --agent-flow reads (default: bridge/agent_flows.toml)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return parser


def parse_settings(argv: Optional[Sequence[str]] = None) -> tuple[BridgeSettings, str]:
    """Settings and log level; an invalid combination exits with a usage error like any bad flag."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        speech.SpeakingStyle(rate_wpm=args.voice_rate)
        settings = BridgeSettings(host=args.host, port=args.port, path=args.path, token=args.token or None,
                                  latency_mean_ms=args.latency_ms[0], latency_jitter_ms=args.latency_ms[1],
                                  ear=args.ear, play_format=args.play_format, truth_log=args.truth_log,
                                  seed=args.seed, barge_in=args.barge_in, frame_ms=args.frame_ms,
                                  barge_in_min_ms=args.barge_in_min_ms, keypad_identity=args.keypad_identity,
                                  voice_rate_wpm=args.voice_rate, voice_engine=args.voice_engine,
                                  faults=tuple(args.fault),
                                  tls_cert=args.tls_cert, tls_key=args.tls_key, resume_grace_s=args.resume_grace,
                                  stt_threads=args.stt_threads, stt_nice=args.stt_nice,
                                  agent_flow=args.agent_flow, agent_flows=args.agent_flows)
        server_tls_context(settings)
    except ValueError as exc:
        parser.error(str(exc))
    if settings.agent_flow is not None:
        try:
            load_flow_book(settings.agent_flows or FLOWS_FILE).flow(settings.agent_flow)
        except FlowError as exc:  # the file and its problem, without the usage text around it
            parser.exit(2, f"{parser.prog}: error: {exc}\n")
    return settings, args.log_level


async def _serve(settings: BridgeSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_bridge(settings, stop, lambda line: print(line, flush=True))


class RedactSecrets(logging.Filter):
    """Scrubs credentials from every record before it is written, whichever library logged it."""

    def __init__(self, token: Optional[str]) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the handler's to report, not ours to drop
            return True
        redacted = _QUERY.sub(rf"\1?{REDACTED}", _AUTHORIZATION.sub(rf"\1{REDACTED}", message))
        if self._token:
            redacted = redacted.replace(self._token, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings, level = parse_settings(argv)
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(settings.token))
    # websockets logs every connection at info; at hundreds of calls that drowns the bridge's own lines.
    for chatty in ("websockets", "faster_whisper"):  # a line per frame / per utterance unless debugging
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    try:
        asyncio.run(_serve(settings))
    except OSError as exc:
        print(f"bridge: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
