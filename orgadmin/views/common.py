"""What the directory pages share: the current organization, paging, outcomes of changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, NamedTuple, TypeVar

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.forms.utils import pretty_name
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import trigger_client_event

from orgadmin import selectors
from orgadmin.access import Perm
from orgadmin.areas import AREAS
from orgadmin.client import OrgAPIError
from orgadmin.models import SyncRun
from orgadmin.services.changes import ChangeRefused
from orgadmin.services.directory import BulkOutcome

PER_PAGE = 50
# The event a list listens for to reload itself after a change elsewhere on the page.
CHANGED = "directoryChanged"
T = TypeVar("T")


def with_org(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render "connect an organization first" when there is no connection yet."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.org is None:
            return render(request, "orgadmin/no_org.html")
        return view(request, *args, **kwargs)

    return wrapper


def download(lines: Iterable[str], *, filename: str, content_type: str) -> StreamingHttpResponse:
    """An export, streamed as it is made: every CSV, JSON and JSONL download goes out this way."""
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def bad_filter(form: forms.Form) -> HttpResponse:
    """An export asked for with filters that don't hold: nothing is exported, and why (400)."""
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    return HttpResponseBadRequest(
        f"Bad filter, nothing exported. {problems}", content_type="text/plain; charset=utf-8"
    )


def fragment(request: HttpRequest, template: str, name: str) -> str:
    """The template to render: only its `{% partialdef name %}` for an htmx request that swaps
    part of the page, the whole page for any other (a plain or boosted request, or no `name`)."""
    if name and request.htmx and not request.htmx.boosted:
        return f"{template}#{name}"
    return template


def paginate(request: HttpRequest, rows: Any, per_page: int = PER_PAGE) -> Page:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def can_manage(request: HttpRequest) -> bool:
    return request.user.has_perm(Perm.MANAGE, request.org)


def base_context(request: HttpRequest) -> dict[str, Any]:
    """Every directory page shows how fresh the cache is, and who may change things."""
    return {
        "org": request.org,
        "can_manage": can_manage(request),
        # Areas whose controls are hidden: the connection's key may not change them (no query).
        "area_read_only": selectors.area_read_only(org=request.org),
        "sync_status": selectors.sync_status(org=request.org, kind=SyncRun.Kind.DIRECTORY),
    }


def api_error_text(exc: OrgAPIError, *, doing: str = "") -> str:
    """An API refusal as one sentence with its status and request id (and, for a change this
    connection's key may not make, why the area's controls go away)."""
    prefix = f"OpenAI refused to {doing}: " if doing else "OpenAI refused: "
    text = prefix + str(exc)
    if exc.permission_denied and exc.writing and exc.area in AREAS:
        text += (
            f" This connection's admin key can only read {AREAS[exc.area].label}, so the "
            "controls to change them are hidden from now on (Check again on Connections once "
            "the key may change them)."
        )
    return text


def back(request: HttpRequest, fallback: str, **kwargs: Any) -> HttpResponse:
    """Redirect to the page the form came from (its `next` field, else the Referer; same site
    only), else to `fallback` (a URL name with its `kwargs`, or a path)."""
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


def try_change(
    call: Callable[[], T], *, doing: str, form: forms.Form | None = None
) -> tuple[T | None, str | None]:
    """Run a change: (its result, None), or (None, the refusal as one sentence).

    Our own refusal (ChangeRefused) stays as it is, the API's gets its status and request id.
    With a `form`, the refusal also goes on the form: beside its field when the refusal names
    one, else at the top.
    """
    try:
        return call(), None
    except ChangeRefused as exc:
        error, field = exc.message, exc.field
    except OrgAPIError as exc:
        error, field = api_error_text(exc, doing=doing), None
    if form is not None:
        form.add_error(field if field in form.fields else None, error)
    return None, error


def attempt(
    request: HttpRequest,
    call: Callable[[], Any],
    *,
    doing: str,
    done: str | Callable[[], str],
    form: forms.Form | None = None,
) -> str | None:
    """`try_change` for a change that returns nothing: on success add the `done` message and
    return None; on refusal return the sentence to show."""
    _, error = try_change(call, doing=doing, form=form)
    if error is None:
        messages.success(request, done() if callable(done) else done)
    return error


def succeeded(request: HttpRequest, call: Callable[[], Any], **kwargs: Any) -> bool:
    """`attempt` for card forms: True when the change went through."""
    return attempt(request, call, **kwargs) is None


class Card(NamedTuple):
    """Where a card form (a form in a box of its own on a page) lives: `render(**extra)` draws
    the card again with `extra` in the page's context, `url` is its page."""

    render: Callable[..., HttpResponse]
    url: str


def card_result(
    request: HttpRequest, form: forms.Form, *, ok: bool, card: Card, form_key: str
) -> HttpResponse:
    """The answer to a card form.

    htmx re-renders the card: refused, with the form (as `form_key`) and its errors beside the
    fields; after a change, fresh, with the "changed" event that reloads the lists. A plain
    form goes to the card's page, with the first error as a message when it was refused.
    """
    if not request.htmx:
        if not ok:
            messages.error(request, first_error(form) or "Check the form.")
        return redirect(card.url)
    response = card.render(**({} if ok else {form_key: form}))
    return changed(response) if ok else response
