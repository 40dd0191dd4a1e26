"""Reads for the People page: who may sign in here, their roles, and pending invitations.

What a person sees there depends on their own roles (`PeopleScope`): someone who reads the
directory for all connections (an Admin or Auditor for all, or a superuser) sees everyone; an
Admin or Auditor of some connections sees the people holding a role on those (or on all of them)
and only those grants: another connection doesn't exist for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from orgadmin.access import ROLE_PERMISSIONS, Perm, Role
from orgadmin.backends import grants_of
from orgadmin.models import Invitation, Organization, RoleGrant
from orgadmin.models.people import token_hash
from orgadmin.selectors import sorting
from orgadmin.selectors.sorting import Sort

# Invitation tokens as we make them (secrets.token_urlsafe(32)): anything else finds nothing.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,100}")


@dataclass(frozen=True)
class PeopleScope:
    """Whose roles a person reads on the People page, and which they may change.

    `reads_all`: every person and every grant. Else `read_ids`: the connections whose people
    they read. `manages_all`: grants for all connections, and accounts (deactivate, reactivate,
    password reset), which span every connection. Else `manage_ids`: the connections on which
    they give and take roles, and invite people.
    """

    reads_all: bool
    read_ids: frozenset[int]
    manages_all: bool
    manage_ids: frozenset[int]
    superuser: bool = False

    @property
    def manages(self) -> bool:
        return self.manages_all or bool(self.manage_ids)

    def may_change(self, org_id: int | None) -> bool:
        """Whether they may give or take a role on this connection (None: all of them)."""
        if org_id is None:
            return self.manages_all
        return self.manages_all or org_id in self.manage_ids

    def may_change_account(self, person: Any) -> bool:
        """Deactivate, reactivate, send a password reset: for an Admin for all connections; a
        superuser's account for a superuser only."""
        return self.manages_all and (self.superuser or not person.is_superuser)


def people_scope(*, user: Any) -> PeopleScope:
    """What `user` reads and changes on the People page, from their grants (no query)."""
    if user.is_superuser:
        return PeopleScope(True, frozenset(), True, frozenset(), superuser=True)
    grants = grants_of(user)
    everywhere = grants.get(None, frozenset())

    def perms(roles: frozenset[Role]) -> set[Perm]:
        return {p for role in roles for p in ROLE_PERMISSIONS[role]}

    per_org = {pk: perms(everywhere | roles) for pk, roles in grants.items() if pk is not None}
    return PeopleScope(
        reads_all=Perm.VIEW_DIRECTORY in perms(everywhere),
        read_ids=frozenset(pk for pk, p in per_org.items() if Perm.VIEW_DIRECTORY in p),
        manages_all=Perm.MANAGE in perms(everywhere),
        manage_ids=frozenset(pk for pk, p in per_org.items() if Perm.MANAGE in p),
    )


def _grants_seen(scope: PeopleScope) -> QuerySet[RoleGrant]:
    grants = RoleGrant.objects.select_related("org").order_by("org__name", "role")
    if not scope.reads_all:
        grants = grants.filter(Q(org__isnull=True) | Q(org_id__in=scope.read_ids))
    return grants


def people_list(
    *, scope: PeopleScope, q: str = "", status: str = "", sort: Sort | None = None
) -> QuerySet:
    """Everyone `scope` reads, with how they sign in (`has_sso`; a usable password is on the
    row), whether TOTP is on (`has_mfa`), and the grants `scope` reads (`seen_grants`). One
    query, and one for the grants of a page of them."""
    users = get_user_model()._default_manager.annotate(
        has_sso=Exists(SocialAccount.objects.filter(user=OuterRef("pk"))),
        has_mfa=Exists(
            Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
        ),
    )
    if not scope.reads_all:
        holders = RoleGrant.objects.filter(Q(org__isnull=True) | Q(org_id__in=scope.read_ids))
        users = users.filter(Q(is_superuser=True) | Q(pk__in=holders.values("user")))
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(email__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
        )
    if status:
        users = users.filter(is_active=status == "active")
    users = users.prefetch_related(
        Prefetch("role_grants", queryset=_grants_seen(scope), to_attr="seen_grants")
    )
    return users.order_by(*(sort or sorting.PEOPLE.default_sort).order_by())


def person_get(*, scope: PeopleScope, pk: int) -> Any | None:
    """A person `scope` reads (with the grants it reads), or None: one query and the grants'."""
    found = people_list(scope=scope).filter(pk=pk)
    return next(iter(found), None)


def invitations_open(*, scope: PeopleScope) -> list[Invitation]:
    """Invitations not accepted nor revoked (pending or expired), newest first, on the
    connections `scope` reads. One query."""
    invitations = Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    if not scope.reads_all:
        invitations = invitations.filter(Q(org__isnull=True) | Q(org_id__in=scope.read_ids))
    return list(invitations.select_related("org", "invited_by"))


def invitation_get(*, scope: PeopleScope, pk: int) -> Invitation | None:
    """An open invitation `scope` reads, or None."""
    return next((i for i in invitations_open(scope=scope) if i.pk == pk), None)


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation whose link carries `token` (whatever its state), or None."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    found = Invitation.objects.select_related("org").filter(token_hash=token_hash(token))
    return found.first()


def connections_changeable(*, scope: PeopleScope) -> list[Organization]:
    """The connections on which `scope` gives roles and invites people. One query (none for
    someone who manages none)."""
    if not scope.manages:
        return []
    orgs = Organization.objects.order_by("name").only("pk", "name")
    if not scope.manages_all:
        orgs = orgs.filter(pk__in=scope.manage_ids)
    return list(orgs)


def email_taken(*, email: str) -> bool:
    """Whether an account here already has this address (as its email or an allauth one)."""
    users = get_user_model()._default_manager
    return users.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email)).exists()


def username_taken(*, username: str) -> bool:
    return get_user_model()._default_manager.filter(username__iexact=username).exists()


def username_suggestion(*, email: str) -> str:
    """A free username from an address's local part: `ann.lee`, else `ann.lee2`, …"""
    base = re.sub(r"[^\w.+-]", "", email.partition("@")[0])[:140] or "user"
    taken = {
        name.lower()
        for name in get_user_model()
        ._default_manager.filter(username__istartswith=base)
        .values_list("username", flat=True)
    }
    if base.lower() not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, len(taken) + 3) if f"{base}{n}".lower() not in taken)


@dataclass(frozen=True)
class PersonRow:
    """One person as the People page shows them to someone: their grants that one reads, each
    with whether one may take it away, and whether one may change their account."""

    person: Any
    grants: list[tuple[RoleGrant, bool]]
    account: bool

    @property
    def signs_in_with(self) -> str:
        password, sso = self.person.has_usable_password(), self.person.has_sso
        if password and sso:
            return "Password and SSO"
        return "Password" if password else "SSO" if sso else "—"


def person_rows(people: Any, *, scope: PeopleScope) -> list[PersonRow]:
    """The rows of a page of `people_list` (no query: the grants came with it)."""
    return [
        PersonRow(
            person=p,
            grants=[(g, scope.may_change(g.org_id)) for g in p.seen_grants],
            account=scope.may_change_account(p),
        )
        for p in people
    ]
