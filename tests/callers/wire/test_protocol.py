"""The bot-protocol codec: what we build is what the SDK expects; what we accept never crashes us."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callers.wire import protocol
from callers.wire.protocol import ProtocolError, parse_message


def test_session_initiate_carries_what_the_sdk_reads():
    message = protocol.session_initiate("c1", "bot", "+1555", ["raw/lpcm16", "raw/mulaw"])
    assert message == {"type": "session.initiate", "conversationId": "c1", "botName": "bot", "caller": "+1555",
                       "expectAudioMessages": True, "supportedMediaFormats": ["raw/lpcm16", "raw/mulaw"]}


def test_start_activity_shape():
    message = protocol.start_activity("c1", "+1555", "bank", "Mary", language="de-DE",
                                      extra_parameters={"scenarioType": "complaint"})
    (activity,) = message["activities"]
    assert activity["type"] == "event" and activity["name"] == "start" and activity["language"] == "de-DE"
    assert activity["parameters"] == {"locale": "de-DE", "caller": "+1555", "callee": "bank",
                                      "callerDisplayName": "Mary", "scenarioType": "complaint"}
    assert activity["timestamp"].endswith("Z")


@pytest.mark.parametrize("build", [
    lambda: protocol.session_end("c1"), lambda: protocol.user_stream_start("c1"),
    lambda: protocol.user_stream_stop("c1"), lambda: protocol.dtmf_activity("c1", "123"),
    lambda: protocol.session_resume("c1"), lambda: protocol.user_stream_chunk("c1", b"\x00\x01"),
])
def test_every_caller_message_round_trips_and_carries_the_conversation(build):
    message = build()
    parsed = parse_message(protocol.encode(message))
    assert parsed.type == message["type"] and parsed.data == message
    assert parsed.data["conversationId"] == "c1"


@given(st.binary(max_size=2000), st.text(alphabet="0123456789abcdef", min_size=1, max_size=32))
def test_fast_chunk_frame_equals_the_generic_encoding(audio, conversation_id):
    encoded = base64.b64encode(audio).decode()
    fast = protocol.user_stream_chunk_frame(conversation_id, encoded)
    assert json.loads(fast) == protocol.user_stream_chunk(conversation_id, audio)
    assert parse_message(fast).audio() == audio


def test_names_match_case_insensitively_and_unknowns_pass_through():
    assert parse_message('{"type":"PLAYSTREAM.START","streamId":7}').type == protocol.PLAY_STREAM_START
    assert parse_message('{"type":"playstream.start","streamId":7}').stream_id() == "7"
    unknown = parse_message('{"type":"vendor.thing","x":1}')
    assert unknown.type == "vendor.thing" and not unknown.known
    (activity,) = parse_message('{"type":"activities","activities":[{"type":"event","name":"HANGUP"}]}').activities()
    assert activity.name == protocol.ACTIVITY_HANGUP
    (odd,) = parse_message('{"type":"activities","activities":[{"name":"somethingNew","value":3}]}').activities()
    assert odd.name == "somethingNew" and odd.value == 3


def test_recognition_text_in_both_shapes():
    message = parse_message(protocol.encode(protocol.speech_recognition("c", "I lost my card", 0.8)))
    assert message.recognized_text() == "I lost my card"
    assert parse_message('{"type":"userStream.speech.recognition","text":"flat"}').recognized_text() == "flat"
    assert parse_message('{"type":"userStream.speech.recognition","alternatives":[]}').recognized_text() is None


@pytest.mark.parametrize("raw,needle", [
    ("not json", "not JSON"), ("[1,2]", "not a JSON object"), ('{"no":"type"}', "no string 'type'"),
    ('{"type":5}', "no string 'type'"), (b"\xff\xfe", "UTF-8"),
])
def test_malformed_frames_raise_protocol_error(raw, needle):
    with pytest.raises(ProtocolError, match=needle):
        parse_message(raw)


@pytest.mark.parametrize("raw,call", [
    ('{"type":"playStream.chunk","audioChunk":"@@@"}', lambda m: m.audio()),
    ('{"type":"playStream.chunk","audioChunk":5}', lambda m: m.audio()),
    ('{"type":"playStream.start","streamId":[1]}', lambda m: m.stream_id()),
    ('{"type":"playStream.start","altText":{}}', lambda m: m.get_str("altText")),
    ('{"type":"activities","activities":"x"}', lambda m: m.activities()),
    ('{"type":"activities","activities":[5]}', lambda m: m.activities()),
    ('{"type":"activities","activities":[{"name":7}]}', lambda m: m.activities()),
])
def test_wrong_field_shapes_raise_protocol_error(raw, call):
    with pytest.raises(ProtocolError):
        call(parse_message(raw))


def test_oversized_frames_are_refused_before_parsing():
    with pytest.raises(ProtocolError, match="exceeds"):
        parse_message("x" * (protocol.MAX_MESSAGE_BYTES + 1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
known_types = st.sampled_from(protocol.KNOWN_MESSAGE_TYPES)
fields = st.dictionaries(st.sampled_from(["audioChunk", "streamId", "altText", "mediaFormat", "activities",
                                          "alternatives", "text", "reason", "success"]), json_values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(known_types, fields)
def test_any_mutated_bot_message_parses_or_raises_protocol_error_only(kind, extra):
    raw = json.dumps({"type": kind, **extra})
    message = parse_message(raw)
    for accessor in (lambda: message.audio(), message.stream_id, message.activities, message.recognized_text,
                     lambda: message.get_str("altText"), message.success):
        try:
            accessor()
        except ProtocolError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_random_frames_never_raise_anything_but_protocol_error(raw):
    try:
        parse_message(raw)
    except ProtocolError:
        pass


def _audio_answer(message: protocol.Message, accessor):
    try:
        return accessor(message)
    except ProtocolError as exc:
        return ("ProtocolError", str(exc))


_BASE64_ISH = st.text(alphabet="ABCXYZabcxyz0189+/=-_ \n\u00e9", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()), _BASE64_ISH,
                 st.integers(), st.none()))
def test_audio_size_answers_as_decoding_would(chunk):
    message = protocol.Message("playStream.chunk", {"audioChunk": chunk})
    decoded = _audio_answer(message, lambda m: len(m.audio()))
    assert _audio_answer(message, protocol.Message.audio_size) == decoded


@pytest.mark.parametrize("chunk", ["", "AA==", "AAA=", "AAAA", "A===", "====", "AA=A", "A=A=", "AAAA=", "AA==AA==",
                                   "AAA", " AAAA", "AA\nAA", "ÀAAA"])
def test_audio_size_edge_cases_answer_as_decoding_would(chunk):
    message = protocol.Message("playStream.chunk", {"audioChunk": chunk})
    assert _audio_answer(message, protocol.Message.audio_size) == _audio_answer(message, lambda m: len(m.audio()))


def _parse_answer(raw):
    try:
        message = parse_message(raw)
    except ProtocolError as exc:
        return ("ProtocolError", str(exc))
    return (message.type, repr(message.data))  # repr tells 1 from 1.0 and -0.0 from 0.0, and nan equals nan


def _stdlib_answer(raw):
    """What parse_message answered when it parsed with the stdlib alone."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return ("ProtocolError", "binary frame is not UTF-8 JSON")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return ("ProtocolError", f"frame is not JSON ({str(exc)[:80]})")
    if not isinstance(data, dict):
        return ("ProtocolError", "frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        return ("ProtocolError", "frame has no string 'type'")
    return (protocol._CANONICAL_TYPE.get(kind.lower(), kind), repr(data))


# Values where orjson and the stdlib disagree: integers past 64 bits, NaN and infinities, lone surrogates.
_awkward_leaves = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63 - 2, max_value=2**70)
                   | st.integers(min_value=-2**70, max_value=-2**63 + 2) | st.floats()
                   | st.text(max_size=12) | st.sampled_from(["\ud800", "a\udfffb", "\x00", "é😀"]))
