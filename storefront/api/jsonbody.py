"""JSON in and out of the API: compact, stable, and strict about what comes in."""

from __future__ import annotations

import hashlib
import json


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def canonical_hash(*parts) -> str:
    """SHA-256 of the parts as canonical JSON: two equal bodies hash alike whatever
    the key order or whitespace the client used."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
