"""``request.enqueue(task, *args, **kwargs)``: queue a task once the request commits.

The message is sent from an after-commit hook of the request's transaction,
so a task never sees data that was rolled back, and a request that fails
queues nothing. For a store task the request's store id is passed first.
Eagerly (no broker) the task runs in that hook, still after the commit.

The gap: if the broker is unreachable right after the commit, the message is
lost (the hook logs the error; the request has already succeeded).
"""

from __future__ import annotations

import logging

from backoffice.tasks.base import StoreTask, task_name

log = logging.getLogger(__name__)


class NoStore(LookupError):
    """A store task was queued from a request that is not bound to a store."""


def enqueue(request, task, *args, **kwargs) -> None:
    celery_task = request.registry.celery.tasks[task_name(task)]
    if isinstance(celery_task, StoreTask):
        if request.tenant is None:
            raise NoStore(f"{celery_task.name} needs a request bound to a store")
        args = (request.tenant.id, *args)
    request.tm.get().addAfterCommitHook(send_if_committed, args=(celery_task, args, kwargs))


def send_if_committed(committed: bool, celery_task, args, kwargs) -> None:
    if not committed:
        log.info("transaction aborted: %s not queued", celery_task.name)
        return
    celery_task.apply_async(args=args, kwargs=kwargs)
