"""After signing in, people land on the page they asked for, inside their store."""

from urllib.parse import quote

from tests.backoffice.admin_fixtures import *  # noqa: F403  (fixtures, found by name)


def test_sign_in_returns_to_the_page_asked_for(admin):
    res = admin.get("/orders?status=new", status=303)
    login = res.follow()
    form = login.forms[0]
    assert form["next"].value == "/admin/orders?status=new"
    form["email"], form["password"] = "owner@example.com", "owner-pass-1"
    res = form.submit(status=303)
    assert res.location.endswith(f"/s/{admin.store.slug}/admin/orders?status=new")


def test_next_never_leaves_the_store(admin):
    login = admin.get("/login?next=//evil.example/admin")
    form = login.forms[0]
    form["email"], form["password"] = "owner@example.com", "owner-pass-1"
    res = form.submit(status=303)
    assert res.location.endswith(f"/s/{admin.store.slug}/admin/dashboard")


def test_a_next_that_would_break_the_location_header_is_dropped_or_encoded(admin):
    login = admin.get("/login")
    token = login.forms[0]["csrf_token"].value
    cases = {
        "/admin/orders\r\nSet-Cookie: x=1": "/admin/dashboard",
        "/admin/orders\x00": "/admin/dashboard",
        "/admin/\\evil.example": "/admin/dashboard",
        "/admin/orders?q=\u0447\u0430\u0439": "/admin/orders?q=%D1%87%D0%B0%D0%B9",
        "/admin/orders?q=\U0001f375": "/admin/orders?q=%F0%9F%8D%B5",
    }
    for sent, landing in cases.items():
        params = {"email": "owner@example.com", "password": "owner-pass-1", "next": sent}
        res = admin.app.post(admin.url("/login"), {**params, "csrf_token": token}, status=303)
        assert res.location.endswith(f"/s/{admin.store.slug}{landing}"), (sent, res.location)
        assert "\r" not in res.location and "\n" not in res.location
        # Signed in, the sign-in page sends people on at once: the same rule.
        res = admin.app.get(admin.url("/login") + "?next=" + quote(sent), status=303)
        assert res.location.endswith(f"/s/{admin.store.slug}{landing}"), (sent, res.location)
        admin.app.reset()
        token = admin.get("/login").forms[0]["csrf_token"].value
