"""AudioCodes VoiceAI Connect bot API (WebSocket streaming mode): message building, parsing, validation.

Pure functions and plain data, no I/O, so the caller, the reference bridge and the fuzz tests share one
definition of the wire format. Strict in what we build (every outgoing message carries the fields the
official SDK sends), lenient in what we accept: message and activity names match case-insensitively,
unknown fields are kept, unknown types are returned for the caller to log and ignore, and only a field we
actually need having the wrong shape raises ProtocolError.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Optional, Union

import orjson

DEFAULT_MEDIA_FORMAT = "raw/lpcm16"
DEFAULT_LANGUAGE = "en-US"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_PADDINGS = (b"", b"=", b"==")

# Caller (AudioCodes side) -> bot.
SESSION_INITIATE = "session.initiate"
SESSION_RESUME = "session.resume"
SESSION_END = "session.end"
ACTIVITIES = "activities"
USER_STREAM_START = "userStream.start"
USER_STREAM_CHUNK = "userStream.chunk"
USER_STREAM_STOP = "userStream.stop"
CONNECTION_VALIDATE = "connection.validate"

# Bot -> caller.
SESSION_ACCEPTED = "session.accepted"
SESSION_ERROR = "session.error"
USER_STREAM_STARTED = "userStream.started"
USER_STREAM_STOPPED = "userStream.stopped"
SPEECH_STARTED = "userStream.speech.started"
SPEECH_STOPPED = "userStream.speech.stopped"
SPEECH_COMMITTED = "userStream.speech.committed"
SPEECH_HYPOTHESIS = "userStream.speech.hypothesis"
SPEECH_RECOGNITION = "userStream.speech.recognition"
PLAY_STREAM_START = "playStream.start"
PLAY_STREAM_CHUNK = "playStream.chunk"
PLAY_STREAM_STOP = "playStream.stop"
CONNECTION_VALIDATED = "connection.validated"

# Activity (event) names, canonical spelling.
ACTIVITY_START = "start"
ACTIVITY_DTMF = "DTMF"
ACTIVITY_HANGUP = "hangup"
ACTIVITY_TRANSFER = "transfer"
ACTIVITY_CONFIG = "config"
ACTIVITY_SEND_DTMF = "sendDtmf"
ACTIVITY_PLAY_URL = "playUrl"

KNOWN_MESSAGE_TYPES = (
    SESSION_INITIATE, SESSION_RESUME, SESSION_END, ACTIVITIES, USER_STREAM_START, USER_STREAM_CHUNK,
    USER_STREAM_STOP, CONNECTION_VALIDATE, SESSION_ACCEPTED, SESSION_ERROR, USER_STREAM_STARTED,
    USER_STREAM_STOPPED, SPEECH_STARTED, SPEECH_STOPPED, SPEECH_COMMITTED, SPEECH_HYPOTHESIS,
    SPEECH_RECOGNITION, PLAY_STREAM_START, PLAY_STREAM_CHUNK, PLAY_STREAM_STOP, CONNECTION_VALIDATED,
)
KNOWN_ACTIVITY_NAMES = (
    ACTIVITY_START, ACTIVITY_DTMF, ACTIVITY_HANGUP, ACTIVITY_TRANSFER, ACTIVITY_CONFIG, ACTIVITY_SEND_DTMF,
    ACTIVITY_PLAY_URL,
)
# The fields each bot message is documented with (docs/protocol.md), and `participant`, which AudioCodes adds
# in Agent Assist calls; anything else a bot sends is an extra field, kept and noted by the caller.
_COMMON_FIELDS = ("type", "conversationId", "participant")
BOT_MESSAGE_FIELDS = {kind: frozenset(_COMMON_FIELDS + extra) for kind, extra in (
    (SESSION_ACCEPTED, ("mediaFormat",)), (SESSION_ERROR, ("reason", "reasonCode")),
    (USER_STREAM_STARTED, ()), (USER_STREAM_STOPPED, ()), (SPEECH_STARTED, ()), (SPEECH_STOPPED, ()),
    (SPEECH_COMMITTED, ()), (SPEECH_HYPOTHESIS, ("alternatives", "text")),
    (SPEECH_RECOGNITION, ("alternatives", "text")), (PLAY_STREAM_START, ("streamId", "mediaFormat", "altText")),
    (PLAY_STREAM_CHUNK, ("streamId", "audioChunk")), (PLAY_STREAM_STOP, ("streamId",)),
    (ACTIVITIES, ("activities",)), (CONNECTION_VALIDATED, ("success",)),
)}
_KNOWN_TYPES = frozenset(KNOWN_MESSAGE_TYPES)
_CANONICAL_TYPE = {name.lower(): name for name in KNOWN_MESSAGE_TYPES}
_CANONICAL_ACTIVITY = {name.lower(): name for name in KNOWN_ACTIVITY_NAMES}

# Largest text frame we are willing to parse; a flooding or broken peer cannot make us allocate more.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class ProtocolError(ValueError):
    """A message from the peer we cannot act on (not JSON, no type, a needed field of the wrong shape)."""


@dataclass
class Activity:
    """One entry of an `activities` message, with its name in canonical spelling (None for messages)."""

    type: str
    name: Optional[str]
    data: dict = field(repr=False)

    @property
    def params(self) -> dict:
        params = self.data.get("activityParams")
        return params if isinstance(params, dict) else {}

    @property
    def value(self) -> Any:
        return self.data.get("value")

    @property
    def text(self) -> Optional[str]:
        text = self.data.get("text")
        return text if isinstance(text, str) else None


@dataclass(slots=True)
class Message:
    """A parsed frame: `type` in canonical spelling when known, otherwise as received."""

    type: str
    data: dict = field(repr=False)

    @property
    def known(self) -> bool:
        return self.type in _KNOWN_TYPES

    def get_str(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """A string field; a present field of another type is a protocol error, absence gives default."""
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise ProtocolError(f"{self.type}: field '{key}' must be a string, got {type(value).__name__}")
        return value

    def stream_id(self) -> Optional[str]:
        value = self.data.get("streamId")
        if value is None:
            return None
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        raise ProtocolError(f"{self.type}: field 'streamId' must be a string or number")

    def audio(self) -> bytes:
        """The decoded `audioChunk`; a chunk without valid base64 audio is a protocol error."""
        chunk = self.data.get("audioChunk")
        if not isinstance(chunk, str):
            raise ProtocolError(f"{self.type}: field 'audioChunk' must be a base64 string")
        try:
            return base64.b64decode(chunk, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(f"{self.type}: field 'audioChunk' is not valid base64 ({exc})") from None

    def audio_size(self) -> int:
        """`len(self.audio())`, and the same ProtocolError, without decoding: most agent chunks are only
        counted, and decoding them was ~8% of a caller's CPU (a check by `bytes.translate` costs a fifth).
        Plain canonical base64 takes the quick path; anything else is decoded to get `audio`'s answer."""
        chunk = self.data.get("audioChunk")
        if isinstance(chunk, str) and chunk.isascii():
            size = _plain_base64_size(chunk.encode("ascii"))
            if size is not None:
                return size
        return len(self.audio())

    def activities(self) -> list[Activity]:
        raw = self.data.get("activities")
        if not isinstance(raw, list):
            raise ProtocolError(f"{self.type}: field 'activities' must be a list")
        parsed = []
        for index, item in enumerate(raw):
            if not isinstance(item, dict):
                raise ProtocolError(f"{self.type}: activities[{index}] must be an object")
            kind = item.get("type", "event")
            if not isinstance(kind, str):
                raise ProtocolError(f"{self.type}: activities[{index}].type must be a string")
            name = item.get("name")
            if name is not None and not isinstance(name, str):
                raise ProtocolError(f"{self.type}: activities[{index}].name must be a string")
            canonical = _CANONICAL_ACTIVITY.get(name.lower(), name) if name else None
            parsed.append(Activity(type=kind, name=canonical, data=item))
        return parsed

    def recognized_text(self) -> Optional[str]:
        """Best text of a speech hypothesis / recognition: `alternatives[0].text`, or a flat `text`."""
        alternatives = self.data.get("alternatives")
        if isinstance(alternatives, list) and alternatives:
            first = alternatives[0]
            if isinstance(first, dict) and isinstance(first.get("text"), str):
                return first["text"]
        text = self.data.get("text")
        return text if isinstance(text, str) else None

    def success(self) -> bool:
        return self.data.get("success") is True


