"""Cross-store attempts: every one is refused or a 404, and none returns B's data.

Generated over every ordered pair of four stores (A attacks B), times each way
of naming one store while asking for the other's data, plus single-store
probes with odd slugs, hosts and Authorization headers. The assertions read
the body: a 404 that carried B's e-mail would still be a leak.
"""

import itertools
from urllib.parse import quote

import pytest
from webtest import TestApp

from tests.routing.conftest import build_app, provision_shops

N_SHOPS = 4
PAIRS = list(itertools.permutations(range(N_SHOPS), 2))


def _b_row(b):
    return b.customer_ids[-1]  # the highest id of B: often absent in A


# Each attack: (name, builder(a, b) -> (path, headers), whether A's own row may answer).
PAIR_ATTACKS = [
    (
        "host_a_key_b",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": a.host, "Authorization": f"Bearer {b.key}"},
        ),
        False,
    ),
    (
        "host_a_key_b_api",
        lambda a, b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Host": a.host, "Authorization": f"Bearer {b.key}"},
        ),
        False,
    ),
    (
        "path_a_key_b",
        lambda a, b: (
            f"/s/{a.slug}/api/probe/customer/{_b_row(b)}",
            {"Authorization": f"Bearer {b.key}"},
        ),
        False,
    ),
    (
        "path_b_on_host_a",
        lambda a, b: (f"/s/{b.slug}/probe/customer/{_b_row(b)}", {"Host": a.host}),
        False,
    ),
    (
        "path_b_on_host_a_key_b",
        lambda a, b: (
            f"/s/{b.slug}/api/probe/customer/{_b_row(b)}",
            {"Host": a.host, "Authorization": f"Bearer {b.key}"},
        ),
        False,
    ),
    ("b_ids_through_host_a", lambda a, b: (f"/probe/customer/{_b_row(b)}", {"Host": a.host}), True),
    ("b_ids_through_path_a", lambda a, b: (f"/s/{a.slug}/probe/customer/{_b_row(b)}", {}), True),
    (
        "b_ids_through_key_a",
        lambda a, b: (f"/api/probe/customer/{_b_row(b)}", {"Authorization": f"Bearer {a.key}"}),
        True,
    ),
    (
        "xfh_b_untrusted",
        lambda a, b: (f"/probe/customer/{_b_row(b)}", {"Host": a.host, "X-Forwarded-Host": b.host}),
        True,
    ),
    (
        "xfh_b_untrusted_path_b",
        lambda a, b: (
            f"/s/{b.slug}/probe/customer/{_b_row(b)}",
            {"Host": a.host, "X-Forwarded-Host": b.host},
        ),
        False,
    ),
    (
        "double_prefix",
        lambda a, b: (f"/s/{a.slug}/s/{b.slug}/probe/customer/{_b_row(b)}", {}),
        False,
    ),
    (
        "upper_case_b_on_host_a",
        lambda a, b: (f"/s/{b.slug.upper()}/probe/customer/{_b_row(b)}", {"Host": a.host}),
        False,
    ),
    (
        "host_b_port_path_a",
        lambda a, b: (f"/s/{a.slug}/probe/customer/{_b_row(b)}", {"Host": b.host + ":8080"}),
        False,
    ),
    (
        "host_b_trailing_dot_key_a",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": b.host + ".", "Authorization": f"Bearer {a.key}"},
        ),
        False,
    ),
    (
        "host_b_upper_key_a",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": b.host.upper(), "Authorization": f"Bearer {a.key}"},
        ),
        False,
    ),
    (
        "revoked_key_b_on_host_a",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": a.host, "Authorization": f"Bearer {b.revoked_key}"},
        ),
        False,
    ),
    (
        "evil_suffix_host_key_a",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": f"{b.slug}.shops.test.evil.com", "Authorization": f"Bearer {a.key}"},
        ),
        True,
    ),
    (
        "nested_subdomain",
        lambda a, b: (f"/probe/customer/{_b_row(b)}", {"Host": f"{a.slug}.{b.slug}.shops.test"}),
        False,
    ),
    (
        "tampered_key_b",
        lambda a, b: (
            f"/probe/customer/{_b_row(b)}",
            {"Host": a.host, "Authorization": f"Bearer {b.key}x"},
        ),
        False,
    ),
]

