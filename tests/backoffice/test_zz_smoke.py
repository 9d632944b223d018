from tests.backoffice.admin_fixtures import *  # noqa: F403

def test_pages(shop_owner):
    a = shop_owner
    for p in ["/dashboard", "/settings", "/settings/statuses"]:
        r = a.get(p)
        print(p, r.status, len(r.text))
    r = a.get("/settings/statuses")
    f = r.forms[2]
    f["add.code"] = "on_hold"; f["add.name"] = "On hold"; f["add.colour"] = "#ff0000"
    r = f.submit(); print(r.status); r = r.follow(); print("On hold" in r.text)
    r = a.get("/settings"); f = r.forms[2]; f["order_number_format"] = "X-{bad}"; r = f.submit(status=400); print("exactly once" in r.text)
    f = r.forms[2]; f["order_number_format"] = "X-{seq:05d}"; f["timezone"] = "Europe/Kyiv"; r = f.submit(status=303)
    print(a.get("/audit").text.count("<tr>"))
