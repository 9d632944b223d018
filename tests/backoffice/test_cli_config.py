"""``backoffice --version`` and ``backoffice config path | show``."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

from backoffice import inifiles
from backoffice.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def test_version_comes_from_the_package_metadata():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"backoffice, version {version('backoffice')}\n"


def test_config_path_finds_the_shipped_ini_file():
    # A checkout (and an editable install) uses the files at the top of the tree;
    # the wheel's copies in backoffice/etc/ are checked by scripts/ci_wheel_smoke.py.
    result = CliRunner().invoke(cli, ["config", "path", "production.ini"])
    assert result.exit_code == 0, result.output
    assert Path(result.output.strip()) == ROOT / "production.ini"


def test_config_show_prints_the_file():
    result = CliRunner().invoke(cli, ["config", "show", "alembic.ini"])
    assert result.exit_code == 0, result.output
    assert result.output == (ROOT / "alembic.ini").read_text(encoding="utf-8")


def test_config_refuses_other_names():
    result = CliRunner().invoke(cli, ["config", "path", "secrets.ini"])
    assert result.exit_code == 2
    assert "production.ini" in result.output


def test_the_wheel_s_copies_come_first(tmp_path, monkeypatch):
    etc, tree = tmp_path / "etc", tmp_path / "tree"
    etc.mkdir(), tree.mkdir()
    (etc / "production.ini").write_text("[app:main]\n")
    (tree / "production.ini").write_text("[app:main]\n")
    (tree / "alembic.ini").write_text("[control]\n")
    monkeypatch.setattr(inifiles, "PLACES", (etc, tree))
    assert inifiles.path("production.ini") == etc / "production.ini"
    assert inifiles.path("alembic.ini") == tree / "alembic.ini"
