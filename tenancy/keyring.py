"""Secrets at rest: AES-256-GCM with a key id, several keys, bound context.

A token looks like ``v1.<key id>.<base64(nonce + ciphertext)>``. The first key
of the ring encrypts; every key decrypts, so keys can be rotated without a
flag day (``backoffice keys rotate`` re-encrypts old tokens). The *context*
(for example ``tenant:42:db_password``) is authenticated but not stored: a
ciphertext copied into another tenant's row or field fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class KeyRingError(ValueError):
    """No usable key, or a token that does not decrypt. Never carries secrets."""


def generate_key() -> str:
    """A new 256-bit key, URL-safe base64 (what ``BACKOFFICE_KEYS`` holds)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"backoffice-key-id:" + key).hexdigest()[:12]


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise KeyRingError("an encryption key is not valid base64") from None
    if len(key) != 32:
        raise KeyRingError("an encryption key must be 32 bytes (256 bits)")
    return key


class KeyRing:
    def __init__(self, keys: Iterable[bytes]):
        self._keys = {key_id(k): AESGCM(k) for k in keys}
        if not self._keys:
            raise KeyRingError("the key ring is empty: configure BACKOFFICE_KEYS")
        self.current_id = next(iter(self._keys))

    @classmethod
    def from_text(cls, text: str) -> KeyRing:
        """Comma- or newline-separated keys, newest first; ``#`` starts a comment."""
        parts = [p.strip() for line in text.splitlines() for p in line.split("#", 1)[0].split(",")]
        return cls(_decode_key(p) for p in parts if p)

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def encrypt(self, plaintext: bytes, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        aad = self._aad(self.current_id, context)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext, aad)
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{VERSION}.{self.current_id}.{body}"

    def decrypt(self, token: str, *, context: str) -> bytes:
        kid, blob = self._split(token)
        cipher = self._keys.get(kid)
        if cipher is None:
            raise KeyRingError(f"secret was encrypted with unknown key {kid}")
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(kid, context))
        except InvalidTag:
            raise KeyRingError(f"secret does not decrypt for {context}") from None

    def encrypt_text(self, plaintext: str, *, context: str) -> str:
        return self.encrypt(plaintext.encode("utf-8"), context=context)

    def decrypt_text(self, token: str, *, context: str) -> str:
        return self.decrypt(token, context=context).decode("utf-8")

    def needs_rotation(self, token: str) -> bool:
        return self._split(token)[0] != self.current_id

    def rotate(self, token: str, *, context: str) -> str:
        """Re-encrypt under the current key (a no-op token stays as it is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    @staticmethod
    def _aad(kid: str, context: str) -> bytes:
        return f"{VERSION}|{kid}|{context}".encode()

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        try:
            version, kid, body = token.split(".", 2)
            blob = base64.urlsafe_b64decode(body.encode("ascii"))
        except (ValueError, binascii.Error, AttributeError, UnicodeEncodeError):
            raise KeyRingError("not an encrypted secret token") from None
        if version != VERSION or len(blob) <= NONCE_BYTES:
            raise KeyRingError("not an encrypted secret token")
        return kid, blob


def load_keyring(settings, *, create: bool = False) -> KeyRing:
    """Keys from ``backoffice.keys``; else, outside production, the key file.

    Production refuses to fall back to a file so that a missing secret is an
    error at start-up, not a new random key that cannot read old data.
    """
    text = (settings.get("backoffice.keys") or "").strip()
    if text:
        return KeyRing.from_text(text)
    if settings.get("backoffice.environment") == "production":
        raise KeyRingError(
            "no encryption keys configured: set BACKOFFICE_KEYS (production never "
            "generates keys by itself)"
        )
    path = Path(settings["backoffice.keys_file"])
    if not path.exists():
        if not create:
            raise KeyRingError(f"no encryption keys: run 'backoffice init' (expected {path})")
        write_key_file(path)
    return KeyRing.from_text(path.read_text())


def write_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# newest key first; keep this file secret and backed up\n")
        fh.write(generate_key() + "\n")


def add_key_to_file(path: Path) -> str:
    """Prepend a new key to the key file (embedded default) and return its id."""
    key = generate_key()
    old = path.read_text() if path.exists() else ""
    lines = [ln for ln in old.splitlines() if ln.strip() and not ln.startswith("#")]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# newest key first; keep this file secret and backed up\n")
        fh.write("\n".join([key, *lines]) + "\n")
    os.replace(tmp, path)
    return key_id(_decode_key(key))