def parse_message(raw: Union[str, bytes]) -> Message:
    """Parse one text frame. Raises ProtocolError for anything that is not a JSON object with a string type.

    Every agent chunk (50 a second per call) comes through here, and the stdlib's ~2.7 µs per chunk was
    the largest Python cost of receiving. orjson takes ~0.6 µs and reads the UTF-8 bytes directly. Where
    its answer could differ from the stdlib's (it refuses NaN, lone surrogates and very deep nesting, and
    turns integers past 64 bits into floats), the frame goes the stdlib way: anything orjson refuses, and
    anything holding a float. So the answers and the errors are the stdlib's.
    """
    is_bytes = isinstance(raw, (bytes, bytearray))
    if len(raw) > MAX_MESSAGE_BYTES:
        unit = "bytes" if is_bytes else "characters"
        raise ProtocolError(f"frame of {len(raw)} {unit} exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        data = orjson.loads(raw)
        same = type(data) is dict and _floatless(data)
    except (orjson.JSONDecodeError, RecursionError):  # deep nesting: the stdlib decides, as it always did
        same = False
    if same:
        return _message(data)
    if is_bytes:
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("binary frame is not UTF-8 JSON") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not JSON ({str(exc)[:80]})") from None
    return _message(data)


class ChunkTemplate:
    """The bytes around the audio of one stream's chunks, so later chunks can be counted without parsing.

    A bridge writes every chunk of a stream the same way: only the base64 differs. Once a chunk has been
    parsed, a later frame that has the same bytes before and after its audio, and plain base64 in between,
    is the same message with other audio, because base64 holds no quote, backslash or control character
    that could end or escape the JSON string. Such a frame's audio size is the whole answer, at about a
    third of the cost of parsing it; any other frame gets None and goes the full way.
    """

    __slots__ = ("prefix", "suffix", "_fixed")

    def __init__(self, prefix: bytes, suffix: bytes) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self._fixed = len(prefix) + len(suffix)

    @classmethod
    def learn(cls, payload: bytes, message: Message) -> Optional["ChunkTemplate"]:
        """The template of `payload`, the frame `message` was parsed from; None unless its audio is written
        plainly, as the value of the one "audioChunk" key in the frame."""
        chunk = message.data.get("audioChunk")
        if not isinstance(payload, bytes) or not isinstance(chunk, str) or not chunk.isascii():
            return None
        audio_b64 = chunk.encode("ascii")
        start = payload.find(audio_b64)
        if (start < 0 or payload.count(b'"audioChunk"') != 1 or payload.count(audio_b64) != 1
                or _plain_base64_size(audio_b64) is None):
            return None
        prefix, suffix = payload[:start], payload[start + len(audio_b64):]
        if not prefix.endswith((b'"audioChunk":"', b'"audioChunk": "')) or not suffix.startswith(b'"'):
            return None
        return cls(prefix, suffix)

    def audio_size(self, payload: bytes) -> Optional[int]:
        """Bytes of audio in `payload` if it is a chunk of this template, else None."""
        if not (payload.startswith(self.prefix) and payload.endswith(self.suffix)) or len(payload) < self._fixed:
            return None
        return _plain_base64_size(payload[len(self.prefix):len(payload) - len(self.suffix)])


def _plain_base64_size(text: bytes) -> Optional[int]:
    """Decoded length of canonical, unbroken base64 (what `base64.b64decode(validate=True)` would accept
    in its simplest form), or None when only decoding can tell."""
    padding = text.translate(None, _BASE64_ALPHABET)
    if len(text) % 4 == 0 and padding in _BASE64_PADDINGS and text.endswith(padding):
        return len(text) // 4 * 3 - len(padding)
    return None


def _floatless(value: Any) -> bool:
    """Whether a parsed value holds no float anywhere (a flat message's values are checked inline)."""
    kind = type(value)
    if kind is dict:
        for item in value.values():
            kind = type(item)
            if kind is float or ((kind is dict or kind is list) and not _floatless(item)):
                return False
        return True
    if kind is list:
        return all(map(_floatless, value))
    return kind is not float


def _message(data: Any) -> Message:
    if not isinstance(data, dict):
        raise ProtocolError("frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError("frame has no string 'type'")
    if kind not in _KNOWN_TYPES:
        kind = _CANONICAL_TYPE.get(kind.lower(), kind)
    return Message(type=kind, data=data)


def encode(message: dict) -> str:
    """Serialise a message built by this module (compact separators: chunks are the hot path)."""
    return json.dumps(message, separators=(",", ":"))


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- caller -> bot -------------------------------------------------------------------------------------

def session_initiate(conversation_id: str, bot_name: str, caller: str,
                     media_formats: Iterable[str] = (DEFAULT_MEDIA_FORMAT,)) -> dict:
    return {
        "type": SESSION_INITIATE,
        "conversationId": conversation_id,
        "botName": bot_name,
        "caller": caller,
        "expectAudioMessages": True,
        "supportedMediaFormats": list(media_formats),
    }


def session_resume(conversation_id: str) -> dict:
    return {"type": SESSION_RESUME, "conversationId": conversation_id}


def session_end(conversation_id: str, reason_code: str = "client-disconnected",
                reason: str = "Caller hung up") -> dict:
    return {"type": SESSION_END, "conversationId": conversation_id, "reasonCode": reason_code, "reason": reason}


def start_activity(conversation_id: str, caller: str, callee: str, caller_display_name: str,
                   language: str = DEFAULT_LANGUAGE, activity_id: str = "start-1",
                   extra_parameters: Optional[dict] = None) -> dict:
    parameters = {"locale": language, "caller": caller, "callee": callee, "callerDisplayName": caller_display_name}
    parameters.update(extra_parameters or {})
    return {
        "type": ACTIVITIES,
        "conversationId": conversation_id,
        "activities": [{
            "type": "event", "name": ACTIVITY_START, "id": activity_id, "timestamp": utc_timestamp(),
            "language": language, "parameters": parameters,
        }],
    }


def dtmf_activity(conversation_id: str, digits: str, activity_id: str = "dtmf-1") -> dict:
    return {
        "type": ACTIVITIES,
        "conversationId": conversation_id,
        "activities": [{"type": "event", "name": ACTIVITY_DTMF, "id": activity_id,
                        "timestamp": utc_timestamp(), "value": digits}],
    }


def hangup_activity(conversation_id: str) -> dict:
    """The caller ending the call, told as an event before session.end (bots that free the call's resources
    on either see it)."""
    return {
        "type": ACTIVITIES,
        "conversationId": conversation_id,
        "activities": [{"type": "event", "name": ACTIVITY_HANGUP, "id": "hangup-1", "timestamp": utc_timestamp()}],
    }


def user_stream_start(conversation_id: str) -> dict:
    return {"type": USER_STREAM_START, "conversationId": conversation_id}


def user_stream_chunk(conversation_id: str, audio: bytes) -> dict:
    return {"type": USER_STREAM_CHUNK, "conversationId": conversation_id,
            "audioChunk": base64.b64encode(audio).decode("ascii")}


def user_stream_chunk_frame(conversation_id: str, audio_b64: str) -> str:
    """An encoded userStream.chunk from already-base64 audio: the per-frame hot path skips json.dumps.

    conversation ids and base64 need no JSON escaping (we generate the ids), so plain formatting is exact.
    """
    return f'{{"type":"{USER_STREAM_CHUNK}","conversationId":"{conversation_id}","audioChunk":"{audio_b64}"}}'


def user_stream_stop(conversation_id: str) -> dict:
    return {"type": USER_STREAM_STOP, "conversationId": conversation_id}


def connection_validate() -> dict:
    return {"type": CONNECTION_VALIDATE}


# ---- bot -> caller (used by the reference bridge and the tests' peers) ---------------------------------

def session_accepted(conversation_id: str, media_format: str = DEFAULT_MEDIA_FORMAT) -> dict:
    return {"type": SESSION_ACCEPTED, "conversationId": conversation_id, "mediaFormat": media_format}


def session_error(conversation_id: str, reason: str) -> dict:
    return {"type": SESSION_ERROR, "conversationId": conversation_id, "reason": reason}


def connection_validated(success: bool = True) -> dict:
    return {"type": CONNECTION_VALIDATED, "success": success}


def simple(kind: str, conversation_id: str, **fields: Any) -> dict:
    """Messages that carry nothing but their type (acks, VAD events) plus optional extra fields."""
    message = {"type": kind, "conversationId": conversation_id}
    message.update(fields)
    return message


def speech_recognition(conversation_id: str, text: str, confidence: float = 0.9,
                       final: bool = True) -> dict:
    kind = SPEECH_RECOGNITION if final else SPEECH_HYPOTHESIS
    return {"type": kind, "conversationId": conversation_id,
            "alternatives": [{"text": text, "confidence": round(confidence, 3)}]}


def play_stream_start(conversation_id: str, stream_id: str, media_format: str = DEFAULT_MEDIA_FORMAT,
                      alt_text: Optional[str] = None) -> dict:
    message = {"type": PLAY_STREAM_START, "conversationId": conversation_id, "streamId": stream_id,
               "mediaFormat": media_format}
    if alt_text is not None:
        message["altText"] = alt_text
    return message


def play_stream_chunk(conversation_id: str, stream_id: str, audio: bytes) -> dict:
    return {"type": PLAY_STREAM_CHUNK, "conversationId": conversation_id, "streamId": stream_id,
            "audioChunk": base64.b64encode(audio).decode("ascii")}


def play_stream_stop(conversation_id: str, stream_id: str) -> dict:
    return {"type": PLAY_STREAM_STOP, "conversationId": conversation_id, "streamId": stream_id}


def bot_activity(conversation_id: str, name: str, activity_params: Optional[dict] = None,
                 session_params: Optional[dict] = None, value: Any = None) -> dict:
    activity: dict = {"type": "event", "name": name, "id": f"{name}-1", "timestamp": utc_timestamp()}
    if activity_params is not None:
        activity["activityParams"] = activity_params
    if session_params is not None:
        activity["sessionParams"] = session_params
    if value is not None:
        activity["value"] = value
    return {"type": ACTIVITIES, "conversationId": conversation_id, "activities": [activity]}