# Single-store probes: b is the victim; the path or header is malformed.
ODD_ATTACKS = [
    ("dotdot_encoded", lambda b: (f"/s/%2e%2e/{b.slug}/probe/customer/{_b_row(b)}", {})),
    ("dotdot", lambda b: (f"/s/../s/{b.slug}/probe/customer/{_b_row(b)}", {})),
    ("encoded_dot_suffix", lambda b: (f"/s/{b.slug}%2e/probe/customer/{_b_row(b)}", {})),
    ("trailing_dot_slug", lambda b: (f"/s/{b.slug}./probe/customer/{_b_row(b)}", {})),
    ("upper_slug", lambda b: (f"/s/{b.slug.upper()}/probe/customer/{_b_row(b)}", {})),
    ("title_slug", lambda b: (f"/s/{b.slug.title()}/probe/customer/{_b_row(b)}", {})),
    (
        "unicode_slug",
        lambda b: (f"/s/{quote(b.slug.replace('r', 'г', 1))}/probe/customer/{_b_row(b)}", {}),
    ),
    (
        "fullwidth_slug",
        lambda b: (
            "/s/"
            + quote("".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in b.slug))
            + f"/probe/customer/{_b_row(b)}",
            {},
        ),
    ),
    ("percent_slug", lambda b: (f"/s/{b.slug}%25/probe/customer/{_b_row(b)}", {})),
    ("space_slug", lambda b: (f"/s/{b.slug}%20/probe/customer/{_b_row(b)}", {})),
    ("null_slug", lambda b: (f"/s/{b.slug}%00/probe/customer/{_b_row(b)}", {})),
    ("no_store_ids", lambda b: (f"/probe/customer/{_b_row(b)}", {})),
    (
        "revoked_key",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": f"Bearer {b.revoked_key}"},
        ),
    ),
    (
        "basic_auth",
        lambda b: (f"/api/probe/customer/{_b_row(b)}", {"Authorization": "Basic " + b.key}),
    ),
    ("bearer_empty", lambda b: (f"/api/probe/customer/{_b_row(b)}", {"Authorization": "Bearer"})),
    (
        "bearer_spaces",
        lambda b: (f"/api/probe/customer/{_b_row(b)}", {"Authorization": "Bearer    "}),
    ),
    (
        "key_without_scheme",
        lambda b: (f"/api/probe/customer/{_b_row(b)}", {"Authorization": b.key}),
    ),
    (
        "key_prefix_only",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": "Bearer " + b.key.rsplit("_", 1)[0]},
        ),
    ),
    (
        "key_short_secret",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": "Bearer " + b.key[: len(b.key) - 20]},
        ),
    ),
    (
        "key_test_prefix",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": "Bearer " + b.key.replace("bo_live_", "bo_test_", 1)},
        ),
    ),
    (
        "key_two_values",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": f"Bearer {b.key} {b.key}"},
        ),
    ),
    (
        "key_upper",
        lambda b: (
            f"/api/probe/customer/{_b_row(b)}",
            {"Authorization": "Bearer " + b.key.upper()},
        ),
    ),
    (
        "host_unknown_subdomain",
        lambda b: (f"/probe/customer/{_b_row(b)}", {"Host": "nosuchshop.shops.test"}),
    ),
    (
        "host_b_underscore",
        lambda b: (f"/probe/customer/{_b_row(b)}", {"Host": b.host.replace("-", "_")}),
    ),
    ("host_garbage", lambda b: (f"/probe/customer/{_b_row(b)}", {"Host": f"{b.host}:80:80"})),
    (
        "xfh_only_untrusted",
        lambda b: (f"/probe/customer/{_b_row(b)}", {"X-Forwarded-Host": b.host}),
    ),
]


