"""Pages fetched ahead of the writer (dashboard.sync.ahead): how far ahead, in what order, what
happens to an error and to a window that is not read to its end."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from dashboard.sync.ahead import Ahead


@dataclass
class Page:
    window: str
    index: int
    next_page: str | None


class Api:
    """Windows of `pages` pages each; notes every request; fails where told."""

    def __init__(self, pages: int, *, fail_at: tuple[str, int] | None = None) -> None:
        self.pages, self.fail_at = pages, fail_at
        self.requests: list[tuple[str, int]] = []
        self.changed = threading.Condition()

    def fetch(self, window: str, cursor: str | None) -> Page:
        index = int(cursor) if cursor else 0
        with self.changed:
            self.requests.append((window, index))
            self.changed.notify_all()
        if (window, index) == self.fail_at:
            raise RuntimeError(f"{window} page {index} failed")
        return Page(window, index, str(index + 1) if index + 1 < self.pages else None)

    def wait_for(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= count, timeout=5)

    def settled(self) -> int:
        """The requests sent, once the fetch thread has had time to send more."""
        with self.changed:
            self.changed.wait(timeout=0.3)
            return len(self.requests)


def test_it_fetches_up_to_depth_pages_ahead_of_a_reader_that_is_busy():
    api = Api(pages=10)
    ahead = Ahead(api.fetch, depth=3)
    try:
        pages = ahead.pages("a")
        first = next(pages)  # the reader now "writes" page 0 and reads nothing more
        assert first.index == 0
        # Page 0 handed over, 3 queued, and one fetched that waits for room: 5 requests.
        assert api.wait_for(5)
        assert api.settled() == 5
        assert [p.index for p in pages] == list(range(1, 10))
        assert api.requests == [("a", i) for i in range(10)]
    finally:
        ahead.close()


def test_the_next_window_is_fetched_while_the_last_pages_of_one_are_written():
    api = Api(pages=2)
    ahead = Ahead(api.fetch, depth=4)
    try:
        pages = ahead.pages("a", following=lambda: "b")
        assert next(pages).index == 0
        # Still writing window a's first page: its second page and b's first are on their way.
        assert api.wait_for(3)
        assert ("b", 0) in api.requests
        assert [p.index for p in pages] == [1]
        assert [(p.window, p.index) for p in ahead.pages("b")] == [("b", 0), ("b", 1)]
        assert api.requests.count(("b", 0)) == 1  # asked ahead once, not again
    finally:
        ahead.close()


def test_an_error_reaches_the_reader_in_its_place_and_nothing_after_it_is_sent():
    api = Api(pages=5, fail_at=("a", 2))
    ahead = Ahead(api.fetch, depth=4)
    try:
        read = []
        with pytest.raises(RuntimeError, match="a page 2 failed"):
            for page in ahead.pages("a"):
                read.append(page.index)
        assert read == [0, 1]
        assert api.settled() == 3
    finally:
        ahead.close()


def test_a_window_given_up_is_stopped_and_another_one_read_from_its_start():
    api = Api(pages=50)
    ahead = Ahead(api.fetch, depth=2)
    try:
        pages = ahead.pages("a", following=lambda: "never read")
        next(pages)
        pages.close()  # e.g. the API refused an option: the window starts again without it
        again = [p.index for p in ahead.pages("a without it")]
        assert again == list(range(50))
        sent_for_a = [r for r in api.requests if r[0] == "a"]
        assert len(sent_for_a) <= 1 + 2 + 2  # read, queued, at most one more in flight
        assert ("never read", 0) not in api.requests
    finally:
        ahead.close()