_awkward_values = st.recursive(
    _awkward_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(["playStream.chunk", "PLAYSTREAM.CHUNK", "activities", "", "x"]) | _awkward_leaves,
       st.dictionaries(st.sampled_from(["audioChunk", "streamId", "activities", "alternatives", "n", "type2"]),
                       _awkward_values, max_size=4),
       st.booleans(), st.booleans())
def test_parse_answers_as_the_stdlib_would(kind, fields, ascii_only, as_bytes):
    text = json.dumps({"type": kind, **fields}, ensure_ascii=ascii_only)
    raw = text.encode("utf-8", "surrogatepass") if as_bytes else text
    assert _parse_answer(raw) == _stdlib_answer(raw)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200) | _awkward_values.map(json.dumps))
def test_parse_of_anything_answers_as_the_stdlib_would(raw):
    assert _parse_answer(raw) == _stdlib_answer(raw)


@pytest.mark.parametrize("depth", [10, 500, 900, 990, 1020, 1100, 5000])
def test_deep_nesting_answers_as_the_stdlib_would(depth):
    raw = '{"type":"x","n":' + "[" * depth + "]" * depth + "}"
    assert _parse_answer(raw) == _stdlib_answer(raw)
    assert _parse_answer(raw.encode()) == _stdlib_answer(raw.encode())


