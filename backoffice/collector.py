"""Python's cyclic garbage collector, run between requests instead of inside them.

A page leaves a few hundred objects in reference cycles (Jinja2's macros and
their context, the Pyramid request and its session, the ORM's identity map):
refcounting cannot free them, only the collector can. Left to its automatic
schedule (a young collection every 700 net allocations, so mid-request, and
an older one every 10 of those), the collector promotes the live objects of
the request in flight, then frees their cycles in bursts: 0.8 ms every ~10
requests and 3-6 ms every few hundred, each a stall of whatever request it
lands in (measured on the order list, `docs/benchmarks.md`).

``CollectingPolicy`` is a Pyramid execution policy that instead collects the
young generation as each request ends, when what the request built is
garbage and nothing of it is still alive to be promoted (~50 us), the middle
generation every ``MIDDLE_EVERY`` requests and all of them every
``FULL_EVERY``; the automatic threshold goes up to ``AUTOMATIC_THRESHOLD`` so
that only an unusually large request (a CSV export) triggers a collection
itself. Used by ``serving_app`` (``backoffice.gc_between_requests``, on by
default), with ``gc.freeze()`` of the start-up heap.
"""

from __future__ import annotations

import gc
import itertools

from pyramid.interfaces import IExecutionPolicy

# Allocations (net, of objects the collector tracks) before Python collects
# by itself; the default is 700, which a 50-row page passes mid-request.
AUTOMATIC_THRESHOLD = 10_000
MIDDLE_EVERY = 10
FULL_EVERY = 1_000


class CollectingPolicy:
    """Pyramid execution policy: the app's own (``inner``: by default Pyramid's),
    then a collection."""

    def __init__(
        self, inner=None, *, middle_every: int = MIDDLE_EVERY, full_every: int = FULL_EVERY
    ):
        if middle_every < 1 or full_every < middle_every:
            raise ValueError("need 1 <= middle_every <= full_every")
        self.inner = inner or _serve
        self.middle_every = middle_every
        self.full_every = full_every
        self._requests = itertools.count(1)  # next() is atomic: waitress' threads share it

    def generation(self, n: int) -> int:
        """The generation collected after the *n*-th request."""
        if n % self.full_every == 0:
            return 2
        return 1 if n % self.middle_every == 0 else 0

    def __call__(self, environ, router):
        try:
            return self.inner(environ, router)
        finally:
            # The request is garbage now, most of it still young.
            gc.collect(self.generation(next(self._requests)))


def _serve(environ, router):
    """Pyramid's ``default_execution_policy``."""
    with router.request_context(environ) as request:
        return router.invoke_request(request)


def collect_between_requests(config) -> None:
    """Install the policy around the one the app set (the input guard and
    deadlock retries, ``backoffice.web.input``) and raise the automatic
    threshold (process-wide)."""
    config.commit()
    inner = config.registry.queryUtility(IExecutionPolicy)
    config.set_execution_policy(CollectingPolicy(inner))
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(AUTOMATIC_THRESHOLD, middle, oldest)
