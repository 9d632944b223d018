"""Sign-in, sessions bound to their store, roles, CSRF, throttling."""

from tests.backoffice.admin_fixtures import *  # noqa: F403  (fixtures, found by name)


def test_owner_signs_in_and_out(admin):
    res = admin.get("/dashboard", status=303)
    assert "/admin/login" in res.location
    res = admin.login()
    assert res.location.endswith(f"/s/{admin.store.slug}/admin/dashboard")
    page = admin.get("/dashboard")
    assert "owner@example.com" in page.text
    admin.logout()
    admin.get("/dashboard", status=303)
