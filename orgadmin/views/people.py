"""People: everyone who may sign in to this dashboard, their roles per connection, the
invitations still open, and their accounts.

Who sees and does what (orgadmin.selectors.people.PeopleScope): an Admin or Auditor of any
connection opens the page (Finance doesn't: 403); they read the people holding a role on their
connections, or everyone when they read the directory for all connections. An Admin invites
people and gives or takes roles on the connections they manage (for all connections: an Admin
for all). Deactivating, reactivating and password resets act on the account, which spans every
connection: an Admin for all connections only. Giving or taking a role, inviting, deactivating
and reactivating ask for a recent password or code (step-up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from orgadmin.access import Perm, Role, Scope, requires
from orgadmin.accounts.stepup import step_up, step_up_required
from orgadmin.forms.people import PeopleFilterForm, PersonInviteForm, RoleWhereForm
from orgadmin.models import Invitation
from orgadmin.selectors import people as selectors
from orgadmin.selectors.sorting import PEOPLE
from orgadmin.services import invitations as invites
from orgadmin.services import people as services
from orgadmin.services.invitations import Issued
from orgadmin.views.common import (
    attempt,
    changed,
    first_error,
    fragment,
    inline_result,
    paginate,
    try_change,
)

# Mail that reaches nobody's inbox: a new link is shown on the page, for copying.
LOCAL_MAIL = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
)


def links_shown() -> bool:
    """Whether the page shows a new invitation's link: with DEBUG on, or where mail goes to the
    console or to memory (the demo, the tests), never in production's SMTP."""
    return settings.DEBUG or settings.EMAIL_BACKEND in LOCAL_MAIL


def _scope(request: HttpRequest) -> selectors.PeopleScope:
    return selectors.people_scope(user=request.user)


def _person_or_404(scope: selectors.PeopleScope, pk: int) -> Any:
    person = selectors.person_get(scope=scope, pk=pk)
    if person is None:
        raise Http404("No such person.")
    return person


def _invitation_or_404(scope: selectors.PeopleScope, pk: int) -> Invitation:
    """An open invitation one reads (404 otherwise), on a connection one manages (403)."""
    invitation = selectors.invitation_get(scope=scope, pk=pk)
    if invitation is None:
        raise Http404("No such invitation (it may have been accepted or revoked since).")
    if not scope.may_change(invitation.org_id):
        raise PermissionDenied
    return invitation


def _role_form(scope: selectors.PeopleScope, cls: type = RoleWhereForm, data: Any = None) -> Any:
    connections = selectors.connections_changeable(scope=scope)
    return cls(data, connections=connections, all_connections=scope.manages_all)


def _link_for(request: HttpRequest) -> Callable[[str], str]:
    return lambda token: request.build_absolute_uri(reverse("orgadmin:people_accept", args=[token]))


def _page(
    request: HttpRequest,
    *,
    invite_form: PersonInviteForm | None = None,
    issued: Issued | None = None,
    part: str = "",
) -> HttpResponse:
    scope = _scope(request)
    filters = PeopleFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    sort = PEOPLE.parse(request.GET.get("sort"))
    people = selectors.people_list(
        scope=scope, q=chosen.get("q", ""), status=chosen.get("status", ""), sort=sort
    )
    page = paginate(request, people)
    invite_form = invite_form or _role_form(scope, PersonInviteForm)
    context = {
        "scope": scope,
        "filters": filters,
        "sort": sort,
        "page": page,
        "rows": selectors.person_rows(page.object_list, scope=scope),
        "invitations": selectors.invitations_open(scope=scope),
        "invite_form": invite_form,
        "issued": issued if issued and links_shown() else None,
        "roles": [r.value for r in Role],
        "filtered": bool(chosen.get("q") or chosen.get("status")),
        # Lists drawn in answer to a POST link to the page, not to the POST's URL.
        "list_path": reverse("orgadmin:people"),
    }
    return render(request, fragment(request, "people/people.html", part), context)


def _say_issued(request: HttpRequest, issued: Issued, *, did: str) -> None:
    invitation = issued.invitation
    if issued.mail_error:
        messages.error(
            request,
            f"{did} {invitation.email}, but the mail could not be sent ({issued.mail_error}). "
            "Check EMAIL_URL, then Resend.",
        )
        return
    messages.success(
        request,
        f"{did} {invitation.email} as {invitation.role} on {invitation.where}. The link went by "
        f"mail; it works once, until {invitation.expires_at:%Y-%m-%d %H:%M %Z}.",
    )


