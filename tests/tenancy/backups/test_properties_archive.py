"""Property-based: a backup file's header is read before anything is authenticated, so
any bytes after the magic end in ``BackupError``, never another exception (item 13)."""

from __future__ import annotations

import io
import json
import struct

from hypothesis import given
from hypothesis import strategies as st

from tenancy.backups.archive import MAGIC, ArchiveReader, BackupError
from tenancy.keyring import KeyRing, generate_key
from tests.properties import BOUNDED, json_values

KEYRING = KeyRing.from_text(generate_key())
LEN = struct.Struct(">I")


def read(data: bytes) -> None:
    try:
        reader = ArchiveReader(io.BytesIO(MAGIC + data), KEYRING)
        for _ in reader.events():
            pass
    except BackupError:
        return


headers = st.fixed_dictionaries(
    {},
    optional={
        "tenant": st.text(max_size=10) | json_values,
        "backup_id": st.text(max_size=10) | json_values,
        "key_id": st.text(max_size=10) | json_values,
        "wrapped_key": st.text(max_size=60) | json_values,
        "format": json_values,
    },
)


@BOUNDED
@given(data=st.binary(max_size=300))
def test_any_bytes_after_the_magic(data):
    read(data)


@BOUNDED
@given(header=headers | json_values, rest=st.binary(max_size=100))
def test_any_json_header(header, rest):
    raw = json.dumps(header).encode()
    read(LEN.pack(len(raw)) + raw + rest)


@BOUNDED
@given(depth=st.integers(min_value=1, max_value=60_000), claimed=st.integers(0, 2**32 - 1))
def test_deep_or_lying_headers(depth, claimed):
    raw = b"[" * depth + b"]" * depth
    read(LEN.pack(len(raw)) + raw)
    read(LEN.pack(claimed) + raw)
