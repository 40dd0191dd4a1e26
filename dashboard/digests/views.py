"""The Digests page: each person picks the digests their roles on the connection allow, where
each goes, and asks for a preview. Any signed-in person opens it; the roles decide what it shows
(dashboard.digests.selectors.may_get), here and again at every send."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.digests import selectors, services
from dashboard.digests.forms import DigestForm, KindForm
from dashboard.digests.models import Kind, Subscription
from orgadmin.access import signed_in
from orgadmin.views.common import first_error, try_change, with_org


def _form(request: HttpRequest, channels: list, row: selectors.DigestRow) -> DigestForm:
    sub = row.subscription
    where = "email"
    if sub and sub.where == Subscription.Where.CHANNEL and sub.channel_id:
        where = f"channel-{sub.channel_id}"
    initial = {"kind": row.kind.value, "enabled": row.enabled, "where": where}
    email = request.user.email
    return DigestForm(initial=initial, channels=channels, email=email, kind=row.kind.value)


def _page(request: HttpRequest, bound: DigestForm | None = None, **extra: Any) -> HttpResponse:
    channels = list(selectors.channels_offered(org=request.org))
    rows = selectors.digest_rows(user=request.user, org=request.org, now=timezone.now())
    for row in rows:
        mine = bound is not None and bound.data.get("kind") == row.kind.value
        row.form = bound if mine else _form(request, channels, row)
    if bound is not None and not any(row.form is bound for row in rows):
        messages.error(request, "That digest is not yours to pick here; nothing was changed.")
    context = {"rows": rows, "org": request.org, "has_channels": bool(channels), **extra}
    return render(request, "digests/digests.html", context)


@signed_in
@require_GET
@with_org
def digests(request: HttpRequest) -> HttpResponse:
    return _page(request)


@signed_in
@require_POST
@with_org
def digest_save(request: HttpRequest) -> HttpResponse:
    channels = list(selectors.channels_offered(org=request.org))
    kind = request.POST.get("kind", "")
    email = request.user.email
    form = DigestForm(request.POST, channels=channels, email=email, kind=kind)
    if not form.is_valid():
        return _page(request, form) if kind in Kind.values else _refused(request, form)
    data = form.cleaned_data
    saved, error = try_change(
        lambda: services.subscription_save(
            user=request.user,
            org=request.org,
            kind=data["kind"],
            enabled=data["enabled"],
            channel=data["where"],
        ),
        doing="save",
    )
    if saved is None:
        messages.error(request, error)
    else:
        messages.success(request, _saved_text(saved))
    return redirect("digests")


def _refused(request: HttpRequest, form: forms.Form | None = None) -> HttpResponse:
    """Back to the page, saying why nothing changed (the refused form's own words too)."""
    problem = first_error(form) if form is not None else None
    why = f" ({problem})" if problem else ""
    messages.error(request, f"That is not a digest this page offers{why}; nothing was changed.")
    return redirect("digests")


def _saved_text(sub: Subscription) -> str:
    name = sub.get_kind_display()
    if not sub.enabled:
        return f"The {name} digest is off."
    where = f"the channel “{sub.channel.name}”" if sub.channel else "your email"
    return f"The {name} digest is on: it goes to {where}."


@signed_in
@require_POST
@with_org
def digest_preview(request: HttpRequest) -> HttpResponse:
    form = KindForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    kind = form.cleaned_data["kind"]
    queued, error = try_change(
        lambda: services.preview_request(user=request.user, org=request.org, kind=kind),
        doing="preview",
    )
    if queued is None:
        messages.error(request, error)
    else:
        messages.info(request, "Queued a preview: its outcome shows beside the digest.")
    return redirect("digests")
