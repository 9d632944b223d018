"""Sending one webhook delivery, and the Celery task that retries it with backoff.

Each attempt is recorded on the delivery row (committed before a retry is
scheduled, so the owner sees every failure). Retries back off exponentially:
``base * 2**(attempt - 1)`` seconds, capped at six hours, up to
``backoffice.webhook_max_attempts``, through Celery's ``retry`` (a new message
with a countdown). Eagerly (the embedded default, no broker) the task retries
at once, in the same call, without the wait.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from backoffice.models import WebhookDelivery
from backoffice.models.base import utcnow
from backoffice.tasks import StoreContext, store_task
from backoffice.webhooks import addresses
from backoffice.webhooks.signing import signature_header
from tenancy.settings import as_bool

DEFAULTS = {
    "backoffice.webhook_timeout": "10",
    "backoffice.webhook_max_attempts": "8",
    "backoffice.webhook_retry_base": "30",
}
MAX_BACKOFF = 6 * 3600
PENDING, RETRYING, DELIVERED, FAILED, CANCELLED = (
    "pending",
    "retrying",
    "delivered",
    "failed",
    "cancelled",
)
FINAL = (DELIVERED, FAILED, CANCELLED)
USER_AGENT = "backoffice-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str
    elapsed_ms: int


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET or send the body elsewhere: a failure.
    def redirect_request(self, *args, **kwargs):
        return None


# Connections only to checked addresses (webhooks.addresses); the other opener is
# for development and tests with backoffice.webhook_allow_private.
_openers = {
    allow: addresses.opener(allow_private=allow, refuse_redirects=_NoRedirects)
    for allow in (False, True)
}


def secret_context(tenant_id: int, endpoint_id: int) -> str:
    return f"tenant:{tenant_id}:webhook:{endpoint_id}"


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, *, allow_private: bool = False
) -> Outcome:
    # The URL passed services.check_url (http/https only) when it was saved.
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    started = time.perf_counter()
    try:
        with _openers[allow_private].open(request, timeout=timeout) as response:
            status, error = response.status, ""
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, error = None, str(getattr(exc, "reason", exc))[:400]
    elapsed = int((time.perf_counter() - started) * 1000)
    return Outcome(status is not None and 200 <= status < 300, status, error, elapsed)


def headers_for(delivery: WebhookDelivery, secret: str) -> dict[str, str]:
    body = delivery.body.encode("utf-8")
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Event-Id": delivery.event_id,
        "X-Event-Type": delivery.event_type,
        "X-Delivery-Attempt": str(delivery.attempts + 1),
        "X-Signature": signature_header(secret, body),
    }


def record(delivery: WebhookDelivery, outcome: Outcome) -> None:
    now = utcnow()
    delivery.attempts += 1
    delivery.last_status = outcome.status
    delivery.last_error = outcome.error
    delivery.history = [
        *(delivery.history or []),
        {
            "at": now.isoformat() + "Z",
            "status": outcome.status,
            "error": outcome.error,
            "ms": outcome.elapsed_ms,
        },
    ]
    if outcome.ok:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None


def backoff(attempt: int, base: int) -> int:
    return min(MAX_BACKOFF, base * 2 ** max(0, attempt - 1))


def _setting(settings, key: str) -> int:
    return int(settings.get(key) or DEFAULTS[key])


def attempt(
    delivery: WebhookDelivery, secret: str, timeout: float, *, allow_private: bool = False
) -> Outcome:
    outcome = post(
        delivery.endpoint.url,
        delivery.body.encode("utf-8"),
        headers_for(delivery, secret),
        timeout,
        allow_private=allow_private,
    )
    record(delivery, outcome)
    return outcome


@store_task("webhooks.deliver", bind=True)
def deliver_webhook(task, store: StoreContext, delivery_id: int) -> str:
    # Locked while it is sent: a second message for the same delivery (the sweeper
    # queued it again) waits, then finds it delivered and sends nothing.
    delivery = store.db.get(WebhookDelivery, int(delivery_id), with_for_update=True)
    if delivery is None or delivery.state in FINAL:
        return delivery.state if delivery is not None else "missing"
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        delivery.state = CANCELLED
        return delivery.state
    registry = task.app.registry
    settings = registry.settings
    secret = registry.control.keyring.decrypt_text(
        endpoint.secret_encrypted, context=secret_context(store.tenant.id, endpoint.id)
    )
    timeout = _setting(settings, "backoffice.webhook_timeout")
    max_attempts = _setting(settings, "backoffice.webhook_max_attempts")
    allow_private = as_bool(settings, "backoffice.webhook_allow_private")
    while not attempt(delivery, secret, timeout, allow_private=allow_private).ok:
        if delivery.attempts >= max_attempts:
            delivery.state = FAILED
            return delivery.state
        if not task.request.is_eager:
            return _schedule_retry(task, store, delivery, settings, max_attempts)
        # Eagerly there is no broker to hold the retry: try again at once.
    return delivery.state


def _schedule_retry(
    task, store: StoreContext, delivery: WebhookDelivery, settings, max_attempts: int
):
    delay = backoff(delivery.attempts, _setting(settings, "backoffice.webhook_retry_base"))
    delivery.state = RETRYING
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    # Keep this attempt in the log: the retry below ends the task without its commit.
    store.db.commit()
    raise task.retry(countdown=delay, max_retries=max_attempts)
