"""The redelivery cap when the whole worker dies, not just its pool process.

Killed outright, a worker never acknowledges nor rejects its message; Redis
hands it out again after the visibility timeout. Without the cap a task that
kills its worker would take down every worker that picks it up, forever.
"""

import pytest
import redis

from backoffice.config import configure
from backoffice.tasks.app import make_celery
from tests.tasks.conftest import WorkerProcess, task_settings


@pytest.fixture
def other_redis_url(redis_url):
    """A Redis database of its own: the other worker must not restore this one's messages."""
    url = redis_url.rsplit("/", 1)[0] + "/" + str(int(redis_url.rsplit("/", 1)[1] or 0) + 1)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def test_task_that_kills_its_worker_runs_at_most_the_cap(
    mysql_settings, mysql_control, other_redis_url, tmp_path
):
    settings = task_settings(
        mysql_settings,
        other_redis_url,
        **{"backoffice.task_visibility_timeout": "1", "backoffice.task_max_deliveries": "2"},
    )
    celery = configure(settings, control=mysql_control).registry.celery
    worker = WorkerProcess(settings, tmp_path, "killed")
    result = celery.send_task("probe.kill_worker")
    try:
        for _delivery in range(2):
            worker.start()
            assert worker.wait_exit(30) is not None, worker.output()
            worker.stop()  # the orphaned pool processes
        worker.start()
        result.get(timeout=30, propagate=False)
        assert result.state == "FAILURE", worker.output()
        assert "delivered 3 times" in str(result.result)
        assert (
            int(redis.Redis.from_url(other_redis_url).get(celery.deliveries.key(result.id, 0))) == 3
        )
    finally:
        worker.stop()
        celery.close()
    assert "store engines and control engine disposed" in worker.output()


def test_workers_look_for_abandoned_messages_as_often_as_the_visibility_timeout():
    """kombu's own default looks every 100 s: a message a dead worker held
    would wait that long past its visibility timeout."""

    def options(timeout):
        return make_celery(
            {
                "backoffice.broker_url": "redis://127.0.0.1:6379/15",
                "backoffice.task_visibility_timeout": timeout,
            }
        ).conf.broker_transport_options

    assert options("1") == {
        "visibility_timeout": 1,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
    assert options("3600")["unacked_restore_interval"] == 10
    with pytest.raises(ValueError, match="task_visibility_timeout"):
        options("0")
