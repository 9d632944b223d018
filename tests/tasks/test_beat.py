"""``backoffice beat``: Celery beat as a process of its own (the systemd unit
``backoffice-beat.service`` runs it beside workers started without --beat)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from click.testing import CliRunner

from backoffice.cli import cli
from tests.tasks.conftest import BACKOFFICE, ROOT


def as_environment(settings: dict) -> dict:
    return {
        "BACKOFFICE_" + key[len("backoffice.") :].upper(): str(value)
        for key, value in settings.items()
        if key.startswith("backoffice.")
    }


def settings_env(settings: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    env.update(as_environment(settings))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return env


def test_beat_needs_a_broker(sqlite_settings, tmp_path):
    ini = tmp_path / "eager.ini"
    ini.write_text("[app:main]\nbackoffice.environment = test\n")
    env = {name: None for name in os.environ if name.startswith("BACKOFFICE_")}
    env.update(as_environment({**sqlite_settings, "backoffice.broker_url": ""}))
    result = CliRunner(env=env).invoke(cli, ["--config", str(ini), "beat"])
    assert result.exit_code == 1
    assert "backoffice.broker_url (BACKOFFICE_BROKER_URL) is not set" in result.output


def test_beat_runs_alone_and_stops_cleanly_on_sigterm(sqlite_settings, redis_url, tmp_path):
    ini = tmp_path / "beat.ini"
    ini.write_text("[app:main]\nbackoffice.environment = test\n")
    schedule = tmp_path / "beat-schedule"
    log = tmp_path / "beat.log"
    env = settings_env({**sqlite_settings, "backoffice.broker_url": redis_url})
    command = [BACKOFFICE, "--config", str(ini), "beat", "--schedule-file", str(schedule)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while b"beat: Starting" not in log.read_bytes():
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    output = log.read_text(errors="replace")
    assert "celery beat" in output and "Traceback" not in output
    # beat keeps its last-run times where it was told (shelve may add a suffix)
    assert f"db -> {schedule}" in output
    assert list(tmp_path.glob("beat-schedule*"))
