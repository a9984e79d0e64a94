"""CallResult's typed parts (error, usage, judge) keep the JSON a results file has always held, byte for byte."""
from __future__ import annotations

import json

import pytest

from callers.results import CallError, CallResult, JudgeResult, TokenUsage, Verdict, read_results
from callers.services import pricing

# The parts as the dict-built CallResult wrote them: key order included.
ERROR = {"category": "brain_error", "message": "OpenAI Realtime refused the session (HTTP 429)"}
USAGE = {"transcription": {"model": "gpt-4o-mini-transcribe", "responses": 1, "input_text": 0, "cached_text": 0,
                           "input_audio": 7, "cached_audio": 0, "output_text": 3, "output_audio": 0},
         "realtime": {"model": "gpt-realtime", "responses": 2, "input_text": 408, "cached_text": 192,
                      "input_audio": 136, "cached_audio": 64, "output_text": 40, "output_audio": 300}}
JUDGE = {"model": "gpt-4.1-mini", "verdicts": [
    {"criterion": "hours provided", "met": True, "evidence": "We open at nine.", "evidence_found": True},
    {"criterion": "services explained", "met": None, "evidence": "", "evidence_found": False}], "all_met": False}
JUDGE_FAILED = {"model": "gpt-4.1-mini", "error": "judge failed (APITimeoutError: HTTP 504)"}


def base(**parts) -> CallResult:
    return CallResult(call_id="c1", caller_name="Caller 1", personality="normal", scenario="s",
                      scenario_type="general_inquiry", started_at="2026-11-25T10:00:00.000+00:00",
                      bridge="ws://127.0.0.1:1/ws", duration_s=12.5, cost_usd=0.0123, **parts)


def old_line(**parts: dict) -> str:
    """The line the dict-built CallResult wrote: every other field as it is, the parts as literal dicts."""
    record = base().to_dict()
    record.update(parts)
    return json.dumps(record, separators=(",", ":"))


@pytest.mark.parametrize("parts", [
    {"error": ERROR, "usage": USAGE, "judge": JUDGE},
    {"error": None, "usage": None, "judge": JUDGE_FAILED},
    {"error": ERROR, "usage": None, "judge": None},
], ids=["every part", "judge failed", "error only"])
def test_an_old_line_reads_into_typed_parts_and_writes_back_the_same_bytes(parts, tmp_path):
    line = old_line(**parts)
    path = tmp_path / "calls.jsonl"
    path.write_text(line + "\n")
    [result] = read_results(path)
    assert result.to_json() == line
    if parts["error"]:
        assert result.error == CallError(ERROR["category"], ERROR["message"])
        assert result.error_category == "brain_error"
    if parts["usage"]:
        assert isinstance(result.usage["realtime"], TokenUsage) and result.usage["realtime"].output_audio == 300
    if parts["judge"] is JUDGE_FAILED:
        assert result.judge == JudgeResult(model="gpt-4.1-mini", error=JUDGE_FAILED["error"])


def test_parts_built_by_the_code_write_the_same_json_as_the_old_dicts():
    usage: dict[str, TokenUsage] = {}
    pricing.add_tokens(usage, "transcription", "gpt-4o-mini-transcribe", {"input_audio": 7, "output_text": 3})
    pricing.add_tokens(usage, "realtime", "gpt-realtime", {"input_text": 204, "cached_text": 96, "input_audio": 68,
                                                           "cached_audio": 32, "output_text": 20, "output_audio": 150})
    pricing.add_tokens(usage, "realtime", "gpt-realtime", {"input_text": 204, "cached_text": 96, "input_audio": 68,
                                                           "cached_audio": 32, "output_text": 20, "output_audio": 150})
    judge = JudgeResult(model="gpt-4.1-mini", all_met=False, verdicts=[
        Verdict("hours provided", True, "We open at nine.", True), Verdict("services explained", None)])
    typed = base(error=CallError(ERROR["category"], ERROR["message"]), usage=usage, judge=judge)
    assert typed.to_json() == old_line(error=ERROR, usage=USAGE, judge=JUDGE)


def test_a_dict_given_to_the_constructor_becomes_its_type():
    result = base(error=dict(ERROR), usage={"judge": {"model": "m", "responses": 1}}, judge=dict(JUDGE_FAILED))
    assert isinstance(result.error, CallError) and result.error.message == ERROR["message"]
    assert result.usage["judge"] == TokenUsage(model="m", responses=1)
    assert result.judge.error == JUDGE_FAILED["error"] and result.judge.verdicts == []


def test_an_unknown_token_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown token kind 'input_video'"):
        pricing.add_tokens({}, "realtime", "gpt-realtime", {"input_video": 1})


def test_a_line_whose_error_has_no_category_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text(old_line(error={"message": "no category"}) + "\n" + old_line(error=ERROR) + "\n")
    assert [result.error_category for result in read_results(path)] == ["brain_error"]


def test_a_last_line_torn_inside_a_character_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "calls.jsonl"
    torn = old_line(error=ERROR).replace('"', '"ñ', 1).encode("utf-8")
    path.write_bytes(old_line(error=ERROR).encode("utf-8") + b"\n" + torn[:torn.index("ñ".encode()) + 1])
    assert [result.error_category for result in read_results(path)] == ["brain_error"]


def test_a_line_with_the_retired_per_turn_ear_still_reads(tmp_path):
    record = base().to_dict()
    record["turn_records"] = [{"index": 1, "caller_text": "hello", "caller_speech_start": 1.0,
                               "caller_speech_end": 2.0, "agent_text": "hi", "ear": "none"}]
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [result] = read_results(path)
    assert result.turn_records[0].agent_text == "hi"
    assert "ear" not in result.to_dict()["turn_records"][0]
