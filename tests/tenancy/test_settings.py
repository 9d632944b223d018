"""Settings: the ini file, then BACKOFFICE_* environment variables, then checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenancy.settings import SettingsError, as_bool, as_int, env_overrides, load, resolve

INI = """\
[app:main]
use = egg:backoffice
backoffice.environment = staging
backoffice.base_domain = ini.example
backoffice.control_url = sqlite:///%(here)s/var/ini-control.sqlite
backoffice.engine_cap = 50
"""


@pytest.fixture
def ini(tmp_path) -> Path:
    path = tmp_path / "site.ini"
    path.write_text(INI)
    return path


def test_ini_values_and_here(ini, tmp_path):
    settings = load(ini, environ={})
    assert settings["backoffice.base_domain"] == "ini.example"
    assert settings["backoffice.control_url"] == f"sqlite:///{tmp_path}/var/ini-control.sqlite"
    assert settings["here"] == str(tmp_path)
    # Defaults fill what the file leaves out, relative to the file's directory.
    assert settings["backoffice.store_dir"] == f"{tmp_path}/var/stores"


def test_environment_wins_over_the_ini_file(ini):
    settings = load(
        ini,
        environ={
            "BACKOFFICE_BASE_DOMAIN": "env.example",
            "BACKOFFICE_ENGINE_CAP": "7",
            "BACKOFFICE_KEYS": "k1,k2",
            "OTHER_BASE_DOMAIN": "ignored",
        },
    )
    assert settings["backoffice.base_domain"] == "env.example"
    assert settings["backoffice.engine_cap"] == "7"
    assert settings["backoffice.keys"] == "k1,k2"
    assert settings["backoffice.environment"] == "staging"


def test_config_variable_chooses_the_file_and_is_not_a_setting(ini, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_CONFIG", str(ini))
    settings = load(None, environ={"BACKOFFICE_CONFIG": str(ini)})
    assert settings["backoffice.base_domain"] == "ini.example"
    assert "backoffice.config" not in settings
    assert env_overrides({"BACKOFFICE_CONFIG": "x.ini"}) == {}


def test_missing_config_file(tmp_path):
    with pytest.raises(SettingsError, match="config file not found"):
        load(tmp_path / "nope.ini", environ={})


def test_resolve_uses_defaults_then_settings_then_environment(tmp_path):
    settings = resolve(
        {"backoffice.db_prefix": "x_"}, here=tmp_path, environ={"BACKOFFICE_DB_PREFIX": "y_"}
    )
    assert settings["backoffice.db_prefix"] == "y_"
    assert settings["backoffice.environment"] == "development"


@pytest.mark.parametrize(("value", "expected"), [("1", 1), (" 42 ", 42), ("0", 0)])
def test_as_int(value, expected):
    assert as_int({"k": value}, "k") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("many", "k must be a whole number, got 'many'"),
        ("1.5", "k must be a whole number"),
        (None, "k must be a whole number, got None"),
        ("", "k must be a whole number"),
        ("-1", "k must be at least 0, got -1"),
    ],
)
def test_as_int_rejects_bad_values(value, message):
    with pytest.raises(SettingsError, match=message):
        as_int({"k": value}, "k")


def test_as_int_minimum():
    with pytest.raises(SettingsError, match="at least 1"):
        as_int({"k": "0"}, "k", minimum=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("no", False),
        ("0", False),
        ("", False),
        (" OFF ", False),
    ],
)
def test_as_bool(value, expected):
    assert as_bool({"k": value}, "k") is expected


@pytest.mark.parametrize("value", ["maybe", "2", "truthy"])
def test_as_bool_rejects_bad_values(value):
    with pytest.raises(SettingsError, match="k must be true or false"):
        as_bool({"k": value}, "k")


def test_bad_environment_value_surfaces_as_settings_error(ini):
    settings = load(ini, environ={"BACKOFFICE_ENGINE_CAP": "lots"})
    with pytest.raises(SettingsError, match=r"backoffice\.engine_cap must be a whole number"):
        as_int(settings, "backoffice.engine_cap", minimum=1)
