"""The Channels pages: where alerts go. An Admin of the connection manages its channels; a
channel for all connections is changed only by an Admin of all connections."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from dashboard.alerts import selectors, services
from dashboard.alerts.forms import ChannelForm
from dashboard.alerts.models import Channel
from orgadmin.access import Perm, holds, requires
from orgadmin.accounts.stepup import step_up_required
from orgadmin.views.common import changed, fragment, inline_result, try_change, with_org


def _may_manage_all(request: HttpRequest) -> bool:
    return holds(request.user, Perm.MANAGE)


def _channel_or_404(request: HttpRequest, channel_id: int) -> Channel:
    channel = selectors.channel_get(org=request.org, channel_id=channel_id)
    if channel is None:
        raise Http404("No such channel (it may have been removed).")
    return channel


def _changeable_or_403(request: HttpRequest, channel_id: int) -> Channel:
    channel = _channel_or_404(request, channel_id)
    if channel.for_all and not _may_manage_all(request):
        raise PermissionDenied("A channel for all connections is an Admin of all connections'.")
    return channel


def _page(request: HttpRequest, form: ChannelForm | None, part: str, **extra: Any) -> HttpResponse:
    may_all = _may_manage_all(request)
    context = {
        "channels": selectors.channels_list(org=request.org),
        "form": form or ChannelForm(may_add_for_all=may_all),
        "may_manage_all": may_all,
        **extra,
    }
    return render(request, fragment(request, "alerts/channels.html", part), context)


@requires(Perm.MANAGE)
@require_GET
@with_org
def channels(request: HttpRequest) -> HttpResponse:
    return _page(request, None, "channel-list")


def _create(request: HttpRequest, form: ChannelForm) -> tuple[Channel, str]:
    return services.channel_create(
        org=None if form.cleaned_data.get("for_all") else request.org,
        name=form.cleaned_data["name"],
        url=form.cleaned_data["url"],
        created_by=request.user,
    )


@requires(Perm.MANAGE)
@require_POST
@never_cache
@sensitive_post_parameters("url")
@sensitive_variables("secret", "created")
@with_org
@step_up_required
def channel_add(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST, may_add_for_all=_may_manage_all(request))
    created = None
    if form.is_valid():  # a refusal by the service goes on the form, beside its field
        created, _refusal = try_change(lambda: _create(request, form), doing="add", form=form)
    if created is None:
        return _page(request, form, "channel-form")
    channel, secret = created
    messages.success(request, f"Added the channel “{channel.name}”. Send it a test to check it.")
    response = _page(request, None, "channel-form", created=channel, secret=secret)
    return changed(response) if request.htmx else response


@requires(Perm.MANAGE)
@require_POST
@with_org
def channel_remove(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _changeable_or_403(request, channel_id)
    name = channel.name
    services.channel_delete(channel=channel, actor=request.user)
    messages.success(request, f"Removed the channel “{name}” and its deliveries.")
    return inline_result(request, error=None, fallback="channels")


@requires(Perm.MANAGE)
@require_POST
@with_org
def channel_toggle(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _changeable_or_403(request, channel_id)
    services.channel_set_disabled(
        channel=channel, disabled=not channel.disabled, actor=request.user
    )
    state = "paused: alerts skip it" if channel.disabled else "resumed"
    messages.success(request, f"The channel “{channel.name}” is {state}.")
    return inline_result(request, error=None, fallback="channels")


@requires(Perm.MANAGE)
@require_POST
@with_org
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _changeable_or_403(request, channel_id)
    services.channel_test(channel=channel, requested_by=request.user)
    messages.info(request, f"Queued a test message to “{channel.name}”. Its outcome shows below.")
    return redirect("channel_deliveries", channel_id=channel.pk)


@requires(Perm.MANAGE)
@require_GET
@with_org
def channel_deliveries(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel_or_404(request, channel_id)
    deliveries = selectors.channel_deliveries(channel=channel)
    context = {
        "channel": channel,
        "deliveries": deliveries,
        "pending": any(not d.done for d in deliveries),
        "may_change": not channel.for_all or _may_manage_all(request),
    }
    template = fragment(request, "alerts/channel_deliveries.html", "delivery-list")
    return render(request, template, context)
