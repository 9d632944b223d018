from tests.routing.conftest import seed_customer


def test_each_store_sees_only_its_own_rows(app_factory, control, make_store):
    a, b = make_store(), make_store()
    a_id = seed_customer(control, a, "alice@a.test")
    b_id = seed_customer(control, b, "bob@b.test")
    app = app_factory()
    assert app.get(f"/s/{a.slug}/probe/customer/{a_id}").json["email"] == "alice@a.test"
    assert app.get(f"/s/{a.slug}/probe/whoami").json["database"] == a.database_name
    host = f"{b.slug}.shops.test"
    assert app.get(f"/probe/customer/{b_id}", headers={"Host": host}).json["email"] == "bob@b.test"
    # B's path on A's host: refused, not re-routed.
    res = app.get(
        f"/s/{b.slug}/probe/customer/{b_id}", headers={"Host": f"{a.slug}.shops.test"}, status=404
    )
    assert "bob" not in res.text


def test_unknown_suspended_and_busy_stores(app_factory, control, make_store):
    from tenancy import operations

    store = make_store()
    app = app_factory()
    app.get("/s/no-such-store/probe/whoami", status=404)
    with control.session() as session:
        operations.suspend(control, session, store.slug)
    app = app_factory()
    res = app.get(f"/s/{store.slug}/probe/whoami", status=403)
    assert "suspended" in res.text
    res = app.get(f"/s/{store.slug}/api/v1/x", status=403)
    assert res.json["error"]["code"] == "forbidden"
