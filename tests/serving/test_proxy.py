"""Whom to believe behind a reverse proxy: the X-Forwarded-For walk and the environ it writes."""

from __future__ import annotations

import ipaddress

import pytest

from backoffice.web.proxy import MAX_HOPS, TrustedProxies, client_address, correct
from tenancy.settings import SettingsError

TRUSTED = TrustedProxies.from_settings({"backoffice.trusted_proxies": "127.0.0.1,::1,10.0.0.0/8"})


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("127.0.0.1", "", "127.0.0.1"),  # no header: the request came from the proxy host
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "  203.0.113.7  ", "203.0.113.7"),
        # The left-most hops are the client's own words: spoofed, ignored.
        ("127.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "127.0.0.1, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "10.0.0.5, 203.0.113.7", "203.0.113.7"),
        # A chain of trusted proxies is walked through.
        ("127.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.2, 10.0.0.1", "203.0.113.7"),
        # Every hop a trusted proxy: the left-most of them.
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),
        # IPv6, bracketed or not, with ports; IPv4 behind ports too.
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("::1", "[2001:db8::1]:4711", "2001:db8::1"),
        ("::1", "2001:DB8:0:0::1", "2001:db8::1"),
        ("127.0.0.1", "203.0.113.7:5555", "203.0.113.7"),
        ("127.0.0.1", "::ffff:203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", "::ffff:10.0.0.9, 198.51.100.1", "198.51.100.1"),
        # Garbage stops the walk at the last trusted hop: it cannot choose a key.
        ("127.0.0.1", "unknown", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7, <script>", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7, , 10.0.0.1", "10.0.0.1"),
        ("127.0.0.1", "203.0.113.7, 999.1.1.1", "127.0.0.1"),
        ("127.0.0.1", "garbage, 203.0.113.7", "203.0.113.7"),
        ("127.0.0.1", ",,,", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7/24", "127.0.0.1"),
    ],
)
def test_the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy(peer, forwarded_for, client):
    assert str(client_address(ipaddress.ip_address(peer), forwarded_for, TRUSTED)) == client


def test_too_many_hops_are_cut_to_the_right_most():
    trusted_chain = ", ".join(f"10.0.0.{n}" for n in range(1, 40))
    got = client_address(ipaddress.ip_address("10.0.0.1"), "203.0.113.7, " + trusted_chain, TRUSTED)
    assert str(got) == f"10.0.0.{40 - MAX_HOPS}"  # never further left than MAX_HOPS hops
    padded = ", ".join(["198.51.100.1"] * 10_000) + ", 203.0.113.7"
    assert str(client_address(ipaddress.ip_address("127.0.0.1"), padded, TRUSTED)) == "203.0.113.7"


def environ(remote="127.0.0.1", **headers):
    base = {"REMOTE_ADDR": remote, "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:6543"}
    base.update({"HTTP_" + name.upper(): value for name, value in headers.items()})
    return base


def corrected(env, trusted=TRUSTED):
    correct(env, trusted)
    return env["REMOTE_ADDR"], env["wsgi.url_scheme"], env["HTTP_HOST"]


FORWARDED = {
    "x_forwarded_for": "1.2.3.4, 203.0.113.7",
    "x_forwarded_proto": "https",
    "x_forwarded_host": "shop.example.com",
    "x_forwarded_port": "443",
}


def test_a_trusted_proxy_sets_scheme_host_and_address():
    env = environ(**FORWARDED)
    assert corrected(env) == ("203.0.113.7", "https", "shop.example.com")
    assert env["backoffice.proxy_peer"] == "127.0.0.1"
    assert not [name for name in env if name.startswith("HTTP_X_FORWARDED")]


def test_an_untrusted_peer_is_taken_at_its_word_and_its_headers_dropped():
    env = environ("192.0.2.9", forwarded="for=1.1.1.1", **FORWARDED)
    assert corrected(env) == ("192.0.2.9", "http", "127.0.0.1:6543")
    assert not [name for name in env if "FORWARDED" in name]  # WebOb's client_addr reads them


def test_nobody_is_trusted_by_default():
    nobody = TrustedProxies.from_settings({})
    assert corrected(environ(**FORWARDED), nobody) == ("127.0.0.1", "http", "127.0.0.1:6543")


@pytest.mark.parametrize(
    ("headers", "scheme", "host"),
    [
        (
            {
                "x_forwarded_proto": "https",
                "x_forwarded_host": "a.test",
                "x_forwarded_port": "8443",
            },
            "https",
            "a.test:8443",
        ),
        (
            {"x_forwarded_proto": "http", "x_forwarded_host": "a.test", "x_forwarded_port": "80"},
            "http",
            "a.test",
        ),
        (
            {
                "x_forwarded_proto": "https",
                "x_forwarded_host": "a.test:9443",
                "x_forwarded_port": "8443",
            },
            "https",
            "a.test:9443",
        ),
        (
            {
                "x_forwarded_proto": "https",
                "x_forwarded_host": "[2001:db8::1]",
                "x_forwarded_port": "8443",
            },
            "https",
            "[2001:db8::1]:8443",
        ),
        ({"x_forwarded_host": "evil.test, a.test"}, "http", "a.test"),  # the nearest proxy's
        ({"x_forwarded_proto": "gopher"}, "http", "127.0.0.1:6543"),
        ({"x_forwarded_proto": "HTTPS"}, "https", "127.0.0.1:6543"),
        ({"x_forwarded_host": "a.test/evil"}, "http", "127.0.0.1:6543"),
        ({"x_forwarded_host": "a.test\r\nX: y"}, "http", "127.0.0.1:6543"),
        ({"x_forwarded_host": "a.test", "x_forwarded_port": "junk"}, "http", "a.test"),
    ],
)
def test_scheme_and_host_are_checked_before_use(headers, scheme, host):
    _, got_scheme, got_host = corrected(environ(**headers))
    assert (got_scheme, got_host) == (scheme, host)


@pytest.mark.parametrize(
    ("settings", "inside", "outside"),
    [
        (
            {"backoffice.trusted_proxies": "192.168.0.0/16, 2001:db8::/32"},
            ["192.168.4.4", "2001:db8::9"],
            ["127.0.0.1", "10.0.0.1"],
        ),
        # The deprecated boolean means the loopback addresses.
        ({"backoffice.trusted_proxy": "true"}, ["127.0.0.1", "::1"], ["10.0.0.1", "127.0.0.2"]),
        (
            {"backoffice.trusted_proxy": "true", "backoffice.trusted_proxies": "10.0.0.1"},
            ["10.0.0.1"],
            ["127.0.0.1"],
        ),
        (
            {"backoffice.trusted_proxy": "false", "backoffice.trusted_proxies": ""},
            [],
            ["127.0.0.1"],
        ),
    ],
)
def test_trusted_proxies_setting(settings, inside, outside):
    trusted = TrustedProxies.from_settings(settings)
    assert all(ipaddress.ip_address(a) in trusted for a in inside)
    assert not any(ipaddress.ip_address(a) in trusted for a in outside)


@pytest.mark.parametrize("value", ["localhost", "10.0.0.1/8", "*", "10.0.0.0/33"])
def test_a_bad_trusted_proxies_value_names_the_setting(value):
    with pytest.raises(SettingsError, match=r"backoffice\.trusted_proxies"):
        TrustedProxies.from_settings({"backoffice.trusted_proxies": value})
