"""Property-based: the back office's settings and product forms answer anything typed
into them with the page again (400, errors shown) or a redirect, never a 5xx (item 13)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.backoffice.admin_fixtures import *  # noqa: F403  (fixtures, found by name)
from tests.backoffice.test_admin_settings import VALID
from tests.properties import BOUNDED, errors_logged, nasty_text

DOCUMENTED = {200, 303, 400}
# What a browser can send: text without NUL (form fields are text).
typed = nasty_text.map(lambda s: s.replace("\x00", ""))


def check(res, caplog, what) -> None:
    assert res.status_int in DOCUMENTED, (what, res.status_int)
    assert not errors_logged(caplog), (what, errors_logged(caplog))


@BOUNDED
@given(changes=st.dictionaries(st.sampled_from(sorted(VALID) + ["logo_url"]), typed, max_size=3))
def test_store_settings_form(owner, caplog, changes):
    caplog.clear()
    check(owner.post("/settings", {**VALID, **changes}, status="*"), caplog, changes)


@BOUNDED
@given(
    fields=st.dictionaries(
        st.sampled_from(["sku", "name", "description", "price", "stock", "is_active"]),
        typed | st.sampled_from(["1e29", "1e999999", "12,50", "-1", "²", "٣", "9" * 30]),
        max_size=4,
    )
)
def test_product_form(owner, caplog, fields):
    caplog.clear()
    params = {"sku": "P-1", "name": "Tea", "price": "1.00", "stock": "1", **fields}
    check(owner.post("/products/new", params, status="*"), caplog, fields)


@BOUNDED
@given(position=typed, name=typed, colour=typed)
def test_order_statuses_form(owner, caplog, position, name, colour):
    caplog.clear()
    params = {"add.code": "held", "add.name": name, "add.colour": colour, "add.position": position}
    check(owner.post("/settings/statuses", params, status="*"), caplog, params)
