"""The writer and reader threads of a backup: order kept, memory bounded,
errors raised in the caller, nothing left running."""

from __future__ import annotations

import threading

import pytest

from tenancy.backups.archive import BackupError
from tenancy.backups.pipeline import Pipeline, Prefetch, WorkerFailed


def test_items_are_consumed_in_order_before_exit():
    seen = []
    with Pipeline(seen.append) as pipe:
        for i in range(1000):
            pipe.put(i)
    assert seen == list(range(1000))


def test_the_queue_is_bounded():
    """A slow consumer holds the producer back: at most *depth* items wait."""
    release, seen, waiting = threading.Event(), [], []

    def consume(item):
        release.wait()
        seen.append(item)

    with Pipeline(consume, depth=2) as pipe:
        producer = threading.Thread(
            target=lambda: [pipe.put(i) or waiting.append(i) for i in range(10)]
        )
        producer.start()
        producer.join(timeout=0.5)
        # One item in the consumer's hands, two in the queue, the fourth put blocks.
        assert producer.is_alive() and len(waiting) == 3
        release.set()
        producer.join()
    assert seen == list(range(10))


def test_a_worker_failure_is_raised_at_the_next_put():
    consumed = []

    def consume(item):
        if item == 3:
            raise OSError(28, "No space left on device")
        consumed.append(item)

    with pytest.raises(WorkerFailed, match="No space left on device") as caught:
        with Pipeline(consume) as pipe:
            for i in range(1000):
                pipe.put(i)
    assert isinstance(caught.value, BackupError)
    assert isinstance(caught.value.__cause__, OSError)
    assert consumed == [0, 1, 2]  # nothing consumed after the failure


def test_a_worker_failure_on_the_last_item_is_raised_at_exit():
    def consume(item):
        raise ValueError("bad block")

    with pytest.raises(WorkerFailed, match="bad block"):
        with Pipeline(consume) as pipe:
            pipe.put(1)


def test_a_caller_failure_stops_the_worker_and_propagates():
    consumed = []
    with pytest.raises(RuntimeError, match="server went away"):
        with Pipeline(consumed.append) as pipe:
            pipe.put(1)
            raise RuntimeError("server went away")
    assert consumed == [1]  # the worker is joined: nothing runs after the exit
    assert not [t for t in threading.enumerate() if t.name == "backup-writer"]


def test_prefetch_returns_items_in_order_then_done():
    with Prefetch(iter(range(100))) as ahead:
        got = []
        while (item := ahead.get()) is not Prefetch.DONE:
            got.append(item)
    assert got == list(range(100))


def test_prefetch_reraises_the_error_as_it_was():
    def items():
        yield 1
        raise ConnectionError("lost connection")

    with Prefetch(items()) as ahead:
        assert ahead.get() == 1
        with pytest.raises(ConnectionError, match="lost connection"):
            ahead.get()


def test_leaving_a_prefetch_early_stops_its_thread():
    produced, closed = [], []

    def items():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.append(threading.current_thread().name)

    with Prefetch(items(), depth=2) as ahead:
        assert ahead.get() == 0
    assert len(produced) < 10 and closed == ["backup-reader"]
    assert not [t for t in threading.enumerate() if t.name == "backup-reader"]
