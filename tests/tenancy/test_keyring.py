"""The key ring: AES-GCM tokens bound to a context, several keys, rotation."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from tenancy.keyring import (
    KeyRing,
    KeyRingError,
    add_key_to_file,
    generate_key,
    key_id,
    load_keyring,
)

CONTEXT = "tenant:1:db_password"
SECRET = "s3cret-password"


def ring(*keys: str) -> KeyRing:
    return KeyRing.from_text(",".join(keys))


def flip(token: str, position: int) -> str:
    version, kid, body = token.split(".")
    blob = bytearray(base64.urlsafe_b64decode(body))
    blob[position] ^= 0x01
    return f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(blob)).decode()}"


def test_round_trip_and_token_shape():
    keys = ring(generate_key())
    token = keys.encrypt_text(SECRET, context=CONTEXT)
    version, kid, _body = token.split(".")
    assert (version, kid) == ("v1", keys.current_id)
    assert SECRET not in token
    assert keys.decrypt_text(token, context=CONTEXT) == SECRET


def test_same_secret_encrypts_differently_each_time():
    keys = ring(generate_key())
    assert keys.encrypt_text(SECRET, context=CONTEXT) != keys.encrypt_text(SECRET, context=CONTEXT)


@pytest.mark.parametrize("context", ["tenant:2:db_password", "tenant:1:admin_url", ""])
def test_wrong_context_fails(context):
    keys = ring(generate_key())
    token = keys.encrypt_text(SECRET, context=CONTEXT)
    with pytest.raises(KeyRingError, match="does not decrypt") as failed:
        keys.decrypt_text(token, context=context)
    assert SECRET not in str(failed.value)


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1])  # nonce, ciphertext, tag
def test_tampered_token_fails(position):
    keys = ring(generate_key())
    token = keys.encrypt_text(SECRET, context=CONTEXT)
    with pytest.raises(KeyRingError, match="does not decrypt"):
        keys.decrypt_text(flip(token, position), context=CONTEXT)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "v2" + t[2:],  # unknown format version
        lambda t: t.rsplit(".", 1)[0] + ".!!!",  # body is not base64
        lambda t: t.rsplit(".", 1)[0] + ".AAAA",  # too short for nonce + tag
        lambda t: t.replace(".", "", 1),  # no key id separator
        lambda t: "plain text",
        lambda t: "",
    ],
)
def test_malformed_token_is_rejected(mangle):
    keys = ring(generate_key())
    with pytest.raises(KeyRingError, match="not an encrypted secret token"):
        keys.decrypt_text(mangle(keys.encrypt_text(SECRET, context=CONTEXT)), context=CONTEXT)


def test_unknown_key_id():
    token = ring(generate_key()).encrypt_text(SECRET, context=CONTEXT)
    other = ring(generate_key())
    kid = token.split(".")[1]
    with pytest.raises(KeyRingError, match=f"unknown key {kid}"):
        other.decrypt_text(token, context=CONTEXT)


def test_key_id_is_bound_to_the_ciphertext():
    """Relabelling a token with another key's id does not make it decrypt."""
    old, new = generate_key(), generate_key()
    keys = ring(new, old)
    token = ring(old).encrypt_text(SECRET, context=CONTEXT)
    relabelled = token.replace(token.split(".")[1], keys.current_id)
    with pytest.raises(KeyRingError):
        keys.decrypt_text(relabelled, context=CONTEXT)


def test_several_keys_first_encrypts_all_decrypt():
    old, new = generate_key(), generate_key()
    old_token = ring(old).encrypt_text(SECRET, context=CONTEXT)
    keys = ring(new, old)
    assert keys.key_ids == [key_id(base64.urlsafe_b64decode(k)) for k in (new, old)]
    assert keys.decrypt_text(old_token, context=CONTEXT) == SECRET
    assert keys.needs_rotation(old_token)
    rotated = keys.rotate(old_token, context=CONTEXT)
    assert rotated.split(".")[1] == keys.current_id != old_token.split(".")[1]
    assert not keys.needs_rotation(rotated)
    assert keys.rotate(rotated, context=CONTEXT) == rotated
    assert ring(new).decrypt_text(rotated, context=CONTEXT) == SECRET


def test_rotate_keeps_the_context_binding():
    old, new = generate_key(), generate_key()
    token = ring(old).encrypt_text(SECRET, context=CONTEXT)
    with pytest.raises(KeyRingError):
        ring(new, old).rotate(token, context="tenant:2:db_password")


def test_key_text_with_comments_and_lines():
    a, b, c = generate_key(), generate_key(), generate_key()
    keys = KeyRing.from_text(f"# newest first\n{a}, {b}\n\n{c}  # retired soon\n")
    assert len(keys.key_ids) == 3
    assert keys.current_id == key_id(base64.urlsafe_b64decode(a))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the key ring is empty"),
        ("# only a comment", "the key ring is empty"),
        ("not base64 ***", "not valid base64"),
        (base64.urlsafe_b64encode(b"short").decode(), "must be 32 bytes"),
    ],
)
def test_bad_key_text(text, message):
    with pytest.raises(KeyRingError, match=message):
        KeyRing.from_text(text)


def settings_for(tmp_path, **extra):
    return {"backoffice.keys_file": str(tmp_path / "var" / "keys.txt"), **extra}


def test_production_refuses_to_start_without_keys(tmp_path):
    settings = settings_for(tmp_path, **{"backoffice.environment": "production"})
    with pytest.raises(KeyRingError, match="no encryption keys configured"):
        load_keyring(settings, create=True)
    assert not (tmp_path / "var" / "keys.txt").exists()


def test_production_ignores_a_key_file(tmp_path):
    """Even an existing key file does not stand in for BACKOFFICE_KEYS in production."""
    keys_file = tmp_path / "var" / "keys.txt"
    keys_file.parent.mkdir()
    keys_file.write_text(generate_key() + "\n")
    with pytest.raises(KeyRingError, match="BACKOFFICE_KEYS"):
        load_keyring(settings_for(tmp_path, **{"backoffice.environment": "production"}))


def test_production_with_keys(tmp_path):
    key = generate_key()
    keys = load_keyring(
        settings_for(tmp_path, **{"backoffice.environment": "production", "backoffice.keys": key})
    )
    assert keys.current_id == key_id(base64.urlsafe_b64decode(key))


def test_development_key_file_is_created_only_when_asked(tmp_path):
    settings = settings_for(tmp_path, **{"backoffice.environment": "development"})
    with pytest.raises(KeyRingError, match="run 'backoffice init'"):
        load_keyring(settings)
    created = load_keyring(settings, create=True)
    path = tmp_path / "var" / "keys.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keyring(settings).key_ids == created.key_ids


def test_add_key_to_file_prepends(tmp_path):
    settings = settings_for(tmp_path)
    before = load_keyring(settings, create=True)
    token = before.encrypt_text(SECRET, context=CONTEXT)
    kid = add_key_to_file(tmp_path / "var" / "keys.txt")
    after = load_keyring(settings)
    assert after.key_ids == [kid, *before.key_ids]
    assert after.decrypt_text(token, context=CONTEXT) == SECRET
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "keys.txt").st_mode) == 0o600
