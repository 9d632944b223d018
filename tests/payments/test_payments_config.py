import pytest

from payments.config import ConfigField, redact, secret_fields, validate_config
from payments.errors import ConfigError, ConfigurationError

SCHEMA = (
    ConfigField("login", "Login", required=True),
    ConfigField("key", "Key", kind="secret", required=True),
    ConfigField("mode", "Mode", kind="choice", choices=("a", "b"), default="a"),
    ConfigField("test", "Test", kind="bool", default=False),
    ConfigField("url", "URL", kind="url", default="https://api.example.com"),
    ConfigField("note", "Note"),
)


def test_defaults_and_cleaning():
    cleaned = validate_config(SCHEMA, {"login": " shop ", "key": " k ", "test": "yes"})
    assert cleaned == {
        "login": "shop",
        "key": " k ",  # secrets are kept verbatim
        "mode": "a",
        "test": True,
        "url": "https://api.example.com",
        "note": None,
    }


def test_errors_are_reported_per_field():
    with pytest.raises(ConfigError) as info:
        validate_config(
            SCHEMA, {"login": "", "mode": "c", "test": "maybe", "url": "ftp://x", "typo_key": "x"}
        )
    assert set(info.value.errors) == {"login", "key", "mode", "test", "url", "typo_key"}
    assert info.value.errors["key"] == "This field is required."
    assert info.value.errors["typo_key"] == "Unknown setting."
    assert isinstance(info.value, ConfigurationError)


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_secret_is_missing(blank):
    with pytest.raises(ConfigError) as info:
        validate_config(SCHEMA, {"login": "x", "key": blank})
    assert "key" in info.value.errors


def test_wrong_types_are_field_errors():
    with pytest.raises(ConfigError) as info:
        validate_config(SCHEMA, {"login": 5, "key": b"bytes", "url": 7})
    assert set(info.value.errors) == {"login", "key", "url"}


def test_secret_helpers():
    assert secret_fields(SCHEMA) == {"key"}
    assert redact(SCHEMA, {"login": "x", "key": "hunter2"}) == {"login": "x", "key": "***"}


def test_error_message_never_contains_secret_values():
    with pytest.raises(ConfigError) as info:
        validate_config(SCHEMA, {"login": "x", "key": "hunter2", "mode": "zzz"})
    assert "hunter2" not in str(info.value)
