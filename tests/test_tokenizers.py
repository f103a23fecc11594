import pytest

from grokgpt import data, tokenizers
from grokgpt.tokenizers import CharTokenizer, NumberTokenizer


def test_char_round_trip_and_serialisation():
    tok = CharTokenizer.from_text("I love machine learning")
    ids = tok.encode("I love")
    assert tok.decode(ids) == "I love"
    assert tok.vocab_size == len(set("I love machine learning"))
    again = tokenizers.from_dict(tok.to_dict())
    assert again.encode("machine") == tok.encode("machine")


def test_char_unknown_character_is_named():
    with pytest.raises(ValueError, match="'z'"):
        CharTokenizer.from_text("abc").encode("abz")


def test_number_tokenizer_matches_the_docstring_example():
    tok = NumberTokenizer(p=97, ops="/")
    assert tok.encode("3/5=") == [3, 97, 5, 98]
    assert tok.decode([3, 97, 5, 98, 20]) == "3/5=20"
    assert tok.vocab_size == 99
    assert data.OPS["/"](3, 5, 97) == 20  # the docstrings' worked example is true: 20 · 5 = 100 ≡ 3 (mod 97)


def test_number_round_trip_and_serialisation():
    tok = NumberTokenizer(p=113, ops="-+")
    for text in ("0+0=0", "112-5=107", "12+101=0"):
        assert tok.decode(tok.encode(text)) == text
    assert tokenizers.from_dict(tok.to_dict()).encode("3-4=") == tok.encode("3-4=")


def test_number_rejects_operands_outside_the_residues_and_unknown_symbols():
    tok = NumberTokenizer(p=97, ops="+")
    with pytest.raises(ValueError, match="97 is not a residue"):
        tok.encode("97+1=")
    with pytest.raises(ValueError, match="'/'"):
        tok.encode("3/5=")
