"""A bounded hand-off to one worker thread, so that two things overlap.

A backup spends its time in two places that need not wait for each other:
MariaDB building the next batch of lines (our thread sits in ``recv``) and
Python compressing, encrypting and writing the last one (zlib, AES-GCM,
hashlib and file writes release the GIL on large buffers). The reading stays
in the caller's thread; the worker does the rest. At most ``depth`` items
wait in the queue, so memory stays a few blocks whatever the store's size.

Errors go both ways: a failure in the worker is raised in the caller at its
next ``put`` (or at the end), and a failure in the caller stops the worker
before it is re-raised. Either way nothing after the failure is written.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from tenancy.backups.archive import BackupError

DEPTH = 2
_STOP = object()


class WorkerFailed(BackupError):
    """Raised in the caller when the worker has failed; the cause is chained."""


class Pipeline:
    """``with Pipeline(consume) as pipe: pipe.put(item)``: *consume* runs in a thread."""

    def __init__(self, consume: Callable[[object], None], *, depth: int = DEPTH,
                 name: str = "backup writer"):
        self.consume, self.name = consume, name
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name=name.replace(" ", "-"),
                                        daemon=True)

    def __enter__(self) -> Pipeline:
        self._thread.start()
        return self

    def put(self, item: object) -> None:
        self._raise_if_failed()
        self._queue.put(item)

    def __exit__(self, exc_type, exc, tb) -> None:
        # The worker keeps draining after a failure, so this put never blocks
        # for long; joining means no write happens after we return.
        self._queue.put(_STOP)
        self._thread.join()
        if exc_type is None:
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise WorkerFailed(f"{self.name} failed: {type(self.error).__name__}: "
                               f"{self.error}") from self.error

    def _run(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            if self.error is not None:
                continue  # failed: drop the rest, the caller raises at its next put
            try:
                self.consume(item)
            except BaseException as exc:  # re-raised in the caller's thread
                self.error = exc
