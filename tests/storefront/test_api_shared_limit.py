"""The per-key API rate limit holds across processes that share Redis.

Two apps, each with its own control plane and limiter (as two web processes
have), take turns answering one key: together they allow exactly the burst.
Without Redis each process counts alone.
"""

from webtest import TestApp

from backoffice.config import make_app

LIMIT = {"backoffice.api_rate_limit": "60", "backoffice.api_rate_burst": "10"}  # 10 per 10 s


def two_apps(settings):
    return [TestApp(make_app(settings)) for _ in range(2)]


def allowed(apps, shop, requests=30) -> list[int]:
    counts = [0, 0]
    for i in range(requests):
        res = apps[i % 2].get("/api/v1/products", headers=shop.headers("read"), expect_errors=True)
        assert res.status_int in (200, 429)
        counts[i % 2] += res.status_int == 200
    return counts


def test_two_processes_share_one_limit(api_settings, shared_state, shop):
    apps = two_apps({**api_settings, **shared_state, **LIMIT})
    counts = allowed(apps, shop)
    assert sum(counts) == 10
    assert all(counts)  # both answered some: the count is shared, not one app's alone
    # Another key has a window of its own, in both processes.
    assert apps[1].get("/api/v1/products", headers=shop.headers("rw")).status_int == 200
    refused = apps[0].get("/api/v1/products", headers=shop.headers("read"), status=429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_without_redis_each_process_counts_alone(api_settings, shop):
    apps = two_apps({**api_settings, **LIMIT})
    assert allowed(apps, shop) == [10, 10]


def test_redis_down_lets_requests_through(api_settings, shop):
    settings = {**api_settings, **LIMIT, "backoffice.redis_url": "redis://127.0.0.1:1/0"}
    app = TestApp(make_app(settings))
    for _ in range(12):
        app.get("/api/v1/products", headers=shop.headers("read"), status=200)
