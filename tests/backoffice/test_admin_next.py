"""After signing in, people land on the page they asked for, inside their store."""

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
