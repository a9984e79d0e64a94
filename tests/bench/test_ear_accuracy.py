"""bench/ear_accuracy.py's handling of what it cannot measure: an unknown agent voice, a model not installed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import ear_accuracy
from callers.media.speech import WhisperSettings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--agent-voice", "espeak,festival", "--agent-voice: unknown engine festival"),
    ("--options", "tiny.en b1 fitted,large b5", "--options: unknown option large b5"),
])
def test_an_unknown_voice_or_option_is_named_without_a_traceback(option: str, value: str, named: str):
    run = subprocess.run([sys.executable, str(REPO / "bench" / "ear_accuracy.py"), option, value],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert named in run.stderr and "Traceback" not in run.stderr


def test_an_option_whose_model_is_not_installed_is_skipped_with_a_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(ear_accuracy, "OPTIONS", {"small b5 fitted": WhisperSettings(model="small")})
    transcripts = tmp_path / "heard.jsonl"
    assert ear_accuracy.compare_options([], "piper", transcripts) == {}
    assert "small b5 fitted" in capsys.readouterr().out.split("skipped: model 'small' not installed")[0]
    assert not transcripts.exists()