@requires(Perm.VIEW_DIRECTORY, scope=Scope.ANY)
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    return _page(request, part="people-live")


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
@never_cache
@step_up_required
def people_invite(request: HttpRequest) -> HttpResponse:
    form = _role_form(_scope(request), PersonInviteForm, request.POST)
    issued = None
    if form.is_valid():
        data = form.cleaned_data
        issued, _ = try_change(
            lambda: invites.invitation_create(
                email=data["email"],
                role=data["role"],
                org=data["connection"],
                actor=request.user,
                link_for=_link_for(request),
            ),
            doing="invite",
            form=form,
        )
    if issued is None:
        return _page(request, invite_form=form, part="invite-card")
    _say_issued(request, issued, did="Invited")
    response = _page(request, issued=issued, part="invite-card")
    return changed(response) if request.htmx else response


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
@never_cache
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation_or_404(_scope(request), invitation_id)
    issued, error = try_change(
        lambda: invites.invitation_resend(
            invitation=invitation, actor=request.user, link_for=_link_for(request)
        ),
        doing="resend the invitation",
    )
    if issued is None:
        messages.error(request, error or "The invitation could not be sent again.")
    else:
        _say_issued(request, issued, did="Sent a new invitation to")
    response = _page(request, issued=issued, part="invite-card")
    return changed(response) if request.htmx else response


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _invitation_or_404(_scope(request), invitation_id)
    error = attempt(
        request,
        lambda: invites.invitation_revoke(invitation=invitation, actor=request.user),
        doing="revoke the invitation",
        done=f"Revoked the invitation of {invitation.email}: its link no longer works.",
    )
    return inline_result(request, error=error, fallback="orgadmin:people")


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
def person_role_add(request: HttpRequest, person_id: int) -> HttpResponse:
    scope = _scope(request)
    person = _person_or_404(scope, person_id)
    step_up(request)
    form = _role_form(scope, RoleWhereForm, request.POST)
    error = first_error(form) or attempt(
        request,
        lambda: services.person_grant_add(
            person=person,
            role=form.cleaned_data["role"],
            org=form.cleaned_data["connection"],
            actor=request.user,
        ),
        doing="give the role",
        done=lambda: f"Gave {person.get_username()} the role {form.cleaned_data['role']}.",
    )
    return inline_result(request, error=error, fallback="orgadmin:people")


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
def person_role_remove(request: HttpRequest, person_id: int, grant_id: int) -> HttpResponse:
    scope = _scope(request)
    person = _person_or_404(scope, person_id)
    grant = next((g for g in person.seen_grants if g.pk == grant_id), None)
    if grant is None:
        raise Http404("No such role.")
    if not scope.may_change(grant.org_id):
        raise PermissionDenied
    step_up(request)
    grant.user = person
    error = attempt(
        request,
        lambda: services.person_grant_remove(grant=grant, actor=request.user),
        doing="take the role away",
        done=f"Took {grant.role} away from {person.get_username()}.",
    )
    return inline_result(request, error=error, fallback="orgadmin:people")


def _account_change(
    request: HttpRequest, person_id: int, change: Callable, done: str, *, confirm: bool = True
) -> HttpResponse:
    """Deactivate, reactivate, password reset: the same checks (and, with `confirm`, the
    step-up once they pass), the same answer."""
    scope = _scope(request)
    person = _person_or_404(scope, person_id)
    if not scope.may_change_account(person):
        raise PermissionDenied
    if confirm:
        step_up(request)
    error = attempt(
        request,
        lambda: change(person=person, actor=request.user),
        doing="change the account",
        done=done.format(name=person.get_username(), email=person.email),
    )
    return inline_result(request, error=error, fallback="orgadmin:people")


@requires(Perm.MANAGE, scope=Scope.ALL)
@require_POST
def person_deactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    done = "Deactivated {name}: they can't sign in any more."
    return _account_change(request, person_id, services.person_deactivate, done)


@requires(Perm.MANAGE, scope=Scope.ALL)
@require_POST
def person_reactivate(request: HttpRequest, person_id: int) -> HttpResponse:
    done = "Reactivated {name}: they can sign in again."
    return _account_change(request, person_id, services.person_reactivate, done)


@requires(Perm.MANAGE, scope=Scope.ALL)
@require_POST
def person_password_reset(request: HttpRequest, person_id: int) -> HttpResponse:
    def send(*, person: Any, actor: Any) -> None:
        services.person_password_reset(request=request, person=person, actor=actor)

    done = "Sent {name} a link to set a new password, to {email}."
    return _account_change(request, person_id, send, done, confirm=False)
