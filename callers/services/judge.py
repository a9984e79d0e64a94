"""CallJudge (--judge): after a call, a text model decides each success criterion from the transcript.

The rule-based goal tracker only sees phrases it was taught; an agent that says "your fee is back on your
account" in its own words can meet a criterion the rules miss. The judge reads the whole transcript and
answers in a fixed JSON schema (structured output), one verdict per criterion with the line it rests on.
Its verdicts are stored beside the rule-based ones (`judge` in the CallResult) and never change `success`:
a run stays comparable whether or not it was judged. A quote that is not in the transcript is flagged.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Optional

from callers.results import CallResult, JudgeResult, Verdict
from callers.scenario.goals import CallerGoal
from callers.services import pricing
from callers.services.realtime_session import RealtimeSettings, openai_client, scrub

log = logging.getLogger(__name__)

DEFAULT_JUDGE_MODEL = "gpt-4.1-mini"
JUDGE_TIMEOUT_S = 60.0
INSTRUCTIONS = (
    "You review a recorded phone call between a CALLER and a company's voice AGENT. For each success criterion "
    "you are given, decide whether the AGENT's words in the transcript meet it. Judge only what was said. For "
    "each criterion quote, verbatim, the one transcript line (with its speaker prefix) that best supports your "
    "decision; if nothing supports it being met, quote the closest line and answer met=false.")
VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"criteria": {"type": "array", "items": {
        "type": "object",
        "properties": {"criterion": {"type": "string"}, "met": {"type": "boolean"}, "evidence": {"type": "string"}},
        "required": ["criterion", "met", "evidence"], "additionalProperties": False}}},
    "required": ["criteria"], "additionalProperties": False,
}


def transcript_lines(result: CallResult) -> list[str]:
    """The call as the caller experienced it, one `SPEAKER: words` line per utterance."""
    lines = [f"AGENT: {result.greeting_text}"] if result.greeting_text else []
    for turn in result.turn_records:
        caller_text = turn["caller_text"] if isinstance(turn, dict) else turn.caller_text
        agent_text = turn["agent_text"] if isinstance(turn, dict) else turn.agent_text
        if caller_text:
            lines.append(f"CALLER: {caller_text}")
        if agent_text:
            lines.append(f"AGENT: {agent_text}")
    return lines


class CallJudge:
    """One judge per run (its client is shared); `judge` fills `result.judge` and adds its tokens to usage."""

    def __init__(self, settings: RealtimeSettings, model: str = DEFAULT_JUDGE_MODEL) -> None:
        self.settings = settings
        self.model = model

    def judge(self, result: CallResult, goal: CallerGoal) -> None:
        criteria = list(goal.success_criteria) or [goal.primary_goal]
        lines = transcript_lines(result)
        if not lines:
            result.judge = JudgeResult(model=self.model, error="nothing was said on the call")
            return
        task = {"goal": goal.primary_goal, "criteria": criteria, "transcript": lines}
        try:
            completion = self._ask(task)
        except Exception as exc:  # noqa: BLE001 - a failed verdict is recorded, the call result still stands
            result.judge = JudgeResult(model=self.model, error=self._describe(exc))
            return
        if completion.usage is not None:
            result.usage = result.usage or {}
            pricing.add_tokens(result.usage, "judge", self.model, pricing.chat_tokens(completion.usage.model_dump()))
        result.judge = self._verdicts(completion, criteria, lines)

    def _ask(self, task: dict) -> Any:
        client = openai_client(self.settings)
        return client.chat.completions.create(
            model=self.model, temperature=0, timeout=JUDGE_TIMEOUT_S,
            messages=[{"role": "system", "content": INSTRUCTIONS},
                      {"role": "user", "content": json.dumps(task)}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "call_verdicts", "strict": True, "schema": VERDICT_SCHEMA}})

    def _verdicts(self, completion: Any, criteria: list[str], lines: list[str]) -> JudgeResult:
        try:
            answer = json.loads(completion.choices[0].message.content or "")
            given = {item["criterion"]: item for item in answer["criteria"]}
        except (ValueError, KeyError, TypeError, IndexError):
            return JudgeResult(model=self.model, error="the judge's answer did not follow the verdict schema")
        said = "\n".join(lines)
        verdicts = []
        for criterion in criteria:
            item: Optional[dict] = given.get(criterion)
            if item is None:
                verdicts.append(Verdict(criterion=criterion, met=None))
                continue
            evidence = str(item.get("evidence", "")).strip()
            verdicts.append(Verdict(criterion=criterion, met=bool(item.get("met")), evidence=evidence,
                                    evidence_found=bool(evidence) and _unquoted(evidence) in said))
        return JudgeResult(model=self.model, verdicts=verdicts, all_met=all(v.met is True for v in verdicts))

    def _describe(self, exc: Exception) -> str:
        status = getattr(exc, "status_code", None)
        kind = type(exc).__name__
        detail = f"HTTP {status}" if status else scrub(str(exc) or kind, self.settings.api_key)
        return f"judge failed ({kind}: {detail})"


def _unquoted(evidence: str) -> str:
    return evidence.strip().strip('"').strip("'").strip()
