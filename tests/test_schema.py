"""The schema is the one source of truth: its constants agree with the record type, and the language table
is only ever extended inside a `proposed_language` block."""
import pytest

from rml_lama.schema import FIELDS, LANGUAGES, F, Language, language, proposed_language


def test_field_constants_are_exactly_the_record_fields():
    constants = {name: value for name, value in vars(F).items() if name.isupper()}
    assert sorted(constants.values()) == sorted(FIELDS)
    assert all(name == value.upper() for name, value in constants.items())


def test_a_proposed_language_is_known_inside_its_block_only():
    entry = Language("sv", "Swedish", "Indo-European", "Latin", ".", False, True, ("sv",))
    with pytest.raises(ValueError, match="unknown language 'sv'"):
        language("sv")
    table = dict(LANGUAGES)
    with proposed_language(entry):
        assert language("sv") is entry
        assert "sv" not in LANGUAGES  # the table itself never changes
    assert LANGUAGES == table
    with pytest.raises(ValueError, match="unknown language 'sv'"):
        language("sv")
