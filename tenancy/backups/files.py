"""Backup files on disk: where they live, written atomically, hashed as they pass."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_hex


def new_backup_id() -> str:
    """Sortable by time, unique without coordination: ``20260101T120000-1a2b3c4d``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + token_hex(4)


def backup_path(settings: Mapping[str, str], slug: str, backup_id: str) -> Path:
    return Path(settings["backoffice.backup_dir"]) / slug / f"{backup_id}.bobk"


class HashingWriter:
    """A file opened for writing that counts and hashes what goes through it."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.fh = os.fdopen(fd, "wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


class HashingReader:
    """A file opened for reading that hashes what is read from it."""

    def __init__(self, path: str | os.PathLike):
        self.fh = open(path, "rb")
        self.sha256 = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha256.update(data)
        return data

    def close(self) -> None:
        self.fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
