"""The bridge's configuration as one immutable value, shared by the server and every call session.

Kept apart from the CLI so tests and embedders can build a bridge without parsing arguments.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bridge.faults import FaultSpec, check_faults
from callers.media.audio import DEFAULT_FRAME_MS, MediaFormat
from callers.media.speech import VOICE_ENGINES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_PATH = "/ws/telephony"
DEFAULT_EAR = "stt"
DEFAULT_VOICE_RATE_WPM = 175
DEFAULT_VOICE_ENGINE = "espeak"
MIN_FRAME_MS = 5
MAX_FRAME_MS = 500
# Recognition is the bridge's only heavy work, and the bundled bridge usually shares its host with the
# callers it serves: it takes at most half the cores (one pass per thread), so concurrent calls' passes
# leave the callers a core. A lower priority (stt_nice) is opt-in: it protects callers on a host the
# bridge shares, but where other programs keep the CPU busy it slows recognition by several times, and
# an agent that answers too late fails calls (no_answer) for a reason that is not the agent's.
DEFAULT_STT_THREADS = max(1, min(2, (os.cpu_count() or 2) // 2))
DEFAULT_STT_NICE = 0
MAX_NICE = 19


@dataclass(frozen=True)
class BridgeSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    path: str = DEFAULT_PATH
    # Required as `Authorization: Bearer <token>` at the upgrade when set. Never printed or logged.
    token: Optional[str] = None
    # Think time added after recognition, before the first reply chunk: uniform in mean +/- jitter.
    latency_mean_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    ear: str = DEFAULT_EAR
    # Format of the agent's audio; None plays in the format accepted for the caller's audio.
    play_format: Optional[MediaFormat] = None
    truth_log: Optional[Path] = None
    # Seeds the per-call think-time jitter (together with the conversation id; None is unseeded) and the
    # choice of faulty calls (reproducible either way, see bridge.faults).
    seed: Optional[int] = None
    barge_in: bool = True
    # Caller speech (voiced ms) heard over a prompt before the agent yields; 0 yields at the first voiced
    # chunk. Above 0, a shorter utterance over a prompt ("uh-huh") is a backchannel: no stop, no turn.
    barge_in_min_ms: float = 0.0
    # Ask for the date of birth on the keypad (DTMF) rather than out loud.
    keypad_identity: bool = False
    frame_ms: int = DEFAULT_FRAME_MS
    voice_rate_wpm: int = DEFAULT_VOICE_RATE_WPM
    # What speaks the agent's prompts: espeak, or piper (a natural voice; slower start-up, see bridge/prompts.py).
    voice_engine: str = DEFAULT_VOICE_ENGINE
    # Injected faults and the share of calls each one spoils (bridge.faults).
    faults: tuple[FaultSpec, ...] = ()
    # Serve wss:// with this certificate chain and key (PEM); both or neither.
    tls_cert: Optional[Path] = None
    tls_key: Optional[Path] = None
    # How long a call whose connection dropped is kept for session.resume; 0 refuses every resume.
    resume_grace_s: float = 0.0
    # Concurrent recognition passes (each one thread and one model replica), and how much lower their
    # CPU priority is than the bridge's loop (a nice increment; 0 keeps it equal).
    stt_threads: int = DEFAULT_STT_THREADS
    stt_nice: int = DEFAULT_STT_NICE
    # Play this flow of `agent_flows` (bridge/flows.py) instead of the reference policy; None: the policy.
    agent_flow: Optional[str] = None
    agent_flows: Optional[Path] = None  # the flow file; None: bridge/agent_flows.toml

    def __post_init__(self) -> None:
        check_faults(self.faults)
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        if self.latency_mean_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError("latency mean and jitter must not be negative")
        if self.barge_in_min_ms < 0:
            raise ValueError("barge-in minimum speech must not be negative")
        if self.latency_jitter_ms > self.latency_mean_ms:
            raise ValueError("latency jitter must not exceed the mean (a delay cannot be negative)")
        if not MIN_FRAME_MS <= self.frame_ms <= MAX_FRAME_MS:
            raise ValueError(f"frame must be {MIN_FRAME_MS}..{MAX_FRAME_MS} ms, got {self.frame_ms}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together: give both to serve wss://, or neither")
        if self.resume_grace_s < 0:
            raise ValueError(f"resume grace must not be negative, got {self.resume_grace_s:g}")
        if self.stt_threads < 1:
            raise ValueError(f"recognition needs at least 1 thread, got {self.stt_threads}")
        if not 0 <= self.stt_nice <= MAX_NICE:
            raise ValueError(f"recognition nice must be 0..{MAX_NICE}, got {self.stt_nice}")
        if self.voice_engine not in VOICE_ENGINES:
            raise ValueError(f"voice engine must be one of {', '.join(VOICE_ENGINES)}, got {self.voice_engine!r}")
        if self.agent_flows is not None and self.agent_flow is None:
            raise ValueError("--agent-flows names a flow file; choose one of its flows with --agent-flow NAME")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")

    @property
    def scheme(self) -> str:
        return "wss" if self.tls_cert is not None else "ws"

    def __repr__(self) -> str:
        # The dataclass default would print the token into any log line or traceback that shows settings.
        shown = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "token"}
        shown["token"] = "<set>" if self.token else None
        return f"BridgeSettings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"
