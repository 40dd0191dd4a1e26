"""What the directory pages share: the current organization, paging, outcomes of changes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.forms.utils import pretty_name
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import trigger_client_event

from orgadmin import selectors
from orgadmin.access import Perm
from orgadmin.client import OrgAPIError
from orgadmin.services import BulkOutcome, ChangeRefused

PER_PAGE = 50
# The event a list listens for to reload itself after a change elsewhere on the page.
CHANGED = "directoryChanged"


def with_org(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render "connect an organization first" when there is no connection yet."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.org is None:
            return render(request, "orgadmin/no_org.html")
        return view(request, *args, **kwargs)

    return wrapper


def paginate(request: HttpRequest, rows: Any, per_page: int = PER_PAGE) -> Page:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def can_manage(request: HttpRequest) -> bool:
    return request.user.has_perm(Perm.MANAGE)


def freshness(
    org: Any, *, waiting_since: int | None = None, started: float | None = None
) -> dict[str, Any]:
    """When the cache was last refreshed, and whether the page should poll a running refresh."""
    info: dict[str, Any] = dict(selectors.directory_freshness(org=org))
    latest = info["latest"]
    if waiting_since is None and latest is not None and latest.is_running:
        waiting_since = latest.pk - 1
    info["polling"] = waiting_since is not None
    info["since"] = waiting_since
    info["started"] = int(started if started else timezone.now().timestamp())
    return info


def base_context(request: HttpRequest) -> dict[str, Any]:
    """Every directory page shows how fresh the cache is, and who may change things."""
    return {
        "org": request.org,
        "can_manage": can_manage(request),
        "freshness": freshness(request.org),
    }


def api_error_text(exc: OrgAPIError, *, doing: str = "") -> str:
    """An API refusal as one sentence with its status and request id."""
    prefix = f"OpenAI refused to {doing}: " if doing else "OpenAI refused: "
    return prefix + str(exc)


def back(request: HttpRequest, fallback: str, **kwargs: Any) -> HttpResponse:
    """Redirect to the page the form came from (same site only), else to `fallback`."""
    target = request.POST.get("next") or request.headers.get("referer", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        # A checked URL, never a view name: redirect("abc") would try to reverse it (a 500).
        return HttpResponseRedirect(target)
    return redirect(fallback, **kwargs)


def query_text(request: HttpRequest, name: str, *, limit: int = 200) -> str:
    """A free-text query parameter, as something a database can hold: no NUL (PostgreSQL
    refuses it in text, a 500), no other control characters, trimmed, at most `limit` long."""
    value = request.GET.get(name, "")
    return "".join(c for c in value if c >= " " and c != "\x7f").strip()[:limit]


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the page that the directory changed, so its lists reload."""
    return trigger_client_event(response, CHANGED)


def done(request: HttpRequest, fallback: str, **kwargs: Any) -> HttpResponse:
    """After a change: an htmx request gets an empty answer and the "changed" event (the
    messages come out of band); a plain form goes back where it came from."""
    if request.htmx:
        return changed(HttpResponse(""))
    return back(request, fallback, **kwargs)


def report_bulk(request: HttpRequest, outcome: BulkOutcome, *, did: str, noun: str) -> None:
    """One message for the successes, one per failure, each with its request id."""
    if outcome.done:
        messages.success(request, f"{did} {len(outcome.done)} {noun}.")
    for what, exc in outcome.failed:
        messages.error(request, f"{what}: {api_error_text(exc)}")


def first_error(form: forms.Form) -> str | None:
    """The first problem with a small inline form, as one sentence (None when it is valid)."""
    if form.is_valid():
        return None
    for name, errors in form.errors.items():
        text = " ".join(errors)
        if name not in form.fields:  # a problem with the form as a whole
            return text
        label = form.fields[name].label or pretty_name(name)
        return f"{label}: {text}"
    return "Check the form."


def inline_result(
    request: HttpRequest, *, error: str | None, fallback: str, **kwargs: Any
) -> HttpResponse:
    """The answer to a small inline form (a row's button or select).

    htmx puts the answer in the form's own error slot: the error beside the control, or nothing
    plus the "changed" event that reloads the list. A plain form goes back with a message.
    """
    if request.htmx:
        if error:
            return HttpResponse(escape(error))
        return changed(HttpResponse(""))
    if error:
        messages.error(request, error)
    return back(request, fallback, **kwargs)


def attempt(
    request: HttpRequest,
    call: Callable[[], Any],
    *,
    doing: str,
    done: str | Callable[[], str],
    form: forms.Form | None = None,
) -> str | None:
    """Run a change; on success add the `done` message and return None.

    On refusal return the sentence to show: our own refusal (ChangeRefused) as it is, the
    API's with its status and request id. With a `form`, the refusal also goes on the form:
    beside its field when the refusal names one, else at the top.
    """
    try:
        call()
    except ChangeRefused as exc:
        error, field = exc.message, exc.field
    except OrgAPIError as exc:
        error, field = api_error_text(exc, doing=doing), None
    else:
        messages.success(request, done() if callable(done) else done)
        return None
    if form is not None:
        form.add_error(field if field in form.fields else None, error)
    return error


def succeeded(request: HttpRequest, call: Callable[[], Any], **kwargs: Any) -> bool:
    """`attempt` for card forms: True when the change went through."""
    return attempt(request, call, **kwargs) is None
