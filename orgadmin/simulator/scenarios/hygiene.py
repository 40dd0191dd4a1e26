"""The hygiene problems a real organization accumulates, made sure of in a scenario: the last
step, once the history is written, with a generator of its own (every other draw stays as it
was, so the scenario's rows and counts don't move).

What the other steps already leave behind (keys unused for months or never used, owners who left
a project with their keys still there, more owners than anyone wants, projects nobody owns,
admin keys that never expire, projects that spend without a limit or an alert, a lapsed
certificate) is only completed here where chance left it out; what they never make is made:
  - an admin key idle for weeks ("Finance export", used once after it was made);
  - a certificate expiring within a month, still active, and the lapsed one still active;
  - a member who stopped signing in months ago (their later events are forgotten);
  - a key still spending whose owner has left its project;
  - a pending invite a few days old.
"""

from __future__ import annotations

import random

from orgadmin.simulator.scenarios.base import ScenarioBase
from orgadmin.simulator.scenarios.directory import _make_certificate
from orgadmin.simulator.usage.families import DAY

DORMANT_DAYS = 130  # the dormant member's last sign-in, before "now"


class Hygiene(ScenarioBase):
    """The hygiene step (see the module's docstring)."""

    def hygiene(self) -> None:
        rng = random.Random(f"hygiene:{self.store.scenario}:{self.store.seed}")
        self._idle_admin_key()
        self._certificates(rng)
        self._dormant_member()
        self._spending_leaver()
        self._old_invite()

    def _idle_admin_key(self) -> None:
        for key in self.store.admin_keys.values():
            if key.name == "Finance export":
                key.last_used_at = key.created_at + 2 * DAY

    def _certificates(self, rng: random.Random) -> None:
        certs = sorted(self.store.certificates.values(), key=lambda c: c.created_at)
        for cert in certs:
            if cert.expires_at < self.now:
                cert.active = True  # lapsed, and nobody turned it off
        current = [c for c in certs if c.expires_at >= self.now and c.active]
        if current:
            soon = current[0]
            soon.expires_at = self.anchor + 20 * DAY
            soon.pem = _make_certificate(
                rng, soon.name or soon.id, self.size.domain, soon.valid_at, soon.expires_at
            )

    def _dormant_member(self) -> None:
        store = self.store
        cutoff = self.now - DORMANT_DAYS * DAY
        readers = sorted(
            (u for u in store.users.values() if u.role == "reader" and u.added_at < cutoff),
            key=lambda u: u.added_at,
        )
        if not readers:
            return
        email = readers[0].email
        store.audit.forget(lambda e: e.actor_email == email and e.data["effective_at"] > cutoff)

    def _spending_leaver(self) -> None:
        store = self.store
        if any(
            k.uses_usage_clock and k.owner_type == "user" and not store.key_owner_has_access(k)
            for k in store.api_keys.values()
        ):
            return
        busy = sorted(
            (
                k
                for k in store.api_keys.values()
                if k.uses_usage_clock
                and k.owner_type == "user"
                and not store.projects[k.project_id].is_default
                and len(store.projects[k.project_id].members) > 1
            ),
            key=lambda k: k.id,
        )
        if busy:
            store.projects[busy[0].project_id].members.pop(busy[0].owner_id, None)

    def _old_invite(self) -> None:
        pending = [i for i in self.store.invites.values() if i.status == "pending"]
        if pending and all(i.created_at > self.now - 4 * DAY for i in pending):
            oldest = min(pending, key=lambda i: i.created_at)
            oldest.created_at = self.now - 5 * DAY
            oldest.expires_at = oldest.created_at + 7 * DAY
