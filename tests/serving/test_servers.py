"""The real servers: ``backoffice serve`` (gunicorn workers, or waitress) and ``pserve``."""

from __future__ import annotations

import requests

from backoffice.web.serving import gunicorn_options, listen_address, worker_count
from tests.serving.servers import BIN, ROOT, children, clean_environ, free_port, started, write_ini

EMBEDDED_KEYS = ("backoffice.control_url", "backoffice.store_dir", "backoffice.keys")


def embedded_environ(sqlite_settings, **more) -> dict[str, str]:
    """The embedded default of a test (its own control DB and key), as environment variables."""
    env = {
        "BACKOFFICE_" + key.split(".", 1)[1].upper(): sqlite_settings[key] for key in EMBEDDED_KEYS
    }
    return clean_environ(**env, **more)


def test_pserve_development_ini_listens_where_the_environment_says(
    sqlite_control, sqlite_settings, tmp_path
):
    port = free_port()
    env = embedded_environ(sqlite_settings, BACKOFFICE_LISTEN_PORT=str(port))
    command = [str(BIN / "pserve"), str(ROOT / "development.ini")]
    url = f"http://127.0.0.1:{port}/healthz"
    with started(command, url, env=env, log=tmp_path / "pserve.log"):
        res = requests.get(url, timeout=10)
    assert res.json() == {"status": "ok", "control_db": "ok"}
    assert res.headers["X-Content-Type-Options"] == "nosniff"


def test_backoffice_serve_runs_gunicorn_workers(sqlite_control, sqlite_settings, tmp_path):
    port = free_port()
    ini = write_ini(tmp_path / "serve.ini", {"backoffice.environment": "test"})
    env = embedded_environ(
        sqlite_settings, BACKOFFICE_LISTEN_PORT=str(port), BACKOFFICE_WORKERS="2"
    )
    command = [str(BIN / "backoffice"), "--config", str(ini), "serve"]
    url = f"http://127.0.0.1:{port}/healthz"
    with started(command, url, env=env, log=tmp_path / "serve.log") as proc:
        assert requests.get(url, timeout=10).json()["status"] == "ok"
        assert len(children(proc.pid)) == 2  # the master's two workers
    assert "gunicorn" in (tmp_path / "serve.log").read_text()


def test_backoffice_serve_can_run_waitress(sqlite_control, sqlite_settings, tmp_path):
    port = free_port()
    ini = write_ini(tmp_path / "serve.ini", {"backoffice.environment": "test"})
    env = embedded_environ(sqlite_settings, BACKOFFICE_LISTEN_PORT=str(port))
    command = [str(BIN / "backoffice"), "--config", str(ini), "serve", "--server", "waitress"]
    url = f"http://127.0.0.1:{port}/healthz"
    with started(command, url, env=env, log=tmp_path / "serve.log") as proc:
        assert requests.get(url, timeout=10).json()["status"] == "ok"
        assert children(proc.pid) == []  # one process


def test_gunicorn_settings():
    settings = {
        "backoffice.listen_host": "::1",
        "backoffice.listen_port": "8001",
        "backoffice.workers": "3",
        "backoffice.threads": "4",
    }
    options = gunicorn_options(settings)
    assert options["bind"] == "[::1]:8001"
    assert (options["workers"], options["threads"], options["worker_class"]) == (3, 4, "gthread")
    # gunicorn believes no forwarded header: backoffice.web.proxy decides.
    assert options["forwarded_allow_ips"] == "" and options["secure_scheme_headers"] == {}
    assert options["preload_app"] is False  # engines and pools are built after the fork
    assert options["control_socket_disable"] is True  # no shared socket under $HOME
    assert listen_address({}) == ("127.0.0.1", 6543)
    assert worker_count({}) >= 1
