"""Order numbers from the store's format: checked when saved and where used."""

from __future__ import annotations

import pytest

from backoffice.orders.numbers import DEFAULT_FORMAT, FormatProblem, order_number, problem


@pytest.mark.parametrize(
    "fmt, seq, expected",
    [
        ("A-{seq:06d}", 128, "A-000128"),
        ("D-{seq:05d}", 7, "D-00007"),
        ("{seq}", 42, "42"),
        ("#{seq:0>4}", 9, "#0009"),
        ("{seq:*^7}", 5, "***5***"),
    ],
)
def test_a_good_format_makes_the_number(fmt, seq, expected):
    assert problem(fmt) is None
    assert order_number(fmt, seq) == expected


@pytest.mark.parametrize(
    "fmt, found",
    [
        ("{seq:{seq}}", FormatProblem.FIELDS),
        ("{seq:{seq}d}", FormatProblem.FIELDS),
        ("{seq:{}}", FormatProblem.FIELDS),
        ("{seq:,}", FormatProblem.FIELDS),
        ("{seq!s:>5}", FormatProblem.FIELDS),
        ("{seq:999999999d}", FormatProblem.TOO_LONG),
        ("{seq:33}", FormatProblem.TOO_LONG),
        ("{seq:>99}", FormatProblem.TOO_LONG),
        ("  {seq:0}", None),
    ],
)
def test_a_format_is_checked_without_formatting_it_first(fmt, found):
    assert problem(fmt) is found


@pytest.mark.parametrize("fmt", ["{seq:{seq}}", "{seq:999999999d}", "", None, "{x}", "{seq"])
def test_a_bad_stored_format_falls_back_to_the_default_where_used(fmt):
    """A value saved before the check existed, or restored, never builds a huge string."""
    assert order_number(fmt, 128) == DEFAULT_FORMAT.format(seq=128) == "000128"
