"""Reading a goal vocabulary file: its mistakes are refused with the concept and field that hold them."""
import pytest

from callers.errors import ConfigError
from callers.scenario.vocabulary import load_vocabulary


def test_vocabulary_errors_name_the_concept(tmp_path):
    path = tmp_path / "vocabulary.toml"
    path.write_text('[concepts.a]\nterms = ["card"]\ncues = ["card"]\n[concepts.b]\nterms = ["cards"]\ncues = ["x"]\n')
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path)
    assert (caught.value.entry, caught.value.field) == ("concepts.b", "terms")
    path.write_text('[concepts.a]\nterms = ["card"]\n')
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path)
    assert (caught.value.entry, caught.value.field) == ("concepts.a", "cues")
    path.write_text('[concepts.a\n')
    with pytest.raises(ConfigError, match="line 1"):
        load_vocabulary(path)
    path.write_text('[concepts.a]\nterms = ["card"]\ncues = ["card"]\nunless = ["?!"]\n')
    with pytest.raises(ConfigError, match="has no words") as caught:
        load_vocabulary(path)
    assert (str(caught.value.path), caught.value.entry, caught.value.field) == (str(path), "concepts.a", "unless")
