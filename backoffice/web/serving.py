"""The web servers: gunicorn in production, waitress for the demo and ``pserve``.

``backoffice serve`` runs gunicorn in-process: a master and
``backoffice.workers`` processes (default: one per CPU) of
``backoffice.threads`` threads each (worker class gthread). Each worker builds
its own app after the fork (no preload): engines, connection pools and the
control plane's locks are never shared between processes, at the price of
building the app once per worker at start-up.

Neither server interprets forwarded headers (gunicorn trusts no peer, waitress
keeps them); ``backoffice.web.proxy`` decides whom to believe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import waitress
from gunicorn.app.base import BaseApplication

from backoffice.config import serving_app
from backoffice.observability.metrics import child_exit
from tenancy import settings as app_settings

DEFAULT_HOST, DEFAULT_PORT, DEFAULT_THREADS = "127.0.0.1", "6543", "8"
# Settings of newer gunicorns only: skipped where the installed one lacks them.
# No control socket (gunicorn 25.1+): unused, and every instance on a host would
# share one path under $HOME.
OPTIONAL = {"control_socket_disable"}


def listen_address(settings: Mapping[str, str]) -> tuple[str, int]:
    host = settings.get("backoffice.listen_host") or DEFAULT_HOST
    port = app_settings.as_int(
        {"backoffice.listen_port": settings.get("backoffice.listen_port") or DEFAULT_PORT},
        "backoffice.listen_port",
        minimum=0,
    )
    return host, port


def thread_count(settings: Mapping[str, str]) -> int:
    given = {"backoffice.threads": settings.get("backoffice.threads") or DEFAULT_THREADS}
    return app_settings.as_int(given, "backoffice.threads", minimum=1)


def worker_count(settings: Mapping[str, str]) -> int:
    given = settings.get("backoffice.workers") or str(os.cpu_count() or 1)
    return app_settings.as_int({"backoffice.workers": given}, "backoffice.workers", minimum=1)


def gunicorn_options(settings: Mapping[str, str]) -> dict:
    host, port = listen_address(settings)
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": worker_count(settings),
        "threads": thread_count(settings),
        "worker_class": "gthread",
        "proc_name": "backoffice",
        "preload_app": False,
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "errorlog": "-",
        "control_socket_disable": True,
        # A worker's metrics file is merged and dropped when it exits (multi-process mode).
        "child_exit": child_exit,
    }


class GunicornServer(BaseApplication):
    """gunicorn with our settings instead of its command line; the app per worker."""

    def __init__(self, settings: Mapping[str, str]):
        self.settings = dict(settings)
        super().__init__()

    def load_config(self) -> None:
        for name, value in gunicorn_options(self.settings).items():
            if name in self.cfg.settings or name not in OPTIONAL:
                self.cfg.set(name, value)

    def load(self):
        return serving_app(self.settings)


def run_gunicorn(settings: Mapping[str, str]) -> None:
    GunicornServer(settings).run()


def run_waitress(app, host: str, port: int, threads: int) -> None:
    # Waitress would strip X-Forwarded-* from every peer it does not trust itself.
    waitress.serve(
        app, host=host, port=port, threads=threads, clear_untrusted_proxy_headers=False, _quiet=True
    )


def paste_server(global_conf, host=DEFAULT_HOST, port=DEFAULT_PORT, threads=DEFAULT_THREADS):
    """``[server:main] use = call:backoffice.web.serving:paste_server`` for ``pserve``.

    The listen address of ``backoffice serve`` wins over the section's own:
    ``BACKOFFICE_LISTEN_HOST``/``_PORT`` or ``backoffice.listen_host``/``_port``.
    """
    settings = app_settings.load(global_conf["__file__"])
    chosen = {
        "backoffice.listen_host": settings.get("backoffice.listen_host") or host,
        "backoffice.listen_port": settings.get("backoffice.listen_port") or port,
        "backoffice.threads": settings.get("backoffice.threads") or threads,
    }

    def serve(app) -> None:
        run_waitress(app, *listen_address(chosen), thread_count(chosen))

    return serve
