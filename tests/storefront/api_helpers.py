"""Helpers of the API write tests: read a store's rows directly, run requests at once."""

from __future__ import annotations

import threading

from sqlalchemy import select
from webtest import TestApp

from backoffice.models import AuditEntry
from tests.storefront.conftest import store_engine


def scalar(control, shop, statement):
    engine = store_engine(control, shop.tenant)
    with engine.connect() as conn:
        value = conn.scalar(statement)
    engine.dispose()
    return value


def rows(control, shop, statement) -> list:
    engine = store_engine(control, shop.tenant)
    with engine.connect() as conn:
        result = conn.execute(statement).all()
    engine.dispose()
    return result


def execute(control, shop, statement) -> None:
    engine = store_engine(control, shop.tenant)
    with engine.begin() as conn:
        conn.execute(statement)
    engine.dispose()


def audit_actions(control, shop) -> list[tuple[str, str]]:
    return [
        (r.action, r.actor)
        for r in rows(
            control, shop, select(AuditEntry.action, AuditEntry.actor).order_by(AuditEntry.id)
        )
    ]


def error(res) -> dict:
    body = res.json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def at_once(app, method: str, url: str, bodies: list, headers: dict) -> list:
    """Send each body at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def run(i, body):
        client = TestApp(app.app)
        barrier.wait()
        results[i] = client.request(
            url,
            method=method,
            body=client.JSONEncoder().encode(body).encode(),
            headers={**headers, "Content-Type": "application/json"},
            expect_errors=True,
        )

    threads = [threading.Thread(target=run, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results
