"""One caller's own OpenAI Realtime connection (GA interface), through the `openai` package, under gevent.

Why this shape:
- The SDK's synchronous connection runs on `websockets.sync`, whose blocking reads park only their own
  greenlet once gevent has patched the standard library (Locust does, our CLI does). A receive greenlet per
  session reads every server event and hands it, as a plain dict, to the brain's handler; events are read
  as bytes and decoded once, not validated into models, because audio deltas arrive many times a second.
- The OpenAI client (HTTP pool, TLS context) is built once per process and settings: building one costs a
  few hundred milliseconds of CPU, which would stall every other caller's audio pacing.
- Every way the model side can fail ends as one message the brain turns into a `brain_error` call: 401 at
  the upgrade, 429 (retried after the stated delay, a bounded number of times), other refusals, a server
  `error` event, a dropped socket. The key never appears in a message: text coming from the server is
  scrubbed before it is kept.
- A process-wide cap on open sessions (a gevent BoundedSemaphore) keeps a load test inside the account's
  rate limits; a caller waits for a slot before it dials the bridge, so the wait is not call time.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import gevent
import gevent.lock
from gevent.event import Event

from callers.errors import CallFailure, ErrorCategory
from callers.results import public_url

log = logging.getLogger(__name__)

API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_VOICE = "marin"
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
REALTIME_RATE = 24000  # the GA interface's audio/pcm rate
OPEN_TIMEOUT_S = 10.0
SESSION_UPDATED_TIMEOUT_S = 10.0
SLOT_WAIT_S = 300.0
# 429 at the upgrade: retry after the server's Retry-After (default below), at most this often and this long.
MAX_RATE_LIMIT_RETRIES = 3
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 20.0
MAX_MESSAGE_CHARS = 300
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9*_\-]{3,})")


@dataclass
class RealtimeSettings:
    """How every caller of a run reaches the Realtime API; shared, so the session cap is process-wide."""

    api_key: str = field(repr=False)
    model: str = DEFAULT_MODEL
    voice: str = DEFAULT_VOICE
    base_url: Optional[str] = None
    websocket_base_url: Optional[str] = None
    transcription_model: str = DEFAULT_TRANSCRIPTION_MODEL
    max_sessions: Optional[int] = None
    slots: Optional[gevent.lock.BoundedSemaphore] = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_sessions is not None and self.slots is None:
            self.slots = gevent.lock.BoundedSemaphore(self.max_sessions)

    def describe(self) -> str:
        """What the console may say about the model side (never the key)."""
        where = f", {public_url(self.base_url)}" if self.base_url else ""
        cap = f", session cap {self.max_sessions}" if self.max_sessions else ""
        return f"{self.model}, voice {self.voice}{where}{cap}"


class MissingKey(Exception):
    """--brain realtime without OPENAI_API_KEY: said before any call is dialled."""


def settings_from_env(model: str = DEFAULT_MODEL, voice: str = DEFAULT_VOICE, base_url: Optional[str] = None,
                      max_sessions: Optional[int] = None, needed_by: str = "--brain realtime") -> RealtimeSettings:
    """Settings with the key from the environment only (flags show up in process lists and Locust's UI)."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise MissingKey(f"{needed_by} needs an OpenAI API key: set {API_KEY_ENV} in the environment "
                         "(the scripted brain runs without one)")
    return RealtimeSettings(api_key=key, model=model, voice=voice,
                            base_url=base_url or os.environ.get(BASE_URL_ENV) or None, max_sessions=max_sessions)


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def openai_client(settings: RealtimeSettings) -> Any:
    """The process's OpenAI client for these settings (built once: construction is CPU-heavy)."""
    from openai import OpenAI  # deferred: the scripted path never pays for importing the SDK

    key = (settings.api_key, settings.base_url, settings.websocket_base_url)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = OpenAI(api_key=settings.api_key, base_url=settings.base_url,
                                   websocket_base_url=settings.websocket_base_url, max_retries=0)
        return _clients[key]


def scrub(text: str, secret: str) -> str:
    """Server text as it may be kept: no key (whole or partial), one line, bounded length."""
    if secret:
        text = text.replace(secret, "***")
    text = _KEY_LIKE.sub("sk-***", text)
    return " ".join(text.split())[:MAX_MESSAGE_CHARS]


