"""An xAI team's API keys: the list (read live), create, edit, disable/enable, rotate, delete.

Every page asks xAI's Management API (no cache: `orgadmin.selectors.team_keys`); every change
goes through `orgadmin.services.team_keys` (the API, then the Activity log). A new or rotated
secret is in one response only (`never_cache`), rendered by `_team_key_secret.html`, and never
stored or logged. The URLs are `orgadmin:team_key*`, which only an xAI connection reaches
(orgadmin.middleware.ProviderCapabilityMiddleware).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin.access import Perm, requires
from orgadmin.accounts.stepup import step_up, step_up_required
from orgadmin.areas import AREAS
from orgadmin.client import OrgAPIError
from orgadmin.forms.team_keys import TeamKeyForm, TeamKeyRotateForm
from orgadmin.selectors import team_keys as reads
from orgadmin.selectors.team_keys import key_label
from orgadmin.services import team_keys as services
from orgadmin.services import teams
from orgadmin.views.common import can_manage, fragment, inline_result, paginate, with_org
from orgadmin.xai.types import ApiKey, NewApiKey

T = TypeVar("T")
KEYS_PAGE = "orgadmin/team_keys.html"
LIST = "orgadmin:team_keys"


# --- helpers -------------------------------------------------------------------------------------


def error_text(exc: OrgAPIError, *, doing: str) -> str:
    """An xAI refusal as one sentence with its status and request id (and, for a change the
    management key may not make, why the controls go away)."""
    failed = exc.status is None or exc.status >= 500 or exc.status == 429
    text = f"xAI {'could not' if failed else 'refused to'} {doing}: {exc}"
    if exc.permission_denied and exc.writing:
        text += (
            f" This connection's management key can only read {AREAS['keys'].label}, so the "
            "controls to change them are hidden from now on."
        )
    return text


def _live(request: HttpRequest, read: Callable[[str], T], *, doing: str) -> tuple[T | None, str]:
    """`read(team id)`, or (None, why not) when xAI refuses or can't be reached."""
    try:
        return read(teams.team_id(request.org)), ""
    except OrgAPIError as exc:
        services.team_key_read_refused(org=request.org, error=exc)
        return None, error_text(exc, doing=doing)


def _try(
    call: Callable[[], T], *, doing: str, form: forms.Form | None = None
) -> tuple[T | None, str]:
    """Run a change: (its result, ""), or (None, the refusal), also put on `form` when given."""
    try:
        return call(), ""
    except OrgAPIError as exc:
        error = error_text(exc, doing=doing)
    if form is not None:
        form.add_error(None, error)
    return None, error


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    org = request.org
    manage = can_manage(request)
    return {
        "org": org,
        "can_manage": manage,
        "may_write": manage and org.key_may_write("keys"),
        **extra,
    }


def _unavailable(request: HttpRequest, error: str) -> HttpResponse:
    """A key page xAI couldn't answer: the reason, with its request id."""
    if request.htmx:
        return HttpResponse(escape(error))
    return render(request, "orgadmin/team_key_error.html", _context(request, error=error))


