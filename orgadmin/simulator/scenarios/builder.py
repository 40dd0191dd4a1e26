"""`build()`: run every step of a scenario, in order, with one random generator."""

from __future__ import annotations

from collections.abc import Callable

from orgadmin.simulator.scenarios.base import SIZES
from orgadmin.simulator.scenarios.directory import Directory
from orgadmin.simulator.scenarios.history import History
from orgadmin.simulator.scenarios.hygiene import Hygiene
from orgadmin.simulator.scenarios.people import People
from orgadmin.simulator.scenarios.usage import Usage
from orgadmin.simulator.store import Store


def build(
    scenario: str, *, seed: int, now: Callable[[], float], admin_keys: tuple[str, ...]
) -> Store:
    """Build the named scenario; deterministic for a seed and a fixed `now`."""
    if scenario not in SIZES:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {sorted(SIZES)}")
    return _Builder(scenario, SIZES[scenario], seed, int(now()), now).run(admin_keys)


class _Builder(People, Directory, Usage, History, Hygiene):
    """The steps, in the order that fixes every random draw: changing it changes the scenario."""

    def run(self, admin_keys: tuple[str, ...]) -> Store:
        store = self.store
        store.org_id = self.id("org-")
        store.org_name = self.size.org_name
        store.domain = self.size.domain
        self.users()
        self.roles()
        self.projects()
        self.members()
        self.service_accounts()
        self.keys()
        self.admin_keys(admin_keys)
        self.invites()
        self.groups()
        self.certificates()
        self.rate_limits()
        self.settings()
        self.usage()
        self.history()
        self.hygiene()  # last, with its own generator: the draws above stay as they were
        return store
