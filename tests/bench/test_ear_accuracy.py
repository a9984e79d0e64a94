"""bench/ear_accuracy.py's handling of what it cannot measure: an unknown agent voice, a model not installed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import ear_accuracy
from callers.media.speech import WhisperSettings

REPO = Path(__file__).resolve().parents[2]


def test_an_unknown_agent_voice_is_named_without_a_traceback():
    run = subprocess.run([sys.executable, str(REPO / "bench" / "ear_accuracy.py"), "--agent-voice", "espeak,festival"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "--agent-voice: unknown engine festival" in run.stderr and "Traceback" not in run.stderr


def test_an_option_whose_model_is_not_installed_is_skipped_with_a_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(ear_accuracy, "OPTIONS", {"small b5 fitted": WhisperSettings(model="small")})
    transcripts = tmp_path / "heard.jsonl"
    assert ear_accuracy.compare_options([], "piper", transcripts) == {}
    assert "small b5 fitted" in capsys.readouterr().out.split("skipped: model 'small' not installed")[0]
    assert not transcripts.exists()
