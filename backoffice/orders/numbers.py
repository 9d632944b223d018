"""Order numbers from the store's format, e.g. ``A-{seq:06d}`` -> ``A-000128``.

The format is the owner's text: it is checked when saved (the settings form) and
again where it is used, since a value saved before a check existed, or written
by a restore, must not make the server build a gigabyte string
(``{seq:{seq}}``, ``{seq:999999999d}``).
"""

from __future__ import annotations

import enum
import re
import string

DEFAULT_FORMAT = "{seq:06d}"
MAX_LENGTH = 32  # Order.number is VARCHAR(32)
# Optional fill and alignment, optional zero padding, a width, optional "d".
# No nested fields ("{seq:{seq}}"), no precision, no other types.
SPEC = re.compile(r"(?:[^{}]?[<>=^])?0?(?P<width>[0-9]*)d?")
SAMPLES = (1, 10**9)


class FormatProblem(enum.Enum):
    FIELDS = "fields"  # not exactly one {seq}, or a spec that is not a plain width
    TOO_LONG = "too_long"  # numbers would not fit the column, or would be blank


def problem(fmt: str) -> FormatProblem | None:
    """None if ``fmt`` makes good order numbers from ``{seq}``, else what is wrong."""
    try:
        fields = [(name, spec, conv) for _t, name, spec, conv in string.Formatter().parse(fmt)]
    except ValueError:
        return FormatProblem.FIELDS
    fields = [(name, spec, conv) for name, spec, conv in fields if name is not None]
    if len(fields) != 1 or fields[0][0] != "seq" or fields[0][2] is not None:
        return FormatProblem.FIELDS
    spec = SPEC.fullmatch(fields[0][1] or "")
    if spec is None:
        return FormatProblem.FIELDS
    # The width is read before formatting: "{seq:999999999d}" builds a gigabyte.
    if len(spec["width"]) > 2 or int(spec["width"] or 0) > MAX_LENGTH:
        return FormatProblem.TOO_LONG
    samples = [fmt.format(seq=n) for n in SAMPLES]
    if any(len(s) > MAX_LENGTH or not s.strip() for s in samples):
        return FormatProblem.TOO_LONG
    return None


def order_number(fmt: str | None, seq: int) -> str:
    """The number of the order with id ``seq``; a bad format falls back to the default."""
    if not fmt or problem(fmt) is not None:
        fmt = DEFAULT_FORMAT
    return fmt.format(seq=seq)
