"""Pages fetched ahead of the writer (dashboard.sync.ahead): how far ahead, along which route,
what happens to an error and to a window that is not read to its end."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import pytest

from dashboard.sync.ahead import Ahead


@dataclass
class Page:
    window: str
    index: int
    next_page: str | None
    size: int


class Api:
    """Windows of `pages[window]` pages of `size[window]` bytes; notes every request; fails
    where told."""

    def __init__(self, pages: dict[str, int], size: dict[str, int] | None = None, fail_at=None):
        self.pages, self.size, self.fail_at = pages, size or {}, fail_at
        self.requests: list[tuple[str, int]] = []
        self.changed = threading.Condition()

    def fetch(self, window: str, cursor: str | None) -> Page:
        index = int(cursor) if cursor else 0
        with self.changed:
            self.requests.append((window, index))
            self.changed.notify_all()
        if (window, index) == self.fail_at:
            raise RuntimeError(f"{window} page {index} failed")
        more = str(index + 1) if index + 1 < self.pages[window] else None
        return Page(window, index, more, self.size.get(window, 1))

    def wait_for(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= count, timeout=5)

    def settled(self) -> int:
        """The requests sent, once the fetch thread has had time to send more."""
        with self.changed:
            self.changed.wait(timeout=0.3)
            return len(self.requests)


def route(order: list[str]):
    return lambda window: dict(itertools.pairwise(order)).get(window)


def test_it_fetches_ahead_of_a_busy_reader_until_what_it_holds_reaches_the_budget():
    api = Api({"a": 10}, size={"a": 100})
    ahead = Ahead(api.fetch, budget=300)
    try:
        pages = ahead.pages("a")
        assert next(pages).index == 0  # the reader now "writes" page 0 and reads nothing more
        # Page 0 handed over, then pages 1 to 3 held (300 bytes): no fourth.
        assert api.wait_for(4)
        assert api.settled() == 4
        assert [p.index for p in pages] == list(range(1, 10))
        assert api.requests == [("a", i) for i in range(10)]
    finally:
        ahead.close()


def test_while_a_big_window_is_written_the_small_ones_after_it_are_fetched():
    api = Api({"big": 3, "small 1": 4, "small 2": 4}, size={"big": 1000, "small 1": 10})
    ahead = Ahead(api.fetch, budget=2100, route=route(["big", "small 1", "small 2"]))
    try:
        big = ahead.pages("big")
        next(big)  # writing the big window's first page: all the rest is fetched meanwhile
        assert api.wait_for(11)
        assert [p.index for p in big] == [1, 2]
        assert [p.index for p in ahead.pages("small 1")] == [0, 1, 2, 3]
        assert [p.index for p in ahead.pages("small 2")] == [0, 1, 2, 3]
        assert api.settled() == 11  # each page asked for once
    finally:
        ahead.close()


def test_an_error_reaches_the_reader_in_its_place_and_nothing_after_it_is_sent():
    api = Api({"a": 5, "b": 2}, fail_at=("a", 2))
    ahead = Ahead(api.fetch, budget=100, route=route(["a", "b"]))
    try:
        pages = ahead.pages("a")
        assert [next(pages).index, next(pages).index] == [0, 1]
        with pytest.raises(RuntimeError, match="a page 2 failed"):
            next(pages)
        assert api.settled() == 3
        # The next window is then asked for afresh.
        assert [p.index for p in ahead.pages("b")] == [0, 1]
    finally:
        ahead.close()


def test_a_window_given_up_is_dropped_and_the_next_one_read_from_what_was_fetched():
    api = Api({"a": 3, "b": 2})
    ahead = Ahead(api.fetch, budget=100, route=route(["a", "b"]))
    try:
        pages = ahead.pages("a")
        next(pages)
        assert api.wait_for(5)
        pages.close()  # e.g. the page could not be written: the stream failed, the next goes on
        assert [p.index for p in ahead.pages("b")] == [0, 1]
        assert api.settled() == 5  # nothing asked for twice
    finally:
        ahead.close()


def test_a_window_off_the_route_starts_the_fetching_again_from_it():
    api = Api({"a": 50, "a without an option": 2, "b": 1})
    ahead = Ahead(api.fetch, budget=2, route=route(["a", "b"]))
    try:
        pages = ahead.pages("a")
        next(pages)
        pages.close()  # the API refused an option: the window starts again without it
        again = [p.index for p in ahead.pages("a without an option")]
        assert again == [0, 1]
        sent_for_a = [r for r in api.requests if r[0] == "a"]
        assert len(sent_for_a) <= 1 + 2 + 1  # read, held, at most one more in flight
    finally:
        ahead.close()


def test_a_page_is_prepared_on_its_own_thread_while_the_next_is_fetched():
    api = Api({"a": 3})
    next_sent = []

    def prepare(window, page):
        # Page 0 is prepared only once page 1 is asked for: the fetch thread doesn't wait for it.
        if page.index == 0:
            next_sent.append(api.wait_for(2))
        if page.index == 2:
            raise ValueError("page 2 is not what we store")
        return Page(window, page.index * 10, page.next_page, page.size)

    ahead = Ahead(api.fetch, budget=100, prepare=prepare)
    try:
        pages = ahead.pages("a")
        assert [next(pages).index, next(pages).index] == [0, 10]
        with pytest.raises(ValueError, match="page 2"):
            next(pages)  # in its place, as the writer would have raised it
        assert next_sent == [True]
    finally:
        ahead.close()


def test_a_route_that_fails_fails_the_reader_instead_of_leaving_it_waiting():
    api = Api({"a": 2})

    def broken(window):
        raise LookupError("no plan for " + window)

    ahead = Ahead(api.fetch, budget=100, route=broken)
    try:
        pages = ahead.pages("a")
        assert next(pages).index == 0
        with pytest.raises(LookupError, match="no plan for a"):
            next(pages)
    finally:
        ahead.close()
