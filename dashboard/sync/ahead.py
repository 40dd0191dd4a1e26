"""Pages fetched ahead of the writer, on one background thread.

A window's pages form a chain: each request carries the cursor of the page before, so they are
sent one after another, but not one per page written: the fetch thread goes on down the chain as
soon as a page is decoded, up to `depth` pages ahead of the reader. When the chain's last page is
in, the reader is asked which window comes next (`following()`, in the reader's thread, since it
may read the database), and that chain starts while the pages already fetched are written.

So a sync's wall time is the longer of its fetching and its writing, not their sum: against an
API that takes a quarter of a second per page, a page that takes a second to write costs no
more, as long as the writes on average keep up. At most two chains are held, each at most
`depth` decoded pages.

A chain that is not read to its end (the reader failed, or asked for another window, e.g. without
an option the API refused) is stopped: its fetched pages are dropped, and at most the request in
flight is wasted. An error from a request (after the SDK's retries) reaches the reader in its
place in the chain, as if the reader had sent it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol


class _Page(Protocol):
    next_page: str | None


Fetch = Callable[[Any, str | None], _Page]


def _nothing() -> None:
    return None


class _Chain:
    """One window's pages, fetched on the fetch thread into a queue of at most `depth`."""

    def __init__(self, key: Hashable, fetch: Fetch, depth: int) -> None:
        self.key, self._fetch = key, fetch
        self._queue: queue.Queue[Any] = queue.Queue(depth)
        self._stopped = threading.Event()
        self.fetched = threading.Event()  # its last page, or its error, is queued

    def run(self) -> None:
        cursor = None
        try:
            while not self._stopped.is_set():
                try:
                    page = self._fetch(self.key, cursor)
                except BaseException as exc:  # raised again in the reader's thread
                    self._put(exc)
                    return
                self._put(page)
                cursor = page.next_page
                if not cursor:
                    return
        finally:
            self.fetched.set()

    def _put(self, item: Any) -> None:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def get(self) -> Any:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self._stopped.set()


class Ahead:
    """The pages of one window after another, fetched ahead (see the module's docstring)."""

    def __init__(self, fetch: Fetch, *, depth: int, name: str = "fetch-ahead") -> None:
        self._fetch, self._depth = fetch, depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._reading: _Chain | None = None
        self._ahead: _Chain | None = None  # asked for while `_reading` is read to its end

    def _start(self, key: Hashable) -> _Chain:
        chain = _Chain(key, self._fetch, self._depth)
        self._pool.submit(chain.run)
        return chain

    def _take(self, key: Hashable) -> _Chain:
        """The chain of `key`: the one asked for ahead, else a new one; any other is stopped."""
        ahead, self._ahead = self._ahead, None
        for other in (self._reading, ahead):
            if other is not None and not (other is ahead and other.key == key):
                other.stop()
        self._reading = ahead if ahead is not None and ahead.key == key else self._start(key)
        return self._reading

    def pages(
        self, key: Hashable, following: Callable[[], Hashable | None] = _nothing
    ) -> Iterator[Any]:
        """Each page of window `key`. Once its last page is fetched, `following()` names the
        window whose pages are fetched next (None: none)."""
        chain = self._take(key)
        asked = False

        def ask() -> None:
            nonlocal asked
            if not asked and chain.fetched.is_set():
                asked = True
                if (after := following()) is not None:
                    self._ahead = self._start(after)

        while True:
            page = chain.get()
            ask()
            yield page
            if not page.next_page:
                return
            ask()

    def close(self) -> None:
        for chain in (self._reading, self._ahead):
            if chain is not None:
                chain.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
