"""Shared pieces of the property-based tests (Hypothesis) of every outside-input parser.

Bounded and reproducible: ``derandomize=True`` (the examples follow from the test's
name), ``max_examples`` small enough that the whole set runs in about a minute, no
deadline (MariaDB round trips vary). The property is the same everywhere: the
answer is one of the documented statuses and nothing was logged as an error.
"""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as it arrives: every code point, digits of other scripts, controls, huge numbers.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "²",
            "٣",
            "１",
            "-0",
            "1e29",
            "NaN",
            "\r\n",
            "\x00",
            "0001-01-01",
            "9999-12-31T23:59:59-05:00",
        ]
    ),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=16,
)


def errors_logged(caplog) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
