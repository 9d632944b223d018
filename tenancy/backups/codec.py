"""The canonical, dialect-neutral form of a row: what is hashed and stored.

MariaDB hands back ``datetime``/``Decimal``/``timedelta`` objects, SQLite
hands back the strings SQLAlchemy stored; both become the same JSON line, so a
backup taken on one restores on the other and the per-table SHA-256 means the
same thing everywhere. Each row is one compact JSON array followed by ``\\n``;
a table's hash is the SHA-256 of its lines in primary-key order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import types as sqltypes

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

Converter = Callable[[object], object] | None


def kind_of(column_type: sqltypes.TypeEngine) -> str:
    """The family of a reflected column type that decides how values look."""
    affinity = column_type._type_affinity
    if affinity is None:
        return "plain"
    if issubclass(affinity, sqltypes.DateTime):
        return "datetime"
    if issubclass(affinity, sqltypes.Date):
        return "date"
    if issubclass(affinity, sqltypes.Time):
        return "time"
    if issubclass(affinity, sqltypes.Float):
        return "float"
    if issubclass(affinity, sqltypes.Numeric) and not issubclass(affinity, sqltypes.Integer):
        scale = getattr(column_type, "scale", None)
        return f"numeric:{scale}" if scale is not None else "numeric"
    if issubclass(affinity, sqltypes._Binary):
        return "binary"
    return "plain"


def _datetime(v):
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat(" ", "microseconds")
    if isinstance(v, str):
        if len(v) == 26:
            return v
        if len(v) == 19:  # MariaDB's JSON form of a DATETIME without fractions
            return v + ".000000"
    return datetime.fromisoformat(str(v)).isoformat(" ", "microseconds")


def _date(v):
    if v is None or isinstance(v, str):
        return v
    return v.isoformat()


def _time(v):
    if v is None:
        return None
    if isinstance(v, timedelta):  # PyMySQL returns TIME as a duration
        micro = v.days * 86_400_000_000 + v.seconds * 1_000_000 + v.microseconds
        seconds, micro = divmod(micro, 1_000_000)
        v = time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)
    elif isinstance(v, str):
        v = time.fromisoformat(v)
    return v.isoformat("microseconds")


def _numeric(scale: int | None):
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def convert(v):
        if v is None:
            return None
        number = v if isinstance(v, Decimal) else Decimal(str(v))
        if quantum is not None:
            number = number.quantize(quantum)
        return format(number, "f")

    return convert


def _float(v):
    return None if v is None else float(v)


def _binary(v):
    return None if v is None else base64.b64encode(bytes(v)).decode("ascii")


def converter(kind: str) -> Converter:
    if kind == "datetime":
        return _datetime
    if kind == "date":
        return _date
    if kind == "time":
        return _time
    if kind.startswith("numeric"):
        _, _, scale = kind.partition(":")
        return _numeric(int(scale) if scale else None)
    if kind == "float":
        return _float
    if kind == "binary":
        return _binary
    return None


def row_encoder(kinds: Sequence[str]) -> Callable[[Sequence[Sequence]], str]:
    """A function turning a batch of driver rows into canonical lines."""
    converters = [(i, c) for i, kind in enumerate(kinds) if (c := converter(kind))]
    if not converters:

        def encode(rows):
            return "".join([_encode(list(row)) + "\n" for row in rows])

        return encode

    def encode_converted(rows):
        out = []
        for row in rows:
            values = list(row)
            for i, convert in converters:
                values[i] = convert(values[i])
            out.append(_encode(values) + "\n")
        return "".join(out)

    return encode_converted


def encode_lines(rows: Sequence[Sequence]) -> str:
    """Rows already in canonical form as lines (the loader's expected hash)."""
    return "".join([_encode(row) + "\n" for row in rows])
