"""Invites: the list, inviting one person or many at once, and revoking."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.forms import BulkInviteForm, InviteFilterForm, InviteForm
from orgadmin.models import Invite
from orgadmin.selectors.sorting import INVITES
from orgadmin.services import directory as services
from orgadmin.views.common import (
    api_error_text,
    attempt,
    base_context,
    changed,
    fragment,
    inline_result,
    paginate,
    succeeded,
    with_org,
)


def _get_invite_or_404(request: HttpRequest, invite_id: str) -> Invite:
    invite = Invite.objects.filter(org=request.org, openai_id=invite_id).first()
    if invite is None:
        raise Http404("No such invite (it may have been revoked since the last sync).")
    return invite


def _page(request: HttpRequest, invite_form: InviteForm, part: str) -> HttpResponse:
    org = request.org
    filters = InviteFilterForm(request.GET)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    sort = INVITES.parse(request.GET.get("sort"))
    status, q = wanted.get("status", ""), wanted.get("q", "")
    page = paginate(request, selectors.invites_list(org=org, status=status, q=q, sort=sort))
    project_ids = {p["id"] for invite in page.object_list for p in invite.projects}
    context: dict[str, Any] = {
        **base_context(request),
        "filters": filters,
        "status": status,
        "sort": sort,
        "list_path": reverse("orgadmin:invites"),
        "counts": selectors.invite_counts(org=org),
        "page": page,
        "project_names": selectors.display_names(org=org, ids=project_ids),
        "form": invite_form,
    }
    return render(request, fragment(request, "orgadmin/invites.html", part), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def invites(request: HttpRequest) -> HttpResponse:
    return _page(request, InviteForm(org=request.org), "invite-live")


@requires(Perm.MANAGE)
@require_POST
@with_org
def invite_create(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, org=request.org)
    if form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        ok = succeeded(
            request,
            lambda: services.invite_create(
                org=request.org,
                email=email,
                role=role,
                projects=form.grants(),
                actor=request.user,
            ),
            doing=f"invite {email}",
            done=lambda: f"Invited {email} as {role}. The invite is pending.",
            form=form,
        )
        if ok:
            if not request.htmx:
                return redirect("orgadmin:invites")
            return changed(_page(request, InviteForm(org=request.org), "invite-form"))
    return _page(request, form, "invite-form")


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def invite_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkInviteForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        outcome = services.invites_create_many(
            org=request.org,
            emails=form.cleaned_data["emails"],
            role=form.cleaned_data["role"],
            projects=form.grants(),
            actor=request.user,
        )
        if outcome.done:
            messages.success(
                request, f"Invited {len(outcome.done)} people as {form.cleaned_data['role']}."
            )
        if not outcome.failed:
            return redirect(reverse("orgadmin:invites") + "?status=pending")
        for email, exc in outcome.failed:
            messages.error(request, f"{email}: {api_error_text(exc)}")
        # Keep only the ones that failed in the box, to fix or retry.
        data = request.POST.copy()
        data["emails"] = "\n".join(email for email, _ in outcome.failed)
        form = BulkInviteForm(data, org=request.org)
        form.full_clean()
    context = {**base_context(request), "form": form}
    return render(request, "orgadmin/invite_bulk.html", context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def invite_revoke(request: HttpRequest, invite_id: str) -> HttpResponse:
    invite = _get_invite_or_404(request, invite_id)
    error = attempt(
        request,
        lambda: services.invite_revoke(org=request.org, invite=invite, actor=request.user),
        doing=f"revoke the invite of {invite.email}",
        done=lambda: f"Revoked the invite of {invite.email}.",
    )
    return inline_result(request, error=error, fallback="orgadmin:invites")