class RealtimeSession:
    """One open Realtime connection: send helpers and a receive greenlet feeding `on_event`.

    `failure` holds the first reason the session can no longer serve the call; `failed` is set with it.
    """

    def __init__(self, settings: RealtimeSettings, on_event: Callable[[dict], None]) -> None:
        self.settings = settings
        self.on_event = on_event
        self.failure: Optional[str] = None
        self.failed = Event()
        self.rate_limits: list = []
        self._connection: Any = None
        self._receiver: Optional[gevent.Greenlet] = None
        self._updated = Event()
        self._closing = False
        self._holding_slot = False

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def open(self, session: dict) -> None:
        """Take a session slot, connect (retrying 429s), configure, and wait for `session.updated`."""
        slots = self.settings.slots
        if slots is not None:
            if not slots.acquire(timeout=SLOT_WAIT_S):
                raise CallFailure(ErrorCategory.BRAIN_ERROR, f"no free Realtime session within {SLOT_WAIT_S:g} s "
                                                             f"(--max-realtime-sessions {self.settings.max_sessions})")
            self._holding_slot = True
        self._connection = self._connect()
        self._receiver = gevent.spawn(self._receive_loop)
        self.send({"type": "session.update", "session": session})
        ready = gevent.wait([self._updated, self.failed], timeout=SESSION_UPDATED_TIMEOUT_S, count=1)
        if self.failure is not None:
            raise CallFailure(ErrorCategory.BRAIN_ERROR, self.failure)
        if not ready:
            raise CallFailure(ErrorCategory.BRAIN_ERROR,
                              f"OpenAI Realtime did not confirm the session within {SESSION_UPDATED_TIMEOUT_S:g} s")

    def close(self) -> None:
        """Close the socket and give the slot back; safe to call more than once."""
        if self._closing:
            return
        self._closing = True
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception as exc:  # noqa: BLE001 - closing a broken socket must not fail the call
                log.debug("closing the Realtime socket: %s", type(exc).__name__)
        if self._receiver is not None and gevent.getcurrent() is not self._receiver:
            self._receiver.kill(block=False)
        if self._holding_slot:
            self._holding_slot = False
            self.settings.slots.release()

    def _connect(self) -> Any:
        from websockets.exceptions import InvalidStatus, WebSocketException

        client = openai_client(self.settings)
        manager_options = {"open_timeout": OPEN_TIMEOUT_S}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                return client.realtime.connect(model=self.settings.model,
                                               websocket_connection_options=manager_options).enter()
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status == 429 and attempt < MAX_RATE_LIMIT_RETRIES:
                    delay = _retry_after(exc.response.headers.get("Retry-After"))
                    log.info("OpenAI Realtime rate limit (429): retrying in %.1f s", delay)
                    gevent.sleep(delay)
                    continue
                raise CallFailure(ErrorCategory.BRAIN_ERROR, self._refusal(status, exc.response.body)) from None
            except TimeoutError:
                raise CallFailure(ErrorCategory.BRAIN_ERROR,
                                  f"OpenAI Realtime did not answer within {OPEN_TIMEOUT_S:g} s") from None
            except (OSError, WebSocketException) as exc:
                why = scrub(str(exc) or type(exc).__name__, self.settings.api_key)
                raise CallFailure(ErrorCategory.BRAIN_ERROR, f"cannot reach OpenAI Realtime: {why}") from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _refusal(self, status: int, body: bytes) -> str:
        code = ""
        try:
            error = json.loads(body or b"{}").get("error") or {}
            code = error.get("code") or error.get("type") or ""
        except (ValueError, AttributeError):
            pass
        meaning = {401: "the API key was refused", 403: "access denied", 404: "unknown model or URL",
                   429: f"rate limited, still after {MAX_RATE_LIMIT_RETRIES} retries"}.get(status, "upgrade refused")
        detail = f", {scrub(str(code), self.settings.api_key)}" if code else ""
        return f"OpenAI Realtime: {meaning} (HTTP {status}{detail})"

    # ---- sending -----------------------------------------------------------------------------------------

    def send(self, event: dict) -> None:
        """Send one client event; a socket that is gone marks the session failed instead of raising here."""
        if self._connection is None or self.failure is not None:
            return
        try:
            self._connection.send(event)
        except Exception as exc:  # noqa: BLE001 - any send failure means the model side is gone
            self._fail(f"OpenAI Realtime connection lost while sending ({type(exc).__name__})")

    def append_audio(self, audio_b64: str) -> None:
        self.send({"type": "input_audio_buffer.append", "audio": audio_b64})

    def commit_and_respond(self) -> None:
        self.send({"type": "input_audio_buffer.commit"})
        self.send({"type": "response.create"})

    def delete_item(self, item_id: str) -> None:
        self.send({"type": "conversation.item.delete", "item_id": item_id})

    # ---- receiving ---------------------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                event = json.loads(self._connection.recv_bytes())
                kind = event.get("type")
                if kind == "session.updated":
                    self._updated.set()
                elif kind == "error":
                    error = event.get("error") or {}
                    code = error.get("code") or error.get("type") or "error"
                    self._fail(f"OpenAI Realtime error ({scrub(str(code), self.settings.api_key)}): "
                               f"{scrub(str(error.get('message', '')), self.settings.api_key)}")
                    return
                elif kind == "rate_limits.updated":
                    self.rate_limits = event.get("rate_limits") or []
                    log.debug("Realtime rate limits: %s", self.rate_limits)
                self.on_event(event)
        except ConnectionClosed as exc:
            if not self._closing:
                code = exc.rcvd.code if exc.rcvd is not None else "none"
                self._fail(f"OpenAI Realtime connection dropped mid-call (close code {code})")
        except (OSError, ValueError) as exc:
            if not self._closing:
                self._fail(f"OpenAI Realtime connection lost ({type(exc).__name__})")

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = message
            log.warning("%s", message)
            self.failed.set()


def _retry_after(header: Optional[str]) -> float:
    try:
        delay = float(header) if header else DEFAULT_RETRY_AFTER_S
    except ValueError:
        delay = DEFAULT_RETRY_AFTER_S
    return min(max(0.0, delay), MAX_RETRY_AFTER_S)
