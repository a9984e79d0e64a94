"""The reference agent's other languages: complete tables, chosen by the start activity's language."""
from __future__ import annotations

from bridge.dialogue import BankAgent, agent_phrases
from bridge.translations import TRANSLATIONS_DIR, language_code, translation_for


def test_every_table_translates_every_agent_sentence() -> None:
    tables = sorted(path.stem for path in TRANSLATIONS_DIR.glob("*.toml"))
    assert "es" in tables
    for code in tables:
        table = translation_for(code)
        missing = [phrase for phrase in agent_phrases() if phrase not in table.sentences]
        assert not missing, (code, missing)


def test_language_codes_and_fallbacks() -> None:
    assert language_code("es-ES") == "es" and language_code("en_GB") == "en" and language_code(None) == "en"
    assert translation_for("en-US") is None and translation_for("xx-YY") is None and translation_for("../x") is None
    spanish = translation_for("es-MX")
    assert spanish.voice == "es"
    greeting = spanish.reply(BankAgent().greet())
    assert greeting.text.startswith("Gracias por llamar") and greeting.state.value == "greeting"
