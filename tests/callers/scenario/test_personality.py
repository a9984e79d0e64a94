"""Personalities: the shipped files carry the seed's numbers, and a broken file says where to fix it."""
from pathlib import Path

import pytest

from callers.errors import ConfigError
from callers.scenario.personality import (DEFAULT_PERSONALITY_DIR, CallerPersonality, PersonalityType, get_personality,
                                          load_personalities, load_personality)

VALID = """\
type = "pirate"
traits = ["loud", "nautical"]
communication_style = "Says arr a lot"
patience_level = 4
tech_comfort = 2
tendency_to_interrupt = 0.5
provides_clear_info = 0.4
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def test_every_personality_type_ships_a_file():
    names = set(load_personalities())
    assert names == {member.value for member in PersonalityType}


@pytest.mark.parametrize("name, expected", [
    ("normal", {"patience_level": 7, "tech_comfort": 6}),
    ("difficult", {"patience_level": 3, "tendency_to_interrupt": 0.7}),
    ("confused", {"tech_comfort": 3, "provides_clear_info": 0.3}),
    ("angry", {"patience_level": 2, "tendency_to_interrupt": 0.9}),
    ("elderly", {"tech_comfort": 2}),
    ("impatient", {"patience_level": 2}),
    ("tech_savvy", {"tech_comfort": 9, "provides_clear_info": 0.9}),
    ("suspicious", {"patience_level": 5}),
])
def test_seed_numbers(name, expected):
    personality = get_personality(name)
    for field, value in expected.items():
        assert getattr(personality, field) == value, field


def test_speech_and_behaviour_follow_the_descriptions():
    people = load_personalities()
    normal = people["normal"]
    assert people["elderly"].speaking_rate_wpm < normal.speaking_rate_wpm
    assert people["elderly"].pitch < normal.pitch
    assert people["elderly"].response_delay_s > normal.response_delay_s
    assert people["impatient"].speaking_rate_wpm > normal.speaking_rate_wpm
    assert people["impatient"].response_delay_s < normal.response_delay_s
    assert people["suspicious"].verification_demands >= 0.9
    assert max(p.verification_demands for n, p in people.items() if n != "suspicious") < 0.9
    for polite in ("normal", "elderly", "confused"):
        assert people[polite].tendency_to_interrupt <= 0.2


def test_every_prompt_casts_the_model_as_the_caller():
    for personality in load_personalities().values():
        assert personality.traits and personality.communication_style
        assert "CALLER" in personality.prompt and "never the bank's agent" in personality.prompt
        assert "PIN" in personality.prompt


def test_patience_drives_the_derived_limits():
    people = load_personalities()
    angry, normal, elderly = people["angry"], people["normal"], people["elderly"]
    assert angry.max_wait_s < normal.max_wait_s < elderly.max_wait_s
    assert angry.slow_response_ms < normal.slow_response_ms
    assert angry.max_unhelpful_turns < normal.max_unhelpful_turns
    assert angry.max_unhelpful_turns >= 1


def test_seed_keyword_construction():
    custom = CallerPersonality(
        type=PersonalityType.DIFFICULT,
        traits=["perfectionist", "detail-oriented", "impatient"],
        communication_style="Demanding and specific",
        patience_level=3,
        tech_comfort=8,
        tendency_to_interrupt=0.6,
        provides_clear_info=0.9,
    )
    assert custom.type == "difficult" and type(custom.type) is str
    assert custom.name == "difficult"
    assert f"{custom.type}" == "difficult"
    assert custom.speaking_rate_wpm == 165 and custom.verification_demands == 0.0


@pytest.mark.parametrize("field, value", [("patience_level", 11), ("tendency_to_interrupt", 1.5),
                                          ("tech_comfort", 2.5), ("traits", "loud")])
def test_constructor_rejects_bad_values(field, value):
    values = dict(type="x", traits=["a"], communication_style="c", patience_level=5, tech_comfort=5,
                  tendency_to_interrupt=0.1, provides_clear_info=0.5)
    values[field] = value
    with pytest.raises(ValueError, match=field):
        CallerPersonality(**values)


@pytest.mark.parametrize("spelling", ["tech-savvy", "tech_savvy", "Tech-Savvy", "TECH SAVVY"])
def test_lookup_spellings(spelling):
    assert get_personality(spelling).name == "tech_savvy"


def test_unknown_personality_lists_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        get_personality("grumpy")
    message = str(caught.value)
    assert "grumpy" in message and "suspicious" in message and "tech_savvy" in message


def test_dropped_in_file_is_a_new_personality(tmp_path):
    write(tmp_path, "pirate", VALID + 'prompt = "Arr."\n')
    pirate = get_personality("pirate", tmp_path)
    assert pirate.name == "pirate" and pirate.type == "pirate"
    assert pirate.speaking_rate_wpm == 165 and pirate.prompt == "Arr."
    assert isinstance(pirate.tendency_to_interrupt, float)


@pytest.mark.parametrize("text, field, words", [
    (VALID.replace("patience_level = 4", "patience_level = 11"), "patience_level", "1 to 10"),
    (VALID.replace("patience_level = 4", "patience_level = 0"), "patience_level", "1 to 10"),
    (VALID.replace("tendency_to_interrupt = 0.5", "tendency_to_interrupt = 1.2"), "tendency_to_interrupt", "0 to 1"),
    (VALID.replace("tech_comfort = 2", 'tech_comfort = "low"'), "tech_comfort", "whole number"),
    (VALID.replace("tech_comfort = 2", "tech_comfort = 2.5"), "tech_comfort", "whole number"),
    (VALID.replace("provides_clear_info = 0.4", "provides_clear_info = true"), "provides_clear_info", "number"),
    (VALID.replace('traits = ["loud", "nautical"]', 'traits = "loud"'), "traits", "list"),
    (VALID.replace('type = "pirate"', 'type = ""'), "type", "non-empty"),
    (VALID + "pitch = 120\n", "pitch", "0 to 99"),
    (VALID + "speaking_rate_wpm = 40\n", "speaking_rate_wpm", "80 to 450"),
    (VALID + "patience = 3\n", "patience", "unknown field"),
    (VALID + 'name = "blackbeard"\n', "name", "file name"),
    (VALID.replace("tech_comfort = 2\n", ""), "tech_comfort", "missing"),
    (VALID + 'voice = "en-gb"\n', "voice", "unknown espeak voice"),
    (VALID + 'voice = "en-us+pirate"\n', "voice", "unknown voice variant"),
    (VALID + 'natural_voice = "en_US-nobody-medium"\n', "natural_voice", "unknown Piper voice"),
    (VALID + 'natural_voice = ""\n', "natural_voice", "non-empty"),
    (VALID + "hesitation_rate = 2\n", "hesitation_rate", "0 to 1"),
    (VALID + "sentence_pause_ms = 5000\n", "sentence_pause_ms", "0 to 3000"),
])
def test_bad_field_names_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, "pirate", text)
    with pytest.raises(ConfigError) as caught:
        load_personality(path)
    error = caught.value
    assert error.path == str(path) and error.field == field
    assert str(path) in str(error) and f"'{field}'" in str(error) and words in str(error)


def test_toml_syntax_error_has_line(tmp_path):
    path = write(tmp_path, "pirate", VALID.replace("tech_comfort = 2", "tech_comfort = = 2"))
    with pytest.raises(ConfigError) as caught:
        load_personality(path)
    assert str(path) in str(caught.value) and "line 5" in str(caught.value)


def test_a_broken_file_breaks_the_directory_load(tmp_path):
    write(tmp_path, "pirate", VALID)
    write(tmp_path, "ninja", VALID.replace("patience_level = 4", "patience_level = 40"))
    with pytest.raises(ConfigError, match="ninja.toml"):
        load_personalities(tmp_path)


def test_names_differing_only_in_spelling_clash(tmp_path):
    write(tmp_path, "tech-savvy", VALID)
    write(tmp_path, "tech_savvy", VALID)
    with pytest.raises(ConfigError, match="same personality name"):
        load_personalities(tmp_path)


def test_empty_or_missing_directory(tmp_path):
    with pytest.raises(ConfigError, match="no personality files"):
        load_personalities(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_personalities(tmp_path / "nowhere")


def test_default_directory_is_the_repo_personalities():
    assert DEFAULT_PERSONALITY_DIR.name == "personalities"
    assert (DEFAULT_PERSONALITY_DIR / "normal.toml").is_file()


def test_lookups_reuse_the_parsed_files_until_one_changes(tmp_path):
    write(tmp_path, "pirate", VALID)
    first = get_personality("pirate", tmp_path)
    assert get_personality("pirate", tmp_path) is first  # not parsed again for every call
    write(tmp_path, "pirate", VALID.replace("patience_level = 4", "patience_level = 9 "))
    assert get_personality("pirate", tmp_path).patience_level == 9
    write(tmp_path, "parrot", VALID.replace("pirate", "parrot"))
    assert get_personality("parrot", tmp_path).name == "parrot"