def _bridge_chunk(audio_b64: str, spaced: bool = False, stream_id="1") -> bytes:
    message = {"type": "playStream.chunk", "conversationId": "c-1", "streamId": stream_id, "audioChunk": audio_b64}
    return json.dumps(message, separators=None if spaced else (",", ":")).encode()


@pytest.mark.parametrize("spaced", [False, True])
def test_a_chunk_template_counts_later_chunks_as_parsing_would(spaced):
    first = _bridge_chunk(base64.b64encode(b"\x01" * 640).decode(), spaced)
    template = protocol.ChunkTemplate.learn(first, parse_message(first))
    assert template is not None
    for size in (0, 1, 2, 3, 640, 641, 1000):
        later = _bridge_chunk(base64.b64encode(b"\x02" * size).decode(), spaced)
        assert template.audio_size(later) == parse_message(later).audio_size() == size


@pytest.mark.parametrize("payload", [
    b'{"type":"playStream.chunk","audioChunk":"AAAA","x":{"audioChunk":"BBBB"}}',  # the key twice
    b'{"type":"playStream.chunk","x":"AAAA","audioChunk":"AAAA"}',  # the audio twice
    b'{"type":"playStream.chunk","audioChunk":"\\u0041AAA"}',  # escaped: not written plainly
    b'{"type":"playStream.chunk","audioChunk":"AA AA"}',  # not plain base64
    b'{"type":"playStream.chunk","audioChunk":""}',  # nothing to find
    b'{"type":"playStream.chunk","audioChunk":7}',
])
def test_a_chunk_template_is_only_learnt_from_plainly_written_audio(payload):
    assert protocol.ChunkTemplate.learn(payload, parse_message(payload)) is None


@pytest.mark.parametrize("other", [
    _bridge_chunk("AAAA", stream_id="2"),  # another stream's framing
    b'{"type":"playStream.stop","conversationId":"c-1","streamId":"1"}',
    _bridge_chunk("AA\\nA"), _bridge_chunk('AA\\"A'), _bridge_chunk("AAA"), _bridge_chunk("A=AA"),
    _bridge_chunk("AAAA")[:-1],
])
def test_a_chunk_template_refuses_what_it_cannot_vouch_for(other):
    first = _bridge_chunk("AAAA")
    assert protocol.ChunkTemplate.learn(first, parse_message(first)).audio_size(other) is None


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=64) | st.text(alphabet='ABCab01+/="\\ \n}{,:', max_size=24).map(str.encode),
       st.booleans())
def test_whatever_a_chunk_template_counts_parses_to_the_same_chunk(middle, spaced):
    first = _bridge_chunk("QUJD", spaced)
    template = protocol.ChunkTemplate.learn(first, parse_message(first))
    payload = template.prefix + middle + template.suffix
    size = template.audio_size(payload)
    if size is None:
        return
    message = parse_message(payload)
    assert message.type == "playStream.chunk" and message.audio_size() == size == len(message.audio())
    assert {**message.data, "audioChunk": "QUJD"} == parse_message(first).data
