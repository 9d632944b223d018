"""404/403/503/500 pages (HTML for people, JSON for the API), /healthz and /metrics."""

import pytest
from sqlalchemy import update
from webtest import TestApp

from tenancy.control import ControlPlane
from tenancy.models import Tenant
from tests.routing.conftest import build_app, provision_shops

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def shops(mysql_control):
    active, suspended, busy = provision_shops(mysql_control, 3)
    with mysql_control.session() as session:
        session.execute(update(Tenant).where(Tenant.id == suspended.id).values(status="suspended"))
        session.execute(update(Tenant).where(Tenant.id == busy.id).values(status="migrating"))
        session.commit()
    return active, suspended, busy


@pytest.fixture(scope="module")
def app(mysql_settings, mysql_control):
    return TestApp(build_app(mysql_settings, mysql_control))


def assert_html(res, status):
    assert res.status_int == status
    assert res.content_type == "text/html" and "<html" in res.text.lower()
    assert "Traceback" not in res.text and "secret internals" not in res.text


def assert_json(res, status, code):
    assert res.status_int == status and res.content_type == "application/json"
    assert res.json["error"]["code"] == code
    assert "Traceback" not in res.text and "secret internals" not in res.text


def test_a_commit_that_fails_is_a_503_page_in_the_stores_language(app, shops):
    """The commit fails (the connection was lost): pyramid_tm shows the error
    page, whose language would come from the store's settings, which can no
    longer be read in that failed transaction. The page falls back, not over."""
    active = shops[0]
    res = app.get(f"/s/{active.slug}/probe/commit-lost", headers=HTML, status=503)
    assert_html(res, 503)
    assert res.headers["Retry-After"] == "1"


def test_unknown_store(app):
    assert_html(app.get("/s/no-such-shop/probe/whoami", headers=HTML, status=404), 404)
    assert_html(app.get("/", headers={**HTML, "Host": "nosuch.shops.test"}, status=404), 404)
    assert_json(app.get("/s/no-such-shop/api/probe/customer/1", status=404), 404, "not_found")
    assert_json(
        app.get("/api/probe/customer/1", headers={"Host": "nosuch.shops.test"}, status=404),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        ("application/json", True),
        ("application/json;q=0.5, text/plain", True),
        ("application/*", True),
        ("text/html,application/xhtml+xml", False),
        ("text/html;q=0.1, application/json", False),  # a browser that names HTML at all
        ("*/*", False),  # ties go to the page
        ("image/png", False),
        (None, False),
    ],
)
def test_an_unknown_store_answers_in_the_format_asked_for(app, accept, json):
    res = app.get(
        "/s/no-such-shop/probe/whoami", status=404, headers={"Accept": accept} if accept else {}
    )
    if json:
        assert_json(res, 404, "not_found")
    else:
        assert_html(res, 404)


def test_suspended_store(app, shops):
    _active, suspended, _busy = shops
    res = app.get(f"/s/{suspended.slug}/probe/whoami", headers=HTML, status=403)
    assert_html(res, 403)
    assert "suspended" in res.text
    assert_json(app.get(f"/s/{suspended.slug}/api/probe/customer/1", status=403), 403, "forbidden")
    assert_json(
        app.get(
            "/api/probe/customer/1",
            headers={"Authorization": f"Bearer {suspended.key}"},
            status=403,
        ),
        403,
        "forbidden",
    )


def test_busy_store_is_503_with_retry_after(app, shops):
    busy = shops[2]
    res = app.get(f"/s/{busy.slug}/probe/whoami", headers=HTML, status=503)
    assert_html(res, 503)
    assert int(res.headers["Retry-After"]) > 0
    res = app.get(f"/s/{busy.slug}/api/probe/customer/1", status=503)
    assert_json(res, 503, "unavailable")
    assert int(res.headers["Retry-After"]) > 0
    for email in busy.emails:
        assert email not in res.text


def test_bad_api_key_is_401_json(app, shops):
    res = app.get("/api/probe/customer/1", headers={"Authorization": "Bearer nope"}, status=401)
    assert_json(res, 401, "unauthorized")
    assert res.headers["WWW-Authenticate"] == "Bearer"


def test_an_error_in_a_view_is_a_500_page_without_traceback(app, shops):
    active = shops[0]
    assert_html(app.get(f"/s/{active.slug}/probe/boom", headers=HTML, status=500), 500)


def test_healthz(app, mysql_settings):
    assert app.get("/healthz").json == {"status": "ok", "control_db": "ok"}
    # The control DB down: nothing listens on port 1.
    dead = ControlPlane(
        {**mysql_settings, "backoffice.control_url": "mysql+pymysql://root@127.0.0.1:1/x"}
    )
    down = TestApp(build_app(mysql_settings, dead))
    res = down.get("/healthz", status=503)
    assert res.json["status"] == "unavailable"
    # A store page on the same app is a 503 page too, never a traceback.
    res = down.get("/s/any-shop/probe/whoami", headers=HTML, status=503)
    assert_html(res, 503)
    dead.dispose()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == name:
            return float(value)
    raise AssertionError(f"{name} not in metrics")


def test_metrics_from_loopback(app, shops):
    active, suspended, busy = shops
    app.get(f"/s/{active.slug}/probe/whoami")
    app.get(f"/s/{suspended.slug}/probe/whoami", status=403)
    app.get(f"/s/{busy.slug}/probe/whoami", status=503)
    app.get("/s/no-such-shop/probe/whoami", status=404)
    res = app.get("/metrics", extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    assert res.content_type == "text/plain"
    body = res.text
    for status in ("active", "suspended", "busy", "refused"):
        assert metric(body, f'backoffice_requests_total{{status="{status}"}}') >= 1, status
    assert metric(body, "backoffice_engines_open") >= 1
    assert metric(body, "backoffice_engines_created_total") >= 1
    assert metric(body, 'backoffice_server_connections_open{server="maria"}') >= 1
    assert metric(body, 'backoffice_server_connections_peak{server="maria"}') >= 1
    assert metric(body, "backoffice_server_connection_cap") == 100
    assert metric(body, "backoffice_directory_cache_misses_total") >= 1
    assert metric(body, "backoffice_directory_cache_hits_total") >= 0
    assert "# TYPE backoffice_requests_total counter" in body
    assert app.get("/metrics", extra_environ={"REMOTE_ADDR": "::1"}).status_int == 200


def test_metrics_refused_to_remote_clients_without_a_token(app):
    res = app.get("/metrics", extra_environ={"REMOTE_ADDR": "10.1.2.3"}, status=403)
    assert "backoffice_" not in res.text


def test_metrics_with_a_token(mysql_settings, mysql_control):
    app = TestApp(
        build_app(mysql_settings, mysql_control, **{"backoffice.metrics_token": "s3cret-token"})
    )
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        res = app.get("/metrics", headers=headers, extra_environ=remote, status=401)
        assert "backoffice_" not in res.text
    # With a token set, loopback alone is not enough either.
    app.get("/metrics", extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=401)
    res = app.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-token"}, extra_environ=remote
    )
    assert "backoffice_engines_open" in res.text
