"""The backup file: a compressed stream sealed in AES-256-GCM chunks.

Layout::

    b"BOBK1\\n"  <u32 header length>  <header JSON>
    (<u32 chunk length> <AES-GCM ciphertext + tag>) ...   data chunks
    <u32 length> <ciphertext of the manifest JSON>          last chunk

Every backup has its own random 256-bit data key, wrapped by the key ring
with the context ``backup:<store slug>:<backup id>`` (so the wrapped key of
one store's backup does not open under another's name). The data key is used
once, so chunk *i* uses nonce *i*. Each chunk's associated data binds the
header's hash, the store, the backup id, the chunk's index and whether it is
the last one: a chunk that is changed, dropped, reordered, moved between
backups or cut off at the end fails to authenticate. The last chunk holds the
manifest (schema revision, per-table row counts and SHA-256), so the manifest
is authenticated too and its absence means truncation.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tenancy import jsontext
from tenancy.keyring import KeyRing, KeyRingError

MAGIC = b"BOBK1\n"
FORMAT = 1
CHUNK_SIZE = 1 << 20
MAX_CHUNK = 64 << 20
MAX_HEADER = 64 << 10  # a few hundred bytes in practice
PIECE = 1 << 20
_LEN = struct.Struct(">I")


class BackupError(RuntimeError):
    """A backup cannot be written, read or trusted; the message says why."""


def key_context(tenant: str, backup_id: str) -> str:
    return f"backup:{tenant}:{backup_id}"


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _aad(header_hash: bytes, tenant: str, backup_id: str, index: int, last: bool) -> bytes:
    flag = "last" if last else "data"
    return b"bobk1|" + header_hash + f"|{tenant}|{backup_id}|{index}|{flag}".encode()


class ArchiveWriter:
    """Compress, chunk and seal text written to it; ``close`` seals the manifest."""

    def __init__(
        self,
        fh: BinaryIO,
        keyring: KeyRing,
        tenant: str,
        backup_id: str,
        *,
        meta: dict | None = None,
        chunk_size: int = CHUNK_SIZE,
        level: int = 1,
    ):
        self.fh, self.tenant, self.backup_id = fh, tenant, backup_id
        self.chunk_size = chunk_size
        data_key = os.urandom(32)
        self.key_id = keyring.current_id
        header = {
            **(meta or {}),
            "format": FORMAT,
            "tenant": tenant,
            "backup_id": backup_id,
            "key_id": self.key_id,
            "compression": "zlib",
            "wrapped_key": keyring.encrypt(data_key, context=key_context(tenant, backup_id)),
        }
        raw = json.dumps(header, sort_keys=True).encode()
        self._header_hash = hashlib.sha256(raw).digest()
        self._cipher = AESGCM(data_key)
        self._compress = zlib.compressobj(level)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._index = 0
        fh.write(MAGIC + _LEN.pack(len(raw)) + raw)

    def write(self, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        out = self._compress.compress(data)
        if out:
            self._pending.append(out)
            self._pending_size += len(out)
            if self._pending_size >= self.chunk_size:
                self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        data = b"".join(self._pending)
        keep = b""
        if not final:
            cut = len(data) - len(data) % self.chunk_size
            data, keep = data[:cut], data[cut:]
        for start in range(0, len(data), self.chunk_size):
            self._seal(data[start : start + self.chunk_size], last=False)
        self._pending = [keep] if keep else []
        self._pending_size = len(keep)

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        aad = _aad(self._header_hash, self.tenant, self.backup_id, self._index, last)
        sealed = self._cipher.encrypt(_nonce(self._index), plaintext, aad)
        self.fh.write(_LEN.pack(len(sealed)) + sealed)
        self._index += 1

    def close(self, manifest: dict) -> None:
        self._pending.append(self._compress.flush())
        self._flush(final=True)
        self._seal(json.dumps(manifest, sort_keys=True).encode(), last=True)
        self.fh.flush()


HEADER_FIELDS = ("tenant", "backup_id", "wrapped_key")


def _parse_header(raw: bytes) -> dict:
    """The header is read before anything is authenticated: any JSON may stand
    there, so its shape is checked before a field is used."""
    try:
        header = jsontext.loads(raw, max_bytes=MAX_HEADER)
    except jsontext.JSONInputError as exc:
        raise BackupError(f"backup header is damaged ({exc})") from None
    if not isinstance(header, dict):
        raise BackupError("backup header is damaged (not an object)")
    for field in HEADER_FIELDS:
        if not isinstance(header.get(field), str):
            raise BackupError(f"backup header is damaged ({field} missing or not text)")
    if not isinstance(header.get("key_id", ""), str | None):
        raise BackupError("backup header is damaged (key_id not text)")
    return header


class ArchiveReader:
    """Open, authenticate and decompress a backup; ``events()`` then ``manifest``."""

    def __init__(
        self,
        fh: BinaryIO,
        keyring: KeyRing,
        *,
        tenant: str | None = None,
        backup_id: str | None = None,
    ):
        self.fh = fh
        if fh.read(len(MAGIC)) != MAGIC:
            raise BackupError("not a backup file (bad magic)")
        raw = self._read_exact(self._length(), "header")
        self.header = _parse_header(raw)
        self.tenant, self.backup_id = self.header["tenant"], self.header["backup_id"]
        if tenant is not None and self.tenant != tenant:
            raise BackupError(f"backup belongs to store {self.tenant!r}, not {tenant!r}")
        if backup_id is not None and self.backup_id != backup_id:
            raise BackupError(f"file holds backup {self.backup_id!r}, not {backup_id!r}")
        self.key_id = self.header.get("key_id")
        try:
            data_key = keyring.decrypt(
                self.header["wrapped_key"], context=key_context(self.tenant, self.backup_id)
            )
        except KeyRingError as exc:
            raise BackupError(f"backup key cannot be unwrapped: {exc}") from None
        self._cipher = AESGCM(data_key)
        self._header_hash = hashlib.sha256(raw).digest()
        self.manifest: dict | None = None

    def _length(self) -> int:
        raw = self.fh.read(_LEN.size)
        if len(raw) != _LEN.size:
            raise BackupError("backup is truncated")
        (length,) = _LEN.unpack(raw)
        if length > MAX_CHUNK:
            raise BackupError("backup is damaged (impossible chunk length)")
        return length

    def _read_exact(self, n: int, what: str) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise BackupError(f"backup is truncated (in a {what})")
        return data

    def _open(self, sealed: bytes, index: int, *, last: bool) -> bytes:
        aad = _aad(self._header_hash, self.tenant, self.backup_id, index, last)
        return self._cipher.decrypt(_nonce(index), sealed, aad)

    def _open_any(self, sealed: bytes, index: int) -> tuple[bytes, bool]:
        for last in (False, True):
            with contextlib.suppress(InvalidTag):
                return self._open(sealed, index, last=last), last
        raise BackupError(
            f"backup chunk {index} fails authentication (tampered, reordered, "
            "from another backup, or a wrong key)"
        )

    def chunks(self) -> Iterator[bytes]:
        """Decrypted data chunks in order; sets ``manifest`` after the last one."""
        index = 0
        while True:
            plaintext, last = self._open_any(self._read_exact(self._length(), "chunk"), index)
            if not last:
                yield plaintext
                index += 1
                continue
            if self.fh.read(1):
                raise BackupError("backup has data after its last chunk")
            self.manifest = json.loads(plaintext)
            if not isinstance(self.manifest, dict):
                raise BackupError("backup manifest is damaged")
            if (self.manifest.get("tenant"), self.manifest.get("backup_id")) != (
                self.tenant,
                self.backup_id,
            ):
                raise BackupError("backup manifest does not match its header")
            return

    def events(self) -> Iterator[tuple[str, object]]:
        """("table", header) and ("rows", bytes of canonical lines), in file order.

        Decompression is bounded (``PIECE`` bytes at a time) so that a highly
        compressible chunk never turns into a huge block of rows in memory.
        """
        decompress = zlib.decompressobj()
        rest = b""
        for chunk in self.chunks():
            pending = chunk
            while pending:
                try:
                    data = rest + decompress.decompress(pending, PIECE)
                except zlib.error:
                    raise BackupError("backup stream does not decompress") from None
                pending = decompress.unconsumed_tail
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                yield from split_events(data[:cut])
        if rest or not decompress.eof:
            raise BackupError("backup stream ends in the middle of a row")


def split_events(block: bytes) -> Iterator[tuple[str, object]]:
    """Split complete lines into table headers and runs of row lines."""
    start = 0
    while start < len(block):
        if block[start : start + 1] == b"{":
            end = block.index(b"\n", start) + 1
            yield "table", json.loads(block[start:end])
            start = end
            continue
        brace = block.find(b"\n{", start)
        end = len(block) if brace < 0 else brace + 1
        yield "rows", block[start:end]
        start = end
