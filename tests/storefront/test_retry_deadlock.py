"""A real InnoDB deadlock in a request: the request runs again and succeeds (issue 18,
finding 10), instead of answering 500."""

from __future__ import annotations

import threading
import time

from pyramid_retry import IBeforeRetry
from sqlalchemy import create_engine, insert, text, update
from sqlalchemy.pool import NullPool
from webtest import TestApp

from backoffice.config import configure
from backoffice.models import ApiKey, Customer
from tests.storefront.conftest import order_body, store_engine


def wait_for_lock_wait(admin_url: str, database: str, timeout: float = 20.0) -> None:
    """Until a transaction on ``database`` waits for a lock (needs PROCESS: as root)."""
    query = text(
        "SELECT COUNT(*) FROM information_schema.INNODB_TRX t "
        "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
        "WHERE t.trx_state = 'LOCK WAIT' AND p.DB = :db"
    )
    engine = create_engine(admin_url, poolclass=NullPool)
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                if conn.execute(query, {"db": database}).scalar():
                    return
                time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("the request never waited for the lock")


def test_a_deadlocked_request_is_retried_and_succeeds(api_settings, control, shop, mysql_admin_url):
    config = configure(api_settings, control=control)
    retries = []
    config.add_subscriber(
        lambda event: retries.append(type(event.exception).__name__), IBeforeRetry
    )
    app = TestApp(config.make_wsgi_app())
    order = app.post_json("/api/v1/orders", order_body(), headers=shop.headers()).json
    engine = store_engine(control, shop.tenant)
    with engine.begin() as conn:  # the request will write "last used" first
        conn.execute(update(ApiKey).values(last_used_at=None))
    answer = {}

    def change_status():
        answer["res"] = app.post_json(
            f"/api/v1/orders/{order['id']}/status",
            {"status": "confirmed"},
            headers=shop.headers(),
            status="*",
        )

    other = engine.connect()
    try:
        tx = other.begin()
        # The other transaction is the heavier one: InnoDB rolls back the request's.
        other.execute(
            insert(Customer),
            [{"email": f"c{i}@example.com", "name": "", "phone": ""} for i in range(50)],
        )
        other.execute(text("UPDATE orders SET shipping_address = 'held' WHERE id = :id"), order)
        worker = threading.Thread(target=change_status)
        worker.start()
        # The request holds its key row (last_used_at) and waits for the order row.
        wait_for_lock_wait(mysql_admin_url, shop.tenant.database_name)
        other.execute(update(ApiKey).values(name=ApiKey.name))  # the cycle: a deadlock
        tx.commit()
    finally:
        other.close()
    worker.join(60)
    res = answer["res"]
    assert res.status_int == 200, res.text
    assert res.json["status"] == "confirmed"
    assert retries == ["OperationalError"]
    engine.dispose()
