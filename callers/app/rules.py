"""The rules across options that both faces (caller_cli.py / batch_caller_test.py and the locustfile) apply:
which TLS trust a run asks for, and which OpenAI settings (and key) its brain and judge need.

Kept apart from each face's parser so a rule is written once: the CLI applies it after argparse, the locustfile
at init and when the web UI starts a run.
"""
from __future__ import annotations

from typing import Any, Optional

from callers.scenario.goals import LEARNED
from callers.services.judge import CallJudge
from callers.services.realtime_session import MissingKey, RealtimeSettings, openai_client, settings_from_env
from callers.transport import tls

INSECURE_WARNING = tls.INSECURE_WARNING

__all__ = ["INSECURE_WARNING", "MissingKey", "connection_problem", "needs_openai", "openai_problem",
           "openai_settings", "prepare_openai", "verdicts_problem"]


def connection_problem(ca_file: Optional[str], insecure: bool) -> Optional[str]:
    """What is wrong with --ca-file / --insecure together, or None: trust a CA or skip verification, not both,
    and a CA file must be a readable PEM bundle."""
    if ca_file and insecure:
        return "--ca-file and --insecure contradict each other: trust a CA, or skip verification, not both"
    if ca_file:
        try:
            tls.check_ca_file(ca_file)
        except ValueError as exc:
            return f"--ca-file: {exc}"
    return None


def needs_openai(options: Any) -> bool:
    """Whether the options ask for a paid OpenAI service (a Realtime brain or the judge)."""
    return options.brain == "realtime" or bool(options.judge)


def openai_settings(options: Any) -> tuple[Optional[RealtimeSettings], Optional[CallJudge]]:
    """The Realtime settings and judge `options` (brain, model, voice, openai_base_url, max_realtime_sessions,
    judge, judge_model) ask for; MissingKey, one clear line, when they need a key that is not set."""
    if not needs_openai(options):
        return None, None
    openai = settings_from_env(options.model, options.voice, options.openai_base_url,
                               options.max_realtime_sessions or None,
                               needed_by="--brain realtime" if options.brain == "realtime" else "--judge")
    judge = CallJudge(openai, options.judge_model) if options.judge else None
    return (openai if options.brain == "realtime" else None), judge


def openai_problem(options: Any) -> Optional[str]:
    """The missing-key message when the options need OpenAI without a key, else None."""
    try:
        openai_settings(options)
    except MissingKey as exc:
        return str(exc)
    return None


def verdicts_problem(verdicts: str) -> Optional[str]:
    """Why --verdicts cannot be used here (its model is not installed), or None. Loads the learned judge now,
    so no call waits for it."""
    if verdicts != LEARNED:
        return None
    from callers.scenario.learned_judge import shared_judge
    from callers.scenario.sentence_encoder import ModelUnavailable
    try:
        shared_judge()
    except ModelUnavailable as exc:
        return f"--verdicts learned: {exc}"
    return None


def prepare_openai(realtime: Optional[RealtimeSettings], judge: Optional[CallJudge]) -> None:
    """Build the process's OpenAI client before calls start: building it mid-call would stall their audio."""
    settings = realtime or (judge.settings if judge is not None else None)
    if settings is not None:
        openai_client(settings)
