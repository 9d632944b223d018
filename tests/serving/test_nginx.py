"""The shipped nginx sample in front of the real servers, on MariaDB, through https.

nginx runs ``deploy/nginx/backoffice.conf`` (ports and paths substituted) with a
self-signed certificate; behind it ``backoffice serve`` runs as a subprocess,
with gunicorn or waitress. The test client connects from the loopback and plays
one more proxy (a CDN, say) by sending its own ``X-Forwarded-For``, so "client
A" and "client B" are addresses nginx forwards. Skipped without nginx, unless
``BACKOFFICE_REQUIRE_NGINX=1`` (CI).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import select

from backoffice.models import LoginAttempt
from backoffice.security.throttle import MAX_PER_ADDRESS
from backoffice.web.headers import HSTS
from tests.backoffice.admin_fixtures import OWNER, store_engine
from tests.serving.servers import (
    BIN,
    clean_environ,
    free_port,
    nginx_binary,
    nginx_site,
    started,
    write_ini,
)

CLIENT_A, CLIENT_B = "203.0.113.7", "203.0.113.8"
APP_KEYS = ("backoffice.control_url", "backoffice.keys", "backoffice.db_prefix")


@contextmanager
def site(directory, mysql_settings, *, server="gunicorn", trusted="127.0.0.1,::1", **settings):
    """nginx in front of ``backoffice serve``; yields the Site."""
    nginx_binary()  # skip (or fail) before starting anything
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    ini = write_ini(
        directory / "backend.ini",
        {**{key: mysql_settings[key] for key in APP_KEYS}, **settings},
    )
    env = clean_environ(
        BACKOFFICE_LISTEN_PORT=str(port),
        BACKOFFICE_TRUSTED_PROXIES=trusted,
        BACKOFFICE_WORKERS="2",
        BACKOFFICE_THREADS="4",
    )
    command = [str(BIN / "backoffice"), "--config", str(ini), "serve", "--server", server]
    backend_url = f"http://127.0.0.1:{port}/healthz"
    with started(command, backend_url, env=env, log=directory / "backend.log"):
        with nginx_site(directory / "nginx", port) as (https, http, ca):
            yield Site(https, http, ca)


class Site:
    def __init__(self, https: str, http: str, ca: str):
        self.https, self.http, self.ca = https, http, ca

    def client(self, forwarded_for: str | None = None) -> Client:
        return Client(self, forwarded_for)


class Client:
    """One browser: its own cookies, behind its own X-Forwarded-For."""

    def __init__(self, site: Site, forwarded_for: str | None):
        self.site = site
        self.session = requests.Session()
        # Per request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE.
        self.verify = site.ca
        if forwarded_for:
            self.session.headers["X-Forwarded-For"] = forwarded_for

    def get(self, path: str, **kw):
        return self.session.get(
            self.site.https + path, allow_redirects=False, timeout=30, verify=self.verify, **kw
        )

    def sign_in(self, slug: str, email: str, password: str, **kw):
        url = f"{self.site.https}/s/{slug}/admin/login"
        page = self.session.get(url, timeout=30, verify=self.verify)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        data = {"email": email, "password": password, "csrf_token": token, "next": ""}
        # Browsers send Origin/Referer; Pyramid checks them on https.
        headers = {"Referer": url, **kw.pop("headers", {})}
        return self.session.post(
            url, data=data, headers=headers, allow_redirects=False, timeout=30, verify=self.verify
        )


def failures_from(client: Client, slug: str, count: int, spoof: bool = True) -> None:
    """``count`` failed sign-ins, each with another made-up left-most hop."""
    for n in range(count):
        hops = f"198.51.100.{n}, {client.session.headers['X-Forwarded-For']}"
        res = client.sign_in(
            slug, f"nobody{n}@example.com", "wrong-pass", headers={"X-Forwarded-For": hops}
        )
        assert res.status_code == 400, res.text


def attempt_addresses(control, store) -> set[str]:
    engine = store_engine(control, store)
    with engine.connect() as conn:
        found = set(conn.scalars(select(LoginAttempt.ip)))
    engine.dispose()
    return found


@pytest.fixture
def store(make_store):
    return make_store(owner=True)


@pytest.fixture(scope="module")
def production_site(tmp_path_factory, mysql_settings, mysql_control):
    directory = tmp_path_factory.mktemp("nginx-gunicorn")
    with site(
        directory,
        mysql_settings,
        **{"backoffice.environment": "production", "backoffice.session_secret": "x" * 48},
    ) as running:
        yield running


def test_plain_http_is_redirected_to_https(production_site, store):
    res = requests.get(
        f"{production_site.http}/s/{store.slug}/admin/", allow_redirects=False, timeout=30
    )
    assert res.status_code == 301
    assert res.headers["Location"] == f"https://127.0.0.1/s/{store.slug}/admin/"


def test_behind_nginx_the_app_speaks_https(production_site, store):
    client = production_site.client()
    res = client.get(f"/s/{store.slug}/admin/")
    assert res.status_code == 303
    assert res.headers["Location"].startswith(f"{production_site.https}/s/{store.slug}/admin/")
    for path in ("/healthz", f"/s/{store.slug}/admin/login", f"/s/{store.slug}/checkout"):
        headers = client.get(path).headers
        assert headers["Strict-Transport-Security"] == HSTS, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path


def test_the_session_cookie_after_sign_in(production_site, store):
    res = production_site.client().sign_in(store.slug, *OWNER)
    assert res.status_code == 303
    assert res.headers["Location"].startswith(production_site.https + "/")
    cookie = res.raw.headers["Set-Cookie"]
    assert cookie.startswith("bo_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


def test_trusted_nginx_throttles_each_forwarded_client_apart(production_site, store, control):
    client_a = production_site.client(CLIENT_A)
    failures_from(client_a, store.slug, MAX_PER_ADDRESS)
    # The made-up left-most hops were ignored: every failure is A's.
    assert attempt_addresses(control, store) == {CLIENT_A}
    assert client_a.sign_in(store.slug, *OWNER).status_code == 429
    assert production_site.client(CLIENT_B).sign_in(store.slug, *OWNER).status_code == 303


def test_waitress_behind_trusted_nginx_sees_the_forwarded_client(
    tmp_path, mysql_settings, store, control
):
    with site(tmp_path, mysql_settings, server="waitress") as running:
        client = running.client(CLIENT_A)
        failures_from(client, store.slug, 1)
        res = client.sign_in(store.slug, *OWNER)
    assert attempt_addresses(control, store) == {CLIENT_A}
    assert res.status_code == 303 and res.headers["Location"].startswith(running.https + "/")


def test_untrusted_nginx_counts_every_client_as_the_proxy(tmp_path, mysql_settings, store, control):
    with site(tmp_path, mysql_settings, trusted="") as running:
        failures_from(running.client(CLIENT_A), store.slug, MAX_PER_ADDRESS)
        client_b = running.client(CLIENT_B)
        assert client_b.sign_in(store.slug, *OWNER).status_code == 429
        res = client_b.get(f"/s/{store.slug}/admin/")
    assert attempt_addresses(control, store) == {"127.0.0.1"}
    # Nor is its word taken for the scheme: the app believes it is plain http.
    assert res.headers["Location"].startswith("http://127.0.0.1/")
