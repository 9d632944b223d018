"""Security headers and cookie flags on every kind of page, through the whole app on MariaDB."""

from __future__ import annotations

import pytest
from webtest import TestApp

from backoffice.config import make_app
from backoffice.web.headers import CSP, HSTS
from storefront.checkout.headers import CSP as CHECKOUT_CSP
from tests.backoffice.admin_fixtures import Admin
from tests.storefront.conftest import add_key

PROXY = {"REMOTE_ADDR": "127.0.0.1"}
THROUGH_TLS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "localhost",
    "X-Forwarded-For": "203.0.113.7",
}


def app_for(settings, control, **extra) -> TestApp:
    settings = {**settings, "backoffice.trusted_proxies": "127.0.0.1", **extra}
    return TestApp(make_app(settings, control=control), extra_environ=PROXY)


PAGES = (
    "/dashboard",
    "/orders",
    "/products",
    "/products/new",
    "/customers",
    "/settings",
    "/settings/statuses",
    "/staff",
    "/payments",
    "/api-keys",
    "/webhooks",
    "/audit",
    "/profile",
)


@pytest.fixture
def store(make_store):
    return make_store(owner=True)


def pages(app, store, control):
    """(kind, response) for a sample of every kind of page, the owner signed in."""
    admin = Admin(app, store)
    prefix = f"/s/{store.slug}"
    login = admin.get("/login")
    admin.login()
    key = add_key(control, store, "site", ["read"])
    return [
        ("login", login),
        ("admin", admin.get("/")),
        ("checkout", app.get(f"{prefix}/checkout")),
        ("api", app.get(f"{prefix}/api/v1/products", headers={"Authorization": f"Bearer {key}"})),
        ("api error", app.get(f"{prefix}/api/v1/products", status=401)),
        ("404", app.get(f"{prefix}/admin/no-such-page", status=404)),
        ("404 without store", app.get("/no-such-page", status=404)),
        ("healthz", app.get("/healthz", status="*")),
        ("redirect", app.get(f"{prefix}/admin/", status=303)),
    ]


def test_every_page_kind_gets_the_security_headers(mysql_settings, control, store):
    for kind, res in pages(app_for(mysql_settings, control), store, control):
        headers = res.headers
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], kind
        assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin")
        assert "Strict-Transport-Security" not in headers, kind  # not production
        if kind == "checkout":  # the checkout keeps its own, stricter policy
            assert headers["Content-Security-Policy"] == CHECKOUT_CSP
            assert headers["Referrer-Policy"] == "same-origin"
        else:
            assert headers["Content-Security-Policy"] == CSP, kind
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", kind


def test_back_office_pages_need_no_script_and_no_foreign_style(mysql_settings, control, store):
    app = app_for(mysql_settings, control)
    admin = Admin(app, store)
    admin.login()
    for path in PAGES:
        page = admin.get(path).html
        assert page.find_all("script") == [], path
        loads = [tag.get("href") or tag.get("src") for tag in page.find_all(["link", "img"])]
        assert all(url.startswith(("http://localhost/", "/")) for url in loads), (path, loads)


def test_hsts_on_https_in_production_only(mysql_settings, control, store):
    production = app_for(
        mysql_settings,
        control,
        **{"backoffice.environment": "production", "backoffice.session_secret": "s" * 40},
    )
    for path in ("/healthz", f"/s/{store.slug}/admin/login", f"/s/{store.slug}/checkout"):
        assert (
            production.get(path, headers=THROUGH_TLS).headers["Strict-Transport-Security"] == HSTS
        )
        assert "Strict-Transport-Security" not in production.get(path).headers  # plain http
    development = app_for(mysql_settings, control)
    assert (
        "Strict-Transport-Security" not in development.get("/healthz", headers=THROUGH_TLS).headers
    )


def session_cookie(res) -> str:
    (cookie,) = [c for c in res.headers.getall("Set-Cookie") if c.startswith("bo_session=")]
    return cookie


def sign_in(app, store, headers):
    """The sign-in form sent over the given proxy headers; the response with the cookie."""
    login = app.get(f"/s/{store.slug}/admin/login", headers=headers)
    form = login.forms[0]
    form["email"], form["password"] = "owner@example.com", "owner-pass-1"
    return form.submit(headers=headers, status=303)


@pytest.mark.parametrize(
    ("environment", "headers", "secure"),
    [
        ("test", {}, False),
        ("test", THROUGH_TLS, True),
        # Production is https: the cookie never travels in clear, even when the
        # proxy in front was left untrusted by mistake (sign-in then fails loudly).
        ("production", {}, True),
        ("production", THROUGH_TLS, True),
    ],
)
def test_the_session_cookie_flags(mysql_settings, control, store, environment, headers, secure):
    app = app_for(
        mysql_settings,
        control,
        **{"backoffice.environment": environment, "backoffice.session_secret": "s" * 40},
    )
    login = app.get(f"/s/{store.slug}/admin/login", headers=headers)  # the CSRF token's cookie
    cookie = session_cookie(login).lower()
    assert "; httponly" in cookie and "; samesite=lax" in cookie
    assert ("; secure" in cookie) is secure
    if headers:
        res = sign_in(app, store, headers)
        assert res.location.startswith("https://localhost/")
        cookie = session_cookie(res).lower()
        assert "; secure" in cookie and "; httponly" in cookie and "; samesite=lax" in cookie


def test_an_untrusted_peer_cannot_claim_https(mysql_settings, control, store):
    app = app_for(mysql_settings, control)
    res = sign_in(
        app.__class__(app.app, extra_environ={"REMOTE_ADDR": "192.0.2.1"}), store, THROUGH_TLS
    )
    assert res.location.startswith("http://")
    assert "; secure" not in session_cookie(res).lower()
