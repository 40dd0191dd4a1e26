"""Audit events in words: the pieces of a sentence (the things it names, as references a page
can link) and the context each phrasing reads.

A Sentence is a list of parts, text and Refs: the table, the drawer, the CSV export and the tests
all render the same parts. Pure functions, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orgadmin.audit.history import UNKNOWN, Change
from orgadmin.audit.raw import actor_fields, as_dict, as_text


@dataclass(frozen=True)
class Ref:
    """A thing a sentence names: kind (user, project, key, …), its id, and what to call it."""

    kind: str
    id: str
    label: str


Part = str | Ref


@dataclass
class Sentence:
    parts: list[Part] = field(default_factory=list)

    def text(self) -> str:
        return "".join(p.label if isinstance(p, Ref) else p for p in self.parts)

    def predicate(self) -> str:
        """The sentence without its subject, for a table that shows the actor on its own:
        "Deleted API key … in Project X"."""
        rest = "".join(p.label if isinstance(p, Ref) else p for p in self.parts[1:])
        rest = rest.removeprefix(":").strip()
        return rest[:1].upper() + rest[1:] if rest else self.text()

    def __str__(self) -> str:
        return self.text()


@dataclass
class Description:
    sentence: Sentence
    changes: list[Change]
    refs: list[Ref]  # the things the event is about, for links
    # The type has a payload, but the event came without it (the live API sends such events):
    # what it changed, and on what, is not known.
    payload_missing: bool = False


# --- words ------------------------------------------------------------------------------------

_WORDS = {
    "api": "API",
    "id": "ID",
    "ip": "IP",
    "sso": "SSO",
    "scim": "SCIM",
    "chatgpt": "ChatGPT",
    "ja3": "JA3",
    "ja4": "JA4",
}


def humanize(words: str) -> str:
    """`tenant.sso_connection` → `tenant SSO connection`."""
    out = []
    for word in words.replace(".", " ").replace("_", " ").split():
        out.append(_WORDS.get(word.lower(), word))
    return " ".join(out)


def format_value(value: Any) -> str:
    """A value as the diff and the sentences show it."""
    if value is UNKNOWN:
        return "unknown"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) or "(empty)"
    text = str(value)
    return text if text else "(empty)"


# --- what a phrasing reads ------------------------------------------------------------------------


@dataclass
class Context:
    """One event as a phrasing reads it; `ref()` names a thing and remembers it for links."""

    raw: dict
    payload: dict
    names: dict[str, str]
    changes: list[Change]
    actor: Part
    project: Ref | None
    refs: list[Ref] = field(default_factory=list)

    def ref(self, kind: str, object_id: Any, label: str = "") -> Part:
        object_id = as_text(object_id)
        if not object_id:
            return label or "(unknown)"
        ref = Ref(kind, object_id, label or self.names.get(object_id) or object_id)
        if ref not in self.refs:
            self.refs.append(ref)
        return ref

    @property
    def id(self) -> str:
        return as_text(self.payload.get("id"))

    @property
    def data(self) -> dict:
        return as_dict(self.payload.get("data"))

    @property
    def requested(self) -> dict:
        return as_dict(self.payload.get("changes_requested"))

    def in_project(self, word: str = "in") -> list[Part]:
        return [f" {word} ", self.project] if self.project else []

    def change_list(self, only: tuple[str, ...] = ()) -> list[Part]:
        """`: field before → after, field set to after` from the diff (or the request)."""
        items = []
        for change in self.changes:
            if change.field == "state" or (only and change.field not in only):
                continue
            if change.added or change.removed:
                bits = []
                if change.added:
                    bits.append("added " + format_value(change.added))
                if change.removed:
                    bits.append("removed " + format_value(change.removed))
                items.append(f"{change.field} {'; '.join(bits)}")
            elif change.before is UNKNOWN or change.before is None:
                items.append(f"{change.field} set to {format_value(change.after)}")
            else:
                items.append(
                    f"{change.field} {format_value(change.before)} → {format_value(change.after)}"
                )
        return [": " + ", ".join(items)] if items else []


def actor_ref(raw: dict, names: dict[str, str], refs: list[Ref]) -> Part:
    """Who did it: a user (by email), a service account or an API key; "Someone" if unknown."""
    who = actor_fields(raw)
    api_key = as_dict(as_dict(raw.get("actor")).get("api_key"))
    service_account = as_text(as_dict(api_key.get("service_account")).get("id"))
    if who["actor_email"] or (who["actor_id"] and not service_account):
        ref = Ref(
            "user",
            who["actor_id"],
            who["actor_email"] or names.get(who["actor_id"]) or who["actor_id"],
        )
    elif service_account:
        label = names.get(service_account) or service_account
        ref = Ref("service_account", service_account, f"service account {label}")
    elif who["api_key_id"]:
        ref = Ref(
            "key", who["api_key_id"], f"API key {names.get(who['api_key_id']) or who['api_key_id']}"
        )
    else:
        return "Someone"
    if ref.id:
        refs.append(ref)
    return ref


def project_ref(raw: dict, names: dict[str, str]) -> Ref | None:
    """The project the event happened in, if any."""
    project = as_dict(raw.get("project"))
    project_id = as_text(project.get("id"))
    if not project_id:
        return None
    return Ref(
        "project", project_id, names.get(project_id) or as_text(project.get("name")) or project_id
    )
