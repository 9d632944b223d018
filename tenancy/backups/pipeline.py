"""Bounded hand-offs between threads, so that waiting and working overlap.

A backup spends its time in places that need not wait for each other:
MariaDB building batches of lines (a reading thread sits in ``recv``, the GIL
released) and Python compressing, encrypting and writing them (zlib, AES-GCM,
hashlib and file writes release the GIL on large buffers). ``Pipeline`` hands
items to a consuming thread (the writer); ``Prefetch`` runs a producing
iterator in a thread (a reader on its own connection). At most ``depth``
items wait in either queue, so memory stays a few blocks whatever the store's
size.

Errors go both ways: a failure in the worker is raised in the caller at its
next ``put`` (or at the end), and a failure in the caller stops the worker
before it is re-raised. Either way nothing after the failure is written.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator

from tenancy.backups.archive import BackupError

DEPTH = 2
_STOP = object()


class WorkerFailed(BackupError):
    """Raised in the caller when the worker has failed; the cause is chained."""


class Pipeline:
    """``with Pipeline(consume) as pipe: pipe.put(item)``: *consume* runs in a thread."""

    def __init__(
        self, consume: Callable[[object], None], *, depth: int = DEPTH, name: str = "backup writer"
    ):
        self.consume, self.name = consume, name
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name=name.replace(" ", "-"), daemon=True)

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
            raise WorkerFailed(
                f"{self.name} failed: {type(self.error).__name__}: {self.error}"
            ) from self.error

    def _run(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            if self.error is not None:
                continue  # failed: drop the rest, the caller raises at its next put
            try:
                self.consume(item)
            except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
                self.error = exc


class Prefetch:
    """``with Prefetch(items) as ahead: ahead.get()``: *items* is iterated in a
    thread, at most ``depth`` ahead of the caller.

    ``get`` returns the items in order, then ``DONE``; an error of the
    iteration is re-raised by ``get`` as it was (a lost connection stays an
    ``OperationalError``). Leaving the block stops the thread after its
    current item and joins it, whether the items were all taken or not.
    """

    DONE = object()

    def __init__(self, items: Iterator[object], *, depth: int = DEPTH, name: str = "backup-reader"):
        self.items = items
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Prefetch:
        self._thread.start()
        return self

    def get(self) -> object:
        item = self._queue.get()
        if isinstance(item, _Failure):
            raise item.error
        return item

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a put, then wait for the thread
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _run(self) -> None:
        try:
            for item in self.items:
                self._queue.put(item)
                if self._stop.is_set():
                    return
            self._queue.put(self.DONE)
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
            self._queue.put(_Failure(exc))
        finally:
            close = getattr(self.items, "close", None)
            if close is not None:
                close()  # here, in the thread that ran it


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