@pytest.fixture(scope="module")
def shops(mysql_control):
    return provision_shops(mysql_control, N_SHOPS)


@pytest.fixture(scope="module")
def app(mysql_settings, mysql_control):
    return TestApp(build_app(mysql_settings, mysql_control))


def assert_no_leak(res, victim, attacker=None, own_ok=False):
    body = res.text
    for email in victim.emails:
        assert email not in body, f"{victim.slug}'s data leaked: {res.status} {body[:200]}"
    assert victim.database_name not in body
    assert "Traceback" not in body
    if res.status_int == 200:
        assert own_ok, f"served: {res.status} {body[:200]}"
        assert attacker is not None and res.json["store"] == attacker.slug
        assert res.json["email"] in attacker.emails
    else:
        assert 400 <= res.status_int < 500, res.status


@pytest.mark.parametrize("name,attack,own_ok", PAIR_ATTACKS, ids=[a[0] for a in PAIR_ATTACKS])
@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_cross_store_attempt(app, shops, pair, name, attack, own_ok):
    a, b = shops[pair[0]], shops[pair[1]]
    path, headers = attack(a, b)
    res = app.get(path, headers=headers, expect_errors=True)
    assert_no_leak(res, b, a, own_ok)


@pytest.mark.parametrize("name,attack", ODD_ATTACKS, ids=[a[0] for a in ODD_ATTACKS])
@pytest.mark.parametrize("victim", range(N_SHOPS))
def test_odd_names_and_headers(app, shops, victim, name, attack):
    b = shops[victim]
    path, headers = attack(b)
    res = app.get(path, headers=headers, expect_errors=True)
    assert_no_leak(res, b)


def test_the_legitimate_ways_still_work(app, shops):
    """The matrix would pass for an app that refuses everything: prove it does not."""
    a = shops[1]
    row, email = a.customer_ids[-1], a.emails[-1]
    for path, headers in [
        (f"/probe/customer/{row}", {"Host": a.host}),
        (f"/probe/customer/{row}", {"Host": a.host.upper() + ".:8080"}),
        (f"/s/{a.slug}/probe/customer/{row}", {}),
        (f"/s/{a.slug}/probe/customer/{row}", {"Host": a.host}),
        (f"/api/probe/customer/{row}", {"Authorization": f"Bearer {a.key}"}),
        (f"/api/probe/customer/{row}", {"Host": a.host, "Authorization": f"bearer {a.key}"}),
    ]:
        assert app.get(path, headers=headers).json["email"] == email, (path, headers)


def test_forwarded_host_is_honoured_only_behind_a_trusted_proxy(
    mysql_settings, mysql_control, shops
):
    a, b = shops[0], shops[2]
    trusted = TestApp(
        build_app(mysql_settings, mysql_control, **{"backoffice.trusted_proxies": "10.0.0.0/8"}),
        extra_environ={"REMOTE_ADDR": "10.1.2.3"},
    )
    res = trusted.get(
        f"/probe/customer/{_b_row(b)}", headers={"Host": a.host, "X-Forwarded-Host": b.host}
    )
    assert res.json["email"] == b.emails[-1]
    # Behind the proxy the path still has to agree with the forwarded host.
    res = trusted.get(
        f"/s/{a.slug}/probe/customer/1",
        headers={"Host": a.host, "X-Forwarded-Host": b.host},
        status=404,
    )
    assert_no_leak(res, a)
    assert_no_leak(res, b)
    # The same headers from a peer outside the trusted networks count for nothing.
    res = trusted.get(
        f"/s/{a.slug}/probe/customer/1",
        headers={"Host": a.host, "X-Forwarded-Host": b.host},
        extra_environ={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert res.json["email"] == a.emails[0]


def test_the_matrix_is_large_enough():
    assert len(PAIRS) * len(PAIR_ATTACKS) + N_SHOPS * len(ODD_ATTACKS) >= 200
