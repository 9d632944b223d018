"""``make lint`` is the gate for one format and the bug-finding rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"


def lint_commands() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    body = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert body, "the Makefile has a lint target"
    return [line.strip() for line in body.group(1).splitlines()]


def test_make_lint_checks_the_format_and_the_rules():
    commands = lint_commands()
    assert "$(BIN)/ruff format --check ." in commands
    assert "$(BIN)/ruff check ." in commands
    assert "$(BIN)/lint-imports" in commands


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    config = ["--config", str(ROOT / "ruff.toml")]
    return subprocess.run(
        [str(RUFF), *args[:1], *config, *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,  # the exit status is the answer
    )


def test_an_unformatted_file_fails_the_format_check(tmp_path):
    (tmp_path / "ugly.py").write_text("x  =  {'a':1}\n")
    (tmp_path / "tidy.py").write_text('x = {"a": 1}\n')
    assert ruff("format", "--check", "tidy.py", cwd=tmp_path).returncode == 0
    result = ruff("format", "--check", "ugly.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "ugly.py" in result.stdout + result.stderr


def test_the_rules_catch_a_mutable_class_default_and_a_blind_except(tmp_path):
    (tmp_path / "bugs.py").write_text(
        "class Cache:\n"
        "    seen: dict = {}\n"
        "\n"
        "\n"
        "def load():\n"
        "    try:\n"
        "        return 1\n"
        "    except Exception:\n"
        "        return None\n"
    )
    result = ruff("check", "--output-format", "concise", "bugs.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "RUF012" in result.stdout and "BLE001" in result.stdout
