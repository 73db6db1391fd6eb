"""rnnlib.book.quote: the numbers glued into the prose read as numbers."""
import pytest

from rnnlib.book.quote import _readable, quote


@pytest.mark.parametrize("value, fmt, text", [
    (5.4e-06, ".1e", "5.4 × 10⁻⁶"), (1695, ",", "1\u202f695"), (60000000.0, None, "6 × 10⁷"), (3.2, ".1f", "3.2"),
    (0.5, ".0%", "50%"), (7523.4, ",.0f", "7\u202f523"), (12, None, "12"), (2.5e3, ".2e", "2.50 × 10³"),
])
def test_numbers_read_as_numbers(value, fmt, text):
    assert _readable(format(value, fmt) if fmt else str(value), value, fmt) == text


def test_quote_returns_its_value_and_names_bad_arguments():
    assert quote("x_ok", 3.5, ".1f") == 3.5
    with pytest.raises(ValueError, match="name"):
        quote("not an identifier", 1)
    with pytest.raises(ValueError, match="fmt"):
        quote("y", "abc", ".2f")
