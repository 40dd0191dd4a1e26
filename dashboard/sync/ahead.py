"""Pages fetched ahead of the writer, on background threads (one fetches, one prepares).

A window's pages form a chain: each request carries the cursor of the page before, so they are
sent one after another, but not one per page written. The fetch thread goes down the chain as
soon as each page is decoded, then on to the window that `route(window)` says comes next, and
so on, while the writer works through the pages already fetched. It stops when the pages held
reach `budget` (bytes of the answers, a proxy for what their decoding holds), and goes on as the
writer takes them.

Each page fetched can be handed to `prepare(window, page)` on a second thread (the writer's work
that needs no database: making rows), so that the next request leaves meanwhile; the reader gets
what it returns, or what it raises, in the page's place.

So a sync's wall time is the longer of its fetching and its writing rather than their sum page by
page: while one family's big pages are written, the small pages of the families after it are
already fetched, and the slow page is paid for once, not per page.

The reader asks for each window in turn (`pages(window)`). Usually it is the next one the fetch
thread went to; when it is not (an option the API refused: the window again without it; a
stream that failed: the next one), the pages of the windows before it are dropped, and if the
fetch thread never went to it, everything held is dropped and the fetch thread starts again from
it: at most the pages held are asked for again, and only on those paths. An error from a request
(after the SDK's retries) reaches the reader in its place, as if the reader had sent it.
`route` runs on the fetch thread: it must not touch the database.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol


class _Page(Protocol):
    next_page: str | None
    size: int


Fetch = Callable[[Any, str | None], _Page]
Route = Callable[[Any], Hashable | None]


def _nowhere(_: Any) -> None:
    return None


class _Run:
    """One walk of the fetch thread, from `key` along the route, into a queue held to a budget."""

    def __init__(
        self,
        key: Hashable,
        fetch: Fetch,
        route: Route,
        budget: int,
        prepare: Callable[[Hashable, Any], Future] | None,
    ) -> None:
        self._fetch, self._route, self._budget = fetch, route, budget
        self._prepare = prepare
        self.keys: list[Hashable] = [key]  # every window it went to, in order
        # (window, page or its preparing or an error, bytes)
        self._items: deque[tuple[Hashable, Any, int]] = deque()
        self._held = 0
        self._changed = threading.Condition()
        self._stopped = False

    def walk(self) -> None:
        key: Hashable | None = self.keys[0]
        while key is not None:
            key = self._put_chain(key)

    def _put_chain(self, key: Hashable) -> Hashable | None:
        """Fetch `key`'s pages into the queue; the window that comes next (None: none, stopped,
        or after an error). The next one is known before the last page is handed over, so a
        reader done with `key` always finds it among `keys`."""
        cursor = None
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopped or self._held < self._budget)
                if self._stopped:
                    return None
            try:
                page = self._fetch(key, cursor)
                cursor = page.next_page
                after = None if cursor else self._route(key)
            except BaseException as exc:  # raised again in the reader's thread, in its place
                self._put(key, exc, 0)
                return None
            if after is not None:
                with self._changed:
                    self.keys.append(after)
            self._put(key, self._prepare(key, page) if self._prepare else page, page.size)
            if not cursor:
                return after

    def _put(self, key: Hashable, item: Any, size: int) -> None:
        with self._changed:
            self._items.append((key, item, size))
            self._held += size
            self._changed.notify_all()

    def get(self, key: Hashable) -> Any:
        """The next page of `key` (the pages of windows before it are dropped)."""
        with self._changed:
            while True:
                self._changed.wait_for(lambda: bool(self._items))
                held, item, size = self._items.popleft()
                self._held -= size
                self._changed.notify_all()
                if held == key:
                    break
        if isinstance(item, BaseException):
            raise item
        return item.result() if isinstance(item, Future) else item

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._items.clear()
            self._changed.notify_all()


class Ahead:
    """The pages of one window after another, fetched ahead (see the module's docstring)."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        budget: int,
        route: Route = _nowhere,
        prepare: Callable[[Any, Any], Any] | None = None,
        name: str = "fetch-ahead",
    ) -> None:
        self._fetch, self._budget, self._route = fetch, budget, route
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._submit: Callable[[Hashable, Any], Future] | None = None
        if prepare is not None:
            # A second thread, so that the next request leaves while a page is prepared.
            preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-prepare")
            self._preparer = preparer
            self._submit = lambda key, page: preparer.submit(prepare, key, page)
        self._run: _Run | None = None
        self._read: list[Hashable] = []  # the windows of this run read so far

    def _run_for(self, key: Hashable) -> _Run:
        """The walk that went, or will go, to `key` next; else a new one from `key`."""
        run = self._run
        if run is not None:
            with run._changed:
                keys = list(run.keys)
            # Each window once per walk: asked for again, or one it never went to, starts anew.
            if key in keys and key not in self._read:
                return run
            run.stop()
        self._run = _Run(key, self._fetch, self._route, self._budget, self._submit)
        self._read = []
        self._pool.submit(self._run.walk)
        return self._run

    def pages(self, key: Hashable) -> Iterator[Any]:
        """Each page of window `key`."""
        run = self._run_for(key)
        self._read.append(key)
        while True:
            page = run.get(key)
            yield page
            if not page.next_page:
                return

    def close(self) -> None:
        if self._run is not None:
            self._run.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._submit is not None:
            self._preparer.shutdown(wait=False, cancel_futures=True)