def with_key(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Look the key up (the API has no per-key read: one list request) and pass it to the view:
    404 when the team has no such key, the reason when xAI can't say."""

    @wraps(view)
    def wrapper(request: HttpRequest, key_id: str) -> HttpResponse:
        key, error = _live(
            request,
            lambda team: reads.team_key_get(org=request.org, team_id=team, api_key_id=key_id),
            doing="read the key",
        )
        if error:
            return _unavailable(request, error)
        if key is None:
            raise Http404("This team has no such API key (it may have been deleted).")
        return view(request, key)

    return wrapper


def _choices(request: HttpRequest) -> tuple[reads.AclChoices | None, str]:
    return _live(
        request,
        lambda team: reads.team_key_acl_choices(org=request.org, team_id=team),
        doing="list the ACLs a key can be granted",
    )


def _secret(new: NewApiKey, *, title: str, note: str) -> dict[str, str]:
    """A new secret for the page's panel: in this one response only."""
    return {"title": title, "secret": new.api_key, "note": note}


# --- pages ---------------------------------------------------------------------------------------


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def team_keys(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    found, error = _live(
        request,
        lambda team: reads.team_keys_list(org=request.org, team_id=team, now=now),
        doing="list the team's API keys",
    )
    rows = found.rows if found is not None else []
    context = _context(request, page=paginate(request, rows), error=error)
    return render(request, fragment(request, KEYS_PAGE, "team-key-live"), context)


def _create_page(request: HttpRequest, form: TeamKeyForm, **extra: Any) -> HttpResponse:
    template = fragment(request, "orgadmin/team_key_create.html", "team-key-create")
    return render(request, template, _context(request, form=form, **extra))


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("created")
@with_org
def team_key_create(request: HttpRequest) -> HttpResponse:
    choices, error = _choices(request)
    if choices is None:
        return _unavailable(request, error)
    form = TeamKeyForm(request.POST if request.method == "POST" else None, choices=choices)
    if not form.is_valid():  # a GET's form is unbound: never valid
        return _create_page(request, form)
    name = form.cleaned_data["name"]
    created, error = _try(
        lambda: services.team_key_create(org=request.org, actor=request.user, **form.values()),
        doing=f"create the key “{name}”",
        form=form,
    )
    if created is None:
        return _create_page(request, form)
    messages.success(request, f"Created the API key {key_label(created)}.")
    note = "Nothing can use it until it has ACLs." if not created.acl_strings else ""
    secret = _secret(created, title=f"The API key “{name}”", note=note)
    return _create_page(request, TeamKeyForm(choices=choices), secret=secret, created=created)


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
@with_key
def team_key_edit(request: HttpRequest, key: ApiKey) -> HttpResponse:
    choices, error = _choices(request)
    if choices is None:
        return _unavailable(request, error)
    data = request.POST if request.method == "POST" else None
    form = TeamKeyForm(data, choices=choices, key=key)
    if form.is_valid() and not form.changes():
        messages.info(request, f"Nothing to change on the API key {key_label(key)}.")
        return redirect(LIST)
    if form.is_valid():
        updated, _ = _try(
            lambda: services.team_key_update(
                org=request.org, actor=request.user, key=key, changes=form.changes()
            ),
            doing=f"change the key {key_label(key)}",
            form=form,
        )
        if updated is not None:
            messages.success(request, f"Saved the API key {key_label(updated)}.")
            return redirect(LIST)
    context = _context(request, form=form, key=reads.team_key_row(key, now=timezone.now()))
    return render(request, "orgadmin/team_key_edit.html", context)


def _set_disabled(request: HttpRequest, key: ApiKey, *, disabled: bool) -> HttpResponse:
    verb = "disable" if disabled else "enable"
    _, error = _try(
        lambda: services.team_key_set_disabled(
            org=request.org, actor=request.user, key=key, disabled=disabled
        ),
        doing=f"{verb} the key {key_label(key)}",
    )
    if not error:
        messages.success(request, f"{verb.capitalize()}d the API key {key_label(key)}.")
    return inline_result(request, error=error or None, fallback=LIST)


@requires(Perm.MANAGE)
@require_POST
@with_org
@with_key
def team_key_disable(request: HttpRequest, key: ApiKey) -> HttpResponse:
    return _set_disabled(request, key, disabled=True)


@requires(Perm.MANAGE)
@require_POST
@with_org
@with_key
def team_key_enable(request: HttpRequest, key: ApiKey) -> HttpResponse:
    return _set_disabled(request, key, disabled=False)


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("rotated")
@with_org
@with_key
@step_up_required
def team_key_rotate(request: HttpRequest, key: ApiKey) -> HttpResponse:
    form = TeamKeyRotateForm(request.POST if request.method == "POST" else None)
    context = _context(request, form=form, key=reads.team_key_row(key, now=timezone.now()))
    if form.is_valid():
        until = form.old_secret_expire_time()
        rotated, _ = _try(
            lambda: services.team_key_rotate(
                org=request.org, actor=request.user, key=key, old_secret_expire_time=until
            ),
            doing=f"rotate the key {key_label(key)}",
            form=form,
        )
        if rotated is not None:
            messages.success(request, f"Rotated the API key {key_label(rotated)}.")
            note = f"The old secret keeps working until {until:%Y-%m-%d %H:%M} UTC."
            context["secret"] = _secret(rotated, title=f"The new secret of “{key.name}”", note=note)
            context["key"] = reads.team_key_row(rotated, now=timezone.now())
    return render(request, "orgadmin/team_key_rotate.html", context)


@requires(Perm.MANAGE)
@require_POST
@with_org
@with_key
def team_key_delete(request: HttpRequest, key: ApiKey) -> HttpResponse:
    step_up(request)
    _, error = _try(
        lambda: services.team_key_delete(org=request.org, actor=request.user, key=key),
        doing=f"delete the key {key_label(key)}",
    )
    if not error:
        messages.success(request, f"Deleted the API key {key_label(key)}.")
    return inline_result(request, error=error or None, fallback=LIST)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def team_key_propagation(request: HttpRequest, key_id: str) -> HttpResponse:
    clusters, error = {}, ""
    try:
        clusters = reads.team_key_propagation(org=request.org, api_key_id=key_id)
    except OrgAPIError as exc:
        error = error_text(exc, doing="say where the key is live")
    context = {
        "clusters": clusters,
        "live": sum(clusters.values()),
        "pending": [host.split(".")[0] for host, live in clusters.items() if not live],
        "compact": request.GET.get("compact") == "1",  # a row of the list: the count only
        "error": error,
    }
    template = fragment(request, "orgadmin/team_key_propagation.html", "propagation")
    return render(request, template, context)
