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


@pytest.mark.parametrize("body, field, message", [
    ('evidence = ["proof"]', "evidence", "unknown evidence 'proof'"),
    ('evidence = ["items"]', "items", "evidence 'items' needs an items list"),
    ('evidence = ["items"]\nitems = ["x"]\nmin_items = 0', "min_items", "must be a whole number >= 1"),
    ('kinds = ["done"]', "kinds", "kinds must be content kinds"),
    ('allow = ["questions"]', "allow", "unknown value"),
])
def test_evidence_mistakes_name_the_concept_and_field(tmp_path, body, field, message):
    path = tmp_path / "vocabulary.toml"
    path.write_text(f'[concepts.a]\nterms = ["card"]\ncues = ["card"]\n{body}\n')
    with pytest.raises(ConfigError, match=message) as caught:
        load_vocabulary(path)
    assert (caught.value.entry, caught.value.field) == ("concepts.a", field)


def test_evidence_fields_are_read_stemmed(tmp_path):
    path = tmp_path / "vocabulary.toml"
    path.write_text('[concepts.services]\nterms = ["services"]\ncues = ["offer"]\nevidence = ["items"]\n'
                    'items = ["savings accounts", "loans"]\nmin_items = 2\nweak = ["weekday"]\nkinds = ["money"]\n')
    concept = load_vocabulary(path).concepts["services"]
    assert concept.items == (("saving", "account"), ("loan",)) and concept.min_items == 2
    assert (concept.evidence, concept.weak, concept.kinds, concept.is_act) == (("items",), ("weekday",), ("money",),
                                                                              False)
