from __future__ import annotations

import pytest

from gradstat.datasets.text import load_text


def test_shakespeare_is_bundled_plain_ascii_verse():
    text = load_text("shakespeare")
    assert 1_000_000 < len(text) < 3_000_000
    assert len(set(text)) == 65  # the classic char-RNN vocabulary size
    assert text.isascii()
    assert text.startswith("Bernardo:\nWho's there?\n")
    assert "To be, or not to be" in text
    assert "**" not in text and "#" not in text  # Markdown stripped


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="available"):
        load_text("kjv")
