"""A process that reports a failing request to Sentry at the DSN it is given.

``python -m tests.observability.sentry_app DSN HERE SECRETS.json``: builds the
embedded app with every kind of secret set, sends one request that fails in a
view (API key, cookie, token in the query, a password in the view's locals
and a secret in a log line), and waits until the SDK has posted its events.
Run in its own process: Sentry's SDK patches Pyramid and Celery process-wide.
"""

from __future__ import annotations

import json
import logging
import os
import sys

import sentry_sdk
from pyramid.view import view_config
from webtest import TestApp

from backoffice.config import configure
from backoffice.schema import store_schema
from tenancy.keyring import generate_key
from tenancy.migrate import init_control
from tenancy.provisioning import Provisioner, StoreRequest
from tenancy.settings import resolve
from tests.routing.conftest import add_api_key

log = logging.getLogger("backoffice.tests.sentry")
CARD = "4111 1111 1111 1111"


@view_config(route_name="sentry.boom", renderer="json")
def boom(request):
    settings = request.registry.settings
    password = "hunter2-local-password"  # noqa: F841 - a local Sentry would show
    log.warning("about to fail; session secret %s", settings["backoffice.session_secret"])
    raise RuntimeError(f"cannot reach {settings['backoffice.broker_url']} for card {CARD}")


def main(dsn: str, here: str, secrets_file: str) -> None:
    settings = resolve(
        {
            "backoffice.keys": f"{generate_key()},{generate_key()}",
            "backoffice.session_secret": "session-secret-0123456789",
            "backoffice.metrics_token": "metrics-token-0123456789",
            "backoffice.broker_url": "redis://:broker-password-0123@127.0.0.1:6379/9",
            "backoffice.environment": "test",
            "backoffice.sentry_dsn": dsn,
        },
        here=here,
        environ={},
    )
    os.makedirs(os.path.join(here, "var"), exist_ok=True)
    config = configure(settings)
    control = config.registry.control
    init_control(control.engine)
    with control.session() as session:
        control.add_server(
            session, "local", f"sqlite:///{settings['backoffice.store_dir']}", default=True
        )
        session.commit()
    store = Provisioner(control, store_schema).create(StoreRequest(slug="sentry-shop", name="S"))
    api_key = add_api_key(control, store.id)
    config.add_route("sentry.boom", "/probe/boom")
    config.scan(__name__)
    app = TestApp(config.make_wsgi_app())
    res = app.get(
        "/probe/boom?token=query-token-0123456789&page=2",
        headers={
            "Authorization": f"Bearer {api_key}",
            "Cookie": "bo_session=cookie-value-0123456789",
            "X-Api-Key": "header-api-key-0123456789",
        },
        status=500,
    )
    with open(secrets_file, "w") as fh:
        json.dump(
            {
                "request_id": res.headers["X-Request-ID"],
                "secrets": [
                    *settings["backoffice.keys"].split(","),
                    settings["backoffice.session_secret"],
                    settings["backoffice.metrics_token"],
                    "broker-password-0123",
                    api_key,
                    "cookie-value-0123456789",
                    "query-token-0123456789",
                    "header-api-key-0123456789",
                    "hunter2-local-password",
                    CARD,
                    CARD.replace(" ", ""),
                ],
            },
            fh,
        )
    sentry_sdk.flush(timeout=10)


if __name__ == "__main__":
    main(*sys.argv[1:4])
