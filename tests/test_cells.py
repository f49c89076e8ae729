"""Cell parsing as users scrape tables (composites, NaN, footnotes, thousands, percent, missing)."""

import math

import pytest

from auditkit.cells import parse_cell


@pytest.mark.parametrize("text, values, half_ulps", [
    ("93.9/91.8", (93.9, 91.8), (0.05, 0.05)),
    (" 91 ", (91.0,), (0.5,)),
    ("1,234.5", (1234.5,), (0.05,)),
    ("88.0%", (88.0,), (0.05,)),
    ("91.2*", (91.2,), (0.05,)),
    ("75.5†", (75.5,), (0.05,)),
    ("60.1[2]", (60.1,), (0.05,)),
    ("\u221210.3", (-10.3,), (0.05,)),
    ("100.0/50.0", (100.0, 50.0), (0.05, 0.05)),
    ("1.5e-3", (0.0015,), (0.00005,)),
    ("0.584", (0.584,), (0.0005,)),
])
def test_numbers(text, values, half_ulps):
    cell = parse_cell(text)
    assert cell.error is None and not cell.missing
    assert cell.values == pytest.approx(values)
    assert cell.half_ulps == pytest.approx(half_ulps)


@pytest.mark.parametrize("text", ["", "-", "—", "n/a", "N/A", "  -  ", "null"])
def test_missing(text):
    cell = parse_cell(text)
    assert cell.missing and cell.values == () and cell.error is None


def test_nan_inside_a_pair_is_kept_as_nan_not_missing():
    # MaChAmp's STS-B cell on the GLUE leaderboard
    cell = parse_cell("NaN/99.8")
    assert not cell.missing and cell.has_nan
    assert math.isnan(cell.values[0]) and cell.values[1] == 99.8


@pytest.mark.parametrize("text", ["ERNIE", "91.x", "12..3", "1,23"])
def test_text_is_an_error_not_a_number(text):
    cell = parse_cell(text)
    assert cell.error is not None and cell.values == ()
